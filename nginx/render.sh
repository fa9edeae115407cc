#!/bin/sh
# Renders nginx/parley.conf.in into $NGINX_VAR/nginx/nginx.conf. Used by
# scripts/parley (unix sockets under var/run) and by compose.yaml (TCP to
# the service containers). POSIX sh: it also runs in the nginx image.
#   NGINX_VAR       state dir (run/, log/, nginx/ are made under it)
#   NGINX_ROOT      the checkout (for docs/openapi.json and web/)
#   NGINX_LISTEN    address:port or port
#   NGINX_UPSTREAM  printf format for a service's upstream, %s = its name
#   NGINX_USER      user line ("user root;" or empty)
#   NGINX_NOFILE    open files per worker (default: this shell's hard
#                   limit, at most 65536); must not exceed the hard limit
#   NGINX_CONNECTIONS  worker_connections (default NGINX_NOFILE - 64)
#   NGINX_WORKERS   worker processes (default 2)
#   PARLEY_BODY_LIMIT  the services' body limit (nginx allows at least 1 MiB)
#   PARLEY_CONN_PER_ADDR  open connections per client address (default
#                   1000; 0 = no limit); more get a JSON 429
#   PARLEY_STREAM   on (default) or off: off refuses the WebSocket upgrade
#                   at /api/v1/stream (503 stream_disabled), so clients
#                   use long-polling
#   PARLEY_GATEWAY_PING  the gateway's ping interval, s (default 25); the
#                   proxy timeouts are twice that plus 10 s
#   NGINX_UPLOADS   the uploads directory (PARLEY_UPLOAD_DIR; default
#                   $NGINX_VAR/uploads): nginx sends its blobs/ once the
#                   uploads service allowed a download
#   PARLEY_UPLOAD_MAX_IMAGE/_AUDIO/_VIDEO/_FILE  the uploads service's
#                   per-type limits: nginx takes bodies up to the largest
#                   plus 64 KiB at /api/v1/uploads
#   PARLEY_FRAME_ANCESTORS  who may frame the web client: 'self', 'none' or
#                   a space-separated list of origins (scheme://host[:port],
#                   "*." before the host and ":*" as the port allowed),
#                   'self' among them; default 'self'. Sent as CSP
#                   frame-ancestors (plus X-Frame-Options for 'self' or
#                   'none' alone, for browsers without CSP)
#   NGINX_SITE      instead of a whole nginx.conf, write only what goes
#                   inside http {} to this file: a site for a host's own
#                   nginx (sites-available/), as the Debian package ships.
#                   NGINX_VAR then only locates nginx/fastcgi.conf (not
#                   copied), and the access log is NGINX_ACCESS_LOG
#   NGINX_ACCESS_LOG  default $NGINX_VAR/log/nginx-access.log
#   NGINX_KEEPALIVE on (default) or off: off makes every FastCGI request a
#                   connection of its own. For an edge in front of other
#                   hosts: a host lost without a reset (its link down) holds
#                   a request sent on a kept connection until the read
#                   timeout, while a new connection fails over within the
#                   connect timeout (docs/CLUSTER.md)
#   NGINX_METRICS_LISTEN  address:port of the metrics server (every
#                   service's /metrics/<name>, loopback clients only), or
#                   off (default)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${NGINX_VAR:?}" "${NGINX_ROOT:?}" "${NGINX_LISTEN:?}" "${NGINX_UPSTREAM:?}"
limit=${PARLEY_BODY_LIMIT:-65536}
[ "$limit" -lt 1048576 ] && limit=1048576
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=65536
[ "$hard" -gt 65536 ] && hard=65536
nofile=${NGINX_NOFILE:-$hard}
conns=${NGINX_CONNECTIONS:-$((nofile - 64))}
workers=${NGINX_WORKERS:-2}
per_addr=${PARLEY_CONN_PER_ADDR:-1000}
case $per_addr in
''|*[!0-9]*) echo "PARLEY_CONN_PER_ADDR must be a number" >&2; exit 1 ;;
esac
if [ "$per_addr" -gt 0 ]; then
	limit_conn="limit_conn parley_peraddr $per_addr;"
else
	limit_conn="# limit_conn: off (PARLEY_CONN_PER_ADDR=0)"
fi
frame_bad() {
	echo "PARLEY_FRAME_ANCESTORS must be 'self', 'none' or origins like https://shop.example.com separated by spaces; got: $1" >&2
	exit 1
}
ancestors=${PARLEY_FRAME_ANCESTORS:-\'self\'}
nl='
'
case $ancestors in *"$nl"*|*';'*|*','*) frame_bad "$ancestors" ;; esac
frame=""
set -f
for t in $ancestors; do
	case $t in
	"'self'") ;;
	"'none'") ;;
	*) printf '%s\n' "$t" | grep -Eqx 'https?://(\*\.)?([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(:([0-9]{1,5}|\*))?' ||
	    frame_bad "$t" ;;
	esac
	frame="${frame:+$frame }$t"
done
set +f
[ -n "$frame" ] || frame_bad "an empty list"
case " $frame " in
" 'none' ") ;;
*" 'none' "*) frame_bad "$frame ('none' must stand alone)" ;;
esac
case $frame in
"'self'") frame_options="add_header X-Frame-Options SAMEORIGIN always;" ;;
"'none'") frame_options="add_header X-Frame-Options DENY always;" ;;
*) frame_options="# X-Frame-Options: none (it cannot name other origins)" ;;
esac
case ${PARLEY_STREAM:-on} in
on) stream_off="# WebSockets on (PARLEY_STREAM=on)" ;;
off) stream_off="default_type application/json; return 503 '{\"error\":{\"code\":\"stream_disabled\",\"message\":\"WebSockets are off on this server; use GET /api/v1/events.\"}}';" ;;
*) echo "PARLEY_STREAM must be on or off" >&2; exit 1 ;;
esac
ping=${PARLEY_GATEWAY_PING:-25}
case $ping in ''|*[!0-9]*) echo "PARLEY_GATEWAY_PING must be a number" >&2; exit 1 ;; esac
stream_timeout=$((ping * 2 + 10))
uploads=${NGINX_UPLOADS:-$NGINX_VAR/uploads}
upload_limit=0
for v in "${PARLEY_UPLOAD_MAX_IMAGE:-20971520}" "${PARLEY_UPLOAD_MAX_AUDIO:-20971520}" \
    "${PARLEY_UPLOAD_MAX_VIDEO:-104857600}" "${PARLEY_UPLOAD_MAX_FILE:-26214400}"; do
	case $v in ''|*[!0-9]*) echo "PARLEY_UPLOAD_MAX_* must be numbers of bytes" >&2; exit 1 ;; esac
	[ "$v" -gt "$upload_limit" ] && upload_limit=$v
done
upload_limit=$((upload_limit + 65536))
access_log=${NGINX_ACCESS_LOG:-$NGINX_VAR/log/nginx-access.log}
case ${NGINX_KEEPALIVE:-on} in
on) keepalive='' ;;
off) keepalive='s/ keepalive [0-9]*;//; s/ fastcgi_keep_conn on;//' ;;
*) echo "NGINX_KEEPALIVE must be on or off" >&2; exit 1 ;;
esac
metrics=${NGINX_METRICS_LISTEN:-off}
if [ "$metrics" = off ]; then
	metrics_off='/# @metrics-begin/,/# @metrics-end/d'
else
	metrics_off='/# @metrics-end/d'
fi
if [ -n "${NGINX_SITE:-}" ]; then
	out=$NGINX_SITE
	mkdir -p "$(dirname "$out")"
else
	mkdir -p "$NGINX_VAR/nginx/tmp" "$NGINX_VAR/log" "$NGINX_VAR/run"
	out="$NGINX_VAR/nginx/nginx.conf"
fi
sed -e "s|@USER_LINE@|${NGINX_USER:-}|" -e "s|@VAR@|$NGINX_VAR|g" \
    -e "s|@ROOT@|$NGINX_ROOT|g" -e "s|@LISTEN@|$NGINX_LISTEN|" \
    -e "s|@NGINX_BODY_LIMIT@|$limit|" -e "s|@NOFILE@|$nofile|" \
    -e "s|@CONNECTIONS@|$conns|" -e "s|@WORKERS@|$workers|" \
    -e "s|@LIMIT_CONN@|$limit_conn|" -e "s|@FRAME_ANCESTORS@|$frame|" \
    -e "s|@FRAME_OPTIONS@|$frame_options|" \
    -e "s|@STREAM_OFF@|$stream_off|" -e "s|@STREAM_TIMEOUT@|$stream_timeout|" \
    -e "s|@UPLOADS@|$uploads|g" -e "s|@UPLOAD_BODY_LIMIT@|$upload_limit|" \
    -e "s|@ACCESS_LOG@|$access_log|" -e "s|@METRICS_LISTEN@|$metrics|" \
    -e "$metrics_off" -e "${keepalive:-s/^//}" "$here/parley.conf.in" >"$out.tmp"
for s in $(sed -n 's/.*@UPSTREAM_\([a-z]*\)@.*/\1/p' "$here/parley.conf.in"); do
	# shellcheck disable=SC2059
	up=$(printf "$NGINX_UPSTREAM" "$s")
	sed -i "s|@UPSTREAM_$s@|$up|" "$out.tmp"
done
if [ -n "${NGINX_SITE:-}" ]; then
	# The inside of http {}, without what the host's nginx.conf sets.
	{
		echo "# Parley: rendered by nginx/render.sh (NGINX_SITE) for an nginx.conf"
		echo "# that includes sites-enabled/* inside http {} (Debian's does)."
		sed -n '/^http {$/,/^}$/p' "$out.tmp" | sed -e '1d' -e '$d' -e '/# main-only$/d'
	} >"$out.site"
	rm -f "$out.tmp"
	mv "$out.site" "$out"
	exit 0
fi
mv "$out.tmp" "$out"
cp "$here/fastcgi.conf" "$NGINX_VAR/nginx/fastcgi.conf"
