/* lg_fanout.c: mode "fanout" of the load generator (a test tool, not
 * product code): --file members (the first is the group owner and the
 * sender), each in a long poll; --rounds of one group message "g<r>" to
 * group --group, each followed by one direct message "s<r>" owner ->
 * second member as the reference (round 0 warms up, not counted). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "lg_common.h"

#define FO_MAXROUNDS 100

static int	fo_round = -1, fo_got[FO_MAXROUNDS], fo_single_got;
static int64_t	fo_t_group, fo_t_last, fo_t_single, fo_single_lat;
static int64_t *fo_member_lat;
static size_t	fo_nmember;
static long	send_errors;
static char    *fo_seen; /* per poller: has this round's message */

static void
fo_marker(int kind, long k, void *arg)
{
	struct conn *c = arg;
	int64_t	     t = now_us();

	if (k != fo_round)
		return;
	if (kind == 'g' && !fo_seen[c->idx]) {
		fo_seen[c->idx] = 1;
		fo_got[k]++;
		fo_t_last = t;
		fo_member_lat[fo_nmember++] = t - fo_t_group;
	} else if (kind == 's' && c->idx == 1 && !fo_single_got) {
		fo_single_got = 1;
		fo_single_lat = t - fo_t_single;
	}
}

static void
fo_send_done(struct conn *c, int status, char *body, size_t len)
{
	(void)c;
	(void)len;
	if (status != 201 && ++send_errors <= 5)
		fprintf(stderr, "loadgen: fanout send: status %d: %.200s\n",
		    status, body ? body : "");
}

static void
fo_wait(int64_t until, int (*cond)(void))
{
	while (now_us() < until && (cond == NULL || !cond())) {
		pollers_retry();
		loop_once(1);
	}
}

static int
fo_all_armed(void)
{
	int i;

	for (i = 0; i < npollers; i++)
		if (!pollers[i].armed)
			return 0;
	return 1;
}

static int
fo_group_done(void)
{
	return fo_got[fo_round] == npollers;
}

static int
fo_single_done(void)
{
	return fo_single_got;
}

int
mode_fanout(void)
{
	int	     rounds = (int)optn("rounds", 10), r, n;
	long long    group = (long long)optn("group", 0);
	double	     gap = optn("gap", 0.5);
	struct conn *sc = conns_new(1, fo_send_done);
	int64_t	     fan[FO_MAXROUNDS], single[FO_MAXROUNDS];
	int	     nfan = 0, nsingle = 0, incomplete = 0;
	char	     text[32];

	if (rounds + 1 > FO_MAXROUNDS)
		rounds = FO_MAXROUNDS - 1;
	n = (int)optn("n", 500);
	/* Diagnostic: members poll again only after this many ms. */
	repoll_delay = (int64_t)(optn("repoll_ms", 0) * 1000);
	pollers_load(opt("file", "members.txt"), n);
	fo_seen = xcalloc((size_t)n, 1);
	fo_member_lat = xcalloc((size_t)(n * (rounds + 1)), sizeof(int64_t));
	on_marker = fo_marker;
	pollers_start(optn("openrate", 2000), 1000000, NULL);
	/* Round 0 warms the path up and is not counted. */
	for (r = 0; r <= rounds; r++) {
		fo_wait(now_us() + 5000000, fo_all_armed);
		fo_wait(now_us() + 200000, NULL);
		memset(fo_seen, 0, (size_t)n);
		fo_round = r;
		fo_single_got = 0;
		fo_t_last = 0;
		if (r == 1)
			fo_nmember = 0;
		snprintf(text, sizeof(text), "g%d", r);
		req_message(&sc[0], pollers[0].token, "group_id", group, text);
		conn_send(&sc[0]);
		fo_t_group = sc[0].t_issue;
		fo_wait(fo_t_group + 10000000, fo_group_done);
		if (fo_got[r] < n) {
			incomplete++;
			fprintf(stderr,
			    "loadgen: round %d: %d of %d members "
			    "got it\n",
			    r, fo_got[r], n);
		} else if (r > 0)
			fan[nfan++] = fo_t_last - fo_t_group;
		/* Let the delivery receipts settle, then the reference. */
		fo_wait(now_us() + (int64_t)(gap * 1e6), NULL);
		fo_wait(now_us() + 5000000, fo_all_armed);
		fo_wait(now_us() + 200000, NULL);
		snprintf(text, sizeof(text), "s%d", r);
		req_message(&sc[0], pollers[0].token, "to", pollers[1].user,
		    text);
		conn_send(&sc[0]);
		fo_t_single = sc[0].t_issue;
		fo_wait(fo_t_single + 5000000, fo_single_done);
		if (fo_single_got && r > 0)
			single[nsingle++] = fo_single_lat;
		fo_wait(now_us() + (int64_t)(gap * 1e6), NULL);
	}
	printf("members=%d\nrounds=%d\nincomplete_rounds=%d\nsend_errors=%ld\n"
	       "poll_errors=%ld\n",
	    n, rounds, incomplete, send_errors, poll_errors);
	print_dist("fanout_all", fan, (size_t)nfan);
	print_dist("fanout_member", fo_member_lat, fo_nmember);
	print_dist("single", single, (size_t)nsingle);
	return 0;
}
