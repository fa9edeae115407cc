/* lg_poll.c: the load generator's long pollers (a test tool, not product
 * code): Parley's GET /api/v1/events (the head first, then since=<next>,
 * timeout 25) or Nchan's GET /sub/ch<i>, one keep-alive connection each,
 * polling again as soon as an answer is read (or after repoll_delay). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "lg_common.h"

struct poller *pollers;
struct conn   *pconns;
int	       npollers, nchan;
long	       poll_errors;
void (*on_marker)(int, long, void *);
void (*on_body)(struct conn *, const char *, size_t);
int64_t repoll_delay;

static void
poller_issue(struct conn *c)
{
	struct poller *p = &pollers[c->idx];
	char	       path[128];

	if (nchan) {
		snprintf(path, sizeof(path), "/sub/ch%d", c->idx);
		req_get(c, path, NULL);
		p->armed = 1;
	} else if (p->since < 0) {
		req_get(c, "/api/v1/events", p->token);
		p->armed = 0;
	} else {
		snprintf(path, sizeof(path),
		    "/api/v1/events?since=%lld"
		    "&timeout=25",
		    p->since);
		req_get(c, path, p->token);
		p->armed = 1;
	}
	p->armed_at = now_us();
	p->polls++;
	conn_send(c);
}

static void
poller_done(struct conn *c, int status, char *body, size_t len)
{
	struct poller *p = &pollers[c->idx];
	long long      next;

	p->armed = 0;
	if (status == 200) {
		if (on_body != NULL)
			on_body(c, body, len);
		markers(body, len, on_marker, c);
		if (!nchan) {
			if ((next = next_cursor(body)) < 0)
				goto bad;
			p->since = next;
		}
		if (repoll_delay > 0)
			c->retry_at = now_us() + repoll_delay;
		else
			poller_issue(c);
		return;
	}
	if (nchan && (status == 304 || status == 408)) {
		poller_issue(c);
		return;
	}
bad:
	p->errors++;
	poll_errors++;
	if (poll_errors <= 5)
		fprintf(stderr, "loadgen: poll %d: status %d: %.200s\n", c->idx,
		    status, body ? body : "");
	if (!nchan)
		p->since = -1;
	c->retry_at = now_us() + 100000;
}

void
pollers_load(const char *path, int n)
{
	char **lines;
	int    i, nl;

	pollers = xcalloc((size_t)n, sizeof(*pollers));
	if (nchan)
		nl = n;
	else if ((nl = read_lines(path, &lines)) < n)
		die("%s: %d lines, need %d", path, nl, n);
	for (i = 0; i < n; i++) {
		pollers[i].since = -1;
		if (nchan)
			continue;
		field(lines[i], 0, pollers[i].token, sizeof(pollers[i].token));
		pollers[i].user =
		    atoll(field(lines[i], 1, (char[24]){ 0 }, 24));
		field(lines[i], 2, pollers[i].sender,
		    sizeof(pollers[i].sender));
	}
	npollers = n;
	pconns = conns_new(n, poller_done);
}

void
pollers_retry(void)
{
	int64_t t = now_us();
	int	i;

	for (i = 0; i < npollers; i++)
		if (pconns[i].retry_at > 0 && pconns[i].retry_at <= t) {
			pconns[i].retry_at = 0;
			poller_issue(&pconns[i]);
		}
}

/* The opening rate keeps the servers' accept queues short. */
void
pollers_start(double rate, int64_t settle_us, void (*tick)(void))
{
	int64_t t0 = now_us(), last = 0, t;
	int	started = 0, armed, i;

	for (;;) {
		t = now_us();
		while (started < npollers &&
		    (double)(t - t0) * rate / 1e6 >= started)
			poller_issue(&pconns[started++]);
		pollers_retry();
		for (armed = 0, i = 0; i < npollers; i++)
			armed += pollers[i].armed;
		if (armed < npollers)
			last = t;
		else if (t - last >= settle_us)
			return;
		if (t - t0 > 60000000)
			die("pollers not armed after 60 s (%d of %d)", armed,
			    npollers);
		if (tick != NULL)
			tick();
		loop_once(1);
	}
}
