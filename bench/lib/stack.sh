# shellcheck shell=bash
# bench/lib/stack.sh: the stacks the figures run against: a fresh Parley
# stack (scripts/parley, var/bench) and the Nchan nginx (the yardstick),
# the open-file limit, the load generator's build, and cleanup on exit.
# Sourced by bench/run.sh (`make bench`), whose settings (knobs, paths,
# $W, $LG...) it uses.

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

# A fresh Parley stack and the Nchan nginx, with the limits and tools
# they need. (The body is not indented: kept as it was for merging.)
start_stacks() {
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
}
