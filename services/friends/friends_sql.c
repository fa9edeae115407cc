/* friends_sql: every statement the friends service runs. */
#include "friends.h"

/* One advisory key per unordered pair: pair_key() (sql/functions/
 * 00_pure.sql) is also what send_message() locks, so a send and a block
 * of the same pair run one after the other. */
const struct db_stmt sql_pair_lock = { "pair_lock",
	"SELECT pg_advisory_xact_lock(pair_key($1, $2))" };
const struct db_stmt sql_user_by_id = { "f_user_by_id",
	"SELECT id, username, display_name FROM users WHERE id = $1" };
const struct db_stmt sql_user_by_name = { "f_user_by_name",
	"SELECT id, username, display_name FROM users WHERE username = $1" };
/* Everything a new request needs to know about me ($1) and them ($2). */
const struct db_stmt sql_relation = { "relation",
	"SELECT"
	" EXISTS (SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = "
	"$2),"
	" EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = "
	"$2),"
	" EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $2 AND blocked_id = "
	"$1),"
	" EXISTS (SELECT 1 FROM friend_requests WHERE from_id = $1 AND to_id = "
	"$2"
	"   AND state = 'pending'),"
	" (SELECT id FROM friend_requests WHERE from_id = $2 AND to_id = $1"
	"   AND state = 'pending' AND NOT silent)" };
const struct db_stmt sql_request_insert = { "request_insert",
	"INSERT INTO friend_requests (from_id, to_id, memo, silent)"
	" VALUES ($1, $2, $3, $4) RETURNING id, iso(created_at)" };
/* A request as one party sees it; a silent one is invisible to its
 * recipient. Columns: id, from, to, memo, state, created_at, then the
 * other party's id, username, display_name. */
#define REQUEST_COLS                                                           \
	"r.id, r.from_id, r.to_id, r.memo, r.state, iso(r.created_at),"        \
	" u.id, u.username, u.display_name"
const struct db_stmt sql_request_get = { "request_get",
	"SELECT " REQUEST_COLS " FROM friend_requests r JOIN users u"
	" ON u.id = CASE WHEN r.from_id = $2 THEN r.to_id ELSE r.from_id END"
	" WHERE r.id = $1 AND (r.from_id = $2 OR (r.to_id = $2 AND NOT "
	"r.silent))" };
const struct db_stmt sql_request_decide = { "request_decide",
	"UPDATE friend_requests SET state = $3, decided_at = now()"
	" WHERE id = $1 AND to_id = $2 AND state = 'pending' AND NOT silent"
	" RETURNING from_id" };
const struct db_stmt sql_request_cancel = { "request_cancel",
	"UPDATE friend_requests SET state = 'canceled', decided_at = now()"
	" WHERE id = $1 AND from_id = $2 AND state = 'pending'"
	" RETURNING to_id, silent" };
const struct db_stmt sql_requests_end_pair = { "requests_end_pair",
	"UPDATE friend_requests SET state = 'canceled', decided_at = now()"
	" WHERE state = 'pending' AND ((from_id = $1 AND to_id = $2)"
	" OR (from_id = $2 AND to_id = $1))" };
/* On unblock: what the unblocked user ($2) sent the unblocker ($1) while
 * blocked ends; the blocker never sees it, and it must not stay pending
 * beside a new request or a friendship. */
const struct db_stmt sql_requests_end_silent = { "requests_end_silent",
	"UPDATE friend_requests SET state = 'canceled', decided_at = now()"
	" WHERE from_id = $2 AND to_id = $1 AND state = 'pending' AND silent" };
const struct db_stmt sql_friendship_add = { "friendship_add",
	"INSERT INTO friendships (user_id, friend_id) VALUES ($1, $2), ($2, $1)"
	" ON CONFLICT DO NOTHING" };
const struct db_stmt sql_friendship_del = { "friendship_del",
	"DELETE FROM friendships WHERE (user_id = $1 AND friend_id = $2)"
	" OR (user_id = $2 AND friend_id = $1)" };
const struct db_stmt sql_requests_in = { "requests_in",
	"SELECT " REQUEST_COLS " FROM friend_requests r JOIN users u"
	" ON u.id = r.from_id WHERE r.to_id = $1 AND r.state = 'pending'"
	" AND NOT r.silent ORDER BY r.id DESC LIMIT 1000" };
const struct db_stmt sql_requests_out = { "requests_out",
	"SELECT " REQUEST_COLS " FROM friend_requests r JOIN users u"
	" ON u.id = r.to_id WHERE r.from_id = $1 AND r.state = 'pending'"
	" ORDER BY r.id DESC LIMIT 1000" };
const struct db_stmt sql_friends_list = { "friends_list",
	"SELECT u.id, u.username, u.display_name, iso(f.created_at),"
	" coalesce(p.online, false)"
	" FROM friendships f JOIN users u ON u.id = f.friend_id"
	" LEFT JOIN presence p ON p.user_id = u.id"
	" WHERE f.user_id = $1 ORDER BY u.username COLLATE \"C\" LIMIT 5000" };
const struct db_stmt sql_block_add = { "block_add",
	"INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2)"
	" ON CONFLICT (blocker_id, blocked_id) DO UPDATE"
	" SET blocker_id = EXCLUDED.blocker_id" /* no-op to return the row */
	" RETURNING iso(created_at), xmax = 0" };
const struct db_stmt sql_block_del = { "block_del",
	"DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2" };
const struct db_stmt sql_block_list = { "block_list",
	"SELECT u.id, u.username, u.display_name, iso(b.created_at)"
	" FROM blocks b JOIN users u ON u.id = b.blocked_id"
	" WHERE b.blocker_id = $1 ORDER BY b.created_at DESC LIMIT 5000" };
/* A friend request event: the request with both parties' profiles, so
 * each side reads it the same way. $1 users, $2 type, $3 request id. */
const struct db_stmt sql_request_event = { "request_event",
	"SELECT emit($1::bigint[], $2, jsonb_build_object("
	" 'request', jsonb_build_object('id', r.id, 'from', r.from_id,"
	"  'to', r.to_id, 'memo', r.memo, 'state', r.state,"
	"  'created_at', iso(r.created_at)),"
	" 'from_user', jsonb_build_object('id', f.id, 'username', f.username,"
	"  'display_name', f.display_name),"
	" 'to_user', jsonb_build_object('id', t.id, 'username', t.username,"
	"  'display_name', t.display_name)))::text"
	" FROM friend_requests r JOIN users f ON f.id = r.from_id"
	" JOIN users t ON t.id = r.to_id WHERE r.id = $3" };
