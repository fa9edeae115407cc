/* poll_sql: every statement the poll service runs. */
#include "poll.h"

const struct db_stmt sql_presence_sweep = { "presence_sweep",
	"SELECT presence_sweep(make_interval(secs => $1))::text" };
const struct db_stmt sql_prune = { "prune_events",
	"SELECT prune_events(make_interval(secs => $1), $2)" };
/* Stream tokens past their time (sql/014), a batch at a time. */
const struct db_stmt sql_prune_stream_tokens = { "prune_stream_tokens",
	"DELETE FROM stream_tokens WHERE token_hash IN (SELECT token_hash"
	" FROM stream_tokens WHERE expires_at < now() LIMIT $1)" };
const struct db_stmt sql_touch_parked = { "touch_parked",
	"UPDATE sessions SET last_poll_at = now() WHERE id = ANY ($1::bigint[])"
	" AND revoked_at IS NULL" };
/* stream_state ($1 session, $2 seconds) and stream_events ($3 cursor, $4
 * limit) in one statement, for a poll with a cursor: head, floor, acked,
 * presence refresh due, then exactly stream_events' three columns (the
 * same expressions, so the same text) read in the same snapshot. No row:
 * the session is revoked (as stream_state). */
const struct db_stmt sql_state_events = { "poll_state_events",
	"SELECT st.head, st.floor, s.acked_seq,"
	" s.last_poll_at IS NULL OR s.last_poll_at < now() - "
	"make_interval(secs => $2),"
	" coalesce(b.events, '[]')::text, coalesce(b.next, $3),"
	" s.expires_at > now()"
	" FROM sessions s JOIN streams st ON st.user_id = s.user_id"
	" CROSS JOIN LATERAL (SELECT json_agg(json_build_object('seq', e.seq,"
	" 'type', e.type, 'data', e.data, 'created_at', iso(e.created_at))"
	" ORDER BY e.seq) AS events, max(e.seq) AS next"
	" FROM (SELECT * FROM events WHERE user_id = s.user_id"
	" AND seq > $3 ORDER BY seq LIMIT $4) e) b"
	" WHERE s.id = $1 AND s.revoked_at IS NULL" };
