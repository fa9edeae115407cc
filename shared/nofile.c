/* nofile: see nofile.h. No privilege is needed: any process may move its
 * soft limit anywhere up to the hard limit. */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "nofile.h"

/* Linux refuses RLIM_INFINITY for descriptors; this is fs.nr_open's
 * default, the most a hard limit of "unlimited" can give. */
#define NOFILE_CEILING 1048576L

int
nofile_set(long want, long *soft, long *hard)
{
	struct rlimit rl;
	rlim_t	      target;
	int	      rc = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		*soft = *hard = -1;
		return -1;
	}
	*hard =
	    rl.rlim_max == RLIM_INFINITY ? NOFILE_CEILING : (long)rl.rlim_max;
	target = (rlim_t)*hard;
	if (want > 0 && (rlim_t)want < target)
		target = (rlim_t)want;
	if (rl.rlim_cur != target) {
		rl.rlim_cur = target;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			int saved = errno;

			rc = -1;
			(void)getrlimit(RLIMIT_NOFILE, &rl);
			errno = saved;
		}
	}
	*soft =
	    rl.rlim_cur == RLIM_INFINITY ? NOFILE_CEILING : (long)rl.rlim_cur;
	return rc;
}

void
nofile_apply(long want)
{
	long got, hard;

	if (nofile_set(want, &got, &hard) == -1)
		log_warn("open files: cannot set the limit to %ld: %s; it "
			 "stays "
			 "at %ld",
		    want > 0 && want < hard ? want : hard, strerror(errno),
		    got);
	else if (want > hard)
		log_info("open files: %ld (PARLEY_MAX_FILES=%ld is above the "
			 "hard limit)",
		    got, want);
	else
		log_info("open files: %ld", got);
}
