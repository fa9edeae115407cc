/* admin_sql: every statement the admin service runs. Lists are built as
 * JSON by PostgreSQL and passed through (http_reply_wrap). */
#include "admin.h"

/* A user as the console shows it: profile, state, live sessions. $u is
 * the users row, p its presence row (LEFT JOIN). */
#define USER_JSON                                                              \
	"jsonb_build_object('id', u.id, 'username', u.username,"               \
	" 'display_name', u.display_name, 'created_at', iso(u.created_at),"    \
	" 'suspended_at', iso(u.suspended_at),"                                \
	" 'admin', EXISTS (SELECT 1 FROM admins a WHERE a.user_id = u.id),"    \
	" 'online', coalesce(p.online, false),"                                \
	" 'sessions', (SELECT count(*) FROM sessions s"                        \
	"  WHERE s.user_id = u.id AND s.revoked_at IS NULL"                    \
	"  AND s.expires_at > now()))"

/* Who is online: users whose device polled (or whose WebSocket was
 * refreshed) within the window, most recent first, each with those
 * sessions. $1 window seconds, $2 limit. Driven by the presence rows
 * that say online (one per user), then the user's sessions by index.
 * Columns: how many users are online in all, the users. */
const struct db_stmt sql_online = { "a_online",
	"WITH o AS ("
	" SELECT s.* FROM presence p JOIN sessions s ON s.user_id = p.user_id"
	" WHERE p.online AND s.revoked_at IS NULL AND s.expires_at > now()"
	" AND s.last_poll_at > now() - make_interval(secs => $1::int)),"
	" top AS (SELECT user_id, max(last_poll_at) AS last FROM o"
	" GROUP BY user_id ORDER BY last DESC, user_id LIMIT $2::int)"
	" SELECT (SELECT count(DISTINCT user_id) FROM o),"
	" coalesce((SELECT jsonb_agg(jsonb_build_object('id', u.id,"
	"  'username', u.username, 'display_name', u.display_name,"
	"  'last_poll_at', iso(t.last),"
	"  'sessions', (SELECT jsonb_agg(jsonb_build_object('id', o.id,"
	"   'transport', o.transport, 'last_poll_at', iso(o.last_poll_at),"
	"   'last_seen_at', iso(o.last_seen_at), 'created_at',"
	"   iso(o.created_at), 'user_agent', o.user_agent, 'ip', o.ip)"
	"   ORDER BY o.last_poll_at DESC, o.id) FROM o WHERE o.user_id = u.id))"
	"  ORDER BY t.last DESC, u.id)"
	" FROM top t JOIN users u ON u.id = t.user_id), '[]')::text" };
/* Users by username prefix ($1, '' for all), $2 suspended ones only,
 * $3 limit. */
const struct db_stmt sql_users = { "a_users",
	"SELECT coalesce(jsonb_agg(x.j ORDER BY x.name), '[]')::text FROM ("
	" SELECT u.username COLLATE \"C\" AS name, " USER_JSON " AS j"
	" FROM users u LEFT JOIN presence p ON p.user_id = u.id"
	" WHERE u.username COLLATE \"C\" >= $1"
	" AND u.username COLLATE \"C\" < $1 || '~'"
	" AND (NOT $2::boolean OR u.suspended_at IS NOT NULL)"
	" ORDER BY u.username COLLATE \"C\" LIMIT $3::int) x" };
const struct db_stmt sql_user_get = { "a_user_get",
	"SELECT " USER_JSON "::text FROM users u"
	" LEFT JOIN presence p ON p.user_id = u.id WHERE u.id = $1" };
/* $1 admin, $2 user, $3 reason: status, sessions ended, woken. */
const struct db_stmt sql_kick = { "a_kick",
	"SELECT status, ended, woken::text FROM admin_kick($1, $2, $3)" };
/* $1 admin, $2 user, $3 suspend (else restore), $4 reason: status,
 * changed, sessions ended, woken. */
const struct db_stmt sql_suspend = { "a_suspend",
	"SELECT status, changed, ended, woken::text"
	" FROM admin_suspend($1, $2, $3::boolean, $4)" };
/* Groups, newest first. $1 text to find in the name (case-insensitive;
 * a number also matches the id), '' for all; $2 only ids below it (0:
 * none), $3 limit. */
const struct db_stmt sql_groups = { "a_groups",
	"SELECT coalesce(jsonb_agg(x.j ORDER BY x.id DESC), '[]')::text FROM ("
	" SELECT c.id, jsonb_build_object('id', c.id, 'name', c.name,"
	"  'created_at', iso(c.created_at), 'messages', c.head,"
	"  'members', (SELECT count(*) FROM conversation_members m"
	"   WHERE m.conversation_id = c.id),"
	"  'owner', (SELECT jsonb_build_object('id', u.id, 'username',"
	"   u.username, 'display_name', u.display_name)"
	"   FROM conversation_members m JOIN users u ON u.id = m.user_id"
	"   WHERE m.conversation_id = c.id AND m.role = 'owner'),"
	"  'last_message_at', (SELECT iso(ms.created_at) FROM messages ms"
	"   WHERE ms.conversation_id = c.id AND ms.seq = c.head)) AS j"
	" FROM conversations c WHERE c.kind = 'group'"
	" AND ($2::bigint = 0 OR c.id < $2::bigint)"
	" AND ($1 = '' OR strpos(lower(c.name), lower($1)) > 0"
	"  OR c.id::text = $1)"
	" ORDER BY c.id DESC LIMIT $3::int) x" };
/* group_json (sql/005: members with roles) and the message count. */
const struct db_stmt sql_group_get = { "a_group_get",
	"SELECT (group_json(c.id) || jsonb_build_object('messages', "
	"c.head))::text"
	" FROM conversations c WHERE c.id = $1 AND c.kind = 'group'" };
/* $1 admin, $2 group, $3 user: status, woken. */
const struct db_stmt sql_group_remove = { "a_group_remove",
	"SELECT status, woken::text FROM admin_group_remove($1, $2, $3)" };
/* $1 admin, $2 group: status, woken. */
const struct db_stmt sql_group_delete = { "a_group_delete",
	"SELECT status, woken::text FROM admin_group_delete($1, $2)" };
/* $1 admin, $2 message: status, woken. */
const struct db_stmt sql_message_delete = { "a_message_delete",
	"SELECT status, woken::text FROM admin_message_delete($1, $2)" };
/* The audit log, newest first: $1 only ids below it (0: none), $2
 * limit, $3 target type ('' any), $4 target id (0 any). */
const struct db_stmt sql_audit = { "a_audit",
	"SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id,"
	" 'at', iso(a.at), 'admin_id', a.admin_id, 'actor', a.actor,"
	" 'action', a.action, 'target_type', a.target_type,"
	" 'target_id', a.target_id, 'detail', a.detail) ORDER BY a.id DESC),"
	" '[]')::text FROM (SELECT * FROM admin_audit"
	"  WHERE ($1::bigint = 0 OR id < $1::bigint)"
	"  AND ($3 = '' OR target_type = $3)"
	"  AND ($4::bigint = 0 OR target_id = $4::bigint)"
	"  ORDER BY id DESC LIMIT $2::int) a" };
/* Database connections of this database and role, by application name
 * (each process names its connections after itself, shared/db.c), and
 * the server's connection limit. */
const struct db_stmt sql_health_db = { "a_health_db",
	"SELECT coalesce((SELECT jsonb_object_agg(x.app, x.n) FROM ("
	"  SELECT application_name AS app, count(*) AS n FROM pg_stat_activity"
	"  WHERE datname = current_database() AND usename = current_user"
	"  GROUP BY 1) x), '{}')::text,"
	" (SELECT count(*) FROM pg_stat_activity"
	"  WHERE datname = current_database()),"
	" current_setting('max_connections')::int" };
/* Queue depths: webhook deliveries waiting, due now, the oldest's age
 * (s), failed in the last day; users and sessions online ($1 window). */
const struct db_stmt sql_health_queues = { "a_health_queues",
	"SELECT (SELECT count(*) FROM webhook_outbox WHERE state = 'pending'),"
	" (SELECT count(*) FROM webhook_outbox WHERE state = 'pending'"
	"  AND next_attempt_at <= now()),"
	" (SELECT coalesce(floor(extract(epoch FROM now() - min(created_at))),"
	"  0)::bigint FROM webhook_outbox WHERE state = 'pending'),"
	" (SELECT count(*) FROM webhook_outbox WHERE state = 'failed'"
	"  AND finished_at > now() - interval '24 hours'),"
	" (SELECT count(*) FROM presence WHERE online),"
	" (SELECT count(*) FROM sessions WHERE revoked_at IS NULL"
	"  AND expires_at > now()"
	"  AND last_poll_at > now() - make_interval(secs => $1::int))" };
