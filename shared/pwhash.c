/* pwhash: a fixed set of threads takes jobs off one FIFO queue, hashes or
 * verifies, and runs each job's continuation. A job that waited past the
 * deadline is answered PWHASH_BUSY without hashing, so a long queue drains
 * quickly once it is stale. Pool threads run at nice PWHASH_NICE: the
 * scheduler gives the CPU to cheap requests (and PostgreSQL) first. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pwhash.h"

#define PWHASH_NICE	10

static struct {
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;	/* a job was queued, or stopping */
	pthread_t		*threads;
	int			 slots, queue, started, stopping;
	int			 running, waiting;
	long			 wait_ms;
	void			*(*thread_init)(void);
	void			 (*thread_free)(void *);
	struct pwhash_job	*head, **tail;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char	dummy_hash[PWHASH_STRBYTES];

static void			 limits(unsigned long long *, size_t *);
static enum pwhash_result	 compute(struct pwhash_job *);
static void			*pool_main(void *);
static long			 waited_ms(const struct timespec *);

static void
limits(unsigned long long *ops, size_t *mem)
{
	/* PARLEY_PWHASH=min exists for sanitizer test runs only. */
	*ops = config.pwhash_fast ? crypto_pwhash_OPSLIMIT_MIN :
	    crypto_pwhash_OPSLIMIT_INTERACTIVE;
	*mem = config.pwhash_fast ? crypto_pwhash_MEMLIMIT_MIN * 16 :
	    crypto_pwhash_MEMLIMIT_INTERACTIVE;
}

static enum pwhash_result
compute(struct pwhash_job *j)
{
	unsigned long long	ops;
	size_t			mem;

	if (!j->verify) {
		limits(&ops, &mem);
		/* Fails only when the memory cannot be had. */
		return crypto_pwhash_str(j->out, j->pw, strlen(j->pw), ops,
		    mem) == 0 ? PWHASH_OK : PWHASH_ERROR;
	}
	/* An unknown user costs the same; a malformed hash is a mismatch. */
	if (crypto_pwhash_str_verify(j->stored != NULL ? j->stored :
	    dummy_hash, j->pw, strlen(j->pw)) != 0 || j->stored == NULL)
		return PWHASH_MISMATCH;
	return PWHASH_OK;
}

static long
waited_ms(const struct timespec *since)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - since->tv_sec) * 1000 +
	    (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void *
pool_main(void *arg)
{
	struct pwhash_job	*j;
	enum pwhash_result	 res;
	void			*ctx;

	(void)arg;
	/* Per thread on Linux; raising one's nice needs no privilege. */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), PWHASH_NICE) == -1)
		log_warn("pwhash: setpriority: %s", strerror(errno));
	ctx = pool.thread_init != NULL ? pool.thread_init() : NULL;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (pool.head == NULL && !pool.stopping)
			pthread_cond_wait(&pool.work, &pool.lock);
		if ((j = pool.head) == NULL)
			break;		/* stopping, and nothing left */
		if ((pool.head = j->next) == NULL)
			pool.tail = &pool.head;
		pool.waiting--;
		pool.running++;
		res = pool.stopping ? PWHASH_BUSY : PWHASH_OK;
		pthread_mutex_unlock(&pool.lock);
		if (res == PWHASH_OK && waited_ms(&j->queued) <= pool.wait_ms)
			res = compute(j);
		else
			res = PWHASH_BUSY;
		j->done(j, res, ctx);	/* j is gone after this */
		pthread_mutex_lock(&pool.lock);
		pool.running--;
	}
	pthread_mutex_unlock(&pool.lock);
	if (pool.thread_free != NULL)
		pool.thread_free(ctx);
	return NULL;
}

void
pwhash_start(int slots, int queue, long wait_ms, void *(*thread_init)(void),
    void (*thread_free)(void *))
{
	unsigned long long	 ops;
	size_t			 mem;
	int			 i;

	if (pool.started || slots < 1 || queue < 0 || wait_ms < 1)
		log_fatal("pwhash_start: bad arguments or started twice");
	limits(&ops, &mem);
	if (crypto_pwhash_str(dummy_hash, "parley-dummy-password",
	    strlen("parley-dummy-password"), ops, mem) != 0)
		log_fatal("cannot compute the dummy password hash");
	pthread_cond_init(&pool.work, NULL);
	pool.slots = slots;
	pool.queue = queue;
	pool.wait_ms = wait_ms;
	pool.thread_init = thread_init;
	pool.thread_free = thread_free;
	pool.head = NULL;
	pool.tail = &pool.head;
	pool.stopping = 0;
	if ((pool.threads = calloc((size_t)slots, sizeof(*pool.threads))) ==
	    NULL)
		log_fatal("calloc: out of memory");
	for (i = 0; i < slots; i++)
		if (pthread_create(&pool.threads[i], NULL, pool_main, NULL) != 0)
			log_fatal("pwhash: pthread_create failed");
	pool.started = 1;
}

void
pwhash_stop(void)
{
	int	i;

	if (!pool.started)
		return;
	pthread_mutex_lock(&pool.lock);
	pool.stopping = 1;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	for (i = 0; i < pool.slots; i++)
		pthread_join(pool.threads[i], NULL);
	free(pool.threads);
	pool.threads = NULL;
	pthread_cond_destroy(&pool.work);
	pool.started = 0;
}

int
pwhash_submit(struct pwhash_job *j)
{
	pthread_mutex_lock(&pool.lock);
	if (!pool.started || pool.stopping ||
	    pool.running + pool.waiting >= pool.slots + pool.queue) {
		pthread_mutex_unlock(&pool.lock);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &j->queued);
	j->next = NULL;
	*pool.tail = j;
	pool.tail = &j->next;
	pool.waiting++;
	pthread_cond_signal(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	return 0;
}

int
pwhash_full(void)
{
	int	full;

	pthread_mutex_lock(&pool.lock);
	full = !pool.started || pool.stopping ||
	    pool.running + pool.waiting >= pool.slots + pool.queue;
	pthread_mutex_unlock(&pool.lock);
	return full;
}

void
pwhash_stats(int *running, int *waiting)
{
	pthread_mutex_lock(&pool.lock);
	*running = pool.running;
	*waiting = pool.waiting;
	pthread_mutex_unlock(&pool.lock);
}
