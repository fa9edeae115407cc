/* calls_sql: every statement the calls service runs. Each write is one
 * database function (sql/functions/70_calls.sql): one round trip, one
 * transaction, returning a status, the JSON to answer and the users to
 * wake. */
#include "calls.h"

/* A new call's id, drawn before call_invite() so the callee's TURN
 * credential can name the call (a refused invite leaves a gap). */
const struct db_stmt sql_call_next_id = { "call_next_id",
	"SELECT nextval(pg_get_serial_sequence('calls', 'id'))" };
const struct db_stmt sql_call_invite = { "call_invite",
	"SELECT status, call::text, woken::text FROM call_invite("
	"$1, $2, $3, $4, make_interval(secs => $5), make_interval(secs => $6),"
	" $7, $8::jsonb)" };
/* Only the two parties see a call. */
const struct db_stmt sql_call_get = { "call_get",
	"SELECT call_json(c)::text FROM calls c WHERE c.id = $1"
	" AND $2 IN (c.caller_id, c.callee_id)" };
/* Newest first, with a cursor: ids below `before`. */
const struct db_stmt sql_call_list = { "call_list",
	"SELECT coalesce(jsonb_agg(call_json(c) ORDER BY c.id DESC), "
	"'[]')::text"
	" FROM (SELECT * FROM calls WHERE caller_id = $1 AND id < $2"
	"  UNION ALL SELECT * FROM calls WHERE callee_id = $1 AND id < $2"
	"  ORDER BY id DESC LIMIT $3) c" };
/* The caller of a call $2 may accept ($2 is its callee); none otherwise.
 * A call's parties never change, so this holds for call_accept() after. */
const struct db_stmt sql_call_caller = { "call_caller",
	"SELECT caller_id FROM calls WHERE id = $1 AND callee_id = $2" };
const struct db_stmt sql_call_accept = { "call_accept",
	"SELECT status, call::text, woken::text FROM call_accept("
	"$1, $2, $3, $4::jsonb)" };
const struct db_stmt sql_call_end = { "call_end",
	"SELECT status, call::text, woken::text FROM call_end($1, $2, $3)" };
const struct db_stmt sql_call_signal = { "call_signal",
	"SELECT status, NULL, woken::text FROM call_signal("
	"$1, $2, $3, $4, $5::jsonb, $6)" };
const struct db_stmt sql_room_create = { "room_create",
	"SELECT status, room::text, woken::text FROM room_create("
	"$1, $2, $3, $4::bigint[])" };
/* The owner and the invited see a room; to anyone else it does not exist. */
const struct db_stmt sql_room_get = { "room_get",
	"SELECT room_json($1)::text FROM room_invites"
	" WHERE room_id = $1 AND user_id = $2" };
/* Everyone else invited to room $1, if $2 is invited too (else none):
 * who may be in the room when $2 joins. Invitations never change. */
const struct db_stmt sql_room_invited = { "room_invited",
	"SELECT i.user_id FROM room_invites i WHERE i.room_id = $1"
	" AND i.user_id <> $2 AND EXISTS (SELECT 1 FROM room_invites"
	"  WHERE room_id = $1 AND user_id = $2) ORDER BY i.user_id" };
const struct db_stmt sql_room_join = { "room_join",
	"SELECT status, room::text, woken::text, to_jsonb(peers)::text"
	" FROM room_join($1, $2, $3, $4::jsonb)" };
const struct db_stmt sql_room_leave = { "room_leave",
	"SELECT status, NULL, woken::text FROM room_leave($1, $2, 'left')" };
const struct db_stmt sql_room_signal = { "room_signal",
	"SELECT status, NULL, woken::text FROM room_signal("
	"$1, $2, $3, $4, $5::jsonb, $6)" };
const struct db_stmt sql_calls_sweep = { "calls_sweep",
	"SELECT calls_sweep(make_interval(secs => $1),"
	" make_interval(secs => $2))::text" };
