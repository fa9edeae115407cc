# shellcheck shell=bash
# scripts/lib/stack.sh: the whole stack: start_all, stop_all and status.
# Sourced by scripts/parley, never run on its own: it uses the settings,
# say and die defined there (and the other files' functions).

start_all() {
	running && die "already running (http://$HOST:$PORT); stop it with: make stop"
	raise_nofile
	ensure_user
	prepare_var
	pg_start
	migrate
	if [ "${PARLEY_REPLICA:-0}" = 1 ]; then
		replica_start
		export PARLEY_READ_DATABASE_URL
		PARLEY_READ_DATABASE_URL=$(replica_url)
	fi
	# A service that cannot start stops the whole start, and make start
	# fails: nothing is left half running.
	if ! start_services || ! start_nginx || ! wait_healthy; then
		stop_all
		die "start failed (logs in $LOG)"
	fi
	say "open files: $NOFILE per process (soft limit raised to the hard limit; PARLEY_MAX_FILES sets it)"
	say "capacity: about $(capacity) waiting clients (long polls) at once"
	say "up at http://$HOST:$PORT/ (logs in $LOG)"
}

stop_all() {
	stop_nginx
	stop_services
	pg_stop
}

status() {
	local s st pid r
	for s in $SERVICES $WORKERS; do
		st=$(cat "$RUN/$s.state" 2>/dev/null || echo stopped)
		r=$(cat "$RUN/$s.restarts" 2>/dev/null || echo 0)
		if ! live_pid "$RUN/$s.super" >/dev/null && [ "$st" = running ]; then
			st="running unsupervised"
		fi
		if pid=$(live_pid "$RUN/$s.pid"); then
			echo "$s: running (pid $pid) restarts=$r"
		else
			case $st in
			gave-up*) echo "$s: gave up (${st#gave-up }) after $r restarts; see $LOG/$s.log" ;;
			exited*) echo "$s: restarting (${st#exited }) restarts=$r" ;;
			*) echo "$s: stopped" ;;
			esac
		fi
	done
	if pid=$(nginx_pid); then echo "nginx: running (pid $pid)"; else echo "nginx: stopped"; fi
	if [ "$EMBEDDED" -eq 1 ]; then pg_running && echo "postgres: running" || echo "postgres: stopped"; fi
}
