#!/usr/bin/env bash
# bench/run.sh: `make bench`. Starts a private Parley stack (var/bench,
# port 18200) and an Nchan nginx (port 18201), measures the figures of
# the benchmark on loopback (8 and 9, the WebSocket gateway's, are in
# bench/lib/ws.sh), each beside a yardstick measured in the
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

# One file per concern: helpers and the report, the stacks, the data,
# and each figure (bench/lib/; figures 8 and 9 in bench/lib/ws.sh).
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
# shellcheck source=bench/lib/stack.sh
. "$ROOT/bench/lib/stack.sh"
# shellcheck source=bench/lib/data.sh
. "$ROOT/bench/lib/data.sh"
# shellcheck source=bench/lib/send.sh
. "$ROOT/bench/lib/send.sh"
# shellcheck source=bench/lib/poll.sh
. "$ROOT/bench/lib/poll.sh"
# shellcheck source=bench/lib/fanout.sh
. "$ROOT/bench/lib/fanout.sh"
# shellcheck source=bench/lib/calls.sh
. "$ROOT/bench/lib/calls.sh"
# shellcheck source=bench/lib/sites.sh
. "$ROOT/bench/lib/sites.sh"
# shellcheck source=bench/lib/maxpolls.sh
. "$ROOT/bench/lib/maxpolls.sh"
# shellcheck source=bench/lib/ws.sh
. "$ROOT/bench/lib/ws.sh"

trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$ROOT/build/release/bin/parley-poll" ] || die "run make build first"
[ -x "$ROOT/build/release/bin/parley-calls" ] || die "run make build first"
case $ONLY in
'' | send | poll | fanout | calls | sites | maxpolls | ws) ;;
*) die "BENCH_ONLY: only \"send\", \"poll\", \"fanout\", \"calls\", \"sites\", \"maxpolls\", \"ws\" (or nothing) is known" ;;
esac
[ -n "$PGBIN" ] && [ -x "$PGBIN/pgbench" ] || die "pgbench not found"
start_stacks
bench_data

if [ "${BENCH_PAUSE:-0}" = 1 ]; then
	rm -f "$BV/resume"
	say "paused: the stack is up; touch $BV/resume to go on"
	while [ ! -f "$BV/resume" ]; do sleep 1; done
fi

# The figures BENCH_ONLY names, or all of them, then the table.
case $ONLY in
ws)
	warm
	sleep 1
	ws_latency_phase
	quiet
	ws_hold_phase
	table ", WebSocket gateway only" ws
	;;
sites)
	sites_phase
	table ", webhook trigger only" sites
	;;
maxpolls)
	warm
	maxpolls_phase
	table ", most polls held only" maxpolls
	;;
calls)
	warm
	sleep 1
	calls_phase
	table ", call setup only" calls
	;;
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
