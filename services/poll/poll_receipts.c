/* poll_receipts: the flusher of coalesced delivery receipts (sql/021).
 * poll_ack() only appends what it owes to receipt_pending; this thread
 * runs receipts_flush(), one transaction emitting the receipts of many
 * acknowledgements together, PARLEY_RECEIPT_FLUSH_MS after the first
 * acknowledgement that may have owed one: an ack here (receipts_kick()),
 * or a gateway's (a `parley_receipts` notification, sent once per tick
 * outside any writing transaction). With nothing owed it waits; once
 * every SWEEP_MS, at start and after a reconnect it flushes anyway, so a
 * lost notification or a process that died between ack and flush delays
 * a receipt, never loses it. Several poll processes may run this: the
 * flush takes an advisory try-lock, and a flusher that finds it taken
 * tries again one interval later. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "notify.h"
#include "poll.h"

#define RECEIPTS_CHANNEL "parley_receipts"
#define SWEEP_MS	 2000	/* flush with no kick at least this often */
#define RETRY_MS	 1000	/* reconnect after losing the connection */
#define BATCH		 "5000" /* pending rows per flush transaction */
#define BATCH_N		 5000

static pthread_t  thread;
static int	  kickfd = -1; /* eventfd: kicks, and the stop */
static atomic_int kicked;      /* a kick is on its way to the thread */
static atomic_int stopping;
static PGconn	 *conn;
static long	  interval_ms;
static int	  warned; /* the connection failure was logged */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects and listens; 0, or -1 with conn NULL. */
static int
receipts_connect(void)
{
	const char *keys[4], *vals[4];
	PGresult   *res;

	db_conn_params(config.database_url, "poll-receipts", keys, vals);
	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) == CONNECTION_OK) {
		res = PQexec(conn, "LISTEN " RECEIPTS_CHANNEL);
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			if (warned)
				log_info("receipts: connected again");
			warned = 0;
			return 0;
		}
		PQclear(res);
	}
	/* Once per outage, not every retry. */
	if (!warned)
		log_warn("receipts: connection failed: %s; retrying every "
			 "%d ms",
		    PQerrorMessage(conn), RETRY_MS);
	warned = 1;
	PQfinish(conn);
	conn = NULL;
	return -1;
}

static void
receipts_lost(void)
{
	log_warn("receipts: connection lost: %s", PQerrorMessage(conn));
	PQfinish(conn);
	conn = NULL;
}

/* One receipts_flush() call. Returns 1 to flush again at once (a full
 * batch), 0 when done, -1 when another flusher holds the lock or the
 * statement failed (try again later). */
static int
flush_once(void)
{
	const char *v[1] = { BATCH };
	PGresult   *res;
	int	    rc = 0;

	res = PQexecParams(conn,
	    "SELECT woken::text, taken, busy FROM receipts_flush($1)", 1, NULL,
	    v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		log_warn("receipts: flush failed: %s",
		    PQresultErrorMessage(res));
		rc = -1;
	} else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0)
		rc = -1;
	else {
		notify_users(PQgetvalue(res, 0, 0));
		rc = atol(PQgetvalue(res, 0, 1)) >= BATCH_N;
	}
	PQclear(res);
	if (PQstatus(conn) != CONNECTION_OK)
		receipts_lost();
	return rc;
}

/* Flushes until the table is empty (as far as this snapshot goes).
 * 0, or -1 to try again in an interval. */
static int
flush_all(void)
{
	int rc;

	while (conn != NULL && (rc = flush_once()) == 1)
		;
	return conn != NULL && rc == 0 ? 0 : -1;
}

/* Drains notifications; returns how many came, -1 if the connection
 * died. */
static int
drain_notifies(void)
{
	PGnotify *n;
	int	  got = 0;

	if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) {
		receipts_lost();
		return -1;
	}
	while ((n = PQnotifies(conn)) != NULL) {
		got++;
		PQfreemem(n);
	}
	return got;
}

static void *
receipts_main(void *arg)
{
	int64_t	      now, due = 0, sweep_at = 0, retry_at = 0, wait;
	struct pollfd pfd[2];
	uint64_t      v;
	int	      nfd;

	(void)arg;
	while (!atomic_load(&stopping)) {
		now = now_ms();
		if (conn == NULL && now >= retry_at) {
			if (receipts_connect() == 0)
				due = now; /* what came while away */
			else
				retry_at = now + RETRY_MS;
		}
		if (conn != NULL &&
		    ((due != 0 && now >= due) || now >= sweep_at)) {
			due = flush_all() == 0 ? 0 : now + interval_ms;
			sweep_at = now + SWEEP_MS;
		}
		wait = conn == NULL ? retry_at - now : sweep_at - now;
		if (due != 0 && due - now < wait)
			wait = due - now;
		if (wait < 0)
			wait = 0;
		pfd[0].fd = kickfd;
		pfd[0].events = POLLIN;
		nfd = 1;
		if (conn != NULL) {
			pfd[1].fd = PQsocket(conn);
			pfd[1].events = POLLIN;
			nfd = 2;
		}
		if (poll(pfd, (nfds_t)nfd, (int)wait) == -1) {
			if (errno != EINTR)
				log_warn("receipts: poll: %s", strerror(errno));
			continue;
		}
		now = now_ms();
		if (pfd[0].revents & POLLIN) {
			/* Clear the flag before draining: a kick after this
			 * writes again, and any before it is covered by the
			 * flush due below. */
			atomic_store(&kicked, 0);
			if (read(kickfd, &v, sizeof(v)) == -1 &&
			    errno != EAGAIN)
				log_warn("receipts: eventfd: %s",
				    strerror(errno));
			if (due == 0)
				due = now + interval_ms;
		}
		if (nfd == 2 &&
		    (pfd[1].revents & (POLLIN | POLLERR | POLLHUP))) {
			int got = drain_notifies();

			if (got > 0 && due == 0)
				due = now + interval_ms;
			else if (got == -1)
				retry_at = now + RETRY_MS;
		}
	}
	/* What this process acknowledged last goes out now, if it can. */
	if (conn != NULL)
		(void)flush_all();
	PQfinish(conn);
	conn = NULL;
	return NULL;
}

void
receipts_kick(void)
{
	uint64_t one = 1;

	if (kickfd == -1 || atomic_exchange(&kicked, 1))
		return;
	if (write(kickfd, &one, sizeof(one)) != sizeof(one))
		log_warn("receipts: eventfd write: %s", strerror(errno));
}

void
receipts_start(void)
{
	interval_ms = config_env_long("PARLEY_RECEIPT_FLUSH_MS", 25, 1, 1000);
	atomic_store(&stopping, 0);
	atomic_store(&kicked, 0);
	if ((kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		log_fatal("receipts: eventfd: %s", strerror(errno));
	if (pthread_create(&thread, NULL, receipts_main, NULL) != 0)
		log_fatal("receipts: pthread_create failed");
}

void
receipts_stop(void)
{
	uint64_t one = 1;

	atomic_store(&stopping, 1);
	if (write(kickfd, &one, sizeof(one)) != sizeof(one))
		log_warn("receipts: eventfd write: %s", strerror(errno));
	pthread_join(thread, NULL);
	close(kickfd);
	kickfd = -1;
}
