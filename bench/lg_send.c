/* lg_send.c: mode "send" of the load generator (a test tool, not product
 * code): closed-loop POST /api/v1/messages on --conns keep-alive
 * connections for --warm + --secs seconds, each connection sending for one
 * pair of --file ("token recipient_id" lines); sends_per_s counts the 201s
 * after the warm-up. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "lg_common.h"

struct pair {
	char	  token[64];
	long long to;
};

static struct pair   *pairs;
static int	      npairs;
static int64_t	      s_start, s_end;
static long	      s_ok, s_err, s_seq;
static struct samples s_lat;

static void
send_issue(struct conn *c)
{
	struct pair *p = &pairs[c->idx % npairs];
	char	     text[32];

	snprintf(text, sizeof(text), "m%ld", ++s_seq);
	req_message(c, p->token, "to", p->to, text);
	conn_send(c);
}

static void
send_done(struct conn *c, int status, char *body, size_t len)
{
	int64_t t = now_us();

	(void)len;
	if (t >= s_start && t < s_end) {
		if (status == 201) {
			s_ok++;
			samples_add(&s_lat, t - c->t_issue);
		} else {
			if (++s_err <= 5)
				fprintf(stderr,
				    "loadgen: send: status %d: "
				    "%.200s\n",
				    status, body ? body : "");
		}
	}
	if (t < s_end) {
		if (status == -1)
			c->retry_at = t + 50000;
		else
			send_issue(c);
	}
}

static void
load_pairs(const char *path)
{
	char **lines, buf[24];
	int    i;

	npairs = read_lines(path, &lines);
	if (npairs == 0)
		die("%s: no pairs", path);
	pairs = xcalloc((size_t)npairs, sizeof(*pairs));
	for (i = 0; i < npairs; i++) {
		field(lines[i], 0, pairs[i].token, sizeof(pairs[i].token));
		pairs[i].to = atoll(field(lines[i], 1, buf, sizeof(buf)));
	}
}

int
mode_send(void)
{
	int	     n = (int)optn("conns", 32), i, busy;
	double	     secs = optn("secs", 10), warm = optn("warm", 2);
	struct conn *c = conns_new(n, send_done);
	int64_t	     t;

	load_pairs(opt("file", "pairs.txt"));
	s_start = now_us() + (int64_t)(warm * 1e6);
	s_end = s_start + (int64_t)(secs * 1e6);
	for (i = 0; i < n; i++)
		send_issue(&c[i]);
	for (;;) {
		t = now_us();
		for (busy = 0, i = 0; i < n; i++) {
			if (c[i].retry_at > 0 && c[i].retry_at <= t) {
				c[i].retry_at = 0;
				if (t < s_end)
					send_issue(&c[i]);
			}
			busy += c[i].st != ST_IDLE || c[i].retry_at > 0;
		}
		if (t >= s_end && (busy == 0 || t > s_end + 10000000))
			break;
		loop_once(10);
	}
	printf("conns=%d\nsecs=%.3f\nsends_ok=%ld\nsend_errors=%ld\n", n, secs,
	    s_ok, s_err);
	printf("sends_per_s=%.1f\n", (double)s_ok / secs);
	print_dist("send_req", s_lat.v, s_lat.n);
	return 0;
}
