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
