/* log: stderr lines "2026-11-21T10:00:00.123Z accounts info: ...". One
 * fprintf per line (stdio locks the stream) keeps threads' lines whole. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static const char	*service = "parley";

static void	vlog(const char *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

void
log_init(const char *name)
{
	service = name;
}

static void
vlog(const char *level, const char *fmt, va_list ap)
{
	char		 msg[2048], ts[32];
	struct timeval	 tv;
	struct tm	 tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* truncation is fine here */
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", ts, (long)tv.tv_usec / 1000,
	    service, level, msg);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
