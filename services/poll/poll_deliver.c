/* poll_deliver: reads the events a waiter is waiting for and answers it
 * (poll_reply.c), one waiter at a time (a refused park) or a whole batch
 * of woken waiters in one statement: a hint wakes every waiter of its
 * users (a group message: hundreds) and the responders read them all
 * with one query each, not one query per waiter. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "poll.h"
#include "stream.h"

/* What one row of stream_sql_events(_batch) says for w: false when w was
 * answered (and freed), true (kept) when there is nothing yet and !final. */
static bool
answer(struct waiter *w, const PGresult *res, int row, int final)
{
	/* Revoked or logged out while parked: the revocation's hint woke us
	 * (sql/014), or an event's did; either way nothing more is read. */
	if (!db_get_bool(res, row, 2)) {
		poll_reply_ended(w);
		return false;
	}
	if (!final && strcmp(PQgetvalue(res, row, 0), "[]") == 0)
		return true;
	poll_reply_events(w, PQgetvalue(res, row, 0), db_get_i64(res, row, 1));
	return false;
}

bool
poll_deliver(struct db *db, struct waiter *w, int final)
{
	char	  u[24], s[24], l[24], sid[24];
	PGresult *res;
	bool	  kept;

	res = DB_EXEC(db, &stream_sql_events, db_i64(u, w->user_id),
	    db_i64(s, w->since), db_i64(l, w->limit),
	    db_i64(sid, w->session_id));
	if (res == NULL) {
		poll_reply_db_error(w, db);
		return false;
	}
	kept = answer(w, res, 0, final);
	PQclear(res);
	return kept;
}

size_t
poll_deliver_batch(struct db *db, struct waiter **ws, size_t n, int final)
{
	int64_t	 *users, *since, *lims, *sids;
	char	 *a[4];
	PGresult *res;
	size_t	  i, kept = 0;
	int	  k;

	if (n == 1)
		return poll_deliver(db, ws[0],
			   final || ws[0]->tries >= POLL_TRIES_MAX) ?
		    1 :
		    0;
	if ((users = calloc(4 * n, sizeof(*users))) == NULL)
		log_fatal("calloc: out of memory");
	since = users + n;
	lims = since + n;
	sids = lims + n;
	for (i = 0; i < n; i++) {
		users[i] = ws[i]->user_id;
		since[i] = ws[i]->since;
		lims[i] = ws[i]->limit;
		sids[i] = ws[i]->session_id;
	}
	a[0] = db_i64_array(users, n);
	a[1] = db_i64_array(since, n);
	a[2] = db_i64_array(lims, n);
	a[3] = db_i64_array(sids, n);
	free(users);
	res = DB_EXEC(db, &stream_sql_events_batch, a[0], a[1], a[2], a[3]);
	for (k = 0; k < 4; k++)
		free(a[k]);
	if (res != NULL && (size_t)PQntuples(res) != n) {
		log_warn("stream_events_batch: %d rows for %zu waiters",
		    PQntuples(res), n);
		PQclear(res);
		res = NULL;
	}
	for (i = 0; i < n; i++) {
		if (res == NULL)
			poll_reply_db_error(ws[i], db);
		else if (answer(ws[i], res, (int)i,
			     final || ws[i]->tries >= POLL_TRIES_MAX))
			ws[kept++] = ws[i];
	}
	PQclear(res);
	return kept;
}
