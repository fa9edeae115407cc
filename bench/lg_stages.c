/* lg_stages.c: the stages of the hold modes (a test tool, not product
 * code), "hold" (long polls) and "wshold" (WebSockets) alike: bench/run.sh
 * measures memory between stages, so each is announced by a file and
 * ended by one. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lg_common.h"

/* --stages: the counts below `total`, ascending as given; `total` last. */
void
stages_init(struct stages *s, int total, double rate, double maxhold)
{
	char buf[256], *p, *sv;

	memset(s, 0, sizeof(*s));
	snprintf(buf, sizeof(buf), "%s", opt("stages", ""));
	for (p = strtok_r(buf, ",", &sv); p != NULL && s->count < 15;
	     p = strtok_r(NULL, ",", &sv))
		if (atoi(p) > 0 && atoi(p) < total)
			s->n[s->count++] = atoi(p);
	s->n[s->count++] = total;
	s->ready = opt("ready", "ready");
	s->done = opt("done", "done");
	s->rate = optn("openrate", rate);
	s->maxhold = optn("maxhold", maxhold);
}

int
stages_due(const struct stages *s, int i, int64_t ts, int64_t t)
{
	int    from = i ? s->n[i - 1] : 0;
	double due = (double)(t - ts) * s->rate / 1e6;

	if (due >= (double)(s->n[i] - from))
		return s->n[i];
	return from + (int)due + 1;
}

void
stages_ready(const struct stages *s, int i)
{
	char  path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%d", s->ready, i);
	if ((f = fopen(path, "w")) != NULL)
		fclose(f);
}

int
stages_over(const struct stages *s, int i, int64_t t_ready, int64_t t)
{
	char	    path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s.%d", s->done, i);
	return stat(path, &sb) == 0 ||
	    t - t_ready > (int64_t)(s->maxhold * 1e6);
}

char **
stages_tokens(const char *path, int n)
{
	char **tokens, tok[64];
	int    i;

	if (read_lines(path, &tokens) < n)
		die("%s: not enough tokens for %d connections", path, n);
	for (i = 0; i < n; i++)
		if ((tokens[i] = strdup(
			 field(tokens[i], 0, tok, sizeof(tok)))) == NULL)
			die("out of memory");
	return tokens;
}
