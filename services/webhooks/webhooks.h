/* webhooks: the dispatcher process that drains webhook_outbox (filled by
 * database triggers, sql/011_sites.sql): claims due rows, POSTs them
 * signed to each site's URL with libcurl, and acknowledges, reschedules
 * with back-off, or gives up. Several dispatchers may run: rows are
 * claimed with SKIP LOCKED and a lease. */
#ifndef PARLEY_WEBHOOKS_H
#define PARLEY_WEBHOOKS_H

#include <curl/curl.h>

#include "db.h"

struct webhooks_config {
	long	timeout;	/* PARLEY_WEBHOOK_TIMEOUT, s per attempt */
	long	give_up;	/* PARLEY_WEBHOOK_GIVE_UP, s after the event */
	long	backoff_ms;	/* PARLEY_WEBHOOK_BACKOFF_MS, first retry */
	long	poll_ms;	/* PARLEY_WEBHOOK_POLL_MS, idle outbox check */
	long	batch;		/* PARLEY_WEBHOOK_BATCH, rows per round */
	int	deny_private;	/* PARLEY_WEBHOOK_PRIVATE=deny */
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

/* webhooks_addr.c */
struct sockaddr;
/* 1 for loopback, private, link-local, CGNAT, multicast and unspecified
 * addresses (IPv4, IPv6 and IPv4-mapped IPv6). */
int	webhooks_addr_internal(const struct sockaddr *);
/* libcurl's open-socket callback; `arg` points to an int set to 1 when an
 * address was refused. */
curl_socket_t webhooks_open_socket(void *arg, curlsocktype purpose,
	    struct curl_sockaddr *addr);

/* webhooks_sql.c */
extern const struct db_stmt sql_claim, sql_finish, sql_purge;

#endif
