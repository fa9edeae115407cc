/* messages_sql: every statement the messages service runs. The write paths
 * are database functions (sql/functions/40_messaging.sql, 60_groups.sql):
 * one round trip each; the send's statement is shared/send.c's. */
#include "messages.h"

const struct db_stmt sql_recall = { "recall",
	"SELECT status, message::text, woken::text FROM recall_message("
	"$1, $2, make_interval(secs => $3))" };
/* Newest activity first; the peer for direct chats, the name for groups;
 * unread counts only other people's messages after the read mark. */
const struct db_stmt sql_conversations = { "conversations",
	"SELECT coalesce(jsonb_agg(x.j ORDER BY x.at DESC NULLS LAST, x.id "
	"DESC),"
	" '[]')::text FROM ("
	" SELECT c.id, lm.created_at AS at, jsonb_build_object("
	"  'id', c.id, 'kind', c.kind,"
	"  'name', c.name,"
	"  'peer', (SELECT jsonb_build_object('id', u.id, 'username', "
	"u.username,"
	"    'display_name', u.display_name) FROM users u WHERE c.kind = "
	"'direct'"
	"    AND u.id = CASE WHEN c.user_lo = $1 THEN c.user_hi ELSE c.user_lo "
	"END),"
	"  'last_message', CASE WHEN lm.id IS NOT NULL THEN message_json(lm) "
	"END,"
	"  'unread', (SELECT count(*) FROM messages m WHERE"
	"    m.conversation_id = c.id AND m.seq > cm.read_seq"
	"    AND m.sender_id IS DISTINCT FROM $1),"
	"  'read_seq', cm.read_seq, 'delivered_seq', cm.delivered_seq,"
	"  'peer_read_seq', pm.read_seq, 'peer_delivered_seq', "
	"pm.delivered_seq,"
	"  'head', c.head) AS j"
	" FROM conversation_members cm JOIN conversations c"
	"  ON c.id = cm.conversation_id"
	" LEFT JOIN messages lm ON lm.conversation_id = c.id AND lm.seq = "
	"c.head"
	/* A direct chat's other member: how far they received and read. */
	" LEFT JOIN conversation_members pm ON c.kind = 'direct'"
	"  AND pm.conversation_id = c.id AND pm.user_id <> $1"
	" WHERE cm.user_id = $1"
	" ORDER BY lm.created_at DESC NULLS LAST, c.id DESC LIMIT $2) x" };
/* A member's view: the head and the number of recalled messages, which a
 * read replica must have before it may answer (messages_replica.c). */
const struct db_stmt sql_is_member = { "is_member",
	"SELECT c.head, (SELECT count(*) FROM messages r"
	" WHERE r.conversation_id = c.id AND r.recalled_at IS NOT NULL)"
	" FROM conversation_members cm JOIN conversations c"
	" ON c.id = cm.conversation_id"
	" WHERE cm.conversation_id = $1 AND cm.user_id = $2" };
const struct db_stmt sql_history = {
	"history",
	"SELECT coalesce(jsonb_agg(message_json(m) ORDER BY m.seq), "
	"'[]')::text,"
	" coalesce(min(m.seq), 0) FROM (SELECT * FROM messages"
	" WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3) m"
};
const struct db_stmt sql_read = { "read",
	"SELECT status, woken::text FROM mark_read($1, $2, $3)" };
const struct db_stmt sql_group_create = { "group_create",
	"SELECT status, group_id, detail::text, woken::text FROM group_create("
	"$1, $2, $3::bigint[], $4)" };
/* Only a member sees a group; to anyone else it does not exist. */
const struct db_stmt sql_group_get = { "group_get",
	"SELECT group_json($1)::text FROM conversation_members"
	" WHERE conversation_id = $1 AND user_id = $2" };
const struct db_stmt sql_group_add = { "group_add",
	"SELECT status, detail::text, woken::text FROM group_add("
	"$1, $2, $3::bigint[], $4)" };
const struct db_stmt sql_group_remove = { "group_remove",
	"SELECT status, NULL, woken::text FROM group_remove($1, $2, $3)" };
const struct db_stmt sql_group_rename = { "group_rename",
	"SELECT status, NULL, woken::text FROM group_rename($1, $2, $3)" };
const struct db_stmt sql_group_role = {
	"group_role",
	"SELECT status, NULL, woken::text FROM group_set_role($1, $2, $3, $4)"
};
