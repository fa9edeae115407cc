/* lg_hold.c: mode "hold" of the load generator (a test tool, not product
 * code): --n long polls held open (Parley: since=0, timeout 55, one user
 * of --file each; --kind nchan: one channel each), in stages (lg_stages.c)
 * held once the processes of --fdpids hold that many more descriptors. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "lg_common.h"

static long h_early, h_errors, h_ok;

static void
hold_done(struct conn *c, int status, char *body, size_t len)
{
	(void)len;
	/* A held poll must not end while held: count it, poll again. */
	if (status == 200)
		h_early++;
	else if (++h_errors <= 5)
		fprintf(stderr, "loadgen: hold %d: status %d: %.200s\n", c->idx,
		    status, body ? body : "");
	c->retry_at = now_us() + 200000;
}

static void
hold_issue(struct conn *c, char **tokens)
{
	char path[64];

	if (nchan) {
		snprintf(path, sizeof(path), "/sub/h%d", c->idx);
		req_get(c, path, NULL);
	} else
		req_get(c, "/api/v1/events?since=0&timeout=55", tokens[c->idx]);
	conn_send(c);
}

/* A stage not held within --stagewait s (60) is fatal, unless --ladder 1:
 * then the number held is printed as max_held and the run ends there. */
int
mode_hold(void)
{
	int	      n = (int)optn("n", 10000), i, started = 0, stage = 0;
	const char   *pids = opt("fdpids", "");
	double	      stagewait = optn("stagewait", 60);
	int	      ladder = optn("ladder", 0) > 0;
	char	    **tokens = NULL;
	struct conn  *c = conns_new(n, hold_done);
	long	      base = count_fds(pids), held = 0;
	int64_t	      t, ts = 0, t_ready = 0, next_fd = 0;
	struct stages sg;

	stages_init(&sg, n, 2000, 40);
	nchan = strcmp(opt("kind", "parley"), "nchan") == 0;
	if (!nchan)
		tokens = stages_tokens(opt("file", "hold.txt"), n);
	for (;;) {
		t = now_us();
		if (t_ready == 0) {
			if (ts == 0)
				ts = t;
			while (started < stages_due(&sg, stage, ts, t))
				hold_issue(&c[started++], tokens);
		}
		for (i = 0; i < started; i++)
			if (c[i].retry_at > 0 && c[i].retry_at <= t) {
				c[i].retry_at = 0;
				hold_issue(&c[i], tokens);
			}
		if (t_ready == 0 && started == sg.n[stage] && t >= next_fd) {
			held = count_fds(pids) - base;
			next_fd = t + 200000;
			if (held >= sg.n[stage]) {
				t_ready = t;
				printf("stage%d_waiters=%d\nstage%d_held_fds=%"
				       "ld\n"
				       "stage%d_ready_s=%.3f\n",
				    stage, sg.n[stage], stage, held, stage,
				    (double)(t - ts) / 1e6);
				stages_ready(&sg, stage);
			} else if (t - ts > (int64_t)(stagewait * 1e6)) {
				printf("stage%d_held_fds=%ld\n", stage, held);
				if (!ladder)
					die("only %ld of %d polls held after "
					    "%.0f s",
					    held, sg.n[stage], stagewait);
				/* --ladder: the most held is the answer. */
				printf("max_held=%ld\n", held);
				break;
			}
		}
		if (t_ready != 0 && stages_over(&sg, stage, t_ready, t)) {
			if (++stage == sg.count)
				break;
			t_ready = 0;
			ts = 0;
		}
		loop_once(t_ready ? 20 : 1);
	}
	held = count_fds(pids) - base;
	for (i = 0; i < n; i++)
		h_ok += c[i].st == ST_READING;
	printf("kind=%s\nwaiters=%d\nstill_waiting=%ld\nheld_fds_end=%ld\n"
	       "early_answers=%ld\nerrors=%ld\n",
	    nchan ? "nchan" : "parley", n, h_ok, held, h_early, h_errors);
	for (i = 0; i < n; i++)
		conn_close(&c[i]);
	return 0;
}
