#!/usr/bin/env bash
# Installs the Debian packages Parley needs, only those that are missing,
# non-interactively. Safe to run on every `make` invocation.
set -euo pipefail

# `deps.sh` for running Parley; `deps.sh test` adds what the tests use
# (clang + libFuzzer runtime, node, docker-compose to validate compose.yaml,
# coturn for the TURN credential test, chromium for the browser tests,
# php-cli and php-curl for the PHP client library's tests, systemd for
# systemd-analyze verify of the units, libvips-tools and exiftool to make
# the upload tests' pictures and their EXIF/GPS, prometheus for promtool,
# which checks the metrics expositions). The stack itself needs iproute2
# (ss: is a service listening?) and util-linux (setpriv, setsid).
pkgs=(gcc make libc6-dev curl ca-certificates
      libfcgi-dev libpq-dev libjansson-dev libsodium-dev libssl-dev
      libcurl4-openssl-dev libmagic-dev libvips-dev pkg-config
      postgresql-15 postgresql-client-15 nginx iproute2 util-linux kore)
# `deps.sh deb`: what `make deb` builds and checks the package with.
if [ "${1:-}" = deb ] || [ "${1:-}" = test ]; then
	pkgs+=(debhelper lintian fakeroot dpkg-dev)
fi
if [ "${1:-}" = test ]; then
	pkgs+=(clang libclang-rt-14-dev nodejs docker-compose coturn chromium
	      fonts-dejavu-core php-cli php-curl openssl systemd
	      libvips-tools libimage-exiftool-perl prometheus)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
# Node may come from elsewhere (nodesource, nvm): any node >= 18 will do.
if command -v node >/dev/null 2>&1; then
	missing=("${missing[@]/nodejs}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# Debian may start a system-wide nginx (:80) or PostgreSQL (:5432) after
# install; Parley runs its own on other ports and sockets, so they coexist.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Only promtool is wanted from the prometheus package: not its server.
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
	"${sudo[@]}" systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi
