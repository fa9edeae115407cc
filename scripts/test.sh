#!/usr/bin/env bash
# `make test`: C unit tests of shared/, black-box tests against a real stack
# built with ASan+UBSan (its own var/test and port), a short fuzz run, and a
# scan of every service log for sanitizer reports. Ends with one line
# "N passed, N failed".
set -uo pipefail
# nginx (and other daemons) live in /usr/sbin, which a normal user's PATH
# on Debian does not include.
export PATH=$PATH:/usr/sbin:/sbin
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

export PARLEY_VAR=$ROOT/var/test
export PORT=${TEST_PORT:-18080}
export PARLEY_BIN=$ROOT/build/asan/bin
export PARLEY_URL=http://127.0.0.1:$PORT
# Cheap password hashes keep registration-heavy tests fast; production
# uses argon2id's interactive limits (see README).
export PARLEY_PWHASH=min
export PARLEY_LOGIN_FAILS_IP=${PARLEY_LOGIN_FAILS_IP:-40}
# The suite registers hundreds of users from 127.0.0.1 (production: 20 an
# hour per address; tests/api/zz_pwhash_flood.test.js tests the limit).
export PARLEY_REGISTER_PER_IP=${PARLEY_REGISTER_PER_IP:-100000}
# Users go offline 5 s after their last poll (60 s in production), so the
# presence test can see it happen (tests/api/poll.test.js).
export PARLEY_ONLINE_WINDOW=${PARLEY_ONLINE_WINDOW:-5}
# Unanswered calls end after 4 s (30 s in production) so the timeout tests
# are quick; TURN credentials for the coturn test (tests/api/turn.test.js
# starts coturn on this port with the same secret).
export PARLEY_CALL_RING_TIMEOUT=${PARLEY_CALL_RING_TIMEOUT:-4}
export PARLEY_TURN_PORT=${PARLEY_TURN_PORT:-13478}
export PARLEY_TURN_SECRET=${PARLEY_TURN_SECRET:-parley-test-turn-secret}
export PARLEY_TURN_URIS="turn:127.0.0.1:$PARLEY_TURN_PORT?transport=udp,turn:127.0.0.1:$PARLEY_TURN_PORT?transport=tcp"
export PARLEY_STUN_URIS="stun:127.0.0.1:$PARLEY_TURN_PORT"
# Webhooks: first retry after 0.3 s (5 s in production), the outbox is
# checked every 100 ms, deliveries are given up after 8 s (a day), so the
# retry and give-up tests take seconds (tests/api/webhooks.test.js).
export PARLEY_WEBHOOK_BACKOFF_MS=300
export PARLEY_WEBHOOK_POLL_MS=100
export PARLEY_WEBHOOK_GIVE_UP=8
# The tests' webhook receivers listen on 127.0.0.1: allow internal
# addresses (refused by default; zz_webhooks_restart.test.js restarts the
# dispatcher without this to prove the default refuses them).
export PARLEY_WEBHOOK_PRIVATE=allow
# The browser tests' host pages (embedding, hand-off, framing, the PHP
# example) run on http://localhost:<random port>: they may frame the client.
export PARLEY_FRAME_ANCESTORS=${PARLEY_FRAME_ANCESTORS:-"'self' http://localhost:*"}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
unset DATABASE_URL

passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
# `stage NAME` prints "== NAME" and ends the stage before it with its
# seconds, "   (N s)": where the run's time goes (make test's budget is
# about 12 minutes). `stage` alone ends the last one and prints the total.
stage_start=
stage() {
	[ -z "$stage_start" ] || echo "   ($((SECONDS - stage_start)) s)"
	stage_start=$SECONDS
	if [ $# -gt 0 ]; then echo "== $*"; else echo "== total: $SECONDS s"; fi
}

scripts/parley stop >/dev/null 2>&1
rm -rf "$PARLEY_VAR"

# playwright-core (drives Debian's chromium) and acorn, from package-lock.
if [ ! -f node_modules/.package-lock.json ] ||
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
	stage "npm ci (test tools)"
	npm ci --no-audit --no-fund --loglevel=error ||
	    { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi

stage "unit tests (shared/)"
out=$(build/asan/bin/unit-tests 2>&1); echo "$out"
p=$(echo "$out" | grep -c '^ok ' || true); f=$(echo "$out" | grep -c '^FAIL ' || true)
[ -n "$(echo "$out" | grep -E 'AddressSanitizer|runtime error' || true)" ] && f=$((f + 1))
count "$p" "$f"
# The C style (.clang-format): one reformat made the tree pass; a file
# that drifts fails here with the lines clang-format would change.
stage "format-check (clang-format)"
if out=$(make --no-print-directory format-check 2>&1); then
	echo "ok format-check"; count 1 0
else
	echo "$out" | head -n 40; echo "FAIL format-check (make format fixes it)"; count 0 1
fi
stage "unit tests (node: bench/report.js, docs paths, contract checker, SQL function files)"
out=$(node --test --test-reporter=tap tests/unit/*.test.js 2>&1); echo "$out" | grep -E '^(not )?ok ' || true
p=$(echo "$out" | sed -n 's/^# pass //p'); f=$(echo "$out" | sed -n 's/^# fail //p')
count "${p:-0}" "${f:-1}"

stage "OpenAPI lint (scripts/lint-api.sh: redocly lint docs/openapi.json)"
if scripts/lint-api.sh; then count 1 0; else count 0 1; fi

# Started as a newcomer's login shell would: soft limit 1,024 open files
# (the hard limit is higher); scripts/parley must raise it by itself.
stage "starting the stack (sanitizer build) on port $PORT, ulimit -Sn 1024"
if ! (ulimit -Sn 1024 2>/dev/null; scripts/parley start); then
	echo "stack did not start"; tail -n 30 "$PARLEY_VAR"/log/*.log
	count 0 1
	echo "$passed passed, $failed failed"
	exit 1
fi

# Files named zz_* disturb the whole stack (they stop the database, restart
# a service): they run after the others, one file at a time.
run_node() {
	local label=$1 conc=$2; shift 2
	[ $# -gt 0 ] || return 0
	stage "black-box tests: $label"
	node --test --test-reporter=tap --test-concurrency="$conc" "$@" 2>&1 |
	    tee -a "$PARLEY_VAR/api.tap" >"$PARLEY_VAR/api-$label.tap"
	grep -E '^(not ok|ok) |^# Subtest|^\s+(error|expected|actual|location):' \
	    "$PARLEY_VAR/api-$label.tap" | grep -vE '^\s+ok ' || true
	local p f
	p=$(grep -E '^# pass ' "$PARLEY_VAR/api-$label.tap" | awk '{print $3}' | tail -n 1)
	f=$(grep -E '^# fail ' "$PARLEY_VAR/api-$label.tap" | awk '{print $3}' | tail -n 1)
	if [ -z "$p" ]; then echo "test runner produced no summary"; p=0; f=$((${f:-0} + 1)); fi
	echo "$label: $p passed, ${f:-0} failed"
	count "$p" "${f:-0}"
}
mapfile -t parallel < <(ls tests/api/*.test.js | grep -v '/zz_')
mapfile -t serial < <(ls tests/api/zz_*.test.js 2>/dev/null)
# Three at a time on two cores: the files mostly wait (presence windows,
# timeouts), and three took 98 s where two took 113-134 s.
run_node parallel 3 "${parallel[@]}"
run_node serial 1 "${serial[@]}"
# Real browsers (headless chromium): one file at a time.
mapfile -t browser < <(ls tests/browser/*.test.js 2>/dev/null)
run_node browser 1 "${browser[@]}"
# Every response the tests above got through tests/lib.js was checked
# against docs/openapi.json (a mismatch failed its test): the totals.
node tests/contract.js summary "$PARLEY_VAR/contract.log"

# The PHP client library (clients/php) against the same stack, as two
# sites of its own.
stage "PHP client tests (php-cli)"
php_site() { scripts/parley site add "$1" | sed -n 's/^secret: //p'; }
PARLEY_SITE=php-a PARLEY_SECRET=$(php_site php-a) \
PARLEY_SITE2=php-b PARLEY_SECRET2=$(php_site php-b) \
    php tests/php/run.php 2>&1 | tee "$PARLEY_VAR/php.out"
p=$(sed -n 's/^php: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$PARLEY_VAR/php.out")
f=$(sed -n 's/^php: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$PARLEY_VAR/php.out")
if [ -z "$p" ]; then echo "php tests produced no summary"; p=0; f=$((${f:-0} + 1)); fi
count "$p" "${f:-0}"

stage "stopping the stack (leak checks run at exit)"
scripts/parley stop >/dev/null 2>&1

stage "sanitizer reports in service logs"
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$PARLEY_VAR"/log/*.log 2>/dev/null || true)
if [ -n "$bad" ]; then
	for f in $bad; do echo "sanitizer report in $f:"; grep -A 30 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$f" | head -n 60; done
	count 0 "$(echo "$bad" | wc -l)"
else
	echo "ok none"; count 1 0
fi

# Several hosts: network namespaces, its own PostgreSQL and nginx (root
# only; 77 = skipped, counted neither way).
stage "cluster test (scripts/test-cluster.sh)"
scripts/test-cluster.sh 2>&1 | tee "$PARLEY_VAR/cluster.out"
rc=${PIPESTATUS[0]}
p=$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p' "$PARLEY_VAR/cluster.out" | tail -n 1)
f=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p' "$PARLEY_VAR/cluster.out" | tail -n 1)
case $rc in
0) count "${p:-1}" "${f:-0}" ;;
77) ;;
*) [ "${f:-0}" -gt 0 ] || f=1; count "${p:-0}" "$f" ;;
esac

# A Kore worker that dies (a fatal error in the module, a seccomp
# violation) is restarted by Kore's parent, so the gateway keeps serving
# with the others and no test notices: its log must show none.
stage "gateway: no Kore worker died"
if grep -E 'worker [0-9]+ died|gateway fatal:' "$PARLEY_VAR/log/gateway.log" 2>/dev/null | head -n 5 | grep .; then
	echo "FAIL gateway workers died (var/test/log/gateway.log)"; count 0 1
else
	echo "ok no worker died"; count 1 0
fi

stage "compose.yaml is valid for docker-compose"
if docker-compose -f compose.yaml config -q; then echo "ok compose"; count 1 0; else echo "FAIL compose"; count 0 1; fi

stage "systemd units (dist/systemd): systemd-analyze verify"
if scripts/check-units.sh; then count 1 0; else count 0 1; fi

stage "Debian package: make deb, lintian, dpkg install, health, purge"
# Counted as one check; it prints its own steps, and why it skips (77).
scripts/test-deb.sh
case $? in 0) count 1 0 ;; 77) ;; *) count 0 1 ;; esac

if [ "${PARLEY_SKIP_FUZZ:-0}" != 1 ]; then
	stage "short fuzz run (make fuzz runs longer)"
	if scripts/fuzz.sh "${FUZZ_SECONDS:-5}"; then count 1 0; else count 0 1; fi
fi

stage
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
