# shellcheck shell=bash
# scripts/lib/sites.sh: `scripts/parley site ...`, the sites that may
# call the server-to-server API (/api/v1/server/). Sourced by
# scripts/parley, never run on its own: it uses the settings, say and
# die defined there (and the other files' functions).


# Sites that may call the server-to-server API. A secret is 32 random
# bytes, base64url: printed once, kept in the sites table (an HMAC check
# needs the key itself). It reaches psql on stdin, never on a command line
# (which `ps` shows to every local account).
site_sql() {
	psql "$OWNER_URL" -qXtA -v ON_ERROR_STOP=1 "$@"
}

site_cmd() {
	local name=${2:-} url=${3:-} secret
	secret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
	case "${1:-}" in
	add)
		[[ $name =~ ^[a-z0-9][a-z0-9_-]{0,31}$ ]] ||
		    die "usage: scripts/parley site add NAME [WEBHOOK_URL] (NAME: a-z 0-9 _ -, at most 32)"
		[ -z "$url" ] || [[ $url =~ ^https?://[^[:space:]\'\\]+$ ]] ||
		    die "the webhook URL must be http:// or https://"
		site_sql -v name="$name" -v url="$url" >/dev/null <<SQL ||
\\set secret '$secret'
INSERT INTO sites (name, secret, webhook_url)
VALUES (:'name', :'secret', nullif(:'url', ''));
SQL
		    die "could not add site '$name' (does it exist already?)"
		printf 'site: %s\nsecret: %s\n' "$name" "$secret"
		;;
	rotate)
		[ -n "$name" ] || die "usage: scripts/parley site rotate NAME"
		[ "$(site_sql -v name="$name" <<SQL
\\set secret '$secret'
UPDATE sites SET secret_prev = secret, secret_prev_until = now() + interval '24 hours',
    secret = :'secret' WHERE name = :'name' RETURNING 1;
SQL
)" = 1 ] || die "no site '$name'"
		printf 'site: %s\nsecret: %s\n(the previous secret keeps working for 24 hours)\n' "$name" "$secret"
		;;
	remove)
		[ -n "$name" ] || die "usage: scripts/parley site remove NAME"
		[ "$(site_sql -v name="$name" <<'SQL'
DELETE FROM sites WHERE name = :'name' RETURNING 1;
SQL
)" = 1 ] || die "no site '$name'"
		say "removed site $name (its users stay, no longer linked)"
		;;
	list)
		psql "$OWNER_URL" -qX -c "SELECT s.name, s.webhook_url AS webhook,
		    array_to_string(s.webhook_events, ' ') AS events,
		    (SELECT count(*) FROM site_users u WHERE u.site_id = s.id) AS users,
		    (SELECT count(*) FROM webhook_outbox o WHERE o.site_id = s.id
		     AND o.state = 'pending') AS pending_webhooks
		    FROM sites s ORDER BY s.name"
		;;
	*) die "usage: scripts/parley site add NAME [WEBHOOK_URL] | list | rotate NAME | remove NAME" ;;
	esac
}
