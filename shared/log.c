/* log: stderr lines "2026-11-21T10:00:00.123Z accounts info: ...". One
 * fprintf per line (stdio locks the stream) keeps threads' lines whole. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static const char *service = "parley";

static void
vlog(const char *, const char *, va_list) __attribute__((format(printf, 2, 0)));

void
log_init(const char *name)
{
	service = name;
}

static void
vlog(const char *level, const char *fmt, va_list ap)
{
	char	       msg[2048], ts[32];
	struct timeval tv;
	struct tm      tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap); /* truncation is fine here */
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", ts, (long)tv.tv_usec / 1000,
	    service, level, msg);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap);
	va_end(ap);
}

bool
log_limit_ok(struct log_limit *l, unsigned long *suppressed)
{
	struct timespec ts;
	int64_t		now;
	int		ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	pthread_mutex_lock(&l->lock);
	ok = !l->logged || now - l->last_ms >= (int64_t)l->interval_s * 1000;
	if (ok) {
		*suppressed = l->quiet;
		l->quiet = 0;
		l->logged = 1;
		l->last_ms = now;
	} else
		l->quiet++;
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
