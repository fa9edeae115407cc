/* webhooks_sql: the dispatcher's statements. */
#include "webhooks.h"

/* Claims due rows: bumps attempts and moves next_attempt_at forward by the
 * lease ($2 s), so a dispatcher that dies mid-round leaves them due again
 * later instead of stuck. $1 = batch size. */
const struct db_stmt sql_claim = { "claim",
	"WITH due AS (SELECT id FROM webhook_outbox WHERE state = 'pending'"
	"  AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1"
	"  FOR UPDATE SKIP LOCKED)"
	" UPDATE webhook_outbox o SET attempts = o.attempts + 1,"
	"  next_attempt_at = now() + make_interval(secs => $2)"
	" FROM due, sites s WHERE o.id = due.id AND s.id = o.site_id"
	" RETURNING o.id, o.attempts,"
	"  extract(epoch FROM now() - o.created_at)::float8, o.type,"
	"  s.name, s.secret, s.webhook_url,"
	"  jsonb_build_object('id', o.id, 'type', o.type, 'created_at',"
	"   iso(o.created_at), 'site', s.name, 'data', o.data)::text" };
/* $2 pending (retry in $5 ms) | delivered | failed. */
const struct db_stmt sql_finish = { "finish",
	"UPDATE webhook_outbox SET state = $2, last_status = $3::int,"
	" last_error = $4,"
	" finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END,"
	" next_attempt_at = CASE WHEN $2 = 'pending'"
	"  THEN now() + make_interval(secs => $5::float8 / 1000)"
	"  ELSE next_attempt_at END"
	" WHERE id = $1" };
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
