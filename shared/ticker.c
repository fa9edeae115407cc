/* ticker: see ticker.h. The wait uses CLOCK_MONOTONIC so that a change of
 * the wall clock neither stalls nor rushes the job. */
#include <time.h>

#include "db.h"
#include "log.h"
#include "ticker.h"

static void *
ticker_main(void *arg)
{
	struct ticker  *t = arg;
	struct db      *db = db_new();
	struct timespec ts;
	unsigned long	tick = 0;

	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += t->interval_ms / 1000;
		ts.tv_nsec += (t->interval_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!t->stopping &&
		    pthread_cond_timedwait(&t->cond, &t->lock, &ts) == 0)
			;
		if (t->stopping)
			break;
		pthread_mutex_unlock(&t->lock);
		t->job(db, tick++);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	db_free(db);
	return NULL;
}

void
ticker_start(struct ticker *t)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	t->stopping = 0;
	if (pthread_create(&t->thread, NULL, ticker_main, t) != 0)
		log_fatal("%s: pthread_create failed", t->name);
}

void
ticker_stop(struct ticker *t)
{
	pthread_mutex_lock(&t->lock);
	t->stopping = 1;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
}
