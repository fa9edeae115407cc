/* sites_sql: every statement the sites service runs; the writes are
 * database functions (sql/functions/80_sites.sql). $1 is always the calling
 * site. */
#include "sites.h"

const struct db_stmt sql_user_put = { "user_put",
	"SELECT status, user_json::text FROM site_user_put($1, $2, $3, $4)" };
const struct db_stmt sql_user_get = { "user_get",
	"SELECT site_user_json(user_id, site_id)::text FROM site_users"
	" WHERE site_id = $1 AND external_id = $2" };
const struct db_stmt sql_user_lookup = { "user_lookup",
	"SELECT user_id FROM site_users WHERE site_id = $1"
	" AND external_id = $2" };
const struct db_stmt sql_ticket_insert = { "ticket_insert",
	"INSERT INTO login_tickets (hash, user_id, site_id, expires_at)"
	" VALUES ($2::bytea, $3, $1, now() + make_interval(secs => $4))"
	" RETURNING site_user_json($3, $1)::text" };
const struct db_stmt sql_friend_add = { "friend_add",
	"SELECT status, woken::text FROM site_friend_add($1, $2)" };
const struct db_stmt sql_friend_remove = { "friend_remove",
	"SELECT status, woken::text FROM site_friend_remove($1, $2)" };
const struct db_stmt sql_system_message = { "system_message",
	"SELECT status, message::text, woken::text FROM site_system_message("
	"$1, $2, $3, $4::jsonb)" };
/* External ids and event types arrive as JSON arrays ($2 below, $3 in
 * webhook_put), validated in C; NULL stays NULL. */
#define TEXT_ARRAY(p)                                                          \
	"(SELECT array_agg(e ORDER BY n) FROM"                                 \
	" jsonb_array_elements_text(" p "::jsonb) WITH ORDINALITY x (e, n))"
const struct db_stmt sql_push = { "push",
	"SELECT status, recipients, to_json(unknown)::text, woken::text"
	" FROM site_push($1, " TEXT_ARRAY("$2") ", $3, $4, $5::jsonb)" };
const struct db_stmt sql_webhook_get = { "webhook_get",
	"SELECT CASE WHEN webhook_url IS NOT NULL THEN jsonb_build_object("
	" 'url', webhook_url, 'events', to_jsonb(webhook_events)) END::text"
	" FROM sites WHERE id = $1" };
const struct db_stmt sql_webhook_put = { "webhook_put",
	"UPDATE sites SET webhook_url = $2, webhook_events ="
	" coalesce(" TEXT_ARRAY(
	    "$3") ","
		  "  '{message.offline,call.missed,friend.request}')"
		  " WHERE id = $1 RETURNING jsonb_build_object('url', "
		  "webhook_url,"
		  " 'events', to_jsonb(webhook_events))::text" };
const struct db_stmt sql_webhook_delete = { "webhook_delete",
	"UPDATE sites SET webhook_url = NULL WHERE id = $1" };
/* Newest first; $2 a state or NULL for all, $3 a limit. */
const struct db_stmt sql_deliveries = { "deliveries",
	"SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'type', type,"
	" 'state', state, 'attempts', attempts, 'created_at', iso(created_at),"
	" 'next_attempt_at', CASE WHEN state = 'pending'"
	"  THEN iso(next_attempt_at) END,"
	" 'finished_at', iso(finished_at), 'last_status', last_status,"
	" 'last_error', last_error) ORDER BY id DESC), '[]')::text"
	" FROM (SELECT * FROM webhook_outbox WHERE site_id = $1"
	"  AND ($2::text IS NULL OR state = $2) ORDER BY id DESC LIMIT $3) d" };
