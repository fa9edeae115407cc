# shellcheck shell=bash
# scripts/lib/migrate.sh: applies the pending sql/NNN_*.sql migrations.
# Sourced by scripts/parley, never run on its own: it uses the settings,
# say and die defined there (and the other files' functions).

# Each migration runs in one transaction with its schema_migrations row;
# a concurrent migrator blocks on that row's key and then fails cleanly.
migrate() {
	psql "$OWNER_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())" 2>&1 | grep -v NOTICE || true
	local f v done ran=0
	for f in "$ROOT"/sql/[0-9]*.sql; do
		v=$(basename "$f" .sql)
		done=$(psql "$OWNER_URL" -qXtA -c "SELECT 1 FROM schema_migrations WHERE version = '$v'")
		[ "$done" = 1 ] && continue
		say "migration $v"
		{ printf "INSERT INTO schema_migrations (version) VALUES ('%s');\n" "$v"; cat "$f"; } |
		    psql "$OWNER_URL" -qX -1 -v ON_ERROR_STOP=1 >/dev/null ||
		    die "migration $v failed"
		ran=1
	done
	# Only after a migration ran (tables it made before default
	# privileges existed, or by hand): concurrent GRANTs collide.
	[ "$ran" -eq 0 ] || pg_grants
}

# Whether any sql/NNN_*.sql is not applied yet, in one query (migrate
# asks once per file: two dozen psql runs, a second or two on a busy
# machine). `site` and `admin` migrate first and the tests run them
# hundreds of times, so they ask this before calling migrate. No table
# yet: pending.
migrations_pending() {
	local f v applied
	applied=$(psql "$OWNER_URL" -qXtA -c "SELECT version FROM schema_migrations" 2>/dev/null) || return 0
	applied=$'\n'$applied$'\n'
	for f in "$ROOT"/sql/[0-9]*.sql; do
		v=${f##*/}
		v=${v%.sql}
		[[ $applied == *$'\n'"$v"$'\n'* ]] || return 0
	done
	return 1
}
