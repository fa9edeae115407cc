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
responder_main(void *arg)
{
	struct db	*db = db_new();
	struct waiter	*w, *batch[BATCH_MAX], *retry;
	size_t		 n, kept, i, want;
	uint64_t	 g0;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (ready_head == NULL && !stopping)
			pthread_cond_wait(&ready_cond, &lock);
		/* A share of what is queued, so the other responders (and
		 * both cores) take the rest of a big wake-up at once; but
		 * not a query per waiter for the last few. */
		want = (nready + RESPONDERS - 1) / RESPONDERS;
		if (want < BATCH_MIN)
			want = BATCH_MIN;
		if (want > BATCH_MAX)
			want = BATCH_MAX;
		for (n = 0; n < want &&
		    (w = queue_pop(&ready_head, &ready_tail)) != NULL; n++) {
			nready--;
			batch[n] = w;
		}
		pthread_mutex_unlock(&lock);
		if (n == 0)
			break;		/* stopping, nothing queued */
		/* Read before the query: a hint after it refuses the park. */
		g0 = hub_generation();
		kept = poll_deliver_batch(db, batch, n, stopping);
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
			pthread_mutex_lock(&lock);
			while ((w = retry) != NULL) {
				retry = w->next;
				to_ready(w);
			}
			pthread_cond_broadcast(&ready_cond);
			pthread_mutex_unlock(&lock);
		}
	}
	db_free(db);
	return NULL;
}

/* Answers what the hub let go; runs until hub_stop() says the hub and the
 * responders (who may still displace polls) are done. */
void *
finisher_main(void *arg)
{
	struct waiter	*w;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (done_head == NULL && !closing)
			pthread_cond_wait(&done_cond, &lock);
		w = queue_pop(&done_head, &done_tail);
		pthread_mutex_unlock(&lock);
		if (w == NULL)
			break;
		if (w->fate == WAITER_GONE)
			poll_finish_gone(w);
		else
			poll_finish_empty(w);
	}
	return NULL;
}
