# shellcheck shell=bash
# bench/lib/send.sh: figure 1, the durable send rate (POST
# /api/v1/messages beside pgbench's one-row INSERT), with its
# diagnostics. Sourced by bench/run.sh (`make bench`), whose settings
# (knobs, paths, $W, $LG...) it uses.

send_phase() {
cat >"$W/insert.sql" <<'SQL'
INSERT INTO bench_scratch (a, b) VALUES (:client_id, 'hello');
SQL
pgb() {
	"$PGBIN/pgbench" -n -M prepared -c "${2:-$CLIENTS}" -j 2 -T "$SECS" \
	    -f "$W/insert.sql" "$DB" 2>&1 | tee "$W/pgbench.$1.out" |
	    sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n 1
}
quiet
say "1. pgbench single-row insert, $CLIENTS clients, $SECS s"
# Commits per WAL flush during it (pg_stat_wal; the stack is quiet):
# PostgreSQL's group commit at work.
wal0=$(q -c "SELECT s.wal_sync || ' ' || d.xact_commit FROM pg_stat_wal s, pg_stat_database d WHERE d.datname = current_database()")
tps1=$(pgb a)
sleep 1.2	# statistics reach the views within a second
wal1=$(q -c "SELECT s.wal_sync || ' ' || d.xact_commit FROM pg_stat_wal s, pg_stat_database d WHERE d.datname = current_database()")
per_flush=$(echo "$wal0 $wal1" | awk '{ f = $3 - $1; printf "%.1f", (f > 0 ? ($4 - $2) / f : 0) }')
say "1. Parley POST /api/v1/messages, $CLIENTS clients, $SECS s (+2 s warm-up)"
lg "$W/send.out" send --port "$PORT" --conns "$CLIENTS" --secs "$SECS" \
    --warm 2 --file "$W/pairs.txt"
say "1. pgbench again (the yardstick is the mean of both)"
tps2=$(pgb b)
[ -n "$tps1" ] && [ -n "$tps2" ] || die "pgbench failed: $(cat "$W/pgbench.a.out")"
tps=$(calc %.1f "($tps1 + $tps2) / 2")
# Diagnostic, not a figure: the database function of a send alone.
cat >"$W/send.sql" <<SQL
\\set i :client_id % $CLIENTS + 1
SELECT status FROM bench_pairs p, send_message(p.s, p.r, NULL,
    'pgb-' || nextval('bench_seq'), 'text', '{"text":"hello"}') WHERE p.i = :i;
SQL
say "1. diagnostic: send_message() alone through pgbench, $CLIENTS clients"
"$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECS" \
    -f "$W/send.sql" "$DB" >"$W/pgbench.send.out" 2>&1 || true
tpsf=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$W/pgbench.send.out" | head -n 1)
# Diagnostic: the yardstick at 1 and 8 clients (how much the group commit
# already shares WAL flushes at 32).
say "1. diagnostic: pgbench single-row insert at 1 and 8 clients"
tpsc1=$(pgb c1 1)
tpsc8=$(pgb c8 8)
sends=$(val "$W/send.out" sends_per_s)
}

send_rows() {
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "1. durable sends/s, $CLIENTS clients" "$sends/s" "pgbench $tps tps" \
    "$(calc %.2f "$sends / $tps")" ">= 0.50" \
    "$(yes_no "$sends / $tps >= 0.5")"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   send_message() alone through pgbench" "$(calc %.1f "${tpsf:-0}") tps" "pgbench $tps tps" \
    "$(calc %.2f "${tpsf:-0} / $tps")" "(diagnostic)" "-"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   HTTP path / the function alone" "$sends/s" "function $(calc %.1f "${tpsf:-0}") tps" \
    "$(calc %.2f "$sends / (${tpsf:-0} + 0.001)")" "(diagnostic)" "-"
plot bars "1. durable sends/s, $CLIENTS clients (more is better)" \
    "Parley POST /api/v1/messages=$sends" \
    "send_message() alone, pgbench=${tpsf:-0}" "pgbench 1-row INSERT=$tps"
}

send_defs() {
cat <<EOF
  1. sends/s = 201 answers per second to POST /api/v1/messages (distinct
     client_id each, $CLIENTS keep-alive connections, $CLIENTS friend pairs,
     closed loop); yardstick = pgbench -M prepared, one-row INSERT into a
     scratch table, $CLIENTS clients, $SECS s, run before and after
     ($tps1 and $tps2 tps). Send request p50/p99:
     $(val "$W/send.out" send_req_p50_ms)/$(val "$W/send.out" send_req_p99_ms) ms; errors: $(val "$W/send.out" send_errors).
     Diagnostics (where the time goes): the database function alone
     (SELECT send_message(...) through pgbench, same clients and time, no
     HTTP, no auth): ${tpsf:-?} tps, so the function is $(calc %.2f "${tpsf:-0} / $tps") of the yardstick and
     the HTTP path (nginx, FastCGI over kept connections, the session
     check, validation) keeps $(calc %.2f "$sends / (${tpsf:-0} + 0.001)") of the function's rate. The yardstick
     at 1 / 8 / $CLIENTS clients: ${tpsc1:-?} / ${tpsc8:-?} / $tps tps, with ${per_flush:-?} commits
     per WAL flush at $CLIENTS: PostgreSQL's group commit already shares
     flushes among concurrent commits (docs/DESIGN.md, "Send path": why
     sends are not batched in the application).
EOF
}
