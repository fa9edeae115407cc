/* poll_hub: holds parked long polls without a thread or a database
 * connection each. One hub thread runs epoll over the LISTEN connection
 * (wake-up hints), every parked request's socket (a hangup forgets the
 * waiter at once) and an eventfd (stop); deadlines sit in a binary heap.
 * The hub thread only keeps these books and never writes a reply: a
 * write may block on a slow peer, and 10,000 expiries would stall every
 * wake-up behind them. Woken waiters go to responder threads, which take
 * every waiter queued (a share of them each, up to BATCH_MAX) and read
 * their events with one query on their own connection
 * (poll_deliver_batch); expired, hung-up and displaced ones go to
 * finisher threads, which answer them empty or just close them.
 *
 * The lost-wake-up race: a worker reads hub_generation() before querying
 * and hands it to hub_park(); a hint processed in between has set its
 * user's generation above that value, so the park is refused and the
 * worker queries again. A hint processed after the park finds the waiter.
 * Idle users' states are pruned; one made again later starts at the
 * highest generation pruned so far (`forgotten`), so a query that began
 * before a pruned hint is still refused, however slow it was.
 *
 * Caps: a park beyond PARLEY_POLL_MAX_PER_SESSION parked polls of its
 * session, or PARLEY_POLL_MAX_PER_USER of its user, displaces the oldest
 * one there, which gets an ordinary empty answer at once.
 *
 * This file keeps the books (user states, parking, waking, caps, expiry,
 * pruning) and runs the hub thread; the deadline heap is poll_heap.c, the
 * LISTEN connection poll_listen.c, responders and finishers
 * poll_workers.c, their shared state poll_hub.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "poll.h"
#include "poll_hub.h"

#define NBUCKETS     65536 /* user hash buckets, power of 2 */
#define FINISHERS    2
#define PRUNE_MS     5000
#define EXPIRE_BATCH 256 /* expiries per hold of the lock */

struct ustate {
	int64_t	       user_id;
	uint64_t       gen; /* generation of the last hint */
	struct waiter *waiters;
	long	       nwaiters;
	struct ustate *hnext;
};

pthread_mutex_t		hub_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t		hub_ready_cond = PTHREAD_COND_INITIALIZER;
pthread_cond_t		hub_done_cond = PTHREAD_COND_INITIALIZER;
static struct ustate   *buckets[NBUCKETS];
static uint64_t		generation;
static uint64_t		forgotten; /* no pruned state had a later gen */
static struct waiter  **byfd;	   /* parked waiter per socket fd */
static size_t		nbyfd;
struct waiter	       *hub_ready_head, *hub_ready_tail; /* for responders */
size_t			hub_nready;
struct waiter	       *hub_done_head, *hub_done_tail; /* for finishers */
int			hub_epfd = -1, hub_stopping, hub_closing;
static int		stopfd = -1;
static pthread_t	hub_thread, responders[RESPONDERS];
static pthread_t	finishers[FINISHERS];
static struct log_limit epoll_log = LOG_LIMIT(10);

static long long     parked_count(void);
static struct metric m_parked = METRIC_READ("parley_poll_parked", NULL,
    "Long polls parked in the hub, waiting for events.", parked_count);
static struct metric m_woken = METRIC_COUNTER("parley_poll_woken_total", NULL,
    "Parked polls woken by a hint for their user.");

static struct ustate *ustate_get(int64_t, int);
static void  queue_push(struct waiter **, struct waiter **, struct waiter *);
static void  to_done(struct waiter *, int);
static bool  older(const struct waiter *, const struct waiter *);
static void  make_room(struct ustate *, int64_t);
static void  unpark(struct waiter *);
static void  expire(int64_t);
static void  prune_ustates(uint64_t);
static void *hub_main(void *);

int64_t
hub_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
hub_generation(void)
{
	uint64_t g;

	pthread_mutex_lock(&hub_lock);
	g = generation;
	pthread_mutex_unlock(&hub_lock);
	return g;
}

static struct ustate *
ustate_get(int64_t user, int create)
{
	struct ustate **b =
	    &buckets[(uint64_t)user * 0x9e3779b97f4a7c15ULL >> 48 &
		(NBUCKETS - 1)];
	struct ustate *u;

	for (u = *b; u != NULL; u = u->hnext)
		if (u->user_id == user)
			return u;
	if (!create)
		return NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		log_fatal("calloc: out of memory");
	u->user_id = user;
	/* A pruned state of this user may have held a hint up to here. */
	u->gen = forgotten;
	u->hnext = *b;
	*b = u;
	return u;
}

/* True when a's request started before b's. */
static bool
older(const struct waiter *a, const struct waiter *b)
{
	if (a->t0.tv_sec != b->t0.tv_sec)
		return a->t0.tv_sec < b->t0.tv_sec;
	return a->t0.tv_nsec < b->t0.tv_nsec;
}

/* Room for one more parked poll of `session` in u: the oldest of the
 * session goes while the session is at its cap, then the oldest of the
 * user while the user is at theirs. Called with the lock held. */
static void
make_room(struct ustate *u, int64_t session)
{
	struct waiter *w, *old;
	long	       n;

	for (;;) {
		n = 0;
		old = NULL;
		for (w = u->waiters; w != NULL; w = w->next)
			if (w->session_id == session) {
				n++;
				if (old == NULL || older(w, old))
					old = w;
			}
		if (n < poll_config.max_per_session)
			break;
		unpark(old);
		to_done(old, WAITER_EMPTY);
	}
	while (u->nwaiters >= poll_config.max_per_user) {
		old = u->waiters;
		for (w = old->next; w != NULL; w = w->next)
			if (older(w, old))
				old = w;
		unpark(old);
		to_done(old, WAITER_EMPTY);
	}
}

int
hub_park(struct waiter *w, uint64_t g0)
{
	struct epoll_event ev;
	struct ustate	  *u;
	unsigned long	   quiet;
	int		   fd = w->fd, err;

	pthread_mutex_lock(&hub_lock);
	u = ustate_get(w->user_id, 1);
	if (u->gen > g0 || hub_stopping) {
		pthread_mutex_unlock(&hub_lock);
		return -1;
	}
	make_room(u, w->session_id);
	if ((size_t)fd >= nbyfd) {
		size_t n = nbyfd ? nbyfd : 4096;

		while (n <= (size_t)fd)
			n *= 2;
		if ((byfd = realloc(byfd, n * sizeof(*byfd))) == NULL)
			log_fatal("realloc: out of memory");
		memset(byfd + nbyfd, 0, (n - nbyfd) * sizeof(*byfd));
		nbyfd = n;
	}
	w->u = u;
	w->prev = NULL;
	w->next = u->waiters;
	if (u->waiters != NULL)
		u->waiters->prev = w;
	u->waiters = w;
	u->nwaiters++;
	hub_heap_push(w);
	byfd[fd] = w;
	/* nginx closes its end when the client goes away: RDHUP. */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.fd = fd;
	if (epoll_ctl(hub_epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		/* Out of kernel memory or of fs.epoll.max_user_watches: this
		 * poll cannot wait, so it gets the answer a timeout gives. */
		err = errno;
		unpark(w);
		to_done(w, WAITER_EMPTY);
		if (log_limit_ok(&epoll_log, &quiet))
			log_warn("epoll_ctl add %d: %s; the poll is answered "
				 "at once (%lu more since the last report)",
			    fd, strerror(err), quiet);
	}
	pthread_mutex_unlock(&hub_lock);
	return 0;
}

/* The parley_poll_parked gauge, read at scrape time. */
static long long
parked_count(void)
{
	long long n;

	pthread_mutex_lock(&hub_lock);
	n = (long long)hub_nheap;
	pthread_mutex_unlock(&hub_lock);
	return n;
}

/* The sessions of every parked poll as a PostgreSQL bigint[] literal
 * (caller frees), or NULL when none is parked. */
char *
hub_parked_sessions(void)
{
	char  *s = NULL;
	size_t i, len = 0, cap;

	pthread_mutex_lock(&hub_lock);
	if (hub_nheap > 0) {
		cap = hub_nheap * 21 + 3;
		if ((s = malloc(cap)) == NULL)
			log_fatal("malloc: out of memory");
		s[len++] = '{';
		for (i = 0; i < hub_nheap; i++)
			len += (size_t)snprintf(s + len, cap - len, "%s%lld",
			    i > 0 ? "," : "",
			    (long long)hub_heap[i]->session_id);
		s[len++] = '}';
		s[len] = '\0';
	}
	pthread_mutex_unlock(&hub_lock);
	return s;
}

/* Takes a parked waiter out of every index. Called with the lock held. */
static void
unpark(struct waiter *w)
{
	int fd = w->fd;

	(void)epoll_ctl(hub_epfd, EPOLL_CTL_DEL, fd, NULL);
	byfd[fd] = NULL;
	hub_heap_remove(w);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		w->u->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
	w->u->nwaiters--;
}

static void
queue_push(struct waiter **head, struct waiter **tail, struct waiter *w)
{
	w->next = NULL;
	if (*tail != NULL)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

struct waiter *
hub_queue_pop(struct waiter **head, struct waiter **tail)
{
	struct waiter *w = *head;

	if (w != NULL && (*head = w->next) == NULL)
		*tail = NULL;
	return w;
}

/* For the responders (the caller broadcasts). Called with the lock held. */
void
hub_to_ready(struct waiter *w)
{
	queue_push(&hub_ready_head, &hub_ready_tail, w);
	metric_add(&m_woken, 1);
	hub_nready++;
}

/* An unparked waiter for the finishers. Called with the lock held. */
static void
to_done(struct waiter *w, int fate)
{
	w->fate = fate;
	queue_push(&hub_done_head, &hub_done_tail, w);
	pthread_cond_signal(&hub_done_cond);
}

/* A hint for `user`: bump its generation, hand its waiters to the
 * responders. Called with the lock held. */
void
hub_wake_user(int64_t user)
{
	struct ustate *u = ustate_get(user, 1);
	struct waiter *w;

	u->gen = ++generation;
	while ((w = u->waiters) != NULL) {
		unpark(w);
		w->tries = 0;
		hub_to_ready(w);
	}
	pthread_cond_broadcast(&hub_ready_cond);
}

/* After losing the LISTEN connection hints may be gone: re-check all. */
void
hub_wake_all(void)
{
	size_t i;

	generation++;
	forgotten = generation; /* users without a state, too */
	for (i = 0; i < NBUCKETS; i++) {
		struct ustate *u;

		for (u = buckets[i]; u != NULL; u = u->hnext)
			u->gen = generation;
	}
	while (hub_nheap > 0) {
		struct waiter *w = hub_heap[0];

		unpark(w);
		w->tries = 0;
		hub_to_ready(w);
	}
	pthread_cond_broadcast(&hub_ready_cond);
}

/* Forgets users with no waiters and no hint after `horizon`. A state made
 * again for one of them starts at `forgotten` (ustate_get), never below a
 * hint it may have held. Called with the lock held. */
static void
prune_ustates(uint64_t horizon)
{
	size_t		i;
	struct ustate **pp, *u;

	for (i = 0; i < NBUCKETS; i++)
		for (pp = &buckets[i]; (u = *pp) != NULL;) {
			if (u->waiters == NULL && u->gen <= horizon) {
				*pp = u->hnext;
				free(u);
			} else
				pp = &u->hnext;
		}
	if (horizon > forgotten)
		forgotten = horizon;
}

/* Waiters past their deadline go to the finishers, a batch per hold of
 * the lock so that parks and hints get their turn in between. */
static void
expire(int64_t now)
{
	struct waiter *w;
	int	       k;

	do {
		pthread_mutex_lock(&hub_lock);
		for (k = 0; k < EXPIRE_BATCH && hub_nheap > 0 &&
		     hub_heap[0]->deadline <= now;
		     k++) {
			w = hub_heap[0];
			unpark(w);
			to_done(w, WAITER_EMPTY);
		}
		pthread_mutex_unlock(&hub_lock);
	} while (k == EXPIRE_BATCH);
}

static void *
hub_main(void *arg)
{
	struct epoll_event evs[256];
	struct waiter	  *w;
	int64_t		   now, next_listen = 0, next_prune;
	uint64_t	   horizon = 0;
	int		   i, n, timeout;
	char		   c;

	(void)arg;
	next_prune = hub_now_ms() + PRUNE_MS;
	for (;;) {
		now = hub_now_ms();
		if (hub_listen_conn == NULL && now >= next_listen) {
			hub_listen_connect();
			next_listen = now + 1000;
		}
		pthread_mutex_lock(&hub_lock);
		timeout = 1000;
		if (hub_nheap > 0 && hub_heap[0]->deadline - now < timeout)
			timeout = (int)(hub_heap[0]->deadline - now);
		if (timeout < 0)
			timeout = 0;
		pthread_mutex_unlock(&hub_lock);
		n = epoll_wait(hub_epfd, evs, 256, timeout);
		if (n == -1 && errno != EINTR)
			log_fatal("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == stopfd)
				goto stop;
			if (hub_listen_conn != NULL &&
			    fd == PQsocket(hub_listen_conn)) {
				hub_listen_drain();
				continue;
			}
			pthread_mutex_lock(&hub_lock);
			w = (size_t)fd < nbyfd ? byfd[fd] : NULL;
			/* A stale event for a reused fd: make sure it hung up. */
			if (w != NULL &&
			    recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == -1 &&
			    errno == EAGAIN)
				w = NULL;
			if (w != NULL) {
				unpark(w);
				to_done(w, WAITER_GONE);
			}
			pthread_mutex_unlock(&hub_lock);
		}
		now = hub_now_ms();
		expire(now);
		if (now >= next_prune) {
			pthread_mutex_lock(&hub_lock);
			prune_ustates(horizon);
			horizon = generation;
			pthread_mutex_unlock(&hub_lock);
			next_prune = now + PRUNE_MS;
		}
	}
stop:
	/* Everyone gets an empty answer and polls again (another process). */
	pthread_mutex_lock(&hub_lock);
	while (hub_nheap > 0) {
		w = hub_heap[0];
		unpark(w);
		to_done(w, WAITER_EMPTY);
	}
	pthread_mutex_unlock(&hub_lock);
	return NULL;
}

void
hub_start(void)
{
	struct epoll_event ev;
	int		   i;

	poll_config_load();
	/* All linked now: a first metric_add() under the hub's lock would
	 * take the metrics' lock, which a scrape holds while it reads
	 * parked_count() (the hub's lock). */
	metric_register(&m_parked);
	metric_register(&hub_m_hints);
	metric_register(&m_woken);
	hub_stopping = hub_closing = 0;
	if ((hub_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		log_fatal("epoll/eventfd: %s", strerror(errno));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = stopfd;
	if (epoll_ctl(hub_epfd, EPOLL_CTL_ADD, stopfd, &ev) == -1)
		log_fatal("epoll_ctl: %s", strerror(errno));
	notify_start();
	if (pthread_create(&hub_thread, NULL, hub_main, NULL) != 0)
		log_fatal("pthread_create failed");
	for (i = 0; i < RESPONDERS; i++)
		if (pthread_create(&responders[i], NULL, hub_responder_main,
			NULL) != 0)
			log_fatal("pthread_create failed");
	for (i = 0; i < FINISHERS; i++)
		if (pthread_create(&finishers[i], NULL, hub_finisher_main,
			NULL) != 0)
			log_fatal("pthread_create failed");
	janitor_start();
}

void
hub_stop(void)
{
	uint64_t one = 1;
	size_t	 i;
	int	 k;

	janitor_stop();
	pthread_mutex_lock(&hub_lock);
	hub_stopping = 1;
	pthread_cond_broadcast(&hub_ready_cond);
	pthread_mutex_unlock(&hub_lock);
	if (write(stopfd, &one, sizeof(one)) != sizeof(one))
		log_warn("eventfd write: %s", strerror(errno));
	pthread_join(hub_thread, NULL);
	for (k = 0; k < RESPONDERS; k++)
		pthread_join(responders[k], NULL);
	/* Nobody queues for the finishers any more: let them drain and go. */
	pthread_mutex_lock(&hub_lock);
	hub_closing = 1;
	pthread_cond_broadcast(&hub_done_cond);
	pthread_mutex_unlock(&hub_lock);
	for (k = 0; k < FINISHERS; k++)
		pthread_join(finishers[k], NULL);
	notify_stop();
	if (hub_listen_conn != NULL)
		PQfinish(hub_listen_conn);
	hub_listen_conn = NULL;
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
	hub_nready = 0;
	close(hub_epfd);
	close(stopfd);
	hub_epfd = stopfd = -1;
}
