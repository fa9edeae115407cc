# shellcheck shell=bash
# bench/lib/common.sh: the helpers every figure uses: log lines, SQL,
# the load generator's results and processes, the process and memory
# probes, quiet() and warm() between phases, and the report (plot,
# table). Sourced by bench/run.sh (`make bench`), whose settings (knobs,
# paths, $W, $LG...) it uses.

# Every line says when (seconds since the start): which phases take the time.
say() { printf 'bench: [%4ds] %s\n' "$SECONDS" "$*" >&2; }
die() { say "$*"; exit 1; }
q() { psql "$DB" -qXAt -v ON_ERROR_STOP=1 "$@"; }
# A value from a loadgen result file: val FILE KEY
val() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
yes_no() { awk "BEGIN { print ($1) ? \"yes\" : \"NO\" }"; }

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
