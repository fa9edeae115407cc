# shellcheck shell=bash
# scripts/lib/pg.sh: the embedded PostgreSQL: authentication files,
# initdb, roles and grants, start and stop. Sourced by scripts/parley,
# never run on its own: it uses the settings, say and die defined there
# (and the other files' functions).


as_pg() {
	if [ "$AS_ROOT" -eq 1 ]; then
		runuser -u "$PG_USER" -- "$@"
	else
		"$@"
	fi
}

pg_running() {
	[ -f "$PGDATA/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

# Authentication: unix socket only, `peer` (the kernel tells who connects)
# mapped to the roles each account may use. The socket directory is
# reachable by the PostgreSQL user and the service user's group only.
pg_auth_files() {
	local ident
	if [ "$AS_ROOT" -eq 1 ]; then
		ident="parley $SVC_USER parley
parley root parley
parley root parley_owner
parley root parley_admin
parley $PG_USER parley_admin
parley $PG_USER parley_owner"
	else
		ident="parley $SVC_USER parley
parley $SVC_USER parley_owner
parley $SVC_USER parley_admin"
	fi
	as_pg tee "$PGDATA/pg_hba.conf" >/dev/null <<HBA
# Written by scripts/parley: local connections only, authenticated by the
# kernel (peer) and mapped to roles in pg_ident.conf.
local all all peer map=parley
local replication parley_admin peer map=parley
HBA
	printf '# Written by scripts/parley: OS user -> database roles it may use.\n%s\n' \
	    "$ident" | as_pg tee "$PGDATA/pg_ident.conf" >/dev/null
}

pg_init() {
	if [ -f "$PGDATA/PG_VERSION" ]; then
		[ -f "$PGDATA/parley-peer-auth" ] ||
		    die "$PGDATA was made by an older Parley (trust authentication, superuser application role). Stop it, remove $PGDIR (its data is lost) and start again"
		return 0
	fi
	[ -n "$PGBIN" ] || die "PostgreSQL is not installed (run: make deps)"
	mkdir -p "$PGDIR"
	if [ "$AS_ROOT" -eq 1 ]; then
		chown "$PG_USER:$SVC_USER" "$PGDIR"
		chmod 0710 "$PGDIR"
		runuser -u "$PG_USER" -- test -w "$PGDIR" ||
		    die "user $PG_USER cannot write $PGDIR; every directory above it must be searchable (chmod o+x), or set PARLEY_VAR to such a place"
	fi
	say "creating the embedded PostgreSQL cluster in $PGDATA"
	as_pg "$PGBIN/initdb" -D "$PGDATA" -U parley_admin --auth-local=peer \
	    --auth-host=reject -E UTF8 --locale=C >"$PGDIR/initdb.log" 2>&1 ||
	    { cat "$PGDIR/initdb.log" >&2; die "initdb failed"; }
	cat <<CONF | as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null
# Parley's embedded cluster: unix socket only, under $PGSOCK (a directory
# only PostgreSQL's user and the services' group may enter).
listen_addresses = ''
unix_socket_directories = '$PGSOCK'
# Every service thread keeps the connection it opened: the kept-connection
# services run workers x 8 + 32 threads each (shared/config.c), 56 at three
# nginx workers, so six of them reach 336 on their own; with the others
# about 400 at the most.
max_connections = 600
shared_buffers = 256MB
CONF
	pg_auth_files
	as_pg touch "$PGDATA/parley-peer-auth"
}

pg_sock_dir() {
	as_pg mkdir -p "$PGSOCK"
	if [ "$AS_ROOT" -eq 1 ]; then
		chown "$PG_USER:$SVC_USER" "$PGDIR" "$PGSOCK"
		chmod 0710 "$PGDIR"
		chmod 0750 "$PGSOCK"
	else
		chmod 0700 "$PGDIR" "$PGSOCK"
	fi
}

# Roles and the database, idempotent: parley_owner owns database and
# schema; parley may only read and write rows (default privileges give it
# that on every table a migration creates) and cannot reach other
# databases.
pg_roles() {
	# Done once: concurrent GRANTs (tests run `site add` in parallel)
	# fail with "tuple concurrently updated".
	[ "$(psql "postgresql://parley_admin@/parley?host=$PGSOCK" -qXtAc "SELECT (SELECT count(*) FROM pg_roles
	    WHERE rolname IN ('parley', 'parley_owner')) = 2 AND EXISTS (SELECT 1
	    FROM pg_database WHERE datname = 'parley') AND EXISTS (SELECT 1 FROM
	    pg_default_acl d JOIN pg_roles r ON r.oid = d.defaclrole WHERE
	    r.rolname = 'parley_owner')" 2>/dev/null)" = t ] && return 0
	psql "$ADMIN_URL" -qXtA -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT 'CREATE ROLE parley_owner LOGIN' WHERE NOT EXISTS
    (SELECT 1 FROM pg_roles WHERE rolname = 'parley_owner') \gexec
SELECT 'CREATE ROLE parley LOGIN' WHERE NOT EXISTS
    (SELECT 1 FROM pg_roles WHERE rolname = 'parley') \gexec
SELECT 'CREATE DATABASE parley OWNER parley_owner' WHERE NOT EXISTS
    (SELECT 1 FROM pg_database WHERE datname = 'parley') \gexec
REVOKE ALL ON DATABASE postgres, template1 FROM PUBLIC;
REVOKE ALL ON DATABASE parley FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE parley TO parley;
SQL
	psql "postgresql://parley_admin@/parley?host=$PGSOCK" -qXtA -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
ALTER SCHEMA public OWNER TO parley_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO parley;
ALTER DEFAULT PRIVILEGES FOR ROLE parley_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO parley;
ALTER DEFAULT PRIVILEGES FOR ROLE parley_owner IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO parley;
SQL
}

# Tables made before the default privileges existed (or by hand). Also
# for a database of the operator's when PARLEY_GRANT=1 (the installed
# `parley` command sets it): the services' role is then named parley too.
pg_grants() {
	[ "$EMBEDDED" -eq 1 ] || [ "${PARLEY_GRANT:-0}" = 1 ] || return 0
	psql "$OWNER_URL" -qXtA -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO parley;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO parley;
-- The services read the admins and append to the audit log, no more
-- (sql/019_admin.sql): admins are made only by `scripts/parley admin`.
DO $$
BEGIN
    IF to_regclass('admins') IS NOT NULL THEN
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON admins FROM parley;
        REVOKE UPDATE, DELETE, TRUNCATE ON admin_audit FROM parley;
    END IF;
END $$;
SQL
}

pg_start() {
	[ "$EMBEDDED" -eq 1 ] || return 0
	pg_init
	pg_sock_dir
	# Clusters made with the earlier 300 (see pg_init).
	if as_pg grep -qx 'max_connections = 300' "$PGDATA/postgresql.conf" && ! pg_running; then
		as_pg sed -i 's/^max_connections = 300$/max_connections = 600/' "$PGDATA/postgresql.conf"
	fi
	if ! pg_running; then
		as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDIR/postgres.log" -w -t 60 \
		    start >/dev/null || { tail -n 20 "$PGDIR/postgres.log" >&2; die "PostgreSQL did not start"; }
	fi
	as_pg chmod 0600 "$PGDIR/postgres.log" 2>/dev/null || true
	pg_roles
}

pg_stop() {
	[ "$EMBEDDED" -eq 1 ] || return 0
	replica_stop
	pg_running || return 0
	as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
}
