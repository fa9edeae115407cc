/* accounts_sql: every statement the accounts service runs. */
#include "accounts.h"

const struct db_stmt sql_user_insert = { "user_insert",
	"INSERT INTO users (username, display_name, password_hash)"
	" VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
	" RETURNING id, username, display_name" };
const struct db_stmt sql_user_by_name = { "user_by_name",
	"SELECT id, username, display_name, password_hash FROM users"
	" WHERE username = $1" };
const struct db_stmt sql_user_exists = { "user_exists",
	"SELECT 1 FROM users WHERE username = $1" };
const struct db_stmt sql_user_by_id = { "user_by_id",
	"SELECT id, username, display_name FROM users WHERE id = $1" };
const struct db_stmt sql_user_search = { "user_search",
	"SELECT id, username, display_name FROM users"
	" WHERE username COLLATE \"C\" >= $1"
	" AND username COLLATE \"C\" < $1 || '~' AND id <> $2"
	" ORDER BY username COLLATE \"C\" LIMIT $3" };
const struct db_stmt sql_session_revoke = { "session_revoke",
	"UPDATE sessions SET revoked_at = now()"
	" WHERE id = $1 AND revoked_at IS NULL" };
const struct db_stmt sql_session_list = { "session_list",
	"SELECT id, iso(created_at), iso(last_seen_at), iso(expires_at),"
	" user_agent, ip FROM sessions WHERE user_id = $1"
	" AND revoked_at IS NULL AND expires_at > now()"
	" ORDER BY last_seen_at DESC, id DESC LIMIT 200" };
const struct db_stmt sql_session_revoke_own = { "session_revoke_own",
	"UPDATE sessions SET revoked_at = now() WHERE id = $1"
	" AND user_id = $2 AND revoked_at IS NULL" };
/* Attempt counting (sql/015, sql/functions/20_accounts.sql): text[]
 * keys, int[] limits, window seconds -> seconds to wait, 0 when counted. */
const struct db_stmt sql_throttle_take = { "throttle_take",
	"SELECT throttle_take($1::text[], $2::int[], $3::int)" };
const struct db_stmt sql_throttle_return = { "throttle_return",
	"SELECT throttle_return($1::text[], $2::text[])" };
/* One-time login tickets from sites (sql/011_sites.sql). */
const struct db_stmt sql_ticket_redeem = { "ticket_redeem",
	"SELECT status, user_id FROM ticket_redeem($1::bytea)" };
/* Stream tokens for GET /events (sql/014_stream_tokens.sql). */
const struct db_stmt sql_stream_token_insert = { "stream_token_insert",
	"INSERT INTO stream_tokens (token_hash, session_id, expires_at)"
	" VALUES ($1::bytea, $2, now() + make_interval(secs => $3))" };
