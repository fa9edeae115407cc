/* nofile: the open-file limit. Every parked long poll holds a descriptor
 * in the poll service, so a soft limit of 1,024 (a login shell's default)
 * caps a whole service; each process raises its own at start. */
#ifndef PARLEY_NOFILE_H
#define PARLEY_NOFILE_H

/* Sets the soft RLIMIT_NOFILE to `want`, or to the hard limit when `want`
 * is 0 or above it; lowering works too. Returns the soft limit in force
 * afterwards (also on failure, with errno set and *failed = 1), and the
 * hard limit in *hard. */
long	nofile_set(long want, long *hard, int *failed);

/* nofile_set(want) at start, logging the result once ("open files: N"). */
void	nofile_apply(long want);

#endif
