#!/usr/bin/env bash
# bench/run.sh: `make bench`. Starts a private Parley stack (var/bench,
# port 18200) and an Nchan nginx (port 18201), measures the figures of
# the benchmark on loopback (8 and 9, the WebSocket gateway's, are in
# bench/ws.sh), each beside a yardstick measured in the
# same run, prints a table and stops everything it started (also on
# failure or Ctrl-C). Expects `make build` to have run (the Makefile's
# bench target does that). Needs root or sudo for `ulimit -n` and for
# installing libnginx-mod-nchan when missing.
#
# Knobs (environment): BENCH_VAR (var/bench), BENCH_PORT (18200),
# BENCH_NCHAN_PORT (18201), BENCH_SECS (10: seconds per throughput and
# latency measurement), BENCH_CLIENTS (32), BENCH_RATE (500 messages/s),
# BENCH_POLLERS (1000), BENCH_WAITERS (10000), BENCH_GROUP (500),
# BENCH_ROUNDS (10 fan-out rounds), BENCH_CALLS (400 counted call setups),
# BENCH_CALL_PAIRS (4 caller/callee pairs, one call at a time each),
# BENCH_MAXPOLLS (the capacity scripts/parley computes from the open-file
# limit: figure 7 climbs to it), BENCH_WS_CONNS (15000 WebSockets held in
# figure 9), BENCH_WS_IDLE (25: seconds of idle CPU measured, one ping
# interval), BENCH_WS_SRCS (4 source addresses, 127.0.0.2...),
# BENCH_WS_OPENRATE (1000 sockets opened per second),
# BENCH_ONLY (empty: everything; "send": only figure 1, the durable send
# rate, with its diagnostics; "poll": only figures 2 and 3, the poll tier;
# "fanout": only figure 4; "maxpolls": only figure 7, the most long
# polls the stack holds; "calls": only figure 5, the call setup,
# with its own short table; "sites": only figure 6, the webhook trigger's
# cost on send_message(); "ws": only figures 8 and 9, the WebSocket
# gateway, with figure 2 measured beside 8; the stack and data are set up
# as usual), BENCH_PAUSE (1: once the stack and data are set up, wait
# until $BENCH_VAR/resume exists, for running build/bench/loadgen by
# hand or profiling; a development aid).
#
# Besides the table (report.txt) it writes report.html: each latency
# distribution plotted beside its yardstick's and the ratio figures as
# bars (bench/report.js, from the samples the load generator leaves in
# work/ and the figures' lines in work/plots.tsv).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
mkdir -p "${BENCH_VAR:-$ROOT/var/bench}"
BV=$(cd "${BENCH_VAR:-$ROOT/var/bench}" && pwd)
export PARLEY_VAR=$BV
export PORT=${BENCH_PORT:-18200}
export PARLEY_HOST=127.0.0.1
export PARLEY_PWHASH=min
# All load comes from 127.0.0.1: no per-address connection cap.
export PARLEY_CONN_PER_ADDR=0
unset DATABASE_URL PARLEY_SERVICES PARLEY_BIN
NPORT=${BENCH_NCHAN_PORT:-18201}
SECS=${BENCH_SECS:-10}
CLIENTS=${BENCH_CLIENTS:-32}
RATE=${BENCH_RATE:-500}
POLLERS=${BENCH_POLLERS:-1000}
WAITERS=${BENCH_WAITERS:-10000}
GROUP=${BENCH_GROUP:-500}
STAGE1=$((WAITERS / 10))
ROUNDS=${BENCH_ROUNDS:-10}
CALLS=${BENCH_CALLS:-400}
CPAIRS=${BENCH_CALL_PAIRS:-4}
ONLY=${BENCH_ONLY:-}
WSCONNS=${BENCH_WS_CONNS:-15000}
WSSTAGE1=$((WSCONNS / 10))
WSIDLE=${BENCH_WS_IDLE:-25}
WSSRCS=${BENCH_WS_SRCS:-4}
WSRATE=${BENCH_WS_OPENRATE:-1000}
CLK=$(getconf CLK_TCK)
# Figure 7's target: what the hard open-file limit allows the stack
# (scripts/parley's own formula: the poll service keeps 128 descriptors
# for itself, nginx's workers two per poll), and the load generator too.
HARDN=$(ulimit -Hn); [ "$HARDN" = unlimited ] && HARDN=65536
[ "$HARDN" -gt 65536 ] && HARDN=65536
MAXPOLLS=${BENCH_MAXPOLLS:-$((HARDN - 128))}
# Users who only hold: figure 3's WAITERS, then more for figures 7 and 9.
HOLDERS=$((MAXPOLLS > WSCONNS ? MAXPOLLS : WSCONNS))
XTRA=$((HOLDERS > WAITERS ? HOLDERS - WAITERS : 0))
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
NV=$BV/nchan
W=$BV/work
LG=$ROOT/build/bench/loadgen
DB="postgresql://parley_owner@/parley?host=$BV/pg/sock"
LGPID=

# Every line says when (seconds since the start): which phases take the time.
say() { printf 'bench: [%4ds] %s\n' "$SECONDS" "$*" >&2; }
die() { say "$*"; exit 1; }
q() { psql "$DB" -qXAt -v ON_ERROR_STOP=1 "$@"; }
# A value from a loadgen result file: val FILE KEY
val() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
yes_no() { awk "BEGIN { print ($1) ? \"yes\" : \"NO\" }"; }

# ------------------------------------------------------------ stop / start

nchan_stop() {
	local pid
	[ -f "$NV/nginx.pid" ] || return 0
	pid=$(cat "$NV/nginx.pid")
	kill -QUIT "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$LGPID" ]; then kill "$LGPID" 2>/dev/null || true; fi
	nchan_stop
	scripts/parley stop >/dev/null 2>&1 || true
	[ $rc -eq 0 ] || say "failed (exit $rc); logs in $BV/log and $NV"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$ROOT/build/release/bin/parley-poll" ] || die "run make build first"
[ -x "$ROOT/build/release/bin/parley-calls" ] || die "run make build first"
case $ONLY in
'' | send | poll | fanout | calls | sites | maxpolls | ws) ;;
*) die "BENCH_ONLY: only \"send\", \"poll\", \"fanout\", \"calls\", \"sites\", \"maxpolls\", \"ws\" (or nothing) is known" ;;
esac
[ -n "$PGBIN" ] && [ -x "$PGBIN/pgbench" ] || die "pgbench not found"

# 10,000 held polls (15,000 WebSockets) need as many descriptors in the
# poll service (the gateway), the load generator and (twice, across its
# workers) nginx; children inherit this limit.
need=$(((WAITERS > WSCONNS ? WAITERS : WSCONNS) + 4096))
if [ "$(ulimit -n)" -lt "$need" ]; then
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	[ "$(ulimit -n)" -ge "$need" ] ||
	    die "ulimit -n is $(ulimit -n), need $need (run as root)"
fi

if [ ! -f /usr/lib/nginx/modules/ngx_nchan_module.so ]; then
	say "installing libnginx-mod-nchan (the long-poll yardstick)"
	sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get install -y -qq libnginx-mod-nchan >/dev/null ||
	    { "${sudo[@]}" apt-get update -qq &&
	      "${sudo[@]}" apt-get install -y -qq libnginx-mod-nchan >/dev/null; }
fi

say "building the load generator"
mkdir -p build/bench
cc -std=c11 -O2 -g -Wall -Wextra -Werror -o "$LG" bench/loadgen.c bench/lg_*.c \
    -lsodium -lcrypto

# A fresh stack every run: a leftover one (a killed run) is stopped first.
scripts/parley stop >/dev/null 2>&1 || true
nchan_stop
rm -rf "$BV"
mkdir -p "$BV" "$W" "$NV/tmp"
chmod o+x "$BV"
say "starting Parley on 127.0.0.1:$PORT (state in $BV)"
scripts/parley start

say "starting Nchan on 127.0.0.1:$NPORT"
{
	[ "$(id -u)" -eq 0 ] && echo "user root;"
	cat <<CONF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
# The yardstick: the same nginx, workers and limits as Parley's template.
worker_processes 2;
worker_rlimit_nofile 65536;
pid $NV/nginx.pid;
error_log $NV/error.log warn;
events {
    worker_connections 16384;
}
http {
    access_log $NV/access.log;
    client_body_temp_path $NV/tmp/body;
    proxy_temp_path $NV/tmp/proxy;
    fastcgi_temp_path $NV/tmp/fastcgi;
    uwsgi_temp_path $NV/tmp/uwsgi;
    scgi_temp_path $NV/tmp/scgi;
    keepalive_timeout 65;
    server {
        listen 127.0.0.1:$NPORT;
        location ~ ^/sub/(\w+)$ {
            nchan_subscriber longpoll;
            nchan_channel_id \$1;
            nchan_subscriber_timeout 60s;
        }
        location ~ ^/pub/(\w+)$ {
            nchan_publisher;
            nchan_channel_id \$1;
        }
        # Figures 8 and 9: Nchan's websocket subscriber, pinging as
        # often as the gateway does (PARLEY_GATEWAY_PING).
        location ~ ^/ws/(\w+)$ {
            nchan_subscriber websocket;
            nchan_channel_id \$1;
            nchan_websocket_ping_interval 25;
        }
    }
}
CONF
} >"$NV/nginx.conf"
nginx -p "$NV" -c "$NV/nginx.conf" -e "$NV/error.log" -t -q ||
    die "the Nchan nginx configuration does not load"
nginx -p "$NV" -c "$NV/nginx.conf" -e "$NV/error.log"
for _ in $(seq 50); do
	curl -s -o /dev/null -X POST "http://127.0.0.1:$NPORT/pub/warm" \
	    -d x 2>/dev/null && break
	sleep 0.1
done

# ------------------------------------------------------------------- data

say "creating bench users, friendships and sessions in SQL"
q <<SQL
CREATE TABLE bench_scratch (id bigserial PRIMARY KEY, a int NOT NULL,
    b text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE bench_tokens (username text PRIMARY KEY, token text NOT NULL,
    hash text NOT NULL);
-- sp_: send pairs; lt_: latency pollers and their 20 senders; fo_m0: the
-- group owner, fo_m1..: members; hd_: held polls; cl_a/cl_b: call pairs
-- (caller, callee).
INSERT INTO users (username, display_name)
      SELECT 'sp_s' || i, 'bench' FROM generate_series(1, $CLIENTS) i
UNION ALL SELECT 'sp_r' || i, 'bench' FROM generate_series(1, $CLIENTS) i
UNION ALL SELECT 'lt_p' || i, 'bench' FROM generate_series(1, $POLLERS) i
UNION ALL SELECT 'lt_s' || i, 'bench' FROM generate_series(1, 20) i
UNION ALL SELECT 'fo_m' || i, 'bench' FROM generate_series(0, $GROUP - 1) i
UNION ALL SELECT 'hd_' || i, 'bench' FROM generate_series(1, $WAITERS) i
UNION ALL SELECT 'hx_' || i, 'bench' FROM generate_series(1, $XTRA) i
UNION ALL SELECT 'cl_a' || i, 'bench' FROM generate_series(1, $CPAIRS) i
UNION ALL SELECT 'cl_b' || i, 'bench' FROM generate_series(1, $CPAIRS) i;
CREATE SEQUENCE bench_seq;
CREATE TEMP TABLE fr (a text, b text);
INSERT INTO fr SELECT 'sp_s' || i, 'sp_r' || i
    FROM generate_series(1, $CLIENTS) i;
INSERT INTO fr SELECT 'lt_p' || i, 'lt_s' || ((i - 1) % 20 + 1)
    FROM generate_series(1, $POLLERS) i;
INSERT INTO fr SELECT 'fo_m0', 'fo_m' || i FROM generate_series(1, $GROUP - 1) i;
INSERT INTO fr SELECT 'cl_a' || i, 'cl_b' || i FROM generate_series(1, $CPAIRS) i;
INSERT INTO friendships (user_id, friend_id)
    SELECT ua.id, ub.id FROM fr JOIN users ua ON ua.username = fr.a
        JOIN users ub ON ub.username = fr.b
    UNION ALL
    SELECT ub.id, ua.id FROM fr JOIN users ua ON ua.username = fr.a
        JOIN users ub ON ub.username = fr.b;
SQL
q -c "SELECT username FROM users WHERE display_name = 'bench'" |
    "$LG" tokens >"$W/tokens.tsv"
q <<SQL
\copy bench_tokens FROM '$W/tokens.tsv'
INSERT INTO sessions (user_id, token_hash, expires_at, user_agent)
    SELECT u.id, decode(t.hash, 'hex'), now() + interval '1 day', 'bench'
    FROM bench_tokens t JOIN users u USING (username);
CREATE TABLE bench_pairs AS SELECT i, s.id AS s, r.id AS r
    FROM generate_series(1, $CLIENTS) i
    JOIN users s ON s.username = 'sp_s' || i
    JOIN users r ON r.username = 'sp_r' || i;
ANALYZE;
SQL
# Files for the load generator, one line per user.
q -F ' ' -c "SELECT t.token, r.id FROM generate_series(1, $CLIENTS) i
    JOIN bench_tokens t ON t.username = 'sp_s' || i
    JOIN users r ON r.username = 'sp_r' || i ORDER BY i" >"$W/pairs.txt"
q -F ' ' -c "SELECT t.token, u.id, s.token FROM generate_series(1, $POLLERS) i
    JOIN users u ON u.username = 'lt_p' || i
    JOIN bench_tokens t ON t.username = u.username
    JOIN bench_tokens s ON s.username = 'lt_s' || ((i - 1) % 20 + 1)
    ORDER BY i" >"$W/pollers.txt"
q -F ' ' -c "SELECT t.token, u.id FROM generate_series(0, $GROUP - 1) i
    JOIN users u ON u.username = 'fo_m' || i
    JOIN bench_tokens t ON t.username = u.username ORDER BY i" \
    >"$W/members.txt"
q -c "SELECT t.token FROM generate_series(1, $WAITERS) i
    JOIN bench_tokens t ON t.username = 'hd_' || i ORDER BY i" \
    >"$W/hold.txt"
# Call pairs: caller then callee, each "token user_id partner_token",
# followed by the waiting pollers of figure 2.
q -F ' ' -c "SELECT t.token, u.id, o.token FROM generate_series(1, $CPAIRS) i,
    LATERAL (VALUES (0, 'cl_a' || i, 'cl_b' || i), (1, 'cl_b' || i, 'cl_a' || i))
        AS x (role, me, other)
    JOIN users u ON u.username = x.me
    JOIN bench_tokens t ON t.username = x.me
    JOIN bench_tokens o ON o.username = x.other
    ORDER BY i, role" >"$W/calls.txt"
[ "$(wc -l <"$W/pollers.txt")" -ge "$POLLERS" ] || die "setup: pollers"
[ "$(wc -l <"$W/calls.txt")" -eq $((2 * CPAIRS)) ] || die "setup: call pairs"
cat "$W/calls.txt" "$W/pollers.txt" >"$W/callpollers.txt"
[ "$(wc -l <"$W/hold.txt")" -ge "$WAITERS" ] || die "setup: waiters"
{ cat "$W/hold.txt"; q -c "SELECT t.token FROM generate_series(1, $XTRA) i
    JOIN bench_tokens t ON t.username = 'hx_' || i ORDER BY i"; } >"$W/holdmax.txt"

# The fan-out group goes through the API (owner fo_m0, GROUP-1 friends).
owner=$(head -n 1 "$W/members.txt" | cut -d' ' -f1)
body=$(q -c "SELECT json_build_object('name', 'bench-fanout',
    'members', json_agg(id ORDER BY id)) FROM users
    WHERE username LIKE 'fo\_m%' AND username <> 'fo_m0'")
code=$(curl -s -o "$W/group.json" -w '%{http_code}' -X POST \
    "http://127.0.0.1:$PORT/api/v1/groups" -H "Authorization: Bearer $owner" \
    -H 'Content-Type: application/json' -d "$body")
[ "$code" = 201 ] || die "creating the group: $code $(cat "$W/group.json")"
gid=$(q -c "SELECT id FROM conversations WHERE kind = 'group' AND
    name = 'bench-fanout'")

if [ "${BENCH_PAUSE:-0}" = 1 ]; then
	rm -f "$BV/resume"
	say "paused: the stack is up; touch $BV/resume to go on"
	while [ ! -f "$BV/resume" ]; do sleep 1; done
fi

# --------------------------------------------------------------- helpers

pidof_svc() { cut -d' ' -f1 "$BV/run/$1.pid"; }
children() { ps -o pid= --ppid "$1" | tr -d ' ' | tr '\n' ' '; }
parley_pids() {
	local m
	m=$(cat "$BV/run/nginx.pid")
	echo "$(pidof_svc accounts) $(pidof_svc friends) $(pidof_svc messages)" \
	    "$(pidof_svc poll) $m $(children "$m")"
}
nginx_pids() {
	local m
	m=$(cat "$BV/run/nginx.pid")
	echo "$m $(children "$m")"
}
nchan_pids() {
	local m
	m=$(cat "$NV/nginx.pid")
	echo "$m $(children "$m")"
}
# Sum of VmRSS in KiB.
rss_kib() {
	local p s=0 r
	for p in "$@"; do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		s=$((s + ${r:-0}))
	done
	echo "$s"
}
# Other roles' backends show in pg_stat_activity only to a superuser
# (the owner role sees its own alone): the cluster's bootstrap role.
qa() { psql "postgresql://parley_admin@/parley?host=$BV/pg/sock" -qXAt -v ON_ERROR_STOP=1 "$@"; }
pg_backends() {
	qa -c "SELECT count(*) - 1 FROM pg_stat_activity
	    WHERE backend_type = 'client backend'"
}
pg_by_app() {
	qa -c "SELECT string_agg(application_name || ':' || n, ' ' ORDER BY 1)
	    FROM (SELECT application_name, count(*) n FROM pg_stat_activity
	    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
	    GROUP BY 1) a"
}
# Runs the load generator in the background so cleanup can stop it; its
# distributions' samples go beside OUT (lat_parley.out: lat_parley_*.txt).
lg() {
	local out=$1
	shift
	"$LG" "$@" --samples "${out%.out}" >"$out" &
	LGPID=$!
	wait "$LGPID" || { LGPID=; die "loadgen $1 failed (see above)"; }
	LGPID=
}
# hold_start KIND PORT FDPIDS OUT: opens STAGE1 then WAITERS long polls.
hold_start() {
	rm -f "$W"/ready.* "$W"/done.*
	"$LG" hold --kind "$1" --port "$2" --n "$WAITERS" --stages "$STAGE1" \
	    --file "$W/hold.txt" --fdpids "$3" --ready "$W/ready" \
	    --done "$W/done" --maxhold 30 >"$4" &
	LGPID=$!
}
# hold_wait STAGE: returns once that many polls are held (plus a second
# for allocations to settle).
hold_wait() {
	for _ in $(seq 900); do
		[ -f "$W/ready.$1" ] && { sleep 1; return 0; }
		kill -0 "$LGPID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$LGPID" || true
	LGPID=
	die "the long polls were not held (stage $1)"
}
hold_next() { touch "$W/done.$1"; }
hold_end() {
	wait "$LGPID" || { LGPID=; die "loadgen hold failed"; }
	LGPID=
}

# Between phases: the janitor's presence sweep is run now (window 0)
# rather than 60 s after a phase's pollers stopped, in the middle of the
# next phase; then a checkpoint, so one phase's dirty buffers are not
# written during the next (the throughput phase goes last for that).
quiet() {
	q -c "SELECT presence_sweep(interval '0 seconds')" >/dev/null
	# CHECKPOINT needs a superuser: the cluster's bootstrap role.
	psql "postgresql://parley_admin@/parley?host=$BV/pg/sock" -qXAtc "CHECKPOINT" >/dev/null
	sleep 1
}

# A few requests through every path so lazy setup is not counted.
warm() {
	local t
	t=$(head -n 1 "$W/hold.txt")
	for _ in 1 2 3; do
		curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/events?since=0&timeout=0" \
		    -H "Authorization: Bearer $t"
		curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/health"
		curl -s -o /dev/null -X POST "http://127.0.0.1:$NPORT/pub/warm" -d x
	done
}

# ------------------------------------------------------ 5. call setup

# Run after figure 2 (BENCH_ONLY=calls: alone), with its pollers waiting.
calls_phase() {
	say "5. call setup: $CPAIRS pairs, $CALLS setups, $POLLERS other pollers waiting"
	lg "$W/calls.out" calls --port "$PORT" --n "$POLLERS" --pairs "$CPAIRS" \
	    --calls "$CALLS" --warm 3 --settle_ms 50 --maxsecs 60 \
	    --file "$W/callpollers.txt"
	grep -E '^(setups_ok|pings_ok|busy|callee_offline|.*errors|timeouts|stray)=' \
	    "$W/calls.out" | sed 's/^/  calls: /' >&2
	[ "$(val "$W/calls.out" setup_n)" -gt 0 ] &&
	    [ "$(val "$W/calls.out" rtt_n)" -gt 0 ] ||
	    die "no call setup completed (see $W/calls.out and $BV/log)"
}
calls_rows() {
	local f=$W/calls.out s50 s99 r50 r99
	s50=$(val "$f" setup_p50_ms); s99=$(val "$f" setup_p99_ms)
	r50=$(val "$f" rtt_p50_ms); r99=$(val "$f" rtt_p99_ms)
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "5. call setup p50, $POLLERS pollers" "$s50 ms" \
	    "msg round trip $r50 ms" "$(calc %.1f "$s50 / $r50")x" "-" "-"
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "   call setup p99, $(val "$f" setup_n) setups" "$s99 ms" \
	    "msg round trip $r99 ms" "$(calc %.1f "$s99 / $r99")x" "-" "-"
	plot dist "5. call setup beside a message round trip, $POLLERS pollers waiting" \
	    "call setup=calls_setup.txt" "message round trip=calls_rtt.txt"
}
calls_defs() {
	local f=$W/calls.out fig2=
	[ -z "${lp50:-}" ] || fig2="
     For scale: twice figure 2's p50 (at $RATE messages/s) is $(calc %.3f "2 * $lp50") ms."
	cat <<EOF
  5. call setup = from writing POST /api/v1/calls (caller) to having read
     the caller's poll answer carrying call.accepted: the callee's long
     poll brings call.invite, the callee at once POSTs
     /api/v1/calls/{id}/accept with the id from the event, the caller's
     long poll brings call.accepted. $CPAIRS friend pairs, one call at a time
     each (then the caller hangs up and both polls bring call.ended),
     $(val "$f" setups_ok) setups in $(val "$f" secs) s, $(val "$f" setup_n) counted (the first $(val "$f" warm_per_pair) of each pair are
     warm-up), while $POLLERS other users each wait in a long poll; every
     step starts with both parties' polls parked for 50 ms.
     Halves: invite -> call.invite read by the callee p50 $(val "$f" setup_invite_p50_ms) ms, p99 $(val "$f" setup_invite_p99_ms) ms;
       accept -> call.accepted read by the caller p50 $(val "$f" setup_accept_p50_ms) ms, p99 $(val "$f" setup_accept_p99_ms) ms;
       the requests: POST /api/v1/calls -> 201 p50 $(val "$f" invite_req_p50_ms) ms, p99 $(val "$f" invite_req_p99_ms) ms,
       accept -> 200 p50 $(val "$f" accept_req_p50_ms) ms, p99 $(val "$f" accept_req_p99_ms) ms; max setup $(val "$f" setup_max_ms) ms.
     Yardstick: the same exchange made of two messages, interleaved with
     the calls (same pairs, connections and waiting pollers, so the same
     noise): the caller sends, the callee's poll brings it, the callee at
     once replies, the caller's poll brings the reply ($(val "$f" rtt_n) counted;
     halves p50 $(val "$f" rtt_ping_p50_ms) and $(val "$f" rtt_pong_p50_ms) ms, max $(val "$f" rtt_max_ms) ms). Both are two
     requests in turn, each delivered through a long poll: the ratio is
     what the calls path costs against messaging. (A message also lands
     in the sender's own stream and, once read, brings the sender
     message.delivered; an accept also sends call.answered_elsewhere to
     the callee's devices.)$fig2
     Answers: busy $(val "$f" busy), callee_offline $(val "$f" callee_offline), other invite errors $(val "$f" invite_errors),
     accept errors $(val "$f" accept_errors), hangup errors $(val "$f" hangup_errors), message errors $(val "$f" message_errors),
     steps timed out (5 s) $(val "$f" timeouts), unexpected events $(val "$f" stray); call.invite read
     before the caller had its 201 (no harm: the id is in the event): $(val "$f" invite_seen_before_201).
EOF
}

# ------------------------------------------- 6. webhook trigger on sends

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

# plot KIND TITLE ITEM...: one figure of report.html (bench/report.js).
# KIND dist: each ITEM "label=file" (samples in $W, from lg's --samples);
# bars: each ITEM "label=value" or "label=part:value+part:value" (stacked).
plot() { local IFS=$'\t'; echo "$*" >>"$W/plots.tsv"; }

# table TITLE NAME...: the table (each NAME's _rows) and its definitions
# (each NAME's _defs) into report.txt and on stdout, then report.html.
table() {
	local title=$1 f
	shift
	rm -f "$W/plots.tsv"
	plot meta date "$(date -u +%Y-%m-%dT%H:%MZ)"
	plot meta cores "$(nproc)"
	plot meta elapsed "$SECONDS"
	{
	echo
	echo "Parley benchmark$title ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, loopback; ratio = Parley / yardstick)"
	echo
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' figure Parley yardstick ratio target met?
	for f; do "${f}_rows"; done
	echo
	echo "Definitions and detail:"
	for f; do "${f}_defs"; done
	} | tee "$BV/report.txt"
	if command -v node >/dev/null; then
		node bench/report.js "$BV/report.txt" "$W/plots.tsv" \
		    "$BV/report.html" || die "bench/report.js failed"
		say "report: $BV/report.txt, $BV/report.html ($SECONDS s in all)"
	else
		say "report: $BV/report.txt (no node: no report.html; $SECONDS s in all)"
	fi
}

# shellcheck source=bench/ws.sh
. "$ROOT/bench/ws.sh"

if [ "$ONLY" = ws ]; then
	warm
	sleep 1
	ws_latency_phase
	quiet
	ws_hold_phase
	table ", WebSocket gateway only" ws
	exit 0
fi

if [ "$ONLY" = sites ]; then
	sites_phase
	table ", webhook trigger only" sites
	exit 0
fi

# ------------------------------------------- 7. the most polls held

# Climbs 5,000 at a time to MAXPOLLS long polls (one per user, since=0,
# timeout 55) and reports the most the poll service held at once (its
# descriptor count over idle). The yardstick is what the hard open-file
# limit allows: held / allowed is the figure.
maxpolls_phase() {
	local stages="" n
	for ((n = 5000; n < MAXPOLLS; n += 5000)); do stages="$stages${stages:+,}$n"; done
	say "7. the most long polls held: up to $MAXPOLLS (stages $stages)"
	rm -f "$W"/mready.* "$W"/mdone.*
	"$LG" hold --kind parley --port "$PORT" --n "$MAXPOLLS" --stages "$stages" \
	    --file "$W/holdmax.txt" --fdpids "$(pidof_svc poll)" --ready "$W/mready" \
	    --done "$W/mdone" --maxhold 1 --stagewait 30 --ladder 1 \
	    --openrate 3000 >"$W/maxpolls.out" &
	LGPID=$!
	wait "$LGPID" || { LGPID=; die "loadgen hold (figure 7) failed"; }
	LGPID=
	sed 's/^/  maxpolls: /' "$W/maxpolls.out" >&2
	mp_held=$(val "$W/maxpolls.out" max_held)
	[ -n "$mp_held" ] || mp_held=$(val "$W/maxpolls.out" "stage$(( $(grep -c '^stage[0-9]*_waiters=' "$W/maxpolls.out") - 1 ))_waiters")
	mp_errors=$(val "$W/maxpolls.out" errors)
	mp_early=$(val "$W/maxpolls.out" early_answers)
	quiet
}
maxpolls_rows() {
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "7. most long polls held at once" "$mp_held" "allowed $MAXPOLLS" \
	    "$(calc %.2f "$mp_held / $MAXPOLLS")" ">= 0.95" \
	    "$(yes_no "$mp_held >= 0.95 * $MAXPOLLS")"
}
maxpolls_defs() {
	cat <<EOF
  7. most held = the poll service's descriptors over idle when the climb
     ($MAXPOLLS polls, 5,000 more per stage, one user each) ended; allowed
     = the hard open-file limit ($HARDN, at most 65,536) less 128, the
     capacity scripts/parley prints (the load generator and each nginx
     worker have the same per-process limit). $mp_errors errors, $mp_early
     answered early.
EOF
}

if [ "$ONLY" = maxpolls ]; then
	warm
	maxpolls_phase
	table ", most polls held only" maxpolls
	exit 0
fi

if [ "$ONLY" = calls ]; then
	warm
	sleep 1
	calls_phase
	table ", call setup only" calls
	exit 0
fi

# ---------------------------------------------- 3. waiting pollers held

# First, on the fresh processes: the memory figure is the conservative one
# (no heap grown by earlier phases to hide the cost). Measured idle, with
# STAGE1 polls held and with WAITERS held: the second step is the marginal
# cost, free of one-time costs (threads connecting, tables sized).
# (The phases' bodies are not indented: kept as they were for merging.)
hold_phase() {
warm
sleep 1
say "3. holding $STAGE1 then $WAITERS Parley long polls"
pp=$(parley_pids)
pr0=$(rss_kib $pp); pn0=$(rss_kib $(nginx_pids)); pq0=$(rss_kib "$(pidof_svc poll)")
pg0=$(pg_backends)
hold_start parley "$PORT" "$(pidof_svc poll)" "$W/hold_parley.out"
hold_wait 0
pr1=$(rss_kib $pp); pn1=$(rss_kib $(nginx_pids)); pq1=$(rss_kib "$(pidof_svc poll)")
pg1=$(pg_backends)
hold_next 0
hold_wait 1
pr2=$(rss_kib $pp); pn2=$(rss_kib $(nginx_pids)); pq2=$(rss_kib "$(pidof_svc poll)")
pg2=$(pg_backends)
pg_apps=$(pg_by_app)
hold_next 1
hold_end
sed 's/^/  parley hold: /' "$W/hold_parley.out" >&2
quiet

say "3. holding $STAGE1 then $WAITERS Nchan long-poll subscribers"
np=$(nchan_pids)
nr0=$(rss_kib $np)
hold_start nchan "$NPORT" "$(children "$(cat "$NV/nginx.pid")" | tr ' ' ',' | sed 's/,$//')" "$W/hold_nchan.out"
hold_wait 0
nr1=$(rss_kib $np)
hold_next 0
hold_wait 1
nr2=$(rss_kib $np)
hold_next 1
hold_end
sed 's/^/  nchan hold: /' "$W/hold_nchan.out" >&2
}

# ------------------------------------------- 2. send-to-delivery latency

latency_phase() {
quiet
say "2. Parley: $POLLERS waiting pollers, $RATE messages/s, $SECS s"
lg "$W/lat_parley.out" latency --kind parley --port "$PORT" --n "$POLLERS" \
    --rate "$RATE" --secs "$SECS" --warm 2 --file "$W/pollers.txt"
say "2. Nchan: $POLLERS long-poll subscribers, $RATE publishes/s, $SECS s"
lg "$W/lat_nchan.out" latency --kind nchan --port "$NPORT" --n "$POLLERS" \
    --rate "$RATE" --secs "$SECS" --warm 2
}

# ------------------------------------------------------ 4. group fan-out

fanout_phase() {
quiet
say "4. group fan-out: $GROUP members polling, $ROUNDS rounds"
lg "$W/fanout.out" fanout --port "$PORT" --n "$GROUP" --group "$gid" \
    --rounds "$ROUNDS" --gap 0.5 --file "$W/members.txt"
}

# ------------------------------------------------ 1. durable send rate

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

# ------------------------------------------------------------------ report

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

poll_rows() {
pw=$(calc %.2f "($pr2 - $pr0) / $WAITERS")
pwm=$(calc %.2f "($pr2 - $pr1) / ($WAITERS - $STAGE1)")
nw=$(calc %.2f "($nr2 - $nr0) / $WAITERS")
nwm=$(calc %.2f "($nr2 - $nr1) / ($WAITERS - $STAGE1)")
pqw=$(calc %.2f "($pq2 - $pq0) / $WAITERS")
pnw=$(calc %.2f "($pn2 - $pn0) / $WAITERS")
ap50=$(val "$W/lat_parley.out" ack_to_deliv_p50_ms)
ap99=$(val "$W/lat_parley.out" ack_to_deliv_p99_ms)
lp50=$(val "$W/lat_parley.out" lat_p50_ms)
lp99=$(val "$W/lat_parley.out" lat_p99_ms)
np50=$(val "$W/lat_nchan.out" lat_p50_ms)
np99=$(val "$W/lat_nchan.out" lat_p99_ms)
held=$(val "$W/hold_parley.out" still_waiting)
nheld=$(val "$W/hold_nchan.out" still_waiting)
# Figure 3's rest: the other services (a difference of noisy sums).
pow=$(calc %.2f "$pw - $pqw - $pnw")
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "2. send->delivery p50, $POLLERS pollers" "$lp50 ms" "nchan $np50 ms" \
    "$(calc %.1f "$lp50 / $np50")x" "-" "-"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   send->delivery p99, $RATE msg/s" "$lp99 ms" "nchan $np99 ms" \
    "$(calc %.1f "$lp99 / $np99")x" "<= 3.0x" "$(yes_no "$lp99 <= 3 * $np99")"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   delivery alone (from the 201) p50 / p99" "$ap50 / $ap99 ms" "-" \
    "-" "-" "-"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "3. RSS per waiting poll, $WAITERS held" "$pw KiB" "nchan $nw KiB" \
    "$(calc %.2f "$pw / $nw")x" "<= 1.0x" \
    "$(yes_no "$pw <= $nw && $held == $WAITERS")"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   of which the poll service" "$pqw KiB" "-" "-" "<= 2 KiB" \
    "$(yes_no "$pqw <= 2")"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   of which nginx" "$pnw KiB" "nchan $nw KiB" \
    "$(calc %.2f "$pnw / $nw")x" "-" "-"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   PostgreSQL backends at $STAGE1 -> $WAITERS" "$pg1 -> $pg2" "-" \
    "-" "no growth" "$(yes_no "$pg2 <= $pg1")"
plot dist "2. send -> delivery, $POLLERS long pollers, $RATE msg/s" \
    "Parley long poll=lat_parley_lat.txt" "Nchan long poll=lat_nchan_lat.txt"
plot bars "3. RSS per waiting poll, KiB, $WAITERS held (less is better)" \
    "Parley=poll service:$pqw+nginx:$pnw+other services:$pow" \
    "Nchan=nginx:$nw"
}

fanout_rows() {
fo=$(val "$W/fanout.out" fanout_all_p50_ms)
fomax=$(val "$W/fanout.out" fanout_all_max_ms)
single=$(val "$W/fanout.out" single_p50_ms)
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "4. fan-out to $GROUP members, p50 to last" "$fo ms" \
    "1 recipient $single ms" "$(calc %.1f "$fo / $single")x" "<= 50 ms" \
    "$(yes_no "$fo <= 50")"
plot dist "4. fan-out to $GROUP members: delivery times beside one recipient's" \
    "each member=fanout_fanout_member.txt" \
    "the last member, per round=fanout_fanout_all.txt" \
    "reference: one recipient=fanout_single.txt"
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

poll_defs() {
cat <<EOF
  2. latency = from writing the send request (POST /api/v1/messages, or
     Nchan's POST /pub/<channel>) to having read the poller's whole
     response carrying that message; $POLLERS pollers each waiting in a
     long poll (Nchan: $POLLERS channels, one subscriber each), messages
     round-robin at $RATE/s for $SECS s after 2 s of warm-up.
     Parley: $(val "$W/lat_parley.out" delivered)/$(val "$W/lat_parley.out" messages) delivered, p90 $(val "$W/lat_parley.out" lat_p90_ms) ms, max $(val "$W/lat_parley.out" lat_max_ms) ms;
       measured from the 201 instead: p50 $(val "$W/lat_parley.out" ack_to_deliv_p50_ms) ms, p99 $(val "$W/lat_parley.out" ack_to_deliv_p99_ms) ms (negative when the
       poll answered before the sender had its 201); the send request
       itself (issue -> 201): p50 $(val "$W/lat_parley.out" send_req_p50_ms) ms, p99 $(val "$W/lat_parley.out" send_req_p99_ms) ms.
     Nchan:  $(val "$W/lat_nchan.out" delivered)/$(val "$W/lat_nchan.out" messages) delivered, p90 $(val "$W/lat_nchan.out" lat_p90_ms) ms, max $(val "$W/lat_nchan.out" lat_max_ms) ms.
  3. RSS = sum of VmRSS of parley-accounts, -friends, -messages, -poll and
     nginx (master + workers) in KiB, idle -> $STAGE1 -> $WAITERS polls held
     ($held still waiting at the end, $(val "$W/hold_parley.out" early_answers) answered early, $(val "$W/hold_parley.out" errors) errors):
     all $pr0 -> $pr1 -> $pr2 (poll service $pq0 -> $pq1 -> $pq2,
     nginx $pn0 -> $pn1 -> $pn2); per waiter from idle $pw KiB (poll
     service $pqw KiB, nginx $pnw KiB), marginal ($STAGE1 -> $WAITERS)
     $pwm KiB. Nchan nginx: $nr0 -> $nr1 -> $nr2 KiB,
     per subscriber $nw KiB, marginal $nwm KiB ($nheld held).
     PostgreSQL client backends: idle $pg0, $STAGE1 held $pg1, $WAITERS held
     $pg2 ($pg_apps): a fixed pool per service.
EOF
}

fanout_defs() {
cat <<EOF
  4. fan-out = from writing one POST /api/v1/messages to the group to
     having every one of the $GROUP members' poll answers carrying it
     (p50 over $ROUNDS rounds after a warm-up round; max $fomax ms; each
     member's own delivery p50 $(val "$W/fanout.out" fanout_member_p50_ms) ms). Reference: a direct message
     from the same sender to one member, same run, p50 $single ms.
EOF
}

case $ONLY in
send)
	send_phase
	table ", send path only" send
	;;
poll)
	hold_phase
	latency_phase
	table ", poll tier only" poll
	;;
fanout)
	warm
	fanout_phase
	table ", fan-out only" fanout
	;;
'')
	# Figure 3 first, on the fresh processes; figure 1 late, so its dirty
	# buffers are not written during another phase.
	hold_phase
	latency_phase
	quiet
	ws_latency_phase
	quiet
	ws_hold_phase
	calls_phase
	fanout_phase
	send_phase
	quiet
	sites_phase
	maxpolls_phase
	table "" send poll fanout calls sites maxpolls ws
	;;
esac
