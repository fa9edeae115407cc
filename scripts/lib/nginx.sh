# shellcheck shell=bash
# scripts/lib/nginx.sh: renders nginx's configuration, starts, reloads
# and stops nginx, and waits for /api/v1/health. Sourced by
# scripts/parley, never run on its own: it uses the settings, say and
# die defined there (and the other files' functions).


render_nginx() {
	local user=""
	# As root the master stays root (it binds the port, opens the logs);
	# the workers, which talk to clients, run as the service user.
	[ "$AS_ROOT" -eq 1 ] && user="user $SVC_USER $SVC_USER;"
	NGINX_VAR=$VAR NGINX_ROOT=$ROOT NGINX_LISTEN="$HOST:$PORT" \
	    NGINX_UPLOADS=$UPLOADS \
	    NGINX_UPSTREAM="unix:$RUN/%s.sock" NGINX_USER=$user \
	    NGINX_NOFILE=$NOFILE NGINX_CONNECTIONS=$(nginx_conns) \
	    NGINX_WORKERS=$NGINX_WORKERS NGINX_METRICS_LISTEN=$METRICS_LISTEN \
	    "$ROOT/nginx/render.sh"
}

nginx_cmd() {
	nginx -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -e "$LOG/nginx-error.log" "$@"
}

# The nginx master of this stack, if it runs: its pid file's pid must be
# an nginx process started with this stack's configuration.
nginx_pid() {
	local pid
	[ -f "$RUN/nginx.pid" ] || return 1
	read -r pid <"$RUN/nginx.pid" || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$VAR/nginx/nginx.conf" || return 1
	echo "$pid"
}

start_nginx() {
	render_nginx
	nginx_cmd -t -q || die "nginx configuration test failed"
	rm -f "$RUN/nginx.pid"
	nginx_cmd
}

# New configuration, same master: nginx finishes the requests it holds on
# the old workers (long polls, WebSockets) and takes new ones on new ones.
reload_nginx() {
	local pid
	pid=$(nginx_pid) || die "nginx is not running"
	render_nginx
	nginx_cmd -t -q || die "nginx configuration test failed"
	kill -HUP "$pid"
}

stop_nginx() {
	local pid
	if pid=$(nginx_pid); then
		kill -QUIT "$pid" 2>/dev/null || true
		for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
		kill -TERM "$pid" 2>/dev/null || true
	fi
	rm -f "$RUN/nginx.pid"
}

wait_healthy() {
	local url="http://$HOST:$PORT/api/v1/health"
	for _ in $(seq 150); do
		if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	say "$url did not answer 200 within 30 s (see $LOG)"
	return 1
}

running() {
	nginx_pid >/dev/null
}
