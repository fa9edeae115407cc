/* metrics: counters and gauges linked into one list per process, request
 * series per route of the service's table, and the text exposition. A
 * scrape is rare (seconds apart) and a request common: counting is a few
 * atomic adds, and only a status a route has not answered before takes
 * the lock. */
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"

/* Upper bounds in seconds; a long poll is held up to 60 s. */
static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))
#define NSTATUS 24 /* distinct statuses per route */

struct series {
	char	      label[160];      /* "GET /api/v1/friends/{id}" */
	atomic_ullong le[NBOUNDS + 1]; /* per bucket, +Inf last */
	atomic_ullong count;
	atomic_ullong sum_us;
	int	      status[NSTATUS];
	atomic_ullong by_status[NSTATUS];
	atomic_int    nstatus;
};

struct metrics_buf {
	char  *s;
	size_t len, cap;
};

static pthread_mutex_t	   lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric	  *head;
static const char	  *service = "parley";
static const struct route *routes;
static size_t		   nroutes;
static struct series	  *series; /* nroutes + 1: "unmatched" last */
static time_t		   started;
static void (*collector)(struct db *, struct metrics_buf *);

static void link_metric(struct metric *);
static void count_status(struct series *, int);

static void
link_metric(struct metric *m)
{
	struct metric **p;

	pthread_mutex_lock(&lock);
	if (!atomic_load(&m->linked)) {
		/* Sorted by name, so one name's series are adjacent and
		 * share their HELP and TYPE lines. */
		for (p = &head; *p != NULL && strcmp((*p)->name, m->name) <= 0;
		     p = &(*p)->next)
			;
		m->next = *p;
		*p = m;
		atomic_store(&m->linked, 1);
	}
	pthread_mutex_unlock(&lock);
}

void
metric_register(struct metric *m)
{
	if (!atomic_load(&m->linked))
		link_metric(m);
}

void
metric_add(struct metric *m, long long n)
{
	atomic_fetch_add(&m->value, n);
	metric_register(m);
}

void
metric_set(struct metric *m, long long v)
{
	atomic_store(&m->value, v);
	metric_register(m);
}

void
metrics_init(const char *svc, const struct route *r, size_t n)
{
	size_t i;

	service = svc;
	routes = r;
	nroutes = n;
	started = time(NULL);
	if ((series = calloc(n + 1, sizeof(*series))) == NULL)
		log_fatal("calloc: out of memory");
	for (i = 0; i < n; i++)
		snprintf(series[i].label, sizeof(series[i].label), "%s %s",
		    r[i].method, r[i].pattern);
	snprintf(series[n].label, sizeof(series[n].label), "unmatched");
}

static void
count_status(struct series *s, int status)
{
	int i, n;

	n = atomic_load_explicit(&s->nstatus, memory_order_acquire);
	for (i = 0; i < n; i++)
		if (s->status[i] == status) {
			atomic_fetch_add(&s->by_status[i], 1);
			return;
		}
	pthread_mutex_lock(&lock);
	n = atomic_load(&s->nstatus);
	for (i = 0; i < n && s->status[i] != status; i++)
		;
	if (i == n && n < NSTATUS) {
		s->status[n] = status;
		atomic_store_explicit(&s->nstatus, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&lock);
	/* Past NSTATUS distinct statuses a route's extra ones go uncounted
	 * by status (its histogram still counts them). */
	if (i < NSTATUS)
		atomic_fetch_add(&s->by_status[i], 1);
}

void
metrics_request(const struct route *rt, int status, double ms)
{
	struct series *s;
	size_t	       b;

	if (series == NULL)
		return;
	s = rt != NULL ? &series[rt - routes] : &series[nroutes];
	for (b = 0; b < NBOUNDS && ms / 1e3 > bounds[b]; b++)
		;
	atomic_fetch_add(&s->le[b], 1);
	atomic_fetch_add(&s->count, 1);
	atomic_fetch_add(&s->sum_us, (unsigned long long)(ms * 1e3));
	count_status(s, status);
}

void
metrics_set_collector(void (*fn)(struct db *, struct metrics_buf *))
{
	collector = fn;
}

void
metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n;
		if ((b->s = realloc(b->s, b->cap)) == NULL)
			log_fatal("realloc: out of memory");
	}
}

static long
open_fds(void)
{
	DIR	      *d;
	struct dirent *e;
	long	       n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static void
render_process(struct metrics_buf *b)
{
	struct rlimit rl;
	struct tms    t;
	long	      size, pages = 0, tck = sysconf(_SC_CLK_TCK);
	FILE	     *f;

	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%ld %ld", &size, &pages) != 2)
			pages = 0;
		fclose(f);
	}
	times(&t);
	metrics_printf(b,
	    "# HELP parley_service_info The Parley service this "
	    "process runs.\n# TYPE parley_service_info gauge\n"
	    "parley_service_info{service=\"%s\"} 1\n",
	    service);
	metrics_printf(b,
	    "# HELP process_cpu_seconds_total User and system CPU "
	    "time.\n# TYPE process_cpu_seconds_total counter\n"
	    "process_cpu_seconds_total %.2f\n",
	    (double)(t.tms_utime + t.tms_stime) / (double)tck);
	metrics_printf(b,
	    "# HELP process_resident_memory_bytes Resident memory."
	    "\n# TYPE process_resident_memory_bytes gauge\n"
	    "process_resident_memory_bytes %ld\n",
	    pages * sysconf(_SC_PAGESIZE));
	metrics_printf(b,
	    "# HELP process_open_fds Open file descriptors.\n"
	    "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n",
	    open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		metrics_printf(b,
		    "# HELP process_max_fds The open-file limit.\n"
		    "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	metrics_printf(b,
	    "# HELP process_start_time_seconds Start time, Unix "
	    "seconds.\n# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %lld\n",
	    (long long)started);
}

static void
render_requests(struct metrics_buf *b)
{
	struct series	  *s;
	size_t		   i, k;
	unsigned long long cum;
	int		   j, n;

	if (series == NULL)
		return;
	metrics_printf(b,
	    "# HELP parley_http_requests_total Requests answered, "
	    "by route and status.\n# TYPE parley_http_requests_total "
	    "counter\n");
	for (i = 0; i <= nroutes; i++) {
		s = &series[i];
		n = atomic_load_explicit(&s->nstatus, memory_order_acquire);
		for (j = 0; j < n; j++)
			metrics_printf(b,
			    "parley_http_requests_total{route=\"%s\","
			    "status=\"%d\"} %llu\n",
			    s->label, s->status[j],
			    (unsigned long long)atomic_load(&s->by_status[j]));
	}
	metrics_printf(b,
	    "# HELP parley_http_request_duration_seconds From the "
	    "request's arrival to its last byte handed to nginx.\n"
	    "# TYPE parley_http_request_duration_seconds histogram\n");
	for (i = 0; i <= nroutes; i++) {
		s = &series[i];
		if (atomic_load(&s->count) == 0)
			continue;
		cum = 0;
		for (k = 0; k < NBOUNDS; k++) {
			cum += atomic_load(&s->le[k]);
			metrics_printf(b,
			    "parley_http_request_duration_seconds_"
			    "bucket{route=\"%s\",le=\"%g\"} %llu\n",
			    s->label, bounds[k], cum);
		}
		cum += atomic_load(&s->le[NBOUNDS]);
		/* Count is the buckets' sum read here, so a request counted
		 * between the reads cannot make +Inf differ from it. */
		metrics_printf(b,
		    "parley_http_request_duration_seconds_bucket{"
		    "route=\"%s\",le=\"+Inf\"} %llu\n"
		    "parley_http_request_duration_seconds_sum{route=\"%s\"} "
		    "%.6f\nparley_http_request_duration_seconds_count{"
		    "route=\"%s\"} %llu\n",
		    s->label, cum, s->label,
		    (double)atomic_load(&s->sum_us) / 1e6, s->label, cum);
	}
}

static void
render_list(struct metrics_buf *b)
{
	struct metric *m;
	const char    *prev = "";
	long long      v;

	pthread_mutex_lock(&lock);
	for (m = head; m != NULL; m = m->next) {
		if (strcmp(m->name, prev) != 0)
			metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n",
			    m->name, m->help, m->name,
			    m->type == METRIC_COUNTER ? "counter" : "gauge");
		prev = m->name;
		v = m->read != NULL ? m->read() : atomic_load(&m->value);
		if (m->labels != NULL)
			metrics_printf(b, "%s{%s} %lld\n", m->name, m->labels,
			    v);
		else
			metrics_printf(b, "%s %lld\n", m->name, v);
	}
	pthread_mutex_unlock(&lock);
}

char *
metrics_render(struct db *db, size_t *len)
{
	struct metrics_buf b = { NULL, 0, 0 };

	b.cap = 16384;
	if ((b.s = malloc(b.cap)) == NULL)
		log_fatal("malloc: out of memory");
	b.s[0] = '\0';
	render_process(&b);
	render_requests(&b);
	render_list(&b);
	if (collector != NULL && db != NULL)
		collector(db, &b);
	*len = b.len;
	return b.s;
}
