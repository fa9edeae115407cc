/* lg_dist.c: latency distributions (a test tool, not product code): the
 * percentiles bench/run.sh reads, and with --samples the distribution
 * itself for the plots of bench/report.js. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_common.h"

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile (0..100) of n sorted values, in ms. */
static double
pct(const int64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return -1;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

/* PREFIX_<name>.txt: "# n=<count> unit=us", then the sorted values, all
 * of them or LG_SAMPLES_MAX evenly spaced in rank (the first and the
 * last included): the plot's CDF is the same, the file stays small. */
static void
write_samples(const char *prefix, const char *name, const int64_t *v, size_t n)
{
	char   path[1024];
	FILE  *f;
	size_t i, k, m = n > LG_SAMPLES_MAX ? LG_SAMPLES_MAX : n;

	snprintf(path, sizeof(path), "%s_%s.txt", prefix, name);
	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "# n=%zu unit=us\n", n);
	for (i = 0; i < m; i++) {
		k = m == 1 ?
		    0 :
		    (size_t)((double)i * (double)(n - 1) / (double)(m - 1) +
			0.5);
		fprintf(f, "%lld\n", (long long)v[k]);
	}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

void
print_dist(const char *name, int64_t *v, size_t n)
{
	const char *prefix = opt("samples", NULL);

	qsort(v, n, sizeof(*v), cmp_i64);
	printf("%s_n=%zu\n", name, n);
	printf("%s_p50_ms=%.3f\n", name, pct(v, n, 50));
	printf("%s_p90_ms=%.3f\n", name, pct(v, n, 90));
	printf("%s_p99_ms=%.3f\n", name, pct(v, n, 99));
	printf("%s_max_ms=%.3f\n", name, n ? (double)v[n - 1] / 1000 : -1.0);
	if (prefix != NULL && prefix[0] != '\0')
		write_samples(prefix, name, v, n);
}

void
samples_add(struct samples *s, int64_t x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 65536;
		if ((s->v = realloc(s->v, s->cap * sizeof(*s->v))) == NULL)
			die("out of memory");
	}
	s->v[s->n++] = x;
}
