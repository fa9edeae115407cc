/* poll_workers: the threads that answer what the hub lets go. Responders
 * take a share of the woken waiters and read their events in one query on
 * their own connection (poll_deliver_batch), parking again the ones a
 * hint woke for events their cursor already had; finishers answer
 * expired, hung-up and displaced waiters. Apart from poll_hub.c because
 * they do the writes and queries the hub thread must never wait on. */
#include <pthread.h>
#include <stdlib.h>

#include "db.h"
#include "poll.h"
#include "poll_hub.h"

void *
hub_responder_main(void *arg)
{
	struct db     *db = db_new();
	struct waiter *w, *batch[BATCH_MAX], *retry;
	size_t	       n, kept, i, want;
	uint64_t       g0;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&hub_lock);
		while (hub_ready_head == NULL && !hub_stopping)
			pthread_cond_wait(&hub_ready_cond, &hub_lock);
		/* A share of what is queued, so the other responders (and
		 * both cores) take the rest of a big wake-up at once; but
		 * not a query per waiter for the last few. */
		want = (hub_nready + RESPONDERS - 1) / RESPONDERS;
		if (want < BATCH_MIN)
			want = BATCH_MIN;
		if (want > BATCH_MAX)
			want = BATCH_MAX;
		for (n = 0; n < want &&
		     (w = hub_queue_pop(&hub_ready_head, &hub_ready_tail)) !=
			 NULL;
		     n++) {
			hub_nready--;
			batch[n] = w;
		}
		pthread_mutex_unlock(&hub_lock);
		if (n == 0)
			break; /* stopping, nothing queued */
		/* Read before the query: a hint after it refuses the park. */
		g0 = hub_generation();
		kept = poll_deliver_batch(db, batch, n, hub_stopping);
		/* A hint may be for events a cursor already has: then its
		 * waiter goes back until its own deadline. */
		retry = NULL;
		for (i = 0; i < kept; i++) {
			if (hub_park(batch[i], g0) == 0)
				continue;
			batch[i]->tries++;
			batch[i]->next = retry;
			retry = batch[i];
		}
		if (retry != NULL) {
			pthread_mutex_lock(&hub_lock);
			while ((w = retry) != NULL) {
				retry = w->next;
				hub_to_ready(w);
			}
			pthread_cond_broadcast(&hub_ready_cond);
			pthread_mutex_unlock(&hub_lock);
		}
	}
	db_free(db);
	return NULL;
}

/* Answers what the hub let go; runs until hub_stop() says the hub and the
 * responders (who may still displace polls) are done. */
void *
hub_finisher_main(void *arg)
{
	struct waiter *w;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&hub_lock);
		while (hub_done_head == NULL && !hub_closing)
			pthread_cond_wait(&hub_done_cond, &hub_lock);
		w = hub_queue_pop(&hub_done_head, &hub_done_tail);
		pthread_mutex_unlock(&hub_lock);
		if (w == NULL)
			break;
		if (w->fate == WAITER_GONE)
			poll_finish_gone(w);
		else
			poll_finish_empty(w);
	}
	return NULL;
}
