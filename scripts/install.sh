#!/bin/sh
# scripts/install.sh DESTDIR: installs a release build (`make build`) in
# the layout of README's "Production" section under DESTDIR (empty: /).
# `make install` and the Debian package (`make deb`, debian/rules) use it.
#   /usr/libexec/parley/         the services, parley-gateway(.so), gateway.conf.in
#   /usr/share/parley/           sql/, nginx/ (template, render.sh, fastcgi.conf),
#                                web/, docs/openapi.json, scripts/parley
#                                and the files it sources (scripts/lib/),
#                                parley.env.example
#   /usr/bin/parley              the admin command (dist/parley-admin)
#   /lib/systemd/system/         the units and parley.target (dist/systemd)
#   /usr/lib/sysusers.d/parley.conf   user and group parley
#   /etc/nginx/sites-available/parley the site, rendered for /run/parley
set -eu
dest=${1-}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/release
[ -x "$bin/bin/parley-accounts" ] || { echo "install.sh: run make build first" >&2; exit 1; }
share=$dest/usr/share/parley

install -d "$dest/usr/libexec/parley" "$share/sql/functions" "$share/nginx" \
    "$share/docs" "$share/scripts/lib" "$dest/usr/bin" "$dest/lib/systemd/system" \
    "$dest/usr/lib/sysusers.d" "$dest/etc/nginx/sites-available"
install -m 0755 "$bin"/bin/parley-* "$dest/usr/libexec/parley/"
install -m 0644 "$bin"/lib/parley-gateway.so "$bin"/lib/gateway.conf.in \
    "$dest/usr/libexec/parley/"
install -m 0644 "$root"/sql/[0-9]*.sql "$share/sql/"
install -m 0644 "$root"/sql/functions/*.sql "$share/sql/functions/"
install -m 0644 "$root/nginx/parley.conf.in" "$root/nginx/fastcgi.conf" "$share/nginx/"
install -m 0755 "$root/nginx/render.sh" "$share/nginx/"
install -m 0644 "$root/docs/openapi.json" "$share/docs/"
install -m 0755 "$root/scripts/parley" "$share/scripts/"
install -m 0644 "$root"/scripts/lib/*.sh "$share/scripts/lib/"
install -m 0644 "$root/dist/systemd/parley.env.example" "$share/"
# The web client and the operator console: plain files, no build step.
(cd "$root" && find web -type d) | while read -r d; do
	install -d "$share/$d"
done
(cd "$root" && find web -type f) | while read -r f; do
	install -m 0644 "$root/$f" "$share/$f"
done
install -m 0755 "$root/dist/parley-admin" "$dest/usr/bin/parley"
install -d "$dest/usr/share/man/man1"
install -m 0644 "$root/dist/man/parley.1" "$dest/usr/share/man/man1/"
install -m 0644 "$root"/dist/systemd/parley-*.service "$root/dist/systemd/parley.target" \
    "$dest/lib/systemd/system/"
install -m 0644 "$root/dist/systemd/parley.sysusers" "$dest/usr/lib/sysusers.d/parley.conf"
# Port 8080, so it starts beside Debian's default site on :80; TLS and the
# public name belong to the server in front (README, "Debian package").
NGINX_SITE=$dest/etc/nginx/sites-available/parley NGINX_VAR=/usr/share/parley \
    NGINX_ROOT=/usr/share/parley NGINX_LISTEN=8080 \
    NGINX_UPSTREAM=unix:/run/parley/%s.sock NGINX_UPLOADS=/var/lib/parley/uploads \
    NGINX_ACCESS_LOG=/var/log/nginx/parley-access.log NGINX_METRICS_LISTEN=127.0.0.1:9180 \
    "$root/nginx/render.sh"
chmod 0644 "$dest/etc/nginx/sites-available/parley"
