/* ticker: a thread with its own database connection that runs a job every
 * interval until stopped (the poll service's janitor, the calls service's
 * sweeper). Stopping waits for a running job to finish. */
#ifndef PARLEY_TICKER_H
#define PARLEY_TICKER_H

#include <pthread.h>

struct db;

struct ticker {
	const char *name; /* for log lines */
	long	    interval_ms;
	void (*job)(struct db *, unsigned long tick);
	/* private */
	pthread_t	thread;
	pthread_mutex_t lock;
	pthread_cond_t	cond;
	int		stopping;
};

void ticker_start(struct ticker *);
void ticker_stop(struct ticker *);

#endif
