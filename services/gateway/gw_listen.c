/* gw_listen: this worker's LISTEN connection and its users. A hint names
 * users whose streams changed; each of their sockets here reads its own
 * cursor's events (gw_deliver). After the connection was lost, hints may
 * be gone, so every socket reads once more when it is back. */
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>

#include "config.h"
#include "gateway.h"
#include "log.h"

#define NBUCKETS 65536
#define RETRY_MS 1000

static PGconn		*listen_conn;
static struct kore_event listen_evt;
static uint64_t		 retry_at;
static int		 failing; /* an outage was logged */
static struct gw_user	*buckets[NBUCKETS];

static void listen_event(void *, int);
static void listen_lost(void);
static void wake_all(void);

static size_t
bucket(int64_t id)
{
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(x >> 48) % NBUCKETS;
}

struct gw_user *
gw_user_get(int64_t id, int create)
{
	struct gw_user *u;
	size_t		b = bucket(id);

	for (u = buckets[b]; u != NULL; u = u->next)
		if (u->id == id)
			return u;
	if (!create)
		return NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		log_fatal("calloc: out of memory");
	u->id = id;
	TAILQ_INIT(&u->socks);
	u->next = buckets[b];
	buckets[b] = u;
	return u;
}

/* Frees the user once its last socket is gone. */
void
gw_user_put(struct gw_user *u)
{
	struct gw_user **pp;

	if (!TAILQ_EMPTY(&u->socks))
		return;
	for (pp = &buckets[bucket(u->id)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			free(u);
			return;
		}
}

void
gw_listen_start(void)
{
	const char *keys[4], *vals[4];
	PGresult   *res;

	retry_at = kore_time_ms() + RETRY_MS;
	db_conn_params(config.database_url, "parley-gateway-listen", keys,
	    vals);
	listen_conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(listen_conn) != CONNECTION_OK)
		goto fail;
	res = PQexec(listen_conn, "LISTEN parley_events");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	if (PQsetnonblocking(listen_conn, 1) != 0)
		goto fail;
	memset(&listen_evt, 0, sizeof(listen_evt));
	listen_evt.type = KORE_TYPE_PGSQL_CONN;
	listen_evt.handle = listen_event;
	kore_platform_event_level_read(PQsocket(listen_conn), &listen_evt);
	log_info("listening for event hints");
	failing = 0;
	wake_all();
	return;
fail:
	/* Once per outage: it is retried every second. */
	if (!failing)
		log_warn("LISTEN connection failed: %s; retrying every %d ms",
		    PQerrorMessage(listen_conn), RETRY_MS);
	failing = 1;
	PQfinish(listen_conn);
	listen_conn = NULL;
}

void
gw_listen_check(void)
{
	if (listen_conn == NULL && kore_time_ms() >= retry_at)
		gw_listen_start();
}

static void
listen_lost(void)
{
	const char *why = PQerrorMessage(listen_conn);

	log_warn("LISTEN connection lost: %s",
	    why[0] != '\0' ? why : "the server hung up");
	failing = 1;
	/* libpq has closed the socket itself when it read the end of the
	 * stream (PQsocket is -1 then; the kernel forgot its epoll entry);
	 * Kore's disable_read is fatal on a bad descriptor. */
	if (PQsocket(listen_conn) != -1)
		kore_platform_disable_read(PQsocket(listen_conn));
	PQfinish(listen_conn);
	listen_conn = NULL;
	retry_at = kore_time_ms() + RETRY_MS;
}

static void
wake_all(void)
{
	struct gw_sock *s, *next;

	for (s = TAILQ_FIRST(&gw_all); s != NULL; s = next) {
		next = TAILQ_NEXT(s, all_link);
		if (s->state == GW_LIVE)
			gw_deliver(s, GW_DELIVER_HINT);
	}
}

static void
listen_event(void *arg, int error)
{
	PGnotify       *n;
	struct gw_user *u;
	struct gw_sock *s, *next;
	char	       *p, *end;
	long long	id;

	(void)arg;
	listen_evt.flags &= ~KORE_EVENT_READ;
	if (error || !PQconsumeInput(listen_conn) ||
	    PQstatus(listen_conn) != CONNECTION_OK) {
		listen_lost();
		return;
	}
	while ((n = PQnotifies(listen_conn)) != NULL) {
		gw_metrics_count(GW_M_HINT, 0);
		for (p = n->extra; *p != '\0'; p = *end ? end + 1 : end) {
			id = strtoll(p, &end, 10);
			if (end == p)
				break;
			if (id <= 0 || (u = gw_user_get(id, 0)) == NULL)
				continue;
			/* gw_deliver may close (and free) a socket, and the
			 * user with its last one. */
			for (s = TAILQ_FIRST(&u->socks); s != NULL; s = next) {
				next = TAILQ_NEXT(s, user_link);
				if (next == NULL) {
					gw_deliver(s, GW_DELIVER_HINT);
					break;
				}
				gw_deliver(s, GW_DELIVER_HINT);
			}
		}
		PQfreemem(n);
	}
}
