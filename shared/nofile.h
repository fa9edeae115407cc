/* nofile: the open-file limit. Every parked long poll holds a descriptor
 * in the poll service, so a soft limit of 1,024 (a login shell's default)
 * caps a whole service; each process raises its own at start. */
#ifndef PARLEY_NOFILE_H
#define PARLEY_NOFILE_H

/* Sets the soft RLIMIT_NOFILE to `want`, or to the hard limit when `want`
 * is 0 or above it; lowering works too. Returns 0, or -1 with errno set;
 * either way *soft is the soft limit in force afterwards and *hard the
 * hard limit (both -1 when even reading them failed). */
int nofile_set(long want, long *soft, long *hard);

/* nofile_set(want) at start, logging the result once ("open files: N"). */
void nofile_apply(long want);

#endif
