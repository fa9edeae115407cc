/* webhooks_sql: the dispatcher's statements. */
#include "webhooks.h"

/* $1 slots, $2 per site, $3 lease in s (sql/functions/82_webhooks.sql):
 * id, attempts, age in s, type, site name, secret, url, body. */
const struct db_stmt sql_claim = { "claim",
	"SELECT * FROM webhook_claim($1::int, $2::int, $3::float8)" };
/* $1 id, $2 pending (retry in $5 ms) | delivered | failed, $3 status,
 * $4 error, $6 a strike against the site, $7 the site back-off base. */
const struct db_stmt sql_finish = { "finish",
	"SELECT webhook_finish($1::bigint, $2, $3::int, $4, $5::float8,"
	" $6::boolean, $7::float8)" };
/* Rows dead dispatchers had in flight: due again at once. */
const struct db_stmt sql_reclaim = { "reclaim", "SELECT webhook_reclaim()" };
/* $1 the ids still in flight when the dispatcher stops. */
const struct db_stmt sql_release = { "release",
	"SELECT webhook_release($1::bigint[])" };
/* Delivered rows stay a day and failed ones a week (for GET
 * /server/webhook/deliveries); nonces outlive the 300 s window twice. */
const struct db_stmt sql_purge = { "purge",
	"WITH a AS (DELETE FROM webhook_outbox WHERE"
	"  (state = 'delivered' AND finished_at < now() - interval '1 day') OR"
	"  (state = 'failed' AND finished_at < now() - interval '7 days')"
	"  RETURNING 1),"
	" b AS (DELETE FROM site_nonces WHERE"
	"  seen_at < now() - interval '10 minutes' RETURNING 1),"
	" c AS (DELETE FROM login_tickets WHERE"
	"  expires_at < now() - interval '1 hour' RETURNING 1)"
	" SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b),"
	"  (SELECT count(*) FROM c)" };
