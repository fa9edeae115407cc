/* webhooks_loop: the dispatcher's one loop. Up to PARLEY_WEBHOOK_BATCH
 * deliveries are in flight at once on one libcurl multi handle; whenever a
 * slot frees (and at least every PARLEY_WEBHOOK_POLL_MS) it claims more,
 * fairly across sites (webhook_claim: sites in turn, at most
 * PARLEY_WEBHOOK_PER_SITE of one site in flight), so a receiver that never
 * answers holds a few slots for one timeout and delays nobody else. A
 * signal on the signalfd ends it: what is in flight is handed back, due
 * again at once. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/signalfd.h>

#include <curl/curl.h>

#include "log.h"
#include "webhooks.h"

#define PURGE_EVERY 60 /* s */

struct loop {
	struct db		  *db;
	CURLM			  *multi;
	struct webhooks_delivery **slot; /* batch of them, NULL: free */
	long			   used;
};

static long long now_ms(void);
static int	 claim(struct loop *, long);
static int	 collect(struct loop *);
static void	 drop(struct loop *, struct webhooks_delivery *);
static void	 release(struct loop *);
static int	 reclaim(struct db *);
static void	 purge(struct db *);

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Claims up to `room` deliveries and starts them; one that cannot start
 * is recorded at once. Returns how many rows it claimed, or -1 on a
 * database error. */
static int
claim(struct loop *l, long room)
{
	char			  lim[24], per[24], lease[24];
	struct webhooks_delivery *d;
	PGresult		 *res;
	long			  k = 0;
	int			  i, n;

	res = DB_EXEC(l->db, &sql_claim, db_i64(lim, room),
	    db_i64(per, webhooks_config.per_site),
	    db_i64(lease, webhooks_config.timeout * 2 + 30));
	if (res == NULL)
		return -1;
	if ((n = PQntuples(res)) > room)
		log_fatal("the claim returned %d rows for %ld slots", n, room);
	for (i = 0; i < n; i++) {
		d = webhooks_delivery_new(res, i);
		if (webhooks_delivery_start(d) == 0 &&
		    curl_multi_add_handle(l->multi, d->easy) == CURLM_OK) {
			while (l->slot[k] != NULL)
				k++;
			l->slot[k] = d;
			l->used++;
			continue;
		}
		if (d->why == NULL)
			d->why = "dispatcher error";
		webhooks_delivery_finish(l->db, d, CURLE_OK);
		webhooks_delivery_free(d);
	}
	PQclear(res);
	return n;
}

/* Takes an in-flight delivery out of the multi handle and its slot, and
 * frees it. */
static void
drop(struct loop *l, struct webhooks_delivery *d)
{
	long i;

	curl_multi_remove_handle(l->multi, d->easy);
	for (i = 0; i < webhooks_config.batch; i++)
		if (l->slot[i] == d) {
			l->slot[i] = NULL;
			l->used--;
		}
	webhooks_delivery_free(d);
}

/* Records every finished attempt; returns how many there were. */
static int
collect(struct loop *l)
{
	struct webhooks_delivery *d;
	CURLMsg			 *msg;
	CURLcode		  rc;
	int			  left, n = 0;

	while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		rc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&d);
		webhooks_delivery_finish(l->db, d, rc);
		drop(l, d); /* msg is gone from here on */
		n++;
	}
	return n;
}

/* Hands back the deliveries still in flight (due again at once, for
 * another dispatcher or the next start) instead of making the stop wait
 * for their receivers. */
static void
release(struct loop *l)
{
	int64_t	 *ids;
	char	 *arr;
	PGresult *res;
	long	  i;
	size_t	  n = 0;

	if (l->used == 0)
		return;
	if ((ids = calloc((size_t)l->used, sizeof(*ids))) == NULL)
		log_fatal("calloc: out of memory");
	for (i = 0; i < webhooks_config.batch; i++)
		if (l->slot[i] != NULL) {
			ids[n++] = l->slot[i]->id;
			drop(l, l->slot[i]);
		}
	if ((arr = db_i64_array(ids, n)) == NULL)
		log_fatal("db_i64_array: out of memory");
	if ((res = DB_EXEC(l->db, &sql_release, arr)) != NULL)
		log_info("handed back %zu deliveries in flight", n);
	else
		log_warn("handing back %zu deliveries in flight failed; they "
			 "are due again when their leases end",
		    n);
	PQclear(res);
	free(arr);
	free(ids);
}

/* Takes back what dead dispatchers (this one's killed predecessor, say)
 * had in flight: 0, or -1 on a database error. */
static int
reclaim(struct db *db)
{
	PGresult *res;

	if ((res = db_exec(db, &sql_reclaim, 0, NULL)) == NULL)
		return -1;
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
		log_info("took back %s deliveries a stopped dispatcher had in "
			 "flight",
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* Deletes old finished deliveries, used nonces and expired tickets. */
static void
purge(struct db *db)
{
	PGresult *res;

	if ((res = db_exec(db, &sql_purge, 0, NULL)) == NULL)
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0 ||
	    strcmp(PQgetvalue(res, 0, 2), "0") != 0)
		log_info("purged %s old deliveries, %s nonces, %s tickets",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 2));
	PQclear(res);
}

int
webhooks_run(struct db *db, int sigfd)
{
	struct loop		l;
	struct curl_waitfd	wfd;
	struct signalfd_siginfo si;
	long long		t, next_claim = 0, wait;
	time_t			purged = 0;
	long			room;
	int			n, running, want = 1, down = 0, sig = 0;
	int			reclaimed = 0;

	memset(&l, 0, sizeof(l));
	l.db = db;
	if ((l.multi = curl_multi_init()) == NULL)
		log_fatal("curl_multi_init failed");
	if ((l.slot = calloc((size_t)webhooks_config.batch, sizeof(*l.slot))) ==
	    NULL)
		log_fatal("calloc: out of memory");
	while (sig == 0) {
		t = now_ms();
		room = webhooks_config.batch - l.used;
		if (room > 0 && (want || t >= next_claim)) {
			if (!reclaimed)
				reclaimed = reclaim(db) == 0;
			n = claim(&l, room);
			if (n < 0 && !down)
				log_warn("cannot read the outbox; retrying");
			down = n < 0;
			want = 0;
			/* It found work: there may be more, ask again at once
			 * (a round that finds none waits the poll interval). */
			next_claim = n > 0 ? t : t + webhooks_config.poll_ms;
		}
		if (!down && time(NULL) - purged >= PURGE_EVERY) {
			purge(db);
			purged = time(NULL);
		}
		if (curl_multi_perform(l.multi, &running) != CURLM_OK)
			log_fatal("curl_multi_perform failed");
		/* A freed slot may let a site at its limit have another. */
		if (collect(&l) > 0)
			want = 1;
		wait = 1000;
		if (l.used < webhooks_config.batch) {
			wait = want ? 0 : next_claim - now_ms();
			wait = wait < 0 ? 0 : wait > 1000 ? 1000 : wait;
		}
		memset(&wfd, 0, sizeof(wfd));
		wfd.fd = sigfd;
		wfd.events = CURL_WAIT_POLLIN;
		if (curl_multi_poll(l.multi, &wfd, 1, (int)wait, NULL) !=
		    CURLM_OK)
			log_fatal("curl_multi_poll failed");
		if ((wfd.revents & CURL_WAIT_POLLIN) &&
		    read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
		    (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT))
			sig = (int)si.ssi_signo;
	}
	/* What finished meanwhile is recorded; the rest goes back. */
	curl_multi_perform(l.multi, &running);
	collect(&l);
	release(&l);
	curl_multi_cleanup(l.multi);
	free(l.slot);
	return sig;
}
