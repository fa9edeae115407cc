# shellcheck shell=bash
# scripts/lib/migrate.sh: applies the pending sql/NNN_*.sql migrations and
# the changed sql/functions/*.sql.
# Sourced by scripts/parley, never run on its own: it uses the settings,
# say and die defined there (and the other files' functions).

# Numbered migrations (sql/NNN_*.sql) change tables and data, once each;
# sql/functions/*.sql hold the one current definition of every function
# and trigger (docs/DESIGN.md, "SQL: migrations and functions").
# Each migration runs in one transaction with its schema_migrations row;
# a concurrent migrator blocks on that row's key and then fails cleanly.
migrate() {
	# Text is UTF-8 everywhere (names, messages, the bidi controls
	# strip_bidi() removes): a SQL_ASCII or LATIN1 database, which a
	# cluster made under a C or POSIX locale gets by default, would fail
	# half-way with a conversion error, or store bytes unchecked.
	local enc
	enc=$(psql "$OWNER_URL" -qXtA -c "SHOW server_encoding") ||
	    die "cannot reach the database to migrate it"
	[ "$enc" = UTF8 ] ||
	    die "the database's encoding is $enc; Parley needs UTF8 (createdb -E UTF8 -T template0 --locale=C parley)"
	psql "$OWNER_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())" \
	    -c "CREATE TABLE IF NOT EXISTS schema_functions (file text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())" 2>&1 | grep -v NOTICE || true
	local f v done ran=0
	# Functions that read no table, before the migrations: their
	# constraints and backfills call them (sql/017's strip_bidi()).
	apply_functions 0 "$ROOT"/sql/functions/00_*.sql
	for f in "$ROOT"/sql/[0-9]*.sql; do
		v=$(basename "$f" .sql)
		done=$(psql "$OWNER_URL" -qXtA -c "SELECT 1 FROM schema_migrations WHERE version = '$v'")
		[ "$done" = 1 ] && continue
		say "migration $v"
		# Warnings and errors only: on a fresh database every "DROP
		# FUNCTION IF EXISTS" of a replaced signature says it skipped.
		{ echo "SET client_min_messages TO warning;"
		  printf "INSERT INTO schema_migrations (version) VALUES ('%s');\n" "$v"; cat "$f"; } |
		    psql "$OWNER_URL" -qX -1 -v ON_ERROR_STOP=1 >/dev/null ||
		    die "migration $v failed"
		ran=1
	done
	# After a migration, all of them (it may have dropped what one
	# defines); otherwise the files that changed since they were applied.
	# PARLEY_FUNCTIONS=all: all of them (a function changed by hand).
	local all=$ran
	[ "${PARLEY_FUNCTIONS:-}" != all ] || all=1
	apply_functions "$all" "$ROOT"/sql/functions/*.sql
	# Only after a migration ran (tables it made before default
	# privileges existed, or by hand): concurrent GRANTs collide.
	[ "$ran" -eq 0 ] || pg_grants
}

# apply_functions ALL FILE...: each file in one transaction, recorded
# with its checksum in schema_functions; unchanged files are skipped
# unless ALL is 1 (as Flyway's repeatable migrations: re-applying every
# trigger on every `site add` would lock its table under load). The
# advisory lock serializes concurrent migrators: two CREATE OR REPLACE of
# one function at once fail ("tuple concurrently updated").
apply_functions() {
	local all=$1 f n sum
	shift
	for f in "$@"; do
		n=$(basename "$f" .sql)
		sum=$(sha256sum "$f" | cut -c1-64)
		if [ "$all" != 1 ] && [ "$(psql "$OWNER_URL" -qXtA -c "SELECT 1 FROM schema_functions WHERE file = '$n' AND checksum = '$sum'")" = 1 ]; then
			continue
		fi
		say "functions $n"
		{
			echo "SET client_min_messages TO warning;"
			echo "SELECT pg_advisory_xact_lock(hashtextextended('parley sql/functions', 0));"
			cat "$f"
			printf "INSERT INTO schema_functions (file, checksum) VALUES ('%s', '%s') ON CONFLICT (file) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now();\n" "$n" "$sum"
		} | psql "$OWNER_URL" -qX -1 -v ON_ERROR_STOP=1 >/dev/null ||
		    die "sql/functions/$n.sql failed (the error is above; if it says a function's result type or argument names cannot change, that takes a numbered migration dropping the old one: docs/DESIGN.md)"
	done
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
