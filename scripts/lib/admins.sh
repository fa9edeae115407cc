# shellcheck shell=bash
# scripts/lib/admins.sh: `scripts/parley admin ...`, who may use the
# operator console (/admin/, /api/v1/admin/). Sourced by scripts/parley,
# never run on its own: it uses the settings, say and die defined there
# (and the other files' functions).


# Operators of the console (/admin/, /api/v1/admin/): granted and revoked
# only here, as the schema owner (the services' role cannot write the
# admins table), and each change goes to the audit log with the OS user
# who ran it. No API can make an admin.
admin_cmd() {
	local name=${2:-} who out
	who="cli:$(id -un)"
	case "${1:-}" in
	grant | revoke)
		[[ $name =~ ^[A-Za-z0-9_.-]{3,32}$ ]] ||
		    die "usage: scripts/parley admin $1 USERNAME"
		pg_start
		if migrations_pending; then migrate; fi
		if [ "$1" = grant ]; then
			out=$(site_sql -v name="$name" -v who="$who" <<'SQL'
WITH u AS (SELECT id FROM users WHERE username = lower(:'name')),
g AS (INSERT INTO admins (user_id, granted_by) SELECT id, :'who' FROM u
      ON CONFLICT (user_id) DO NOTHING RETURNING user_id),
l AS (INSERT INTO admin_audit (actor, action, target_type, target_id)
      SELECT :'who', 'admin.grant', 'user', user_id FROM g)
SELECT (SELECT count(*) FROM u) || ' ' || (SELECT count(*) FROM g);
SQL
)
		else
			out=$(site_sql -v name="$name" -v who="$who" <<'SQL'
WITH u AS (SELECT id FROM users WHERE username = lower(:'name')),
g AS (DELETE FROM admins WHERE user_id IN (SELECT id FROM u) RETURNING user_id),
l AS (INSERT INTO admin_audit (actor, action, target_type, target_id)
      SELECT :'who', 'admin.revoke', 'user', user_id FROM g)
SELECT (SELECT count(*) FROM u) || ' ' || (SELECT count(*) FROM g);
SQL
)
		fi
		case "$out:$1" in
		"0 0:"*) die "no user '$name'" ;;
		"1 1:grant") say "granted admin to $name" ;;
		"1 0:grant") say "$name is an admin already" ;;
		"1 1:revoke") say "revoked admin from $name" ;;
		"1 0:revoke") say "$name is not an admin" ;;
		*) die "admin $1 $name failed" ;;
		esac
		;;
	list)
		pg_start
		if migrations_pending; then migrate; fi
		psql "$OWNER_URL" -qX -c "SELECT u.username, u.display_name,
		    to_char(a.granted_at, 'YYYY-MM-DD HH24:MI') AS granted,
		    a.granted_by, u.suspended_at IS NOT NULL AS suspended
		    FROM admins a JOIN users u ON u.id = a.user_id
		    ORDER BY u.username COLLATE \"C\""
		;;
	*) die "usage: scripts/parley admin grant USERNAME | revoke USERNAME | list" ;;
	esac
}
