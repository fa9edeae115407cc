#!/usr/bin/env bash
# scripts/schema-diff.sh [REF]: migrates a scratch database with the
# migrations of git REF (default main) and one with this tree's, and diffs
# their schemas (pg_dump --schema-only). Also upgrades REF's database with
# this tree (an existing database meeting new migrations and functions)
# and diffs that against the fresh one. Exit status 1 when either differs.
# Scratch clusters under a temporary directory, unix sockets only.
set -euo pipefail
ref=${1:-main}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC2012 # as scripts/parley finds it
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parley-schema.XXXXXX")
# As root the embedded cluster runs as postgres, who must reach it.
chmod 0755 "$tmp"
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	local v
	for v in old new; do
		[ ! -d "$tmp/$v" ] || PARLEY_VAR=$tmp/$v "$root/scripts/parley" pg-stop || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
unset DATABASE_URL PARLEY_OWNER_DATABASE_URL
mkdir -p "$tmp/ref"
git -C "$root" archive "$ref" scripts sql | tar -x -C "$tmp/ref"

# Schema as text: without pg_dump's banner and the migrators' own tables.
dump() {
	"$pgbin/pg_dump" --schema-only -T schema_migrations -T schema_functions \
	    -d "postgresql://parley_owner@/parley?host=$tmp/$1/pg/sock" |
	    sed -e '/^-- Dumped /d' -e '/^\\\(un\)\?restrict /d' >"$tmp/$2.sql"
}
PARLEY_VAR=$tmp/old "$tmp/ref/scripts/parley" migrate 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 2; }
dump old ref
PARLEY_VAR=$tmp/new "$root/scripts/parley" migrate 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 2; }
dump new fresh
PARLEY_VAR=$tmp/old "$root/scripts/parley" migrate 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 2; }
dump old upgraded
rc=0
echo "== $ref, fresh -> this tree, fresh"
diff -u "$tmp/ref.sql" "$tmp/fresh.sql" && echo "identical ($(grep -c '^CREATE FUNCTION' "$tmp/fresh.sql") functions, $(grep -c '^CREATE TRIGGER' "$tmp/fresh.sql") triggers, $(grep -c '^CREATE TABLE' "$tmp/fresh.sql") tables)" || rc=1
echo "== this tree: fresh -> $ref's database upgraded"
diff -u "$tmp/fresh.sql" "$tmp/upgraded.sql" && echo identical || rc=1
exit $rc
