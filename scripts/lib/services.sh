# shellcheck shell=bash
# scripts/lib/services.sh: the processes: pid files, the supervisor of
# each service and worker (`scripts/parley __supervise NAME`), starting,
# stopping and restarting them. Sourced by scripts/parley, never run on
# its own: it uses the settings, say and die defined there (and the
# other files' functions).


# A pid file holds "pid starttime" (field 22 of /proc/pid/stat), so a pid
# that was reused by another process after ours died is never signalled.
pid_start() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	set -- $st
	echo "${20}"
}

write_pid() {
	local f=$1 pid=$2
	run_put "$f" "$pid $(pid_start "$pid" || echo 0)"
}

# Replaces a supervisor file in $RUN at once (a reader never sees it
# half written or missing), readable by the service user too: the admin
# service's health page reads them (only root and that user can enter
# $RUN, which that user owns anyway).
run_put() {
	(umask 022; printf '%s\n' "$2" >"$1.tmp.$$") && mv -f "$1.tmp.$$" "$1"
}

# Prints the pid recorded in FILE if that very process is still alive.
live_pid() {
	local f=$1 pid start now
	[ -f "$f" ] || return 1
	read -r pid start <"$f" || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	now=$(pid_start "$pid") || return 1
	[ -n "$start" ] && [ "$now" = "$start" ] || return 1
	echo "$pid"
}

# Sends SIGTERM to the process recorded in FILE (if it is still that
# process) and waits for it to go, then SIGKILL after `secs`.
stop_pidfile() {
	local f=$1 secs=${2:-15} pid i
	if pid=$(live_pid "$f"); then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < secs * 10; i++)); do
			live_pid "$f" >/dev/null || break
			sleep 0.1
		done
		if live_pid "$f" >/dev/null; then
			say "$f: pid $pid did not stop in ${secs}s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$f"
}

# Runs a program as the service user, without any privilege to regain.
svc_exec() {
	if [ "$AS_ROOT" -eq 1 ]; then
		exec setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups \
		    --inh-caps=-all --no-new-privs -- "$@"
	fi
	exec "$@"
}

is_service() { case " $SERVICES " in *" $1 "*) return 0 ;; esac; return 1; }
is_worker() { case " $WORKERS " in *" $1 "*) return 0 ;; esac; return 1; }

# The supervisor of one service or worker (`scripts/parley __supervise
# NAME`, a process of its own started by start_one): runs it, and when it
# exits without being asked to, logs why and starts it again after a
# back-off (0.2 s, then 1, 2, 4, 8... at most 30 s). RESTART_LIMIT quick
# exits in a row (each within RESTART_WINDOW s of its start) and it gives
# up with a clear line in the service's log. State for `status`:
#   $RUN/NAME.super    the supervisor ("pid starttime")
#   $RUN/NAME.pid      the running process ("pid starttime")
#   $RUN/NAME.state    running | exited STATUS | gave-up STATUS
#   $RUN/NAME.restarts how many times it was restarted
supervise() {
	local s=$1 child="" rc why t0 fails=0 restarts=0 delay_ms=200 stop=0
	local logf=$LOG/$s.log
	# A supervisor must outlive any failing command of its own.
	set +e
	trap 'stop=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
	trap '' HUP
	write_pid "$RUN/$s.super" $$
	run_put "$RUN/$s.restarts" 0
	while :; do
		t0=$SECONDS
		if is_service "$s"; then
			rm -f "$RUN/$s.sock"
			( export PARLEY_LISTEN="$RUN/$s.sock"; svc_exec "$BIN/parley-$s" ) \
			    </dev/null >>"$logf" 2>&1 &
		else
			( svc_exec "$BIN/parley-$s" ) </dev/null >>"$logf" 2>&1 &
		fi
		child=$!
		write_pid "$RUN/$s.pid" "$child"
		run_put "$RUN/$s.state" running
		# wait returns early when a trapped signal arrives; the child is
		# gone only once kill -0 fails (a zombie still answers).
		while :; do
			rc=0
			wait "$child" || rc=$?
			kill -0 "$child" 2>/dev/null || break
		done
		child=""
		rm -f "$RUN/$s.pid"
		if [ "$stop" -eq 1 ]; then
			run_put "$RUN/$s.state" stopped
			break
		fi
		if [ "$rc" -gt 128 ]; then
			why="killed by signal $((rc - 128))"
		else
			why="exit status $rc"
		fi
		run_put "$RUN/$s.state" "exited $why"
		if [ $((SECONDS - t0)) -ge "$RESTART_WINDOW" ]; then
			fails=0
			delay_ms=200
		fi
		fails=$((fails + 1))
		if [ "$fails" -ge "$RESTART_LIMIT" ]; then
			printf 'parley: %s exited (%s) %d times in a row, each within %d s of starting; giving up. Fix the cause (see above), then: scripts/parley restart-service %s\n' \
			    "$s" "$why" "$fails" "$RESTART_WINDOW" "$s" >>"$logf"
			run_put "$RUN/$s.state" "gave-up $why"
			break
		fi
		restarts=$((restarts + 1))
		run_put "$RUN/$s.restarts" "$restarts"
		printf 'parley: %s exited unexpectedly (%s); restart %d in %d.%03d s\n' \
		    "$s" "$why" "$restarts" $((delay_ms / 1000)) $((delay_ms % 1000)) >>"$logf"
		sleep "$((delay_ms / 1000)).$(printf %03d $((delay_ms % 1000)))" &
		wait $! 2>/dev/null || true
		[ "$stop" -eq 1 ] && { run_put "$RUN/$s.state" stopped; break; }
		if [ "$delay_ms" -lt 1000 ]; then delay_ms=1000
		elif [ "$delay_ms" -lt 30000 ]; then delay_ms=$((delay_ms * 2))
		fi
		[ "$delay_ms" -gt 30000 ] && delay_ms=30000
	done
	rm -f "$RUN/$s.super"
}

# Is service NAME's current process listening on its socket? The
# supervisor removes the socket file before each start, so a listening
# socket at that path belongs to the new process.
listening() {
	ss -xlnH 2>/dev/null | awk -v p="$RUN/$1.sock" '$5 == p { f = 1 } END { exit !f }'
}

# start_one NAME: a supervisor for NAME in its own session (so a closing
# terminal or Ctrl-C of `make run` reaches it only through `stop`).
start_one() {
	local s=$1
	[ -x "$BIN/parley-$s" ] || die "$BIN/parley-$s is missing (run: make build)"
	if live_pid "$RUN/$s.super" >/dev/null; then
		die "$s is already supervised (pid $(live_pid "$RUN/$s.super"))"
	fi
	rm -f "$RUN/$s.state" "$RUN/$s.pid"
	setsid "$0" __supervise "$s" </dev/null >>"$LOG/supervisor.log" 2>&1 &
}

# wait_ready NAME: until the service listens (a worker: runs for 0.3 s).
# Fails, with the end of its log, when it exits first.
wait_ready() {
	local s=$1 i alive=0
	for ((i = 0; i < 300; i++)); do
		case $(cat "$RUN/$s.state" 2>/dev/null || true) in
		exited* | gave-up*)
			tail -n 20 "$LOG/$s.log" >&2
			say "$s exited at start"
			return 1 ;;
		running)
			if is_service "$s"; then
				listening "$s" && return 0
			else
				alive=$((alive + 1))
				[ "$alive" -ge 3 ] && return 0
			fi ;;
		esac
		sleep 0.1
	done
	tail -n 20 "$LOG/$s.log" >&2
	say "$s did not become ready within 30 s"
	return 1
}

start_services() {
	local s list=${*:-$SERVICES $WORKERS}
	for s in $list; do start_one "$s"; done
	for s in $list; do wait_ready "$s" || return 1; done
}

stop_services() {
	local s
	for s in $WORKERS $SERVICES; do
		stop_pidfile "$RUN/$s.super" 20
		# No supervisor (it was killed): the process itself, if alive.
		stop_pidfile "$RUN/$s.pid" 15
	done
}

# Stops one service's supervisor (and so the service) and starts a new
# one with this command's environment; returns once the new process
# listens (or, for a worker, keeps running).
restart_service() {
	local s=${1:-}
	[ -n "$s" ] || die "usage: scripts/parley restart-service NAME"
	is_service "$s" || is_worker "$s" ||
	    die "unknown service '$s' (services: $SERVICES $WORKERS)"
	running || die "the stack is not running"
	stop_pidfile "$RUN/$s.super" 20
	stop_pidfile "$RUN/$s.pid" 15
	start_one "$s"
	wait_ready "$s" || die "restart of $s failed"
	say "restarted $s (pid $(live_pid "$RUN/$s.pid"))"
}

stop_service() {
	local s=${1:-}
	is_service "$s" || is_worker "$s" ||
	    die "usage: scripts/parley stop-service NAME (services: $SERVICES $WORKERS)"
	stop_pidfile "$RUN/$s.super" 20
	stop_pidfile "$RUN/$s.pid" 15
	run_put "$RUN/$s.state" stopped
	say "stopped $s"
}
