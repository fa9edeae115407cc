/* webhooks: the dispatcher process that drains webhook_outbox (filled by
 * database triggers, sql/011_sites.sql): claims due rows fairly across
 * sites (sql/016_webhook_fairness.sql), POSTs them signed to each site's
 * URL with libcurl, and acknowledges, reschedules with back-off, or gives
 * up. Several dispatchers may run: rows are claimed with SKIP LOCKED and a
 * lease. */
#ifndef PARLEY_WEBHOOKS_H
#define PARLEY_WEBHOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "db.h"

struct webhooks_config {
	long	    timeout;	/* PARLEY_WEBHOOK_TIMEOUT, s per attempt */
	long	    give_up;	/* PARLEY_WEBHOOK_GIVE_UP, s after the event */
	long	    backoff_ms; /* PARLEY_WEBHOOK_BACKOFF_MS, first retry */
	long	    poll_ms;	/* PARLEY_WEBHOOK_POLL_MS, idle outbox check */
	long	    batch;	/* PARLEY_WEBHOOK_BATCH, in flight at once */
	long	    per_site; /* PARLEY_WEBHOOK_PER_SITE, in flight per site */
	int	    deny_private; /* PARLEY_WEBHOOK_PRIVATE (default deny) */
	const char *proxy;	  /* PARLEY_WEBHOOK_PROXY, NULL for none */
};
extern struct webhooks_config webhooks_config;

/* One claimed delivery and its request. */
struct webhooks_delivery {
	int64_t		   id;
	int		   attempts;
	double		   age; /* s since the event */
	char		  *type, *site, *secret, *url, *body; /* in strings */
	char		  *strings;
	CURL		  *easy;
	CURLU		  *curlu;
	struct curl_slist *headers;
	char		   error[CURL_ERROR_SIZE]; /* libcurl's, for the log */
	int		   refused; /* an internal address was refused */
	const char	  *why;	    /* set when it could not start */
};

/* webhooks_loop.c */
/* Delivers until SIGTERM or SIGINT can be read from `sigfd` (a signalfd):
 * keeps up to `batch` deliveries in flight, claiming more as slots free,
 * and hands back the ones in flight when told to stop. Returns that
 * signal. */
int webhooks_run(struct db *, int sigfd);

/* webhooks_deliver.c */
/* A delivery from row `row` of a webhook_claim() result, with copies of
 * its strings. Pair with webhooks_delivery_free. */
struct webhooks_delivery *webhooks_delivery_new(const PGresult *, int row);
void			  webhooks_delivery_free(struct webhooks_delivery *);
/* Sets up the signed request in d->easy: 0, or -1 when there is nothing
 * to send (no URL, a URL libcurl cannot parse, an internal target seen
 * through the proxy); then d->why says why and it is to be finished. */
int webhooks_delivery_start(struct webhooks_delivery *);
/* Records the attempt (`rc` is libcurl's result; ignored when the
 * request never started): delivered on 2xx; otherwise retried later, or
 * failed once the event is older than PARLEY_WEBHOOK_GIVE_UP. */
void
webhooks_delivery_finish(struct db *, struct webhooks_delivery *, CURLcode rc);
/* Milliseconds to wait before attempt `attempts` + 1 (doubling from
 * backoff_ms, at most an hour, with +-20% jitter). */
long webhooks_backoff_ms(int attempts);

/* webhooks_error.c */
/* The last_error a site sees for an attempt that got no HTTP answer:
 * "timeout", "connection failed", "TLS failed" or "refused: internal
 * address", never libcurl's own text (it tells a closed port from a
 * filtered one and names hosts). */
const char *webhooks_error_text(CURLcode, int refused);

/* webhooks_addr.c */
struct sockaddr;
/* True for loopback, private, link-local, CGNAT, multicast, reserved and
 * unspecified addresses, IPv4 or IPv6, including IPv4 embedded in IPv6
 * (mapped, NAT64 64:ff9b::/96, 6to4 2002::/16). */
bool webhooks_addr_internal(const struct sockaddr *);
/* Resolves `host` (a name or an address, IPv6 in brackets or not): 1 when
 * any of its addresses is internal, 0 when none is, -1 when it does not
 * resolve. Blocks for DNS. */
int webhooks_host_internal(const char *host);
/* libcurl's open-socket callback; `arg` points to an int set to 1 when an
 * address was refused. */
curl_socket_t webhooks_open_socket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr);

/* webhooks_sql.c */
extern const struct db_stmt sql_claim, sql_finish, sql_reclaim, sql_release,
    sql_purge;

#endif
