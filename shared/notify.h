/* notify: wake-up hints for the poll service. Writers call notify_users()
 * after their transaction committed; one thread per process coalesces the
 * user ids and sends them with pg_notify() outside any writing transaction
 * (a NOTIFY inside the sending transaction serializes every commit in the
 * cluster; see docs/DESIGN.md). A hint carries only user ids, never data:
 * the poll service re-reads the events table, so a lost hint delays, and
 * never loses, an event. */
#ifndef PARLEY_NOTIFY_H
#define PARLEY_NOTIFY_H

#define NOTIFY_CHANNEL "parley_events"

/* Starts the notifier thread (its own database connection). */
void notify_start(void);
/* Queues the ids of a PostgreSQL bigint[] text ("{1,2,3}"); NULL or "{}"
 * is a no-op. Never blocks on the database. */
void notify_users(const char *pg_array);
/* Stops the thread after sending what is queued. */
void notify_stop(void);

#endif
