# shellcheck shell=bash
# bench/lib/sites.sh: figure 6, the cost of the webhook trigger on
# send_message(). Sourced by bench/run.sh (`make bench`), whose settings
# (knobs, paths, $W, $LG...) it uses.

# send_message() through pgbench (no HTTP: the trigger's cost alone), the
# same $CLIENTS pairs, in four set-ups run in turn, twice: the trigger
# disabled (the yardstick), no site with a webhook (the common case: the
# trigger's first lookup ends it), every recipient linked to a site with a
# webhook but online (the offline check runs), and offline (every message
# queues one delivery). The dispatcher is stopped meanwhile, so its
# deliveries do not load the database: this is the write path's cost.
sites_tps() {
	"$PGBIN/pgbench" -n -M prepared -c 4 -j 2 -T "$1" -f "$W/send.sql" "$DB" \
	    2>/dev/null | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
sites_setup() {
	case $1 in
	off)	q -c "ALTER TABLE messages DISABLE TRIGGER messages_webhooks" ;;
	none)	q -c "ALTER TABLE messages ENABLE TRIGGER messages_webhooks" \
		    -c "UPDATE sites SET webhook_url = NULL WHERE name = 'bench'" ;;
	online)	q -c "UPDATE sites SET webhook_url = 'http://127.0.0.1:9/' WHERE name = 'bench'" \
		    -c "UPDATE sessions SET last_poll_at = now() + interval '1 day'
		        WHERE user_id IN (SELECT r FROM bench_pairs)" ;;
	offline) q -c "UPDATE sessions SET last_poll_at = NULL
		    WHERE user_id IN (SELECT r FROM bench_pairs)" ;;
	esac
}
sites_phase() {
	local round mode t
	say "6. webhook trigger: send_message() x $CLIENTS pairs, 4 set-ups x 2 rounds x $SECS s"
	scripts/parley stop-service webhooks 2>/dev/null || true
	q -c "INSERT INTO sites (name, secret) VALUES ('bench', 'bench-secret-0123456789')" \
	  -c "INSERT INTO site_users (site_id, external_id, user_id)
	      SELECT (SELECT id FROM sites WHERE name = 'bench'), 'r' || i, r FROM bench_pairs"
	printf '%s\n' "\\set i random(1, $CLIENTS)" \
	    "SELECT status FROM send_message((SELECT s FROM bench_pairs WHERE i = :i), (SELECT r FROM bench_pairs WHERE i = :i), NULL, NULL, 'text', '{\"text\":\"bench\"}');" \
	    >"$W/send.sql"
	tps_off=0 tps_none=0 tps_online=0 tps_offline=0
	for round in 1 2; do
		for mode in off none online offline; do
			sites_setup "$mode" >/dev/null
			t=$(sites_tps "$SECS")
			[ -n "$t" ] || die "pgbench failed in set-up $mode"
			eval "tps_$mode=\$(calc %.1f \"\$tps_$mode + $t / 2\")"
			say "  6. round $round, $mode: $t tps"
		done
	done
	queued=$(q -c "SELECT count(*) FROM webhook_outbox")
	q -c "ALTER TABLE messages ENABLE TRIGGER messages_webhooks" >/dev/null
}
sites_rows() {
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "6. send_message()/s, no site webhook" "$tps_none" "no trigger $tps_off" \
	    "$(calc %.2f "$tps_none / $tps_off")" ">= 0.95" "$(yes_no "$tps_none >= 0.95 * $tps_off")"
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "   recipients linked, online" "$tps_online" "no trigger $tps_off" \
	    "$(calc %.2f "$tps_online / $tps_off")" "-" "-"
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "   recipients linked, offline (queued)" "$tps_offline" "no trigger $tps_off" \
	    "$(calc %.2f "$tps_offline / $tps_off")" "-" "-"
	plot bars "6. send_message()/s through pgbench (more is better)" \
	    "no trigger=$tps_off" "no site webhook=$tps_none" \
	    "linked, online=$tps_online" "linked, offline=$tps_offline"
}
sites_defs() {
	cat <<EOF
  6. send_message()/s = calls per second through pgbench (-M prepared, 4
     clients, $SECS s per set-up, mean of 2 rounds with the set-ups
     interleaved), $CLIENTS friend pairs; the yardstick is the same with the
     webhook trigger disabled. Linked: every recipient belongs to a site
     with a webhook for message.offline; online = a device polled within
     the window; offline = every send also queues a delivery ($queued
     rows queued; the dispatcher was stopped).
EOF
}
