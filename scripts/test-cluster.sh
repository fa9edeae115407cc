#!/usr/bin/env bash
# scripts/test-cluster.sh (`make test-cluster`, and a stage of `make test`):
# Parley on several hosts, made of Linux network namespaces on this
# machine. Ends with one line "N passed, N failed"; exits 77 (skipped,
# neither passed nor failed) where namespaces cannot be made (not root, no
# `ip netns`).
#
#   plc-db    10.77.0.2  PostgreSQL 15 (a scratch cluster in var/cluster/pg),
#                        TCP with scram-sha-256 passwords
#   plc-b     10.77.0.3  every Parley service over TCP (ports 9001-9009)
#   plc-c     10.77.0.4  the same
#   plc-edge  10.77.0.5  nginx: :8080 with B and C as upstreams of every
#                        service; :8081 only B, :8082 only C (so a test can
#                        choose the host); the node tests run here too
#
# The namespaces hang off a bridge of their own (plc-br, no address, no
# route out of the machine). Every run first removes what a killed run
# left, and removes it all again on exit, failed or not. The tests
# (tests/cluster/*.test.js) kill and restart host C through this script:
#   scripts/test-cluster.sh __kill HOST    kill -9 of every process on HOST
#   scripts/test-cluster.sh __start HOST   starts HOST's services again
#   scripts/test-cluster.sh __cut HOST     takes HOST's link down (a host lost
#                                          without a reset); __mend HOST: up
#   scripts/test-cluster.sh __clean        removes everything (also at start)
#   scripts/test-cluster.sh __up           only builds the cluster and leaves
#                                          it running (to look around; then
#                                          __clean)
# One run at a time on a machine (the names and addresses are the
# machine's): a run waits for another's lock (/run/lock/parley-cluster-test).
# The whole script is one compound command, read before it runs (as in
# scripts/parley): a checkout changing under a run does not change it.
{
set -uo pipefail
export PATH=$PATH:/usr/sbin:/sbin
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
VAR=$ROOT/var/cluster
BIN=${PARLEY_BIN:-$ROOT/build/asan/bin}
PGBIN=/usr/lib/postgresql/15/bin
NET=10.77.0
BRIDGE=plc-br
# name:address, in start order.
HOSTS="db:$NET.2 b:$NET.3 c:$NET.4 edge:$NET.5"
# One TCP port per service, the same on every service host.
PORTS="accounts:9001 friends:9002 messages:9003 poll:9004 calls:9005 sites:9006 uploads:9007 gateway:9008 admin:9009"
WORKERS="webhooks"
SVC_USER=parley

say() { printf 'cluster: %s\n' "$*" >&2; }
addr() { local h; for h in $HOSTS; do [ "${h%%:*}" = "$1" ] && echo "${h#*:}"; done; }
in_ns() { local n=$1; shift; ip netns exec "plc-$n" "$@"; }

# ------------------------------------------------------------ clean-up

# Every process in a namespace: TERM (the sanitizer build's leak checks
# run at exit), then KILL whatever is left after 5 s.
ns_stop() {
	local n=plc-$1 pids i
	ip netns list 2>/dev/null | grep -qw "$n" || return 0
	pids=$(ip netns pids "$n" 2>/dev/null)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		[ -n "$(ip netns pids "$n" 2>/dev/null)" ] || return 0
		sleep 0.1
	done
	pids=$(ip netns pids "$n" 2>/dev/null)
	# shellcheck disable=SC2086
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
	sleep 0.2
}

clean() {
	local h n
	# The database last: the services log their goodbyes without errors.
	for n in edge b c; do ns_stop "$n"; done
	if [ -f "$VAR/pg/data/postmaster.pid" ] && ip netns list 2>/dev/null | grep -qw plc-db; then
		in_ns db runuser -u postgres -- "$PGBIN/pg_ctl" -D "$VAR/pg/data" -m fast -w -t 10 stop >/dev/null 2>&1
	fi
	ns_stop db
	for h in $HOSTS; do
		n=${h%%:*}
		ip netns del "plc-$n" 2>/dev/null
		ip link del "plc-$n" 2>/dev/null
	done
	ip link del "$BRIDGE" 2>/dev/null
	rm -rf "$VAR/pg" "$VAR/db.env"
	return 0
}

# ------------------------------------------------------------ network

net_up() {
	local h n a
	ip link add "$BRIDGE" type bridge || return 1
	ip link set "$BRIDGE" up || return 1
	for h in $HOSTS; do
		n=${h%%:*} a=${h#*:}
		ip netns add "plc-$n" || return 1
		# Host side plc-NAME on the bridge; the namespace's side is eth0.
		ip link add "plc-$n" type veth peer name "plc-$n-i" || return 1
		ip link set "plc-$n" master "$BRIDGE" up || return 1
		ip link set "plc-$n-i" netns "plc-$n" || return 1
		in_ns "$n" ip link set "plc-$n-i" name eth0 || return 1
		in_ns "$n" ip addr add "$a/24" dev eth0 || return 1
		in_ns "$n" ip link set eth0 up || return 1
		in_ns "$n" ip link set lo up || return 1
	done
	# Bridged frames must not meet the host's iptables (Docker's
	# FORWARD policy DROP, say) when br_netfilter is loaded.
	if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
		ip link set "$BRIDGE" type bridge nf_call_iptables 0 2>/dev/null || true
	fi
}

# ------------------------------------------------------------ PostgreSQL

# A scratch cluster as user postgres: TCP on the db namespace's address,
# scram-sha-256 for the two roles, peer on the unix socket for postgres.
pg_up() {
	local pgd=$VAR/pg data=$VAR/pg/data
	mkdir -p "$pgd/sock"
	chown -R postgres: "$pgd"
	chmod 0700 "$pgd"
	install -o postgres -m 0600 /dev/null "$VAR/log/postgres.log"
	PW_OWNER=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
	PW_APP=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
	runuser -u postgres -- "$PGBIN/initdb" -D "$data" -U postgres --auth-local=peer \
	    --auth-host=scram-sha-256 -E UTF8 --locale=C >"$pgd/initdb.log" 2>&1 ||
	    { cat "$pgd/initdb.log" >&2; return 1; }
	runuser -u postgres -- tee -a "$data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '$(addr db)'
unix_socket_directories = '$pgd/sock'
password_encryption = 'scram-sha-256'
max_connections = 300
shared_buffers = 128MB
fsync = off
CONF
	runuser -u postgres -- tee "$data/pg_hba.conf" >/dev/null <<HBA
# scripts/test-cluster.sh: the services' hosts by password, postgres
# itself over the socket.
local all postgres peer
host parley parley,parley_owner $NET.0/24 scram-sha-256
HBA
	in_ns db runuser -u postgres -- "$PGBIN/pg_ctl" -D "$data" -l "$VAR/log/postgres.log" -w -t 30 start >/dev/null 9>&- ||
	    { tail -n 20 "$VAR/log/postgres.log" >&2; return 1; }
	# pg_roles of scripts/parley, with passwords (given on stdin).
	in_ns db runuser -u postgres -- psql -h "$pgd/sock" -U postgres -d postgres -qXtA \
	    -v ON_ERROR_STOP=1 -v pwo="$PW_OWNER" -v pwa="$PW_APP" >/dev/null <<'SQL' || return 1
CREATE ROLE parley_owner LOGIN PASSWORD :'pwo';
CREATE ROLE parley LOGIN PASSWORD :'pwa';
CREATE DATABASE parley OWNER parley_owner;
REVOKE ALL ON DATABASE postgres, template1 FROM PUBLIC;
REVOKE ALL ON DATABASE parley FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE parley TO parley;
\c parley
ALTER SCHEMA public OWNER TO parley_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO parley;
ALTER DEFAULT PRIVILEGES FOR ROLE parley_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO parley;
ALTER DEFAULT PRIVILEGES FOR ROLE parley_owner IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO parley;
SQL
	(umask 077; printf 'DATABASE_URL=postgresql://parley:%s@%s/parley\nOWNER_URL=postgresql://parley_owner:%s@%s/parley\n' \
	    "$PW_APP" "$(addr db)" "$PW_OWNER" "$(addr db)" >"$VAR/db.env")
	# shellcheck disable=SC1091
	. "$VAR/db.env"
	# The migrations as an operator with an external database runs them,
	# from a service host over TCP.
	in_ns b env DATABASE_URL="$DATABASE_URL" PARLEY_OWNER_DATABASE_URL="$OWNER_URL" \
	    PARLEY_VAR="$VAR/migrate" scripts/parley migrate 2>"$VAR/log/migrate.log" ||
	    { cat "$VAR/log/migrate.log" >&2; return 1; }
	# What scripts/parley's pg_grants adds for the embedded cluster.
	in_ns b psql "$OWNER_URL" -qXtA -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || return 1
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON admins FROM parley;
REVOKE UPDATE, DELETE, TRUNCATE ON admin_audit FROM parley;
SQL
}

# ------------------------------------------------------------ services

# The services of host NAME, each straight from its binary as the service
# user (no supervisor: the tests decide when a host dies and comes back).
host_start() {
	local n=$1 a d p s
	a=$(addr "$n")
	d=$VAR/$n
	# shellcheck disable=SC1091
	. "$VAR/db.env"
	mkdir -p "$d/run" "$d/uploads" "$d/log"
	chown "$SVC_USER:" "$d/run" "$d/uploads"
	for p in $PORTS $WORKERS; do
		s=${p%%:*}
		(
			[ "$p" != "$s" ] && export PARLEY_LISTEN="$a:${p#*:}"
			export DATABASE_URL PARLEY_RUN_DIR="$d/run" PARLEY_UPLOAD_DIR="$d/uploads"
			exec ip netns exec "plc-$n" setpriv --reuid="$SVC_USER" --regid="$SVC_USER" \
			    --init-groups --inh-caps=-all --no-new-privs -- "$BIN/parley-$s"
		) </dev/null >>"$d/log/$s.log" 2>&1 9>&- &
		# Not this shell's job: a kill -9 of the host is no news here.
		disown $!
	done
	host_wait "$n"
}

# Until every service of host NAME listens on its port (30 s at most).
host_wait() {
	local n=$1 a i p missing
	a=$(addr "$n")
	for ((i = 0; i < 300; i++)); do
		missing=""
		for p in $PORTS; do
			in_ns "$n" ss -tlnH "src $a:${p#*:}" | grep -q . || missing="$missing ${p%%:*}"
		done
		[ -z "$missing" ] && return 0
		sleep 0.1
	done
	say "host $n: not listening after 30 s:$missing"
	for p in $missing; do tail -n 5 "$VAR/$n/log/$p.log" >&2; done
	return 1
}

host_kill() {
	local pids
	pids=$(ip netns pids "plc-$1")
	# shellcheck disable=SC2086
	[ -z "$pids" ] || kill -KILL $pids
	say "host $1: kill -9 of $(echo "$pids" | wc -w) processes"
}

# ------------------------------------------------------------ nginx

# An upstream's servers for nginx: "B:port; server C:port" with the
# failure rules (a refused connection or a reset mid-request moves the
# request on; a host that failed once sits out for 2 s, then is tried).
servers() {
	local port=$1 h out=""
	shift
	for h in "$@"; do
		out="${out:+$out; server }$(addr "$h"):$port max_fails=1 fail_timeout=2s"
	done
	echo "$out"
}

# edge_render DIR LISTEN HOST...: nginx/render.sh's configuration, with
# every upstream on the given hosts' ports and a log naming the host
# (upstream address) that answered each request.
edge_render() {
	local dir=$1 listen=$2 p
	shift 2
	NGINX_VAR=$dir NGINX_ROOT=$ROOT NGINX_LISTEN=$listen NGINX_UPSTREAM='@CLUSTER_%s@' \
	    NGINX_USER="user $SVC_USER $SVC_USER;" NGINX_UPLOADS=$VAR/b/uploads \
	    NGINX_WORKERS=1 NGINX_NOFILE=4096 NGINX_KEEPALIVE=off nginx/render.sh || return 1
	for p in $PORTS; do
		sed -i "s|@CLUSTER_${p%%:*}@|$(servers "${p#*:}" "$@")|" "$dir/nginx/nginx.conf"
	done
	# A host that is gone without a word (no reset) must not hold a
	# request for nginx's default connect timeout of 60 s.
	# The public server's access log is inside its server block; the log
	# format (http level only) goes before the connection zone.
	sed -i -e "s|^\( *\)limit_conn_zone |\1log_format cluster '\$upstream_addr \$status \$request_method \$uri';\n&|" \
	    -e "s|^\( *\)access_log .*nginx-access.log parley;|&\n\1access_log $dir/log/upstream.log cluster;\n\1fastcgi_connect_timeout 1s;\n\1proxy_connect_timeout 1s;|" \
	    "$dir/nginx/nginx.conf"
	chown -R "$SVC_USER:" "$dir/nginx/tmp"
}

edge_start() {
	local dir
	edge_render "$VAR/edge" "$(addr edge):8080" b c || return 1
	edge_render "$VAR/edge-b" "$(addr edge):8081" b || return 1
	edge_render "$VAR/edge-c" "$(addr edge):8082" c || return 1
	for dir in "$VAR/edge" "$VAR/edge-b" "$VAR/edge-c"; do
		in_ns edge nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/log/nginx-error.log" 9>&- ||
		    return 1
	done
}

wait_health() {
	local url=$1 i
	for ((i = 0; i < 100; i++)); do
		in_ns edge curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
		sleep 0.2
	done
	say "$url did not answer 200"
	return 1
}

# ------------------------------------------------------------ the run

service_env() {
	export PARLEY_PWHASH=min PARLEY_THREADS=2
	export PARLEY_REGISTER_PER_IP=100000 PARLEY_LOGIN_FAILS_IP=10000
	# Its own values, whatever the caller's (scripts/test.sh sets short
	# ones for the main stack).
	export PARLEY_CALL_RING_TIMEOUT=20 PARLEY_ONLINE_WINDOW=60
	export PARLEY_WEBHOOK_POLL_MS=200 PARLEY_GATEWAY_WORKERS=1
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
	export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:print_suppressions=0
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	unset DATABASE_URL PARLEY_LISTEN PARLEY_VAR PARLEY_UPLOAD_DIR PARLEY_RUN_DIR
}

case ${1:-} in
__kill) host_kill "${2:?}"; exit ;;
__start) service_env; host_start "${2:?}"; exit ;;
__clean) exec 9>/run/lock/parley-cluster-test; flock -w 600 9; clean; exit ;;
__cut) in_ns "${2:?}" ip link set eth0 down; exit ;;
__mend) in_ns "${2:?}" ip link set eth0 up; exit ;;
__up) ;;
'') ;;
*) sed -n '2,23p' "$0" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "cluster test skipped: it makes network namespaces, which needs root (run: sudo make test-cluster)"
	exit 77
fi
if ! ip netns add plc-probe 2>/dev/null; then
	echo "cluster test skipped: cannot make a network namespace here (ip netns add failed)"
	exit 77
fi
ip netns del plc-probe
if [ ! -x "$PGBIN/postgres" ]; then
	echo "cluster test skipped: $PGBIN/postgres is missing (Debian's postgresql-15)"
	exit 77
fi
for s in $PORTS $WORKERS; do
	s=${s%%:*}
	[ -x "$BIN/parley-$s" ] || { echo "$BIN/parley-$s is missing (run: make SAN=1 build)"; echo "0 passed, 1 failed"; exit 1; }
done
if [ ! -f node_modules/.package-lock.json ] ||
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error ||
	    { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi
id -u "$SVC_USER" >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin "$SVC_USER"

# fd 9 holds the lock; nothing started from here inherits it (9>&-), so a
# killed run's leftovers do not keep it.
exec 9>/run/lock/parley-cluster-test
if ! flock -w 600 9; then
	echo "another cluster test still runs after 10 minutes (lock /run/lock/parley-cluster-test)"
	echo "0 passed, 1 failed"
	exit 1
fi
t0=$SECONDS
clean
rm -rf "$VAR"
mkdir -p "$VAR/log"
chmod 0711 "$VAR"
[ "${1:-}" = __up ] || trap 'clean' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
setup() {
	echo "== cluster: namespaces, PostgreSQL on $(addr db), services on $(addr b) and $(addr c), nginx on $(addr edge)"
	net_up || return 1
	pg_up || return 1
	say "database up, migrated ($((SECONDS - t0)) s)"
	service_env
	host_start b || return 1
	host_start c || return 1
	say "services on b and c listening ($((SECONDS - t0)) s)"
	edge_start || return 1
	wait_health "http://$(addr edge):8081/api/v1/health" || return 1
	wait_health "http://$(addr edge):8082/api/v1/health" || return 1
	wait_health "http://$(addr edge):8080/api/v1/health" || return 1
	say "up in $((SECONDS - t0)) s"
}
if ! setup; then
	echo "cluster did not come up (logs in $VAR)"
	echo "0 passed, 1 failed"
	exit 1
fi
[ "${1:-}" = __up ] && exit 0

echo "== cluster tests (tests/cluster)"
tap=$VAR/cluster.tap
in_ns edge env PARLEY_URL="http://$(addr edge):8080" \
    CLUSTER_B="http://$(addr edge):8081" CLUSTER_C="http://$(addr edge):8082" \
    CLUSTER_VAR="$VAR" CLUSTER_C_ADDR="$(addr c)" CLUSTER_B_ADDR="$(addr b)" \
    timeout 150 node --test --test-reporter=tap --test-concurrency=1 tests/cluster/*.test.js \
    >"$tap" 2>&1 9>&- &
# In the background: a TERM to this script cleans up at once (the EXIT
# trap kills what runs in the namespaces, the tests too).
wait $!
grep -E '^(not ok|ok) |^# Subtest|^\s+(error|expected|actual|location):' "$tap" | grep -vE '^\s+ok ' || true
p=$(grep -E '^# pass ' "$tap" | awk '{print $3}' | tail -n 1)
f=$(grep -E '^# fail ' "$tap" | awk '{print $3}' | tail -n 1)
if [ -z "$p" ]; then echo "test runner produced no summary"; tail -n 30 "$tap"; p=0; f=$((${f:-0} + 1)); fi
passed=$((passed + p)) failed=$((failed + ${f:-0}))

echo "== cluster: stopping (leak checks run at exit), sanitizer reports"
for n in edge b c; do ns_stop "$n"; done
bad=$(grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$VAR"/[bc]/log/*.log 2>/dev/null || true)
if [ -n "$bad" ]; then
	for f in $bad; do echo "sanitizer report in $f:"; grep -A 30 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$f" | head -n 60; done
	failed=$((failed + 1))
else
	echo "ok no sanitizer reports"; passed=$((passed + 1))
fi
clean
say "took $((SECONDS - t0)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
exit
}
