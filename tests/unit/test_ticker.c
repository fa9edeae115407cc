/* test_ticker: the timed-job thread of the poll janitor and the calls
 * sweeper: it runs the job every interval with increasing tick numbers,
 * and stopping it is prompt and waits for a job that is running. */
#include <stdatomic.h>
#include <time.h>

#include "ticker.h"
#include "unit.h"

static atomic_int runs, in_job, bad_tick;

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
count_job(struct db *db, unsigned long tick)
{
	(void)db;
	if (tick != (unsigned long)atomic_load(&runs))
		atomic_store(&bad_tick, 1);
	atomic_fetch_add(&runs, 1);
}

static void
slow_job(struct db *db, unsigned long tick)
{
	(void)db;
	(void)tick;
	atomic_store(&in_job, 1);
	sleep_ms(150);
	atomic_fetch_add(&runs, 1);
	atomic_store(&in_job, 0);
}

static const char *
t_ticks(void)
{
	struct ticker t = { .name = "t", .interval_ms = 20, .job = count_job };
	double	      t0;

	atomic_store(&runs, 0);
	atomic_store(&bad_tick, 0);
	ticker_start(&t);
	sleep_ms(210);
	t0 = now_ms();
	ticker_stop(&t);
	CHECK(now_ms() - t0 < 100);	/* does not wait out an interval */
	CHECK(atomic_load(&runs) >= 4); /* ~10 on an idle machine */
	CHECK(atomic_load(&runs) <= 11);
	CHECK_EQ(atomic_load(&bad_tick), 0);
	return NULL;
}

static const char *
t_stop_waits_for_job(void)
{
	struct ticker t = { .name = "t", .interval_ms = 10, .job = slow_job };
	int	      n;

	atomic_store(&runs, 0);
	ticker_start(&t);
	while (!atomic_load(&in_job))
		sleep_ms(1);
	ticker_stop(&t);
	CHECK_EQ(atomic_load(&in_job), 0);
	n = atomic_load(&runs);
	CHECK_EQ(n, 1);
	sleep_ms(50);
	CHECK_EQ(atomic_load(&runs), n); /* nothing runs after stop */
	return NULL;
}

void
test_ticker(void)
{
	unit_run("ticker/ticks", t_ticks);
	unit_run("ticker/stop_waits_for_job", t_stop_waits_for_job);
}
