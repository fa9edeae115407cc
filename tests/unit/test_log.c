/* test_log: the rate limit for repeating failures (log_limit_ok): the
 * first occurrence is logged, the next ones within the interval are only
 * counted, and the next line says how many were left out. */
#include "log.h"
#include "unit.h"

static const char *t_limit(void);

static const char *
t_limit(void)
{
	static struct log_limit l = LOG_LIMIT(10);
	unsigned long		quiet = 99;
	int			i, logged = 0;

	CHECK(log_limit_ok(&l, &quiet));
	CHECK_EQ(quiet, 0);
	for (i = 0; i < 1000; i++)
		logged += log_limit_ok(&l, &quiet);
	CHECK_EQ(logged, 0);
	/* Ten seconds later (moved back rather than waited for). */
	l.last_ms -= 10 * 1000;
	CHECK(log_limit_ok(&l, &quiet));
	CHECK_EQ(quiet, 1000);
	CHECK(!log_limit_ok(&l, &quiet));
	return NULL;
}

void
test_log(void)
{
	unit_run("log: a repeating failure is logged once per interval, "
		 "with a count",
	    t_limit);
}
