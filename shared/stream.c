/* stream: the statements that read a user's event stream and acknowledge
 * it, shared by both transports (the poll service and the WebSocket
 * gateway), so the two can never answer the same cursor differently. */
#include "stream.h"

/* The stream and this device: head, floor, acked cursor, and whether the
 * device's last poll is old enough ($2 seconds) to refresh presence. No
 * row: the session ended after auth_request() checked it. */
const struct db_stmt stream_sql_state = { "stream_state",
	"SELECT st.head, st.floor, s.acked_seq,"
	" s.last_poll_at IS NULL OR s.last_poll_at < now() - "
	"make_interval(secs => $2)"
	" FROM sessions s JOIN streams st ON st.user_id = s.user_id"
	" WHERE s.id = $1 AND s.revoked_at IS NULL" };
const struct db_stmt stream_sql_ack = { "stream_ack",
	"SELECT poll_ack($1, $2, $3)::text" };
/* One batch, already JSON, oldest first, and whether session $4 is still
 * live: read in the same snapshot, so an event committed after the
 * session was revoked is never read for it. */
const struct db_stmt stream_sql_events = { "stream_events",
	"SELECT coalesce(json_agg(json_build_object('seq', e.seq, 'type', "
	"e.type,"
	" 'data', e.data, 'created_at', iso(e.created_at)) ORDER BY e.seq),"
	" '[]')::text, coalesce(max(e.seq), $2), EXISTS (SELECT 1 FROM sessions"
	" WHERE id = $4 AND revoked_at IS NULL AND expires_at > now())"
	" FROM (SELECT * FROM events"
	" WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) e" };
/* stream_sql_events for many waiters in one statement (the poll service
 * wakes all of a hint's waiters with one query): $1..$4 are arrays of
 * user, cursor, limit and session, one element per waiter; one row per
 * waiter, in the arrays' order, with exactly the columns (and the same
 * text) stream_sql_events gives for that waiter, and every row read in
 * the one snapshot, session liveness included. */
const struct db_stmt stream_sql_events_batch = { "stream_events_batch",
	"SELECT coalesce(b.events, '[]')::text, coalesce(b.next, w.since),"
	" EXISTS (SELECT 1 FROM sessions WHERE id = w.session AND revoked_at"
	" IS NULL AND expires_at > now())"
	" FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bigint[])"
	" WITH ORDINALITY AS w (user_id, since, lim, session, i)"
	" CROSS JOIN LATERAL (SELECT json_agg(json_build_object('seq', e.seq,"
	" 'type', e.type, 'data', e.data, 'created_at', iso(e.created_at))"
	" ORDER BY e.seq) AS events, max(e.seq) AS next"
	" FROM (SELECT * FROM events WHERE user_id = w.user_id"
	" AND seq > w.since ORDER BY seq LIMIT w.lim) e) b"
	" ORDER BY w.i" };
