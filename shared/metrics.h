/* metrics: a process's counters, gauges and request histograms in the
 * Prometheus text format (version 0.0.4), for a scraper on the same host
 * (nginx's metrics listener, README "Metrics"). Every service gets the
 * request series from server.c; modules add their own metrics. */
#ifndef PARLEY_METRICS_H
#define PARLEY_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "router.h"

struct db;

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
};

/* One series: defined statically where it is counted, linked into the
 * process's list on first use (or by metric_register for a gauge that is
 * read, not set). `labels` is the inside of {...} or NULL; series of one
 * name must share its help and type. */
struct metric {
	const char	*name;
	const char	*labels;
	const char	*help;
	enum metric_type type;
	atomic_llong	 value;
	long long (*read)(void); /* a gauge read at scrape time */
	atomic_int     linked;
	struct metric *next;
};
#define METRIC_COUNTER(n, l, h)                                                \
	{                                                                      \
		(n), (l), (h), METRIC_COUNTER, 0, NULL, 0, NULL                \
	}
#define METRIC_GAUGE(n, l, h)                                                  \
	{                                                                      \
		(n), (l), (h), METRIC_GAUGE, 0, NULL, 0, NULL                  \
	}
#define METRIC_READ(n, l, h, f)                                                \
	{                                                                      \
		(n), (l), (h), METRIC_GAUGE, 0, (f), 0, NULL                   \
	}

void metric_add(struct metric *, long long);
void metric_set(struct metric *, long long);
void metric_register(struct metric *);

/* The request series: by route (method and pattern of the service's
 * table; NULL: "unmatched", any other path) and status, and a latency
 * histogram by route. server_run() calls metrics_init(). */
void metrics_init(const char *service, const struct route *, size_t);
void metrics_request(const struct route *, int status, double ms);

/* Extra lines a service computes at scrape time with its own database
 * connection (the admin service: queue depths); appended to `buf` with
 * metrics_printf. */
struct metrics_buf;
void metrics_set_collector(void (*)(struct db *, struct metrics_buf *));
void metrics_printf(struct metrics_buf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The whole exposition, NUL-terminated; caller frees. */
char *metrics_render(struct db *, size_t *len);

#endif
