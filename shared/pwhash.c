/* pwhash: a fixed set of threads takes jobs off one FIFO queue, has them
 * hashed or verified, and runs each job's continuation. A job that waited
 * past the deadline is answered PWHASH_BUSY without hashing, so a long
 * queue drains quickly once it is stale.
 *
 * The argon2id work itself runs in one hasher process per pool thread,
 * forked at start (the service is still single-threaded then) and talked
 * to over a socketpair: its 64 MiB come and go in another address space
 * (each hash maps and unmaps them: page faults, TLB shootdowns and
 * mmap_lock contention the worker threads would share), and it is its own
 * session at nice PWHASH_NICE, so the scheduler gives the CPU to cheap
 * requests (and PostgreSQL) first. Should a hasher die, its pool thread
 * hashes in-process from then on, and says so once. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pwhash.h"

#define PWHASH_NICE 10

/* One request to a hasher: op, then pw and (verify) the stored hash, each
 * NUL-terminated. The answer: result byte, then the hash string. */
#define MSG_MAX 2048
enum { OP_HASH = 'h', OP_VERIFY = 'v', OP_VERIFY_DUMMY = 'd' };

struct hasher {
	int   fd; /* -1: hash in-process */
	pid_t pid;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t	work; /* a job was queued, or stopping */
	pthread_t      *threads;
	struct hasher  *hashers;
	int		slots, queue, started, stopping;
	int		running, waiting;
	long		wait_ms;
	void *(*thread_init)(void);
	void (*thread_free)(void *);
	struct pwhash_job *head, **tail;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char dummy_hash[PWHASH_STRBYTES];

static void		  limits(unsigned long long *, size_t *);
static enum pwhash_result compute(struct pwhash_job *);
static enum pwhash_result compute_remote(struct hasher *, struct pwhash_job *);
static void		  hasher_main(int, pid_t) __attribute__((noreturn));
static void		  hasher_spawn(struct hasher *, int);
static void		 *pool_main(void *);
static long		  waited_ms(const struct timespec *);

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
	unsigned long long ops;
	size_t		   mem;

	if (!j->verify) {
		limits(&ops, &mem);
		/* Fails only when the memory cannot be had. */
		return crypto_pwhash_str(j->out, j->pw, strlen(j->pw), ops,
			   mem) == 0 ?
		    PWHASH_OK :
		    PWHASH_ERROR;
	}
	/* An unknown user costs the same; a malformed hash is a mismatch. */
	if (crypto_pwhash_str_verify(j->stored != NULL ? j->stored : dummy_hash,
		j->pw, strlen(j->pw)) != 0 ||
	    j->stored == NULL)
		return PWHASH_MISMATCH;
	return PWHASH_OK;
}

/* The hasher process: one request at a time until the socket closes. */
static void
hasher_main(int fd, pid_t parent)
{
	char		  req[MSG_MAX], ans[1 + PWHASH_STRBYTES];
	struct pwhash_job j;
	sigset_t	  none;
	ssize_t		  n;
	size_t		  pwlen;
	int		  a;

	/* Gone with its service, even on SIGKILL (also if that came before
	 * the prctl); no inherited mask. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setsid();
	(void)setpriority(PRIO_PROCESS, 0, PWHASH_NICE);
	/* Alone in its session: with autogroups the group's nice counts. */
	if ((a = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC)) != -1) {
		(void)!write(a, "10", 2);
		close(a);
	}
	for (;;) {
		n = recv(fd, req, sizeof(req) - 1, 0);
		if (n <= 0)
			_exit(0); /* the service closed it, or is gone */
		req[n] = '\0';
		memset(&j, 0, sizeof(j));
		j.pw = req + 1;
		pwlen = strlen(j.pw);
		j.verify = req[0] != OP_HASH;
		if (req[0] == OP_VERIFY && (size_t)n > pwlen + 2)
			j.stored = req + 2 + pwlen;
		ans[0] = (char)compute(&j);
		memcpy(ans + 1, j.out, sizeof(j.out));
		sodium_memzero(req, sizeof(req));
		if (send(fd, ans, sizeof(ans), MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(ans))
			_exit(0);
		sodium_memzero(ans, sizeof(ans));
	}
}

/* Forks slot `i`'s hasher (the caller is still single-threaded). On
 * failure the slot hashes in-process. */
static void
hasher_spawn(struct hasher *h, int i)
{
	pid_t parent = getpid();
	int   sv[2], k;

	h->fd = -1;
	h->pid = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("pwhash: socketpair: %s; hashing in-process",
		    strerror(errno));
		return;
	}
	if ((h->pid = fork()) == -1) {
		log_warn("pwhash: fork: %s; hashing in-process",
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (h->pid == 0) {
		close(sv[0]);
		for (k = 0; k < i; k++)
			if (pool.hashers[k].fd != -1)
				close(pool.hashers[k].fd);
		hasher_main(sv[1], parent);
	}
	close(sv[1]);
	h->fd = sv[0];
}

/* Has slot `h`'s hasher do the job; in-process if there is none (any
 * more). */
static enum pwhash_result
compute_remote(struct hasher *h, struct pwhash_job *j)
{
	char		   req[MSG_MAX], ans[1 + PWHASH_STRBYTES];
	size_t		   pwlen = strlen(j->pw), slen, len;
	ssize_t		   n;
	enum pwhash_result res;

	slen = j->stored != NULL ? strlen(j->stored) : 0;
	if (h->fd == -1 || 1 + pwlen + 1 + slen + 1 > sizeof(req))
		return compute(j);
	req[0] = !j->verify   ? OP_HASH :
	    j->stored != NULL ? OP_VERIFY :
				OP_VERIFY_DUMMY;
	memcpy(req + 1, j->pw, pwlen + 1);
	len = 1 + pwlen + 1;
	if (slen > 0) {
		memcpy(req + len, j->stored, slen + 1);
		len += slen + 1;
	}
	n = send(h->fd, req, len, MSG_NOSIGNAL);
	sodium_memzero(req, sizeof(req));
	if (n == (ssize_t)len)
		n = recv(h->fd, ans, sizeof(ans), 0);
	else
		n = -1;
	if (n != (ssize_t)sizeof(ans) || ans[0] < PWHASH_OK ||
	    ans[0] > PWHASH_ERROR) {
		log_warn("pwhash: hasher %d is gone (%s); hashing in-process",
		    (int)h->pid, n == -1 ? strerror(errno) : "short answer");
		close(h->fd);
		h->fd = -1;
		(void)waitpid(h->pid, NULL, WNOHANG);
		return compute(j);
	}
	res = (enum pwhash_result)ans[0];
	memcpy(j->out, ans + 1, sizeof(j->out));
	sodium_memzero(ans, sizeof(ans));
	return res;
}

static long
waited_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - since->tv_sec) * 1000 +
	    (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void *
pool_main(void *arg)
{
	struct hasher	  *h = arg;
	struct pwhash_job *j;
	enum pwhash_result res;
	void		  *ctx;

	/* Per thread on Linux; raising one's nice needs no privilege. */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), PWHASH_NICE) == -1)
		log_warn("pwhash: setpriority: %s", strerror(errno));
	ctx = pool.thread_init != NULL ? pool.thread_init() : NULL;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (pool.head == NULL && !pool.stopping)
			pthread_cond_wait(&pool.work, &pool.lock);
		if ((j = pool.head) == NULL)
			break; /* stopping, and nothing left */
		if ((pool.head = j->next) == NULL)
			pool.tail = &pool.head;
		pool.waiting--;
		pool.running++;
		res = pool.stopping ? PWHASH_BUSY : PWHASH_OK;
		pthread_mutex_unlock(&pool.lock);
		if (res == PWHASH_OK && waited_ms(&j->queued) <= pool.wait_ms)
			res = compute_remote(h, j);
		else
			res = PWHASH_BUSY;
		j->done(j, res, ctx); /* j is gone after this */
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
	unsigned long long ops;
	size_t		   mem;
	int		   i;

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
		NULL ||
	    (pool.hashers = calloc((size_t)slots, sizeof(*pool.hashers))) ==
		NULL)
		log_fatal("calloc: out of memory");
	/* All forks before the first thread. */
	for (i = 0; i < slots; i++)
		hasher_spawn(&pool.hashers[i], i);
	for (i = 0; i < slots; i++)
		if (pthread_create(&pool.threads[i], NULL, pool_main,
			&pool.hashers[i]) != 0)
			log_fatal("pwhash: pthread_create failed");
	pool.started = 1;
}

void
pwhash_stop(void)
{
	int i;

	if (!pool.started)
		return;
	pthread_mutex_lock(&pool.lock);
	pool.stopping = 1;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	for (i = 0; i < pool.slots; i++)
		pthread_join(pool.threads[i], NULL);
	/* A closed socket ends its hasher. */
	for (i = 0; i < pool.slots; i++) {
		if (pool.hashers[i].fd != -1)
			close(pool.hashers[i].fd);
		if (pool.hashers[i].pid > 0)
			(void)waitpid(pool.hashers[i].pid, NULL, 0);
	}
	free(pool.threads);
	free(pool.hashers);
	pool.threads = NULL;
	pool.hashers = NULL;
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

bool
pwhash_full(void)
{
	int full;

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

int
pwhash_hashers(pid_t *pids, int max)
{
	int i, n = 0;

	pthread_mutex_lock(&pool.lock);
	for (i = 0; pool.started && i < pool.slots && n < max; i++)
		pids[n++] = pool.hashers[i].fd != -1 ? pool.hashers[i].pid : -1;
	pthread_mutex_unlock(&pool.lock);
	return n;
}
