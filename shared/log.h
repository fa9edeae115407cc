/* log: one line per event on stderr, prefixed with time and service. */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Sets the service name printed on every line. */
void log_init(const char *service);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits(1): only for start-up errors and broken invariants. */
void
log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A repeating failure (accept() out of descriptors, epoll full) is
 * reported once per `interval_s`, not once per attempt. Define one per
 * call site: static struct log_limit l = LOG_LIMIT(10); */
struct log_limit {
	pthread_mutex_t lock;
	int		interval_s;
	int		logged;	 /* a line was written before */
	int64_t		last_ms; /* CLOCK_MONOTONIC of that line */
	unsigned long	quiet;	 /* occurrences since that line */
};
#define LOG_LIMIT(s)                                                           \
	{                                                                      \
		PTHREAD_MUTEX_INITIALIZER, (s), 0, 0, 0                        \
	}

/* Counts one occurrence. Returns true when the caller should log it now,
 * with *suppressed = the occurrences not logged since the previous line,
 * or false (stay quiet). Thread-safe. */
bool log_limit_ok(struct log_limit *, unsigned long *suppressed);

#endif
