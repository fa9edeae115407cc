/* test_poll_hub: the poll service's hub (services/poll/poll_hub.c and the
 * other files of poll_hub.h), compiled into this file whole: the unit
 * tests link shared/ only, and the cases drive the hub's static state and
 * functions directly. What
 * poll_events.c would do with a finished waiter is stubbed here: record
 * which thread finished it, wait as libfcgi's lingering close may, free it.
 *
 * Cases: a query slower than two prunes still sees a hint (the pruned
 * state's generation is not forgotten); the caps displace the oldest poll
 * of a session, then of a user; the hub thread hands expired and hung-up
 * waiters to finishers instead of answering them itself. */
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "../../services/poll/poll_hub.c"
#include "../../services/poll/poll_heap.c"
#include "../../services/poll/poll_listen.c"
#include "../../services/poll/poll_workers.c"
#include "unit.h"

#define MAXPEERS 64

struct poll_config poll_config;

static atomic_int finished, finished_on_hub, finished_gone;
static atomic_int finish_delay_ms;
static atomic_int batch_calls, batch_waiters, batch_max;
static int	  peers[MAXPEERS], npeers;

static void	      stub_finish(struct waiter *, int);
static void	      sleep_ms(long);
static struct waiter *new_waiter(int64_t, int64_t, long, long, int *);
static void	      hub_setup(void);
static void	      hub_teardown(void);
static int	      in_done(const struct waiter *);
static const char    *t_prune_slow_query(void);
static const char    *t_caps(void);
static const char    *t_hub_hands_off(void);
static const char    *t_one_hint_batches(void);

void
poll_config_load(void)
{
}

void
janitor_start(void)
{
}

void
janitor_stop(void)
{
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

static void
stub_finish(struct waiter *w, int gone)
{
	if (pthread_equal(pthread_self(), hub_thread))
		atomic_fetch_add(&finished_on_hub, 1);
	if (gone)
		atomic_fetch_add(&finished_gone, 1);
	if (atomic_load(&finish_delay_ms) > 0)
		sleep_ms(atomic_load(&finish_delay_ms));
	close(w->fd);
	free(w);
	atomic_fetch_add(&finished, 1);
}

void
poll_finish_gone(struct waiter *w)
{
	stub_finish(w, 1);
}

void
poll_finish_empty(struct waiter *w)
{
	stub_finish(w, 0);
}

size_t
poll_deliver_batch(struct db *db, struct waiter **ws, size_t n, int final)
{
	size_t i;

	(void)db;
	(void) final;
	atomic_fetch_add(&batch_calls, 1);
	atomic_fetch_add(&batch_waiters, (int)n);
	if ((int)n > atomic_load(&batch_max))
		atomic_store(&batch_max, (int)n);
	for (i = 0; i < n; i++)
		stub_finish(ws[i], 0);
	return 0;
}

/* A waiter on one end of a socket pair (the other end, nginx's, goes to
 * *peer), started at `age` seconds on the monotonic clock. */
static struct waiter *
new_waiter(int64_t user, int64_t session, long age, long timeout_ms, int *peer)
{
	struct waiter *w;
	int	       sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    (w = calloc(1, sizeof(*w))) == NULL)
		abort();
	w->fd = sv[0];
	w->user_id = user;
	w->session_id = session;
	w->heap_idx = -1;
	w->deadline = hub_now_ms() + timeout_ms;
	w->t0.tv_sec = age;
	if (npeers < MAXPEERS)
		peers[npeers++] = sv[1];
	if (peer != NULL)
		*peer = sv[1];
	return w;
}

/* The hub's state without its threads, for the single-threaded cases. */
static void
hub_setup(void)
{
	if ((hub_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		abort();
	poll_config.max_per_session = 3;
	poll_config.max_per_user = 5;
	atomic_store(&finish_delay_ms, 0);
}

static void
hub_teardown(void)
{
	struct waiter *w;
	size_t	       i;

	while ((w = hub_queue_pop(&hub_done_head, &hub_done_tail)) != NULL)
		stub_finish(w, 0);
	while ((w = hub_queue_pop(&hub_ready_head, &hub_ready_tail)) != NULL)
		stub_finish(w, 0);
	while (hub_nheap > 0) {
		w = hub_heap[0];
		unpark(w);
		stub_finish(w, 0);
	}
	for (i = 0; i < NBUCKETS; i++)
		while (buckets[i] != NULL) {
			struct ustate *u = buckets[i];

			buckets[i] = u->hnext;
			free(u);
		}
	free(hub_heap);
	hub_heap = NULL;
	hub_nheap = hub_capheap = 0;
	free(byfd);
	byfd = NULL;
	nbyfd = 0;
	close(hub_epfd);
	hub_epfd = -1;
	generation = forgotten = 0;
	while (npeers > 0)
		close(peers[--npeers]);
}

static int
in_done(const struct waiter *w)
{
	const struct waiter *d;

	for (d = hub_done_head; d != NULL; d = d->next)
		if (d == w)
			return 1;
	return 0;
}

static const char *
t_prune_slow_query(void)
{
	struct waiter *w, *again, *late;
	uint64_t       g0, horizon = 0;
	int	       k, refused, parked;

	hub_setup();
	/* A worker reads the generation and starts its query... */
	g0 = hub_generation();
	/* ...a hint for its user arrives while the query runs (the event
	 * committed after the query's snapshot)... */
	pthread_mutex_lock(&hub_lock);
	hub_wake_user(42);
	/* ...and the hub prunes twice, as hub_main does every 5 s. */
	for (k = 0; k < 2; k++) {
		prune_ustates(horizon);
		horizon = generation;
	}
	pthread_mutex_unlock(&hub_lock);
	/* The query returns empty after more than 5 s: parking now would
	 * miss the event until the poll's timeout. */
	w = new_waiter(42, 1, 1, 60000, NULL);
	refused = hub_park(w, g0);
	if (refused == -1)
		stub_finish(w, 0); /* the worker would query again */
	/* A query that started after the prunes parks at once. */
	again = new_waiter(42, 1, 2, 60000, NULL);
	parked = hub_park(again, hub_generation());
	late = new_waiter(43, 2, 3, 60000, NULL);
	k = hub_park(late, hub_generation());
	hub_teardown();
	CHECK_EQ(refused, -1);
	CHECK_EQ(parked, 0);
	CHECK_EQ(k, 0);
	return NULL;
}

static const char *
t_caps(void)
{
	struct waiter *a[4], *b[3], *c;
	struct ustate *u;
	long	       nparked, nuser, ndone;
	int	       i, rc = 0, a0_fd, a0_gone, fates_ok;

	hub_setup();
	/* Session 10 of user 7, cap 3: the fourth displaces the first. */
	for (i = 0; i < 4; i++) {
		a[i] = new_waiter(7, 10, 100 + i, 60000, NULL);
		rc |= hub_park(a[i], hub_generation());
	}
	a0_fd = a[0]->fd;
	a0_gone = in_done(a[0]) && !in_done(a[1]) && byfd[a0_fd] == NULL;
	/* Session 11 of the same user: at 5 parked (the user's cap) the
	 * user's oldest goes, which is a[1], not one of session 11's. */
	for (i = 0; i < 3; i++) {
		b[i] = new_waiter(7, 11, 200 + i, 60000, NULL);
		rc |= hub_park(b[i], hub_generation());
	}
	/* Another user is not touched. */
	c = new_waiter(8, 12, 50, 60000, NULL);
	rc |= hub_park(c, hub_generation());
	pthread_mutex_lock(&hub_lock);
	u = ustate_get(7, 0);
	nuser = u != NULL ? u->nwaiters : -1;
	nparked = (long)hub_nheap;
	ndone = 0;
	fates_ok = 1;
	for (struct waiter *d = hub_done_head; d != NULL; d = d->next) {
		ndone++;
		fates_ok &= d->fate == WAITER_EMPTY;
	}
	i = in_done(a[1]) && !in_done(a[2]) && !in_done(a[3]) &&
	    !in_done(b[0]) && !in_done(c);
	pthread_mutex_unlock(&hub_lock);
	hub_teardown();
	CHECK_EQ(rc, 0);
	CHECK(a0_gone);
	CHECK(i);
	CHECK_EQ(ndone, 2);
	CHECK(fates_ok);
	CHECK_EQ(nuser, 5);
	CHECK_EQ(nparked, 6);
	return NULL;
}

static const char *
t_hub_hands_off(void)
{
	struct waiter *w;
	long	       parked, t;
	int	       i, peer, rc = 0;

	atomic_store(&finished, 0);
	atomic_store(&finished_on_hub, 0);
	atomic_store(&finished_gone, 0);
	/* Every finish takes 40 ms, as a slow lingering close would. */
	atomic_store(&finish_delay_ms, 40);
	/* The hub's LISTEN connection fails at once and is retried. */
	config.database_url = "host=/nonexistent-parley-unit dbname=none";
	hub_start();
	poll_config.max_per_session = 8;
	poll_config.max_per_user = 32;
	for (i = 0; i < 20; i++) {
		w = new_waiter(1000 + i, 2000 + i, i, 20, NULL);
		rc |= hub_park(w, hub_generation());
	}
	w = new_waiter(999, 1999, 0, 60000, &peer);
	rc |= hub_park(w, hub_generation());
	close(peer); /* the client of this one hangs up */
	npeers--;
	sleep_ms(150);
	pthread_mutex_lock(&hub_lock);
	parked = (long)hub_nheap;
	pthread_mutex_unlock(&hub_lock);
	for (t = 0; atomic_load(&finished) < 21 && t < 3000; t += 10)
		sleep_ms(10);
	hub_stop();
	while (npeers > 0)
		close(peers[--npeers]);
	config.database_url = NULL;
	CHECK_EQ(rc, 0);
	/* The hub let go of all 21 within 150 ms, though answering them
	 * takes over 400 ms... */
	CHECK_EQ(parked, 0);
	/* ...and never answered one itself. */
	CHECK_EQ(atomic_load(&finished_on_hub), 0);
	CHECK_EQ(atomic_load(&finished), 21);
	CHECK_EQ(atomic_load(&finished_gone), 1);
	return NULL;
}

/* One hint naming 40 users wakes their 40 parked polls; the responders
 * read them in a few batches (a share of the queue each), not one query
 * per waiter, and each waiter is answered once. */
static const char *
t_one_hint_batches(void)
{
	struct waiter *w;
	long	       t;
	int	       i, rc = 0, calls;

	atomic_store(&finished, 0);
	atomic_store(&finish_delay_ms, 0);
	atomic_store(&batch_calls, 0);
	atomic_store(&batch_waiters, 0);
	atomic_store(&batch_max, 0);
	config.database_url = "host=/nonexistent-parley-unit dbname=none";
	hub_start();
	poll_config.max_per_session = 8;
	poll_config.max_per_user = 32;
	for (i = 0; i < 40; i++) {
		w = new_waiter(5000 + i, 6000 + i, i, 60000, NULL);
		rc |= hub_park(w, hub_generation());
	}
	/* What listen_drain does with the payload "5000,5001,...". */
	pthread_mutex_lock(&hub_lock);
	for (i = 0; i < 40; i++)
		hub_wake_user(5000 + i);
	pthread_mutex_unlock(&hub_lock);
	for (t = 0; atomic_load(&finished) < 40 && t < 3000; t += 10)
		sleep_ms(10);
	hub_stop();
	while (npeers > 0)
		close(peers[--npeers]);
	config.database_url = NULL;
	calls = atomic_load(&batch_calls);
	CHECK_EQ(rc, 0);
	CHECK_EQ(atomic_load(&finished), 40);
	CHECK_EQ(atomic_load(&batch_waiters), 40);
	/* Each responder takes a quarter of the queue, at least 16: 3 to
	 * 4 queries, however the responders interleave. */
	CHECK(calls <= 4);
	CHECK(atomic_load(&batch_max) >= 10);
	return NULL;
}

void
test_poll_hub(void)
{
	unit_run("poll hub: a query slower than the prune still sees a hint",
	    t_prune_slow_query);
	unit_run("poll hub: caps displace the oldest of a session, then of a "
		 "user",
	    t_caps);
	unit_run("poll hub: expiries and hangups go to finishers, never "
		 "answered on the hub thread",
	    t_hub_hands_off);
	unit_run("poll hub: one hint for 40 users wakes them in a few batches, "
		 "each answered once",
	    t_one_hint_batches);
}
