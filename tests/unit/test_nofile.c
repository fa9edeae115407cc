/* test_nofile: the open-file soft limit every service sets at start
 * (PARLEY_MAX_FILES): lowered when asked, raised to the hard limit by
 * default, never above it. The process's own limit is restored after. */
#include <sys/resource.h>

#include "nofile.h"
#include "unit.h"

static const char *t_set(void);

static const char *
t_set(void)
{
	struct rlimit orig, now;
	long	      got, hard, low, got0, got_above, soft_low;
	int	      rc, rc0, rc_above;

	if (getrlimit(RLIMIT_NOFILE, &orig) == -1)
		return "getrlimit failed";
	rc = nofile_set(256, &got, &hard);
	low = hard < 256 ? hard : 256;
	(void)getrlimit(RLIMIT_NOFILE, &now);
	soft_low = (long)now.rlim_cur;
	rc0 = nofile_set(0, &got0, &hard);
	rc_above = nofile_set(hard + 1000, &got_above, &hard);
	(void)getrlimit(RLIMIT_NOFILE, &now);
	(void)setrlimit(RLIMIT_NOFILE, &orig);
	CHECK(rc == 0 && rc0 == 0 && rc_above == 0);
	CHECK_EQ(got, low);
	CHECK_EQ(soft_low, low);
	CHECK_EQ(got0, hard);
	CHECK_EQ(got_above, hard);
	CHECK_EQ((long)now.rlim_cur, hard);
	CHECK_EQ((long)now.rlim_max, (long)orig.rlim_max);
	return NULL;
}

void
test_nofile(void)
{
	unit_run("nofile: soft limit lowered on request, else the hard limit",
	    t_set);
}
