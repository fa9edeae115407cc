/* test_pwhash: the bounded argon2id pool. Round trips with the cheap
 * limits main chose; the bounds with real (interactive) limits on one
 * pool thread, so a hash runs long enough to be caught in the act: a full
 * pool refuses at once, a job that waited past its deadline is answered
 * busy unhashed, stopping answers the queue busy; each pool thread has
 * its own context, and a dead hasher process costs no answers. */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "pwhash.h"
#include "unit.h"

/* A job whose caller can wait for it. */
struct sync_job {
	struct pwhash_job  job;
	pthread_mutex_t	   m;
	pthread_cond_t	   c;
	int		   finished;
	enum pwhash_result res;
	void		  *ctx;
};

static const char *t_round_trip(void);
static const char *t_unknown_user(void);
static const char *t_full(void);
static const char *t_deadline(void);
static const char *t_stop(void);
static const char *t_thread_ctx(void);
static const char *t_hasher_gone(void);
static void sync_init(struct sync_job *, int, const char *, const char *);
static void sync_done(struct pwhash_job *, enum pwhash_result, void *);
static enum pwhash_result sync_wait(struct sync_job *);
static enum pwhash_result run(int, const char *, const char *, char *);
static int		  wait_running(int);
static double		  now_ms(void);
static void		 *ctx_init(void);
static void		  ctx_free(void *);

static int ctx_made, ctx_freed;
static int ctx_values[8];

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
sync_init(struct sync_job *s, int verify, const char *stored, const char *pw)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->m, NULL);
	pthread_cond_init(&s->c, NULL);
	s->job.verify = verify;
	s->job.stored = stored;
	s->job.pw = pw;
	s->job.done = sync_done;
}

static void
sync_done(struct pwhash_job *j, enum pwhash_result res, void *ctx)
{
	struct sync_job *s = (struct sync_job *)j;

	pthread_mutex_lock(&s->m);
	s->res = res;
	s->ctx = ctx;
	s->finished = 1;
	pthread_cond_signal(&s->c);
	pthread_mutex_unlock(&s->m);
}

static enum pwhash_result
sync_wait(struct sync_job *s)
{
	pthread_mutex_lock(&s->m);
	while (!s->finished)
		pthread_cond_wait(&s->c, &s->m);
	pthread_mutex_unlock(&s->m);
	pthread_cond_destroy(&s->c);
	pthread_mutex_destroy(&s->m);
	return s->res;
}

/* Submits and waits; -1 when the pool refused the job. */
static enum pwhash_result
run(int verify, const char *stored, const char *pw, char *out)
{
	struct sync_job	   s;
	enum pwhash_result res;

	sync_init(&s, verify, stored, pw);
	if (pwhash_submit(&s.job) == -1)
		return (enum pwhash_result) - 1;
	res = sync_wait(&s);
	if (out != NULL)
		memcpy(out, s.job.out, PWHASH_STRBYTES);
	return res;
}

/* Waits (up to 10 s) until `n` jobs run; 0, or -1 on timeout. */
static int
wait_running(int n)
{
	struct timespec ts = { 0, 1000000 };
	int		running, waiting, i;

	for (i = 0; i < 10000; i++) {
		pwhash_stats(&running, &waiting);
		if (running == n)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static const char *
t_round_trip(void)
{
	char h1[PWHASH_STRBYTES], h2[PWHASH_STRBYTES];
	int  r[9];

	pwhash_start(1, 4, 5000, NULL, NULL);
	r[0] = run(0, NULL, "correct horse", h1);
	r[1] = run(1, h1, "correct horse", NULL);
	r[2] = run(1, h1, "correct horsE", NULL);
	r[3] = run(1, h1, "correct horse ", NULL);
	r[4] = run(1, h1, "", NULL);
	/* Salted: the same password hashes differently each time. */
	r[5] = run(0, NULL, "correct horse", h2);
	r[6] = run(1, h2, "correct horse", NULL);
	r[7] = run(1, "not a hash", "correct horse", NULL);
	pwhash_stop();
	/* Stopped: refused, never computed on the caller's thread. */
	r[8] = run(1, h1, "correct horse", NULL);
	CHECK_EQ(r[0], PWHASH_OK);
	CHECK(strncmp(h1, "$argon2id$", 10) == 0);
	CHECK_EQ(r[1], PWHASH_OK);
	CHECK_EQ(r[2], PWHASH_MISMATCH);
	CHECK_EQ(r[3], PWHASH_MISMATCH);
	CHECK_EQ(r[4], PWHASH_MISMATCH);
	CHECK_EQ(r[5], PWHASH_OK);
	CHECK(strcmp(h1, h2) != 0);
	CHECK_EQ(r[6], PWHASH_OK);
	CHECK_EQ(r[7], PWHASH_MISMATCH);
	CHECK_EQ(r[8], -1);
	CHECK_EQ(pwhash_full(), 1);
	return NULL;
}

static const char *
t_unknown_user(void)
{
	int a, b;

	pwhash_start(1, 1, 5000, NULL, NULL);
	a = run(1, NULL, "anything", NULL);
	b = run(1, NULL, "parley-dummy-password", NULL);
	pwhash_stop();
	CHECK_EQ(a, PWHASH_MISMATCH);
	CHECK_EQ(b, PWHASH_MISMATCH);
	return NULL;
}

/* One slot, no queue: while a hash runs, the next job is refused at once,
 * and pwhash_full says so beforehand. */
static const char *
t_full(void)
{
	struct sync_job slow;
	double		t0, took;
	int		seen, full_before, full_during, refused;
	int		slow_res, ok;

	config.pwhash_fast = 0;
	pwhash_start(1, 0, 5000, NULL, NULL);
	full_before = pwhash_full();
	sync_init(&slow, 0, NULL, "a slow one");
	(void)pwhash_submit(&slow.job);
	seen = wait_running(1);
	t0 = now_ms();
	full_during = pwhash_full();
	refused = run(1, NULL, "y", NULL);
	took = now_ms() - t0;
	slow_res = sync_wait(&slow);
	config.pwhash_fast = 1;
	(void)wait_running(0); /* its slot is taken until done returns */
	ok = run(1, slow.job.out, "a slow one", NULL);
	pwhash_stop();
	CHECK_EQ(seen, 0);
	CHECK_EQ(full_before, 0);
	CHECK_EQ(full_during, 1);
	CHECK_EQ(refused, -1);
	CHECK(took < 50);
	CHECK_EQ(slow_res, PWHASH_OK);
	CHECK_EQ(ok, PWHASH_OK);
	return NULL;
}

/* One slot, one queue place, 20 ms deadline: the queued job outwaits its
 * deadline behind a real hash and is answered busy, unhashed. */
static const char *
t_deadline(void)
{
	struct sync_job slow, late;
	double		t0, took;
	int		seen, queued, late_res, slow_res;

	config.pwhash_fast = 0;
	pwhash_start(1, 1, 20, NULL, NULL);
	sync_init(&slow, 0, NULL, "a slow one");
	(void)pwhash_submit(&slow.job);
	seen = wait_running(1);
	t0 = now_ms();
	sync_init(&late, 0, NULL, "queued");
	queued = pwhash_submit(&late.job);
	late_res = sync_wait(&late);
	took = now_ms() - t0;
	slow_res = sync_wait(&slow);
	config.pwhash_fast = 1;
	pwhash_stop();
	CHECK_EQ(seen, 0);
	CHECK_EQ(queued, 0);
	CHECK_EQ(late_res, PWHASH_BUSY);
	CHECK(took >= 20);
	CHECK_EQ(late.job.out[0], '\0');
	CHECK_EQ(slow_res, PWHASH_OK);
	return NULL;
}

/* Stopping answers what is queued busy and lets the running hash end. */
static const char *
t_stop(void)
{
	struct sync_job slow, q1, q2;
	int		seen, a, b, res[3];

	config.pwhash_fast = 0;
	pwhash_start(1, 2, 10000, NULL, NULL);
	sync_init(&slow, 0, NULL, "a slow one");
	sync_init(&q1, 1, NULL, "one");
	sync_init(&q2, 0, NULL, "two");
	(void)pwhash_submit(&slow.job);
	seen = wait_running(1);
	a = pwhash_submit(&q1.job);
	b = pwhash_submit(&q2.job);
	pwhash_stop();
	config.pwhash_fast = 1;
	res[0] = sync_wait(&slow);
	res[1] = sync_wait(&q1);
	res[2] = sync_wait(&q2);
	CHECK_EQ(seen, 0);
	CHECK_EQ(a, 0);
	CHECK_EQ(b, 0);
	CHECK_EQ(res[0], PWHASH_OK);
	CHECK_EQ(res[1], PWHASH_BUSY);
	CHECK_EQ(res[2], PWHASH_BUSY);
	return NULL;
}

static void *
ctx_init(void)
{
	return &ctx_values[__atomic_fetch_add(&ctx_made, 1, __ATOMIC_SEQ_CST)];
}

static void
ctx_free(void *ctx)
{
	if (ctx != NULL)
		__atomic_fetch_add(&ctx_freed, 1, __ATOMIC_SEQ_CST);
}

/* Every pool thread makes its context once, hands it to each job it
 * finishes, and frees it when it ends. */
static const char *
t_thread_ctx(void)
{
	struct sync_job s;
	int		res, made, freed;
	void	       *ctx;

	ctx_made = ctx_freed = 0;
	pwhash_start(3, 1, 5000, ctx_init, ctx_free);
	sync_init(&s, 1, NULL, "x");
	(void)pwhash_submit(&s.job);
	res = sync_wait(&s);
	ctx = s.ctx;
	pwhash_stop();
	made = ctx_made;
	freed = ctx_freed;
	CHECK_EQ(res, PWHASH_MISMATCH);
	CHECK_EQ(made, 3);
	CHECK_EQ(freed, 3);
	CHECK(ctx >= (void *)&ctx_values[0] && ctx < (void *)&ctx_values[3]);
	return NULL;
}

/* The hashing runs in a process of its own; when that dies, the pool
 * thread hashes in-process and answers as before. */
static const char *
t_hasher_gone(void)
{
	char  h[PWHASH_STRBYTES];
	pid_t before[2], after[2];
	int   n, m, alive, r[4];

	pwhash_start(1, 1, 5000, NULL, NULL);
	n = pwhash_hashers(before, 2);
	alive = n == 1 && before[0] > 0 && before[0] != getpid() &&
	    kill(before[0], 0) == 0;
	r[0] = run(0, NULL, "survivor", h);
	if (n == 1 && before[0] > 0)
		kill(before[0], SIGKILL);
	r[1] = run(1, h, "survivor", NULL); /* finds it gone */
	r[2] = run(1, h, "not it", NULL);
	r[3] = run(1, NULL, "x", NULL);
	m = pwhash_hashers(after, 2);
	pwhash_stop();
	CHECK_EQ(n, 1);
	CHECK(alive);
	CHECK_EQ(r[0], PWHASH_OK);
	CHECK_EQ(r[1], PWHASH_OK);
	CHECK_EQ(r[2], PWHASH_MISMATCH);
	CHECK_EQ(r[3], PWHASH_MISMATCH);
	CHECK_EQ(m, 1);
	CHECK_EQ(after[0], -1);
	return NULL;
}

void
test_pwhash(void)
{
	unit_run("pwhash: round trip", t_round_trip);
	unit_run("pwhash: unknown user checks the dummy hash", t_unknown_user);
	unit_run("pwhash: a full pool refuses at once", t_full);
	unit_run("pwhash: a job past its deadline is answered busy, unhashed",
	    t_deadline);
	unit_run("pwhash: stopping answers the queue busy", t_stop);
	unit_run("pwhash: each pool thread has its own context", t_thread_ctx);
	unit_run("pwhash: a dead hasher process: hashing goes on in-process",
	    t_hasher_gone);
}
