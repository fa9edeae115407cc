/* poll_hub.h: the hub's internals, shared by its files only: poll_hub.c
 * (the books and the hub thread), poll_heap.c (the deadline heap),
 * poll_listen.c (the LISTEN connection) and poll_workers.c (responders
 * and finishers), and by tests/unit/test_poll_hub.c. Everything here is
 * guarded by `hub_lock` unless said otherwise. The service's API is
 * poll.h. */
#ifndef PARLEY_POLL_HUB_H
#define PARLEY_POLL_HUB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct metric;
struct waiter;

#define RESPONDERS 4
#define BATCH_MAX  128 /* waiters per events query */
#define BATCH_MIN  16  /* ...at least, when that many wait */

extern pthread_mutex_t hub_lock;
extern pthread_cond_t  hub_ready_cond, hub_done_cond;
/* Woken waiters for the responders, unparked ones for the finishers. */
extern struct waiter *hub_ready_head, *hub_ready_tail;
extern size_t	      hub_nready;
extern struct waiter *hub_done_head, *hub_done_tail;
extern int	      hub_epfd, hub_stopping, hub_closing;

/* poll_hub.c: called with the lock held. */
struct waiter *hub_queue_pop(struct waiter **, struct waiter **);
void	       hub_to_ready(struct waiter *);
void	       hub_wake_user(int64_t);
void	       hub_wake_all(void);

/* poll_heap.c: the parked waiters by deadline, hub_heap[0] the first
 * due. */
extern struct waiter **hub_heap;
extern size_t	       hub_nheap, hub_capheap;
void		       hub_heap_push(struct waiter *);
void		       hub_heap_remove(struct waiter *);

/* poll_listen.c: on the hub thread only (hub_listen_conn is NULL
 * while disconnected). */
extern PGconn	    *hub_listen_conn;
extern struct metric hub_m_hints;
void		     hub_listen_connect(void);
void		     hub_listen_drain(void);

/* poll_workers.c: thread bodies, started and joined by hub_start/stop. */
void *hub_responder_main(void *);
void *hub_finisher_main(void *);

#endif
