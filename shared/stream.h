/* stream: statements of the per-user event stream (docs/EVENTS.md). */
#ifndef PARLEY_STREAM_H
#define PARLEY_STREAM_H

#include "db.h"

/* $1 session, $2 seconds: head, floor, acked_seq, presence refresh due.
 * No row: the session is revoked. */
extern const struct db_stmt stream_sql_state;
/* $1 session, $2 user, $3 cursor: poll_ack(), the users to wake. */
extern const struct db_stmt stream_sql_ack;
/* $1 user, $2 cursor, $3 limit, $4 session: events JSON, next, live. */
extern const struct db_stmt stream_sql_events;
/* $1 users[], $2 cursors[], $3 limits[], $4 sessions[]: one row per
 * element, in order, each what stream_sql_events gives for it. */
extern const struct db_stmt stream_sql_events_batch;

#endif
