/* lg_util.c: the load generator's options, errors, clock and input files
 * (a test tool, not product code). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lg_common.h"

#define OPTS_MAX 64

int		   epfd;
struct sockaddr_in addr;
char		   run_id[32];

static int   nopts;
static char *optk[OPTS_MAX], *optv[OPTS_MAX];

void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
opt_parse(int argc, char **argv)
{
	int i;

	for (i = 2; i + 1 < argc && nopts < OPTS_MAX; i += 2) {
		if (strncmp(argv[i], "--", 2) != 0)
			die("bad option %s", argv[i]);
		optk[nopts] = argv[i] + 2;
		optv[nopts++] = argv[i + 1];
	}
}

const char *
opt(const char *k, const char *def)
{
	int i;

	for (i = 0; i < nopts; i++)
		if (strcmp(optk[i], k) == 0)
			return optv[i];
	return def;
}

double
optn(const char *k, double def)
{
	const char *s = opt(k, NULL);

	return s != NULL ? atof(s) : def;
}

void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n == 0 ? 1 : n, sz);

	if (p == NULL)
		die("out of memory");
	return p;
}

/* Lines of whitespace-separated fields; returns the count. */
int
read_lines(const char *path, char ***lines)
{
	FILE *f = fopen(path, "r");
	char  buf[1024];
	int   n = 0, cap = 0;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	*lines = NULL;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] == '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((*lines = realloc(*lines, cap * sizeof(char *))) ==
			    NULL)
				die("out of memory");
		}
		if (((*lines)[n++] = strdup(buf)) == NULL)
			die("out of memory");
	}
	fclose(f);
	return n;
}

/* Field i (0-based) of a whitespace-separated line, copied into out. */
const char *
field(const char *line, int i, char *out, size_t len)
{
	const char *p = line;
	size_t	    n;

	for (;;) {
		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (i-- == 0)
			break;
		p += n;
	}
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

/* Descriptors open in the given processes ("pid,pid,..."). */
long
count_fds(const char *pids)
{
	char	       path[64], buf[512], *p, *save = NULL;
	DIR	      *d;
	struct dirent *e;
	long	       n = 0;

	snprintf(buf, sizeof(buf), "%s", pids);
	for (p = strtok_r(buf, ",", &save); p != NULL;
	     p = strtok_r(NULL, ",", &save)) {
		snprintf(path, sizeof(path), "/proc/%s/fd", p);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
	}
	return n;
}
