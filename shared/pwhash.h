/* pwhash: argon2id password hashing in a bounded pool. A fixed number of
 * pool threads (slots) compute, at a lower CPU priority; at most `queue`
 * jobs wait for one, each for at most the deadline. The caller hands a
 * job over and returns: the job's `done` runs on a pool thread with the
 * result, so a worker thread never waits for argon2id and cheap routes
 * keep their workers, and a flood of logins or registrations costs at most
 * `slots` cores and slots x 64 MiB, spent in hasher processes of their own.
 * A full pool refuses at once. */
#ifndef PARLEY_PWHASH_H
#define PARLEY_PWHASH_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include <sodium.h>

#define PWHASH_STRBYTES crypto_pwhash_STRBYTES

enum pwhash_result {
	PWHASH_OK,	 /* hashed, or the password matches */
	PWHASH_MISMATCH, /* verify: wrong password, or no stored hash */
	PWHASH_BUSY,	 /* pool full, or the deadline passed in the
				 * queue, or stopping: try again later */
	PWHASH_ERROR	 /* out of memory while hashing */
};

struct pwhash_job;
/* Runs on a pool thread with the result and the thread's context (see
 * pwhash_start); owns the job from then on. */
typedef void (
    *pwhash_done_fn)(struct pwhash_job *, enum pwhash_result, void *ctx);

/* Embed it in the caller's own job (first member). The caller fills the
 * public part; `pw` and `stored` must stay valid until `done` runs. */
struct pwhash_job {
	const char    *pw;
	int	       verify; /* 0: hash pw into out */
	const char    *stored; /* verify: NULL checks a dummy */
	char	       out[PWHASH_STRBYTES];
	pwhash_done_fn done;
	/* The pool's. */
	struct timespec	   queued;
	struct pwhash_job *next;
};

/* Starts `slots` pool threads (>= 1) with room for `queue` (>= 0) waiting
 * jobs, each waiting at most `wait_ms` before it is answered PWHASH_BUSY
 * unhashed, and computes the dummy hash for unknown users (cost:
 * config.pwhash_fast). Each pool thread calls thread_init() (if set)
 * once, passes what it returned to every `done`, and thread_free()s it
 * when it ends. Fatal when the threads cannot be made. */
void pwhash_start(int slots, int queue, long wait_ms,
    void *(*thread_init)(void), void (*thread_free)(void *));
/* Answers the queued jobs PWHASH_BUSY, lets running ones finish, joins. */
void pwhash_stop(void);

/* Hands `job` to the pool: 0 when queued (its `done` will run, maybe
 * before this returns: do not touch the job after), -1 when the pool is
 * full or not running (the job is the caller's again; `done` never runs). */
int pwhash_submit(struct pwhash_job *);
/* True when a submit now would be refused: lets a handler refuse before it
 * does any other work. */
bool pwhash_full(void);
/* Jobs running and waiting right now (tests, diagnostics). */
void pwhash_stats(int *running, int *waiting);
/* The hasher processes' pids, one per slot, at most `max` (-1: the slot
 * hashes in-process); returns how many it wrote (tests, diagnostics). */
int pwhash_hashers(pid_t *pids, int max);

#endif
