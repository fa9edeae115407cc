/* calls_sweeper: the calls service owns the call timers. Their state is in
 * PostgreSQL (ring deadlines, who is in which call or room, when each
 * device last polled), so a restart loses nothing: every second one
 * calls_sweep() ends unanswered calls (timeout), calls and room seats of
 * users gone offline (disconnected), and rooms nobody joined. Several
 * calls processes may sweep at once: rows locked by one are skipped by the
 * others. */
#include "calls.h"
#include "notify.h"
#include "ticker.h"

#define SWEEP_MS  1000
#define ROOM_IDLE 600 /* s: a room nobody joined closes */

static void
sweep(struct db *db, unsigned long tick)
{
	char	  win[24], idle[24];
	PGresult *res;

	(void)tick;
	res = DB_EXEC(db, &sql_calls_sweep,
	    db_i64(win, calls_config.online_window), db_i64(idle, ROOM_IDLE));
	if (res != NULL)
		notify_users(db_get_str(res, 0, 0));
	PQclear(res);
}

static struct ticker sweeper = {
	.name = "sweeper",
	.interval_ms = SWEEP_MS,
	.job = sweep,
};

void
sweeper_start(void)
{
	ticker_start(&sweeper);
}

void
sweeper_stop(void)
{
	ticker_stop(&sweeper);
}
