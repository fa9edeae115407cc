/* gw_metrics: the gateway's figures for the metrics server (README
 * "Metrics"): GET /metrics on Kore's socket, which nginx's loopback
 * metrics server proxies as /metrics/gateway (the public server proxies
 * only /api/v1/stream). Kore's workers are processes and a scrape reaches
 * one of them, so each worker counts in its own row of a table mapped
 * shared before the fork, as gw_limits.c does, and a scrape sums the
 * rows. A replaced worker's row starts again from zero: counters of a
 * gateway whose worker died reset, which Prometheus's rate() allows. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "gateway.h"
#include "log.h"

static const int codes[] = { GW_CLOSE_GOING_AWAY, GW_CLOSE_TOO_BIG,
	GW_CLOSE_INTERNAL, GW_CLOSE_BAD_FRAME, GW_CLOSE_AUTH,
	GW_CLOSE_AUTH_TIMEOUT, GW_CLOSE_EXPIRED, GW_CLOSE_TOO_MANY,
	GW_CLOSE_UNAVAILABLE };
#define NCODES (sizeof(codes) / sizeof(codes[0]))

struct stats {
	atomic_llong open;
	atomic_llong opened;
	atomic_llong frames;
	atomic_llong hints;
	atomic_llong slow;
	atomic_llong closed[NCODES];
};

static struct stats *rows, *mine;
static int	     nrows;

void
gw_metrics_init(int workers)
{
	size_t size = sizeof(struct stats) * (size_t)workers;

	rows = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rows == MAP_FAILED)
		log_fatal("mmap of %zu bytes for the metrics failed", size);
	nrows = workers;
}

/* Kore numbers its workers from 1. */
void
gw_metrics_worker(int worker)
{
	if (worker < 1 || worker > nrows)
		log_fatal("worker %d outside the %d metrics rows", worker,
		    nrows);
	mine = &rows[worker - 1];
	memset(mine, 0, sizeof(*mine));
}

void
gw_metrics_count(enum gw_metric what, int code)
{
	size_t i;

	if (mine == NULL)
		return;
	switch (what) {
	case GW_M_OPENED:
		atomic_fetch_add(&mine->opened, 1);
		atomic_fetch_add(&mine->open, 1);
		break;
	case GW_M_GONE:
		atomic_fetch_sub(&mine->open, 1);
		break;
	case GW_M_FRAME:
		atomic_fetch_add(&mine->frames, 1);
		break;
	case GW_M_HINT:
		atomic_fetch_add(&mine->hints, 1);
		break;
	case GW_M_SLOW:
		atomic_fetch_add(&mine->slow, 1);
		break;
	case GW_M_CLOSED:
		for (i = 0; i < NCODES; i++)
			if (codes[i] == code)
				atomic_fetch_add(&mine->closed[i], 1);
		break;
	}
}

static long long
total(atomic_llong *(*col)(struct stats *))
{
	long long n = 0;
	int	  i;

	for (i = 0; i < nrows; i++)
		n += atomic_load(col(&rows[i]));
	return n;
}

static atomic_llong *
c_open(struct stats *s)
{
	return &s->open;
}
static atomic_llong *
c_opened(struct stats *s)
{
	return &s->opened;
}
static atomic_llong *
c_frames(struct stats *s)
{
	return &s->frames;
}
static atomic_llong *
c_hints(struct stats *s)
{
	return &s->hints;
}
static atomic_llong *
c_slow(struct stats *s)
{
	return &s->slow;
}

int
gw_metrics(struct http_request *req)
{
	struct kore_buf *b;
	long long	 n;
	size_t		 i;
	int		 w;

	if (req->method != HTTP_METHOD_GET) {
		http_response(req, 405, NULL, 0);
		return KORE_RESULT_OK;
	}
	b = kore_buf_alloc(4096);
	kore_buf_appendf(b,
	    "# HELP parley_service_info The Parley service this "
	    "process runs.\n# TYPE parley_service_info gauge\n"
	    "parley_service_info{service=\"gateway\"} 1\n");
	kore_buf_appendf(b,
	    "# HELP parley_gateway_sockets WebSockets open "
	    "(authenticated), all workers.\n# TYPE parley_gateway_sockets "
	    "gauge\n"
	    "parley_gateway_sockets %lld\n",
	    total(c_open));
	kore_buf_appendf(b,
	    "# HELP parley_gateway_sockets_opened_total "
	    "WebSockets authenticated.\n# TYPE "
	    "parley_gateway_sockets_opened_total "
	    "counter\nparley_gateway_sockets_opened_total %lld\n",
	    total(c_opened));
	kore_buf_appendf(b,
	    "# HELP parley_gateway_closed_total WebSockets the "
	    "gateway closed, by close code.\n"
	    "# TYPE parley_gateway_closed_total counter\n");
	for (i = 0; i < NCODES; i++) {
		for (n = 0, w = 0; w < nrows; w++)
			n += atomic_load(&rows[w].closed[i]);
		kore_buf_appendf(b,
		    "parley_gateway_closed_total{code=\"%d\"} "
		    "%lld\n",
		    codes[i], n);
	}
	kore_buf_appendf(b,
	    "# HELP parley_gateway_slow_dropped_total Sockets "
	    "dropped for too many unsent bytes (PARLEY_GATEWAY_MAX_UNSENT).\n"
	    "# TYPE parley_gateway_slow_dropped_total counter\n"
	    "parley_gateway_slow_dropped_total %lld\n",
	    total(c_slow));
	kore_buf_appendf(b,
	    "# HELP parley_gateway_frames_sent_total Text frames "
	    "sent (event batches, errors).\n"
	    "# TYPE parley_gateway_frames_sent_total counter\n"
	    "parley_gateway_frames_sent_total %lld\n",
	    total(c_frames));
	kore_buf_appendf(b,
	    "# HELP parley_gateway_hints_total Wake-up hints "
	    "received (NOTIFY payloads).\n# TYPE parley_gateway_hints_total "
	    "counter\nparley_gateway_hints_total %lld\n",
	    total(c_hints));
	http_response_header(req, "content-type",
	    "text/plain; version=0.0.4; charset=utf-8");
	http_response(req, 200, b->data, b->offset);
	kore_buf_free(b);
	return KORE_RESULT_OK;
}
