/* poll_janitor: the poll service owns the timed jobs: keeping the
 * devices whose polls it holds online (a poll held longer than the presence
 * window must not look like a device gone away), taking users offline
 * whose devices stopped polling (friends get presence events), and pruning
 * events past the retention time and expired stream tokens. */
#include <stdlib.h>

#include "log.h"
#include "notify.h"
#include "poll.h"
#include "ticker.h"

#define TICK_MS	    2000
#define PRUNE_TICKS 30 /* once a minute */

static void
janitor_job(struct db *db, unsigned long tick)
{
	char	      win[24], keep[24], batch[24], *parked;
	PGresult     *res;
	unsigned long refresh;

	/* Refresh a held poll's time a few times per presence window. */
	refresh = (unsigned long)poll_config.online_window * 1000 / 3 / TICK_MS;
	if (tick % (refresh > 0 ? refresh : 1) == 0 &&
	    (parked = hub_parked_sessions()) != NULL) {
		PQclear(DB_EXEC(db, &sql_touch_parked, parked));
		free(parked);
	}
	res = DB_EXEC(db, &sql_presence_sweep,
	    db_i64(win, poll_config.online_window));
	if (res != NULL)
		notify_users(db_get_str(res, 0, 0));
	PQclear(res);
	if (tick % PRUNE_TICKS == 0) {
		res = DB_EXEC(db, &sql_prune,
		    db_i64(keep, poll_config.retention), db_i64(batch, 50000));
		if (res != NULL && db_get_i64(res, 0, 0) > 0)
			log_info("pruned %s events older than %ld s",
			    PQgetvalue(res, 0, 0), poll_config.retention);
		PQclear(res);
		PQclear(DB_EXEC(db, &sql_prune_stream_tokens, batch));
	}
}

static struct ticker janitor = {
	.name = "janitor",
	.interval_ms = TICK_MS,
	.job = janitor_job,
};

/* The receipts flusher rides along: it is a timed job of the poll
 * service too, with a thread of its own because it sleeps until kicked. */
void
janitor_start(void)
{
	ticker_start(&janitor);
	receipts_start();
}

void
janitor_stop(void)
{
	receipts_stop();
	ticker_stop(&janitor);
}
