#!/usr/bin/env bash
# The Debian package, as `make test` checks it (scripts/test.sh): `make
# deb` builds it and lintian passes it without errors; then dpkg installs
# it on this machine, the installed `parley` command migrates a scratch
# database (an embedded PostgreSQL under a scratch directory) and serves
# /api/v1/health from the installed binaries, nginx accepts the installed
# site file, and dpkg --purge removes it all again (also when a step
# fails). Needs root (dpkg -i): otherwise it prints why and exits 77
# (skipped, counted as neither passed nor failed). Refuses to
# touch a host where a package "parley" is installed already.
set -uo pipefail
export PATH=$PATH:/usr/sbin:/sbin
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
port=${TEST_DEB_PORT:-$(( ${TEST_PORT:-18080} + 5 ))}
scratch=$ROOT/var/test-deb
ok=0 bad=0
pass() { echo "ok $*"; ok=$((ok + 1)); }
fail() { echo "FAIL $*"; bad=$((bad + 1)); }
finish() { echo "deb: $ok passed, $bad failed"; [ "$bad" -eq 0 ]; exit; }

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP the Debian package test: it installs the package with dpkg, which needs root"
	exit 77
fi
if dpkg-query -W -f='${Status}' parley 2>/dev/null | grep -q 'install ok installed' &&
    [ ! -f /var/lib/parley/.installed-by-parley-test ]; then
	echo "SKIP the Debian package test: a package parley is installed on this host, and the test would replace it"
	exit 77
fi

mkdir -p "$ROOT/var"
if scripts/deb.sh >"$ROOT/var/deb-build.log" 2>&1; then
	pass "make deb: $(tail -n 1 "$ROOT/var/deb-build.log")"
else
	tail -n 30 "$ROOT/var/deb-build.log"
	fail "make deb (log: var/deb-build.log)"
	finish
fi
deb=$(ls build/deb/parley_*.deb)
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# What the installed stack runs with: nothing from this checkout.
run_installed() {
	env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin PARLEY_ENV_FILE="$scratch/parley.env" \
	    PARLEY_VAR="$scratch/var" PORT="$port" "$@"
}
cleanup() {
	run_installed parley stop >/dev/null 2>&1 || true
	[ -d "$scratch/pg/data" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$scratch/pg/data" -m fast -w stop >/dev/null 2>&1
	true
	dpkg --purge parley >/dev/null 2>&1 || true
	rm -rf "$scratch"
}
trap cleanup EXIT
rm -rf "$scratch"
mkdir -p "$scratch"
chmod 0755 "$scratch"

if dpkg -i "$deb" >"$scratch/dpkg.log" 2>&1; then
	touch /var/lib/parley/.installed-by-parley-test
	pass "dpkg -i $(basename "$deb")"
else
	cat "$scratch/dpkg.log"; fail "dpkg -i"; finish
fi
[ -x /usr/libexec/parley/parley-accounts ] && [ -f /usr/share/parley/sql/001_accounts.sql ] &&
    [ "$(stat -c %a /etc/parley/parley.env)" = 600 ] && id parley >/dev/null 2>&1 &&
    pass "installed: binaries, migrations, parley.env 0600, user parley" ||
    fail "installed layout"

# Settings of the scratch stack: an embedded PostgreSQL (no DATABASE_URL).
printf 'PARLEY_PWHASH=min\nPARLEY_HOST=127.0.0.1\n' >"$scratch/parley.env"
if run_installed parley migrate >"$scratch/migrate.log" 2>&1 &&
    n=$(grep -c '^parley: migration' "$scratch/migrate.log") &&
    [ "$n" -eq "$(ls /usr/share/parley/sql/[0-9]*.sql | wc -l)" ]; then
	pass "parley migrate: $n migrations on a scratch database"
else
	cat "$scratch/migrate.log"; fail "parley migrate"
fi
if run_installed parley start >"$scratch/start.log" 2>&1; then
	pass "parley start (installed binaries)"
else
	tail -n 30 "$scratch/start.log"; tail -n 20 "$scratch"/var/log/*.log 2>/dev/null; fail "parley start"
fi
h=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/api/v1/health")
case $h in
*'"status":"ok"'*' 200') pass "GET /api/v1/health from the installed stack: $h" ;;
*) fail "GET /api/v1/health: $h" ;;
esac
pid=$(cut -d' ' -f1 "$scratch/var/run/accounts.pid" 2>/dev/null)
exe=$(readlink "/proc/${pid:-0}/exe" 2>/dev/null)
[ "$exe" = /usr/libexec/parley/parley-accounts ] &&
    pass "the accounts service runs /usr/libexec/parley/parley-accounts" ||
    fail "accounts service binary: '${exe:-none}'"
r=$(curl -s -w ' %{http_code}' -X POST "http://127.0.0.1:$port/api/v1/auth/register" \
    -H 'Content-Type: application/json' -d '{"username":"debtest","password":"correct horse battery"}')
case $r in *' 201') pass "register through the installed stack" ;; *) fail "register: $r" ;; esac
st=$(run_installed parley status 2>&1)
case $st in *"accounts: running"*) pass "parley status" ;; *) echo "$st"; fail "parley status" ;; esac
again=$(run_installed parley migrate 2>&1)
[ -z "$again" ] && pass "parley migrate again: nothing to do" || fail "parley migrate again: $again"

# README's path for a PostgreSQL of the host's: a cluster of its own
# (unix socket only), migrations as OS user postgres by peer
# authentication, then role parley may use the data and nothing more.
install -d -o postgres -g postgres -m 0700 "$scratch/pg"
install -d -o postgres -g postgres -m 0755 "$scratch/pgsock"
as_pg() { runuser -u postgres -- "$@"; }
if as_pg "$pgbin/initdb" -D "$scratch/pg/data" -A peer >"$scratch/initdb.log" 2>&1 &&
    as_pg "$pgbin/pg_ctl" -D "$scratch/pg/data" -l "$scratch/pg/log" -w \
        -o "-c listen_addresses='' -k $scratch/pgsock" start >/dev/null &&
    as_pg createuser -h "$scratch/pgsock" parley &&
    as_pg createdb -h "$scratch/pgsock" -E UTF8 -T template0 --locale=C -O postgres parley &&
    as_pg createdb -h "$scratch/pgsock" -E SQL_ASCII -T template0 --locale=C -O postgres parley_ascii; then
	# A database in another encoding is refused before anything is
	# applied, with what to do (a cluster made under the C locale
	# defaults to SQL_ASCII: migrate failed half-way with a conversion
	# error in the middle of its functions).
	printf 'DATABASE_URL=%s\nPARLEY_MIGRATE_AS=postgres\n' "postgresql:///parley_ascii?host=$scratch/pgsock" >"$scratch/parley.env"
	if ! out=$(run_installed parley migrate 2>&1) &&
	    case $out in *"encoding is SQL_ASCII; Parley needs UTF8"*) true ;; *) false ;; esac &&
	    [ -z "$(as_pg psql -h "$scratch/pgsock" -qXtA -d parley_ascii -c "SELECT 1 FROM pg_tables WHERE tablename = 'users'")" ]; then
		pass "external PostgreSQL: a SQL_ASCII database is refused, untouched"
	else
		echo "$out"; fail "external PostgreSQL: a SQL_ASCII database"
	fi
	url="postgresql:///parley?host=$scratch/pgsock"
	printf 'DATABASE_URL=%s\nPARLEY_MIGRATE_AS=postgres\n' "$url" >"$scratch/parley.env"
	if run_installed parley migrate >"$scratch/migrate2.log" 2>&1 &&
	    st=$(run_installed parley status 2>&1) &&
	    case $st in *"migrations applied $n of $n shipped"*) true ;; *) false ;; esac; then
		pass "external PostgreSQL: parley migrate as postgres, parley status: ${st##*database: }"
	else
		cat "$scratch/migrate2.log"; echo "${st:-}"; fail "external PostgreSQL: migrate/status"
	fi
	if runuser -u parley -- psql "$url" -qXtA -c "SELECT count(*) FROM users" >/dev/null 2>&1 &&
	    ! runuser -u parley -- psql "$url" -qXtA -c "DELETE FROM admins" >/dev/null 2>&1 &&
	    ! runuser -u parley -- psql "$url" -qXtA -c "CREATE TABLE x (a int)" >/dev/null 2>&1; then
		pass "external PostgreSQL: role parley reads users, may not change admins or the schema"
	else
		fail "external PostgreSQL: the grants of role parley"
	fi
	as_pg "$pgbin/pg_ctl" -D "$scratch/pg/data" -m fast -w stop >/dev/null
else
	cat "$scratch/initdb.log"; fail "a scratch PostgreSQL cluster"
fi

# The shipped nginx site, in an nginx.conf of the host's kind.
mkdir -p "$scratch/nginx"
cat >"$scratch/nginx/nginx.conf" <<CONF
pid $scratch/nginx/nginx.pid;
error_log $scratch/nginx/error.log;
events {}
http {
    include /etc/nginx/mime.types;
    include /etc/nginx/sites-available/parley;
}
CONF
if nginx -t -q -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf" 2>"$scratch/nginx/t.log"; then
	pass "nginx -t accepts /etc/nginx/sites-available/parley"
else
	cat "$scratch/nginx/t.log"; fail "nginx -t with the shipped site"
fi

run_installed parley stop >/dev/null 2>&1
if dpkg --purge parley >"$scratch/purge.log" 2>&1 && [ ! -e /usr/libexec/parley ] &&
    [ ! -e /etc/parley/parley.env ] && [ ! -e /usr/bin/parley ]; then
	pass "dpkg --purge removes it"
else
	cat "$scratch/purge.log"; fail "dpkg --purge"
fi
finish
