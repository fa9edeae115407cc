#!/usr/bin/env bash
# scripts/check-units.sh: checks the systemd units in dist/systemd/ (part
# of `make test`, or `make check-units`). Prints "ok units" or, after the
# reasons, "FAIL units"; exits 0 or 1.
#   - every process in the Makefile's UNITS has a unit, parley.target
#     wants it, and there is no unit for a service that does not exist;
#   - each unit has the settings the README describes (user, restart,
#     limits), and each upstream of nginx/parley.conf.in its socket;
#   - the committed units are what dist/systemd/generate.sh writes;
#   - systemd-analyze verify prints nothing for them (copies with ExecStart
#     in this checkout's build: PARLEY_BIN, default build/asan/bin or
#     build/release/bin, whichever has every binary);
#   - systemd-analyze security --offline rates each at most MAX_EXPOSURE
#     (default 1.2, what they score now: a weaker sandbox fails; 0 is
#     best, 10 worst);
#   - systemd-sysusers accepts parley.sysusers (in a scratch root).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
DIST=dist/systemd
MAX_EXPOSURE=${MAX_EXPOSURE:-1.2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
fail() { echo "units: $*"; bad=1; }

for t in systemd-analyze systemd-sysusers; do
	command -v "$t" >/dev/null ||
	    { echo "units: $t is missing (Debian package systemd)"; echo "FAIL units"; exit 1; }
done

# shellcheck disable=SC2016 # $(UNITS) is for make
services=$(printf 'print-services:\n\t@echo $(UNITS)\n' |
    make -s --no-print-directory -f Makefile -f - print-services)
[ -n "$services" ] || fail "cannot read UNITS from the Makefile"

# Every service has a unit that the target wants; no unit is left over.
wants=" $(sed -n 's/^Wants=//p' "$DIST/parley.target" | tr '\n' ' ') "
for s in $services; do
	[ -f "$DIST/parley-$s.service" ] ||
	    fail "service $s has no unit $DIST/parley-$s.service"
	case $wants in
	*" parley-$s.service "*) ;;
	*) fail "parley.target does not want parley-$s.service" ;;
	esac
done
for f in "$DIST"/parley-*.service; do
	s=${f##*/parley-}; s=${s%.service}
	case " $services " in
	*" $s "*) ;;
	*) fail "$f: no service '$s' in the Makefile's UNITS" ;;
	esac
done

# What the README promises of every unit, and of the units nginx talks to
# (an @UPSTREAM_<name>@ in nginx/parley.conf.in): a socket in /run/parley.
need='User=parley
Group=parley
PartOf=parley.target
EnvironmentFile=/etc/parley/parley.env
Restart=on-failure
RestartSec=3s
StartLimitIntervalSec=120
StartLimitBurst=5
LimitNOFILE=65536
UMask=0077'
upstreams=$(sed -n 's/.*@UPSTREAM_\([a-z]*\)@.*/\1/p' nginx/parley.conf.in | tr '\n' ' ')
for f in "$DIST"/parley-*.service; do
	s=${f##*/parley-}; s=${s%.service}
	want=$need
	case " $upstreams " in
	*" $s "*) want="$want
Environment=PARLEY_LISTEN=/run/parley/$s.sock
RuntimeDirectory=parley
RuntimeDirectoryMode=0750
RuntimeDirectoryPreserve=yes" ;;
	esac
	while IFS= read -r line; do
		grep -qxF "$line" "$f" || fail "$f: no line $line"
	done <<<"$want"
done
for s in $upstreams; do
	[ -f "$DIST/parley-$s.service" ] ||
	    fail "nginx/parley.conf.in has an upstream $s but there is no parley-$s.service"
done

# The committed files are the generator's output.
if "$DIST/generate.sh" "$tmp/gen"; then
	for f in "$tmp"/gen/*; do
		diff -u "$DIST/${f##*/}" "$f" >"$tmp/diff" 2>&1 && continue
		cat "$tmp/diff"
		fail "$DIST/${f##*/} is not what generate.sh writes (run $DIST/generate.sh)"
	done
else
	fail "$DIST/generate.sh failed"
fi

# systemd-analyze verify wants ExecStart to exist: copies of the units
# with ExecStart in this checkout's build. Any output fails (a typo is
# only a warning).
BINDIR=/usr/libexec/parley
for f in "$DIST"/parley-*.service; do
	s=${f##*/parley-}; s=${s%.service}
	grep -qx "ExecStart=$BINDIR/parley-$s" "$f" ||
	    fail "$f: ExecStart is not $BINDIR/parley-$s"
done
bin=${PARLEY_BIN:-}
if [ -z "$bin" ]; then
	for d in build/asan/bin build/release/bin; do
		bin=$ROOT/$d
		for s in $services; do [ -x "$bin/parley-$s" ] || bin=; done
		[ -n "$bin" ] && break
	done
fi
if [ -z "$bin" ]; then
	fail "no build/asan/bin or build/release/bin with every binary (run: make build)"
else
	mkdir -p "$tmp/verify"
	for f in "$DIST"/parley-*.service "$DIST/parley.target"; do
		sed "s|^ExecStart=$BINDIR/|ExecStart=$bin/|" "$f" >"$tmp/verify/${f##*/}"
	done
	# --recursive-errors=no: the host's own units (network-online.target,
	# postgresql.service) are not ours to judge.
	(cd "$tmp/verify" && systemd-analyze verify --man=no \
	    --recursive-errors=no ./*.service ./parley.target) >"$tmp/verify.out" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$tmp/verify.out" ]; then
		sed "s|$tmp/verify/|$DIST/|g" "$tmp/verify.out"
		fail "systemd-analyze verify (exit $rc)"
	fi
	for f in "$tmp"/verify/*.service; do
		level=$(systemd-analyze security --offline=yes --no-pager "$f" 2>&1 |
		    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		echo "units: ${f##*/} exposure ${level:-?}"
		max=$MAX_EXPOSURE
		# Kore lowers its workers' open-file limit with setrlimit (one
		# call of @resources re-allowed: +0.2); the rest is the same.
		[ "${f##*/}" = parley-gateway.service ] &&
		    max=$(awk -v m="$MAX_EXPOSURE" 'BEGIN { print m + 0.2 }')
		if [ -z "$level" ] ||
		    ! awk -v l="$level" -v m="$max" 'BEGIN { exit !(l <= m) }'; then
			fail "${f##*/}: exposure ${level:-unknown} is above $max"
		fi
	done
fi

# sysusers: applied to a scratch root that has only root and www-data.
mkdir -p "$tmp/root/etc"
printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n' \
    >"$tmp/root/etc/passwd"
printf 'root:x:0:\nwww-data:x:33:\n' >"$tmp/root/etc/group"
systemd-sysusers --root="$tmp/root" - <"$DIST/parley.sysusers" >"$tmp/sysusers.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] || grep -qvE '^Creating (user|group) ' "$tmp/sysusers.out" ||
    ! grep -qE '^parley:x:[0-9]+:[0-9]+:[^:]*:/nonexistent:/usr/sbin/nologin$' "$tmp/root/etc/passwd" ||
    ! grep -qE '^parley:[^:]*:[0-9]+:(.*,)?www-data(,|$)' "$tmp/root/etc/group"; then
	cat "$tmp/sysusers.out"
	fail "systemd-sysusers and $DIST/parley.sysusers (exit $rc)"
fi

if [ "$bad" -eq 0 ]; then echo "ok units"; else echo "FAIL units"; fi
exit "$bad"
