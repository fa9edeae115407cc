/* webhooks: the dispatcher process that drains webhook_outbox (filled by
 * database triggers, sql/011_sites.sql): claims due rows, POSTs them
 * signed to each site's URL with libcurl, and acknowledges, reschedules
 * with back-off, or gives up. Several dispatchers may run: rows are
 * claimed with SKIP LOCKED and a lease. */
#ifndef PARLEY_WEBHOOKS_H
#define PARLEY_WEBHOOKS_H

#include "db.h"

struct webhooks_config {
	long	timeout;	/* PARLEY_WEBHOOK_TIMEOUT, s per attempt */
	long	give_up;	/* PARLEY_WEBHOOK_GIVE_UP, s after the event */
	long	backoff_ms;	/* PARLEY_WEBHOOK_BACKOFF_MS, first retry */
	long	poll_ms;	/* PARLEY_WEBHOOK_POLL_MS, idle outbox check */
	long	batch;		/* PARLEY_WEBHOOK_BATCH, rows per round */
};
extern struct webhooks_config webhooks_config;

/* webhooks_deliver.c */
/* Claims up to `batch` due deliveries and makes one attempt at each, all
 * at once. Returns how many it claimed, or -1 on a database error. */
int	webhooks_round(struct db *);
/* Deletes old finished deliveries, used nonces and expired tickets. */
void	webhooks_purge(struct db *);
/* Milliseconds to wait before attempt `attempts` + 1 (doubling from
 * backoff_ms, at most an hour, with +-20% jitter). */
long	webhooks_backoff_ms(int attempts);

/* webhooks_sql.c */
extern const struct db_stmt sql_claim, sql_finish, sql_purge;

#endif
