#!/bin/sh
# Renders nginx/parley.conf.in into $NGINX_VAR/nginx/nginx.conf. Used by
# scripts/parley (unix sockets under var/run) and by compose.yaml (TCP to
# the service containers). POSIX sh: it also runs in the nginx image.
#   NGINX_VAR       state dir (run/, log/, nginx/ are made under it)
#   NGINX_ROOT      the checkout (for docs/openapi.json and web/)
#   NGINX_LISTEN    address:port or port
#   NGINX_UPSTREAM  printf format for a service's upstream, %s = its name
#   NGINX_USER      user line ("user root;" or empty)
#   PARLEY_BODY_LIMIT  the services' body limit (nginx allows at least 1 MiB)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${NGINX_VAR:?}" "${NGINX_ROOT:?}" "${NGINX_LISTEN:?}" "${NGINX_UPSTREAM:?}"
limit=${PARLEY_BODY_LIMIT:-65536}
[ "$limit" -lt 1048576 ] && limit=1048576
mkdir -p "$NGINX_VAR/nginx/tmp" "$NGINX_VAR/log" "$NGINX_VAR/run"
out="$NGINX_VAR/nginx/nginx.conf"
sed -e "s|@USER_LINE@|${NGINX_USER:-}|" -e "s|@VAR@|$NGINX_VAR|g" \
    -e "s|@ROOT@|$NGINX_ROOT|g" -e "s|@LISTEN@|$NGINX_LISTEN|" \
    -e "s|@NGINX_BODY_LIMIT@|$limit|" "$here/parley.conf.in" >"$out.tmp"
for s in $(sed -n 's/.*@UPSTREAM_\([a-z]*\)@.*/\1/p' "$here/parley.conf.in"); do
	# shellcheck disable=SC2059
	up=$(printf "$NGINX_UPSTREAM" "$s")
	sed -i "s|@UPSTREAM_$s@|$up|" "$out.tmp"
done
mv "$out.tmp" "$out"
cp "$here/fastcgi.conf" "$NGINX_VAR/nginx/fastcgi.conf"
