/* poll_hub.h: the hub's internals, shared by its files only: poll_hub.c
 * (the books and the hub thread), poll_heap.c (the deadline heap),
 * poll_listen.c (the LISTEN connection) and poll_workers.c (responders
 * and finishers), and by tests/unit/test_poll_hub.c. Everything here is
 * guarded by `lock` unless said otherwise. The service's API is poll.h. */
#ifndef PARLEY_POLL_HUB_H
#define PARLEY_POLL_HUB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct metric;
struct waiter;

#define RESPONDERS	4
#define BATCH_MAX	128		/* waiters per events query */
#define BATCH_MIN	16		/* ...at least, when that many wait */

extern pthread_mutex_t	 lock;
extern pthread_cond_t	 ready_cond, done_cond;
extern struct waiter	*ready_head, *ready_tail;	/* for responders */
extern size_t		 nready;
extern struct waiter	*done_head, *done_tail;		/* for finishers */
extern int		 epfd, stopping, closing;

/* poll_hub.c: called with the lock held. */
struct waiter	*queue_pop(struct waiter **, struct waiter **);
void		 to_ready(struct waiter *);
void		 wake_user(int64_t);
void		 wake_all(void);

/* poll_heap.c: the parked waiters by deadline, heap[0] the first due. */
extern struct waiter	**heap;
extern size_t		 nheap, capheap;
void		 heap_push(struct waiter *);
void		 heap_remove(struct waiter *);

/* poll_listen.c: on the hub thread only (listen_conn is NULL while
 * disconnected). */
extern PGconn		*listen_conn;
extern struct metric	 m_hints;
void		 listen_connect(void);
void		 listen_drain(void);

/* poll_workers.c: thread bodies, started and joined by hub_start/stop. */
void		*responder_main(void *);
void		*finisher_main(void *);

#endif
