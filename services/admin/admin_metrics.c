/* admin_metrics: what no single process counts, read from the database at
 * scrape time and added to the admin service's exposition (README
 * "Metrics"): events written to all streams, users online, and the webhook
 * outbox's depth and the age of its oldest pending delivery. One
 * statement per scrape (seconds apart); the outbox part reads only the
 * pending rows, through the partial index of sql/016. */
#include "admin.h"
#include "db.h"
#include "log.h"
#include "metrics.h"

static const struct db_stmt sql_metrics = { "admin_metrics",
	"SELECT (SELECT coalesce(sum(head), 0) FROM streams),"
	" (SELECT count(*) FROM presence WHERE online),"
	" (SELECT count(*) FROM webhook_outbox WHERE state = 'pending'),"
	" (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)"
	"  FROM webhook_outbox WHERE state = 'pending'),"
	" (SELECT count(*) FROM webhook_outbox WHERE state = 'failed')" };

static void
admin_metrics(struct db *db, struct metrics_buf *b)
{
	PGresult *res;

	if ((res = DB_EXEC(db, &sql_metrics)) == NULL) {
		metrics_printf(b,
		    "# HELP parley_database_up Whether the "
		    "database answered this scrape's statement.\n"
		    "# TYPE parley_database_up gauge\nparley_database_up 0\n");
		return;
	}
	metrics_printf(b,
	    "# HELP parley_database_up Whether the database "
	    "answered this scrape's statement.\n# TYPE parley_database_up "
	    "gauge\nparley_database_up 1\n");
	metrics_printf(b,
	    "# HELP parley_events_total Events written to users' "
	    "streams, all users (the sum of their sequence heads).\n"
	    "# TYPE parley_events_total counter\nparley_events_total %s\n",
	    PQgetvalue(res, 0, 0));
	metrics_printf(b,
	    "# HELP parley_users_online Users with a device "
	    "polling or connected within the online window.\n"
	    "# TYPE parley_users_online gauge\nparley_users_online %s\n",
	    PQgetvalue(res, 0, 1));
	metrics_printf(b,
	    "# HELP parley_webhook_queue_depth Webhook deliveries "
	    "pending (due or waiting to retry).\n"
	    "# TYPE parley_webhook_queue_depth gauge\n"
	    "parley_webhook_queue_depth %s\n",
	    PQgetvalue(res, 0, 2));
	metrics_printf(b,
	    "# HELP parley_webhook_oldest_pending_seconds Age of "
	    "the oldest pending webhook delivery, 0 when none is.\n"
	    "# TYPE parley_webhook_oldest_pending_seconds gauge\n"
	    "parley_webhook_oldest_pending_seconds %s\n",
	    PQgetvalue(res, 0, 3));
	metrics_printf(b,
	    "# HELP parley_webhook_failed Webhook deliveries given "
	    "up on and kept in the outbox.\n"
	    "# TYPE parley_webhook_failed gauge\nparley_webhook_failed %s\n",
	    PQgetvalue(res, 0, 4));
	PQclear(res);
}

void
admin_metrics_start(void)
{
	metrics_set_collector(admin_metrics);
}
