/* gw_limits: sockets per session and per user across Kore's workers,
 * which are separate processes. The parent maps a table before it forks:
 * for each worker, a counter per hash bucket of session ids and one of
 * user ids. A worker only ever writes its own row and reads them all, so
 * a worker that died and was replaced just zeroes its row, and nothing it
 * held is counted any more.
 *
 * Two ids that share a bucket share a count, so a limit may refuse a
 * little early when that happens: with 2^18 buckets and 20,000 sockets a
 * given session shares its bucket with some other socket's session about
 * 8% of the time, and only a sum over the limit matters. Two workers
 * taking the last place at the same instant may both get it. */
#include <sys/mman.h>

#include <stdatomic.h>
#include <stdint.h>

#include <sodium.h>

#include "gateway.h"
#include "log.h"

#define NBUCKETS (1u << 18)

struct row {
	_Atomic uint16_t session[NBUCKETS];
	_Atomic uint16_t user[NBUCKETS];
};

static struct row *rows;
static int	   nrows, me = -1;
static uint64_t	   key;

void
gw_limits_init(int workers)
{
	size_t size = sizeof(struct row) * (size_t)workers;

	rows = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rows == MAP_FAILED)
		log_fatal("mmap of %zu bytes for the socket limits failed",
		    size);
	nrows = workers;
	if (sodium_init() < 0)
		log_fatal("sodium_init failed");
	/* A random key: nobody can pick ids that collide on purpose. */
	randombytes_buf(&key, sizeof(key));
}

void
gw_limits_worker(int worker)
{
	size_t i;

	if (worker < 1 || worker > nrows)
		log_fatal("worker %d outside the %d limit rows", worker, nrows);
	me = worker - 1;
	for (i = 0; i < NBUCKETS; i++) {
		atomic_store(&rows[me].session[i], 0);
		atomic_store(&rows[me].user[i], 0);
	}
}

static uint32_t
bucket(int64_t id, uint64_t salt)
{
	uint64_t z = (uint64_t)id ^ key ^ salt;

	/* splitmix64's finalizer */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (uint32_t)(z & (NBUCKETS - 1));
}

static long
sum(_Atomic uint16_t *(*col)(int, uint32_t), uint32_t b)
{
	long n = 0;
	int  w;

	for (w = 0; w < nrows; w++)
		n += atomic_load_explicit(col(w, b), memory_order_relaxed);
	return n;
}

static _Atomic uint16_t *
session_col(int w, uint32_t b)
{
	return &rows[w].session[b];
}

static _Atomic uint16_t *
user_col(int w, uint32_t b)
{
	return &rows[w].user[b];
}

int
gw_limits_take(int64_t session_id, int64_t user_id)
{
	uint32_t bs = bucket(session_id, 0x5e55), bu = bucket(user_id, 0x05e7);

	if (sum(session_col, bs) >= gw_config.max_per_session ||
	    sum(user_col, bu) >= gw_config.max_per_user ||
	    atomic_load(&rows[me].session[bs]) == UINT16_MAX ||
	    atomic_load(&rows[me].user[bu]) == UINT16_MAX)
		return -1;
	atomic_fetch_add(&rows[me].session[bs], 1);
	atomic_fetch_add(&rows[me].user[bu], 1);
	return 0;
}

void
gw_limits_give(int64_t session_id, int64_t user_id)
{
	atomic_fetch_sub(&rows[me].session[bucket(session_id, 0x5e55)], 1);
	atomic_fetch_sub(&rows[me].user[bucket(user_id, 0x05e7)], 1);
}
