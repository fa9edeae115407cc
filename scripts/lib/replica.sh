# shellcheck shell=bash
# scripts/lib/replica.sh: a streaming replica of the embedded PostgreSQL
# (replica-start, replica-stop, PARLEY_REPLICA=1). Sourced by
# scripts/parley, never run on its own: it uses the settings, say and
# die defined there (and the other files' functions).


# A streaming replica of the embedded cluster (README, "Read replica"):
# pg_basebackup of the primary into $VAR/pg-replica, hot standby on its
# own socket directory, the same roles and authentication. History pages
# may then be read from it (PARLEY_READ_DATABASE_URL; `start` sets that
# when PARLEY_REPLICA=1).
RDIR=$VAR/pg-replica
RDATA=$RDIR/data
RSOCK=$RDIR/sock
replica_url() { echo "postgresql://parley@/parley?host=$RSOCK"; }
replica_running() {
	[ -f "$RDATA/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$RDATA" status >/dev/null 2>&1
}
replica_start() {
	[ "$EMBEDDED" -eq 1 ] || die "replica-start is for the embedded cluster; for your own PostgreSQL see README, \"Read replica\""
	pg_start
	if [ ! -f "$RDATA/PG_VERSION" ]; then
		# Clusters made before replication was allowed.
		if ! as_pg grep -q '^local replication parley_admin' "$PGDATA/pg_hba.conf"; then
			echo 'local replication parley_admin peer map=parley' |
			    as_pg tee -a "$PGDATA/pg_hba.conf" >/dev/null
			as_pg "$PGBIN/pg_ctl" -D "$PGDATA" reload >/dev/null
		fi
		mkdir -p "$RDIR"
		if [ "$AS_ROOT" -eq 1 ]; then chown "$PG_USER:$SVC_USER" "$RDIR"; fi
		chmod 0710 "$RDIR"
		as_pg mkdir -p "$RSOCK"
		if [ "$AS_ROOT" -eq 1 ]; then
			chown "$PG_USER:$SVC_USER" "$RSOCK"
			chmod 0750 "$RSOCK"
		else
			chmod 0700 "$RSOCK"
		fi
		say "creating a streaming replica of the embedded cluster in $RDATA"
		as_pg "$PGBIN/pg_basebackup" -d "postgresql://parley_admin@/postgres?host=$PGSOCK" \
		    -D "$RDATA" -R -X stream -c fast >"$RDIR/basebackup.log" 2>&1 ||
		    { cat "$RDIR/basebackup.log" >&2; die "pg_basebackup failed"; }
		cat <<CONF | as_pg tee -a "$RDATA/postgresql.conf" >/dev/null
# The replica (scripts/parley replica-start): its own socket directory.
unix_socket_directories = '$RSOCK'
hot_standby = on
CONF
	fi
	if ! replica_running; then
		as_pg "$PGBIN/pg_ctl" -D "$RDATA" -l "$RDIR/postgres.log" -w -t 60 \
		    start >/dev/null || { tail -n 20 "$RDIR/postgres.log" >&2; die "the replica did not start"; }
	fi
}
replica_stop() {
	replica_running || return 0
	as_pg "$PGBIN/pg_ctl" -D "$RDATA" -m fast -w stop >/dev/null
}
