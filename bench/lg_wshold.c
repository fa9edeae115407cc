/* lg_wshold.c: mode "wshold" of the load generator (a test tool, not
 * product code): --n idle WebSockets held (lg_ws.c), in stages as mode
 * hold (lg_stages.c), answering pings meanwhile; Parley's subscribe with
 * {"since":null} and count once the first frame is read, Nchan's at the
 * upgrade. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lg_common.h"

static struct ws     *hw;
static char	    **hw_tokens;
static int	      hw_nchan, hw_nsrc;
static long	      hw_live, hw_closes, hw_early, hw_refused;
static struct samples hw_sub; /* connect() -> subscribed, us */

static void
hold_open(struct ws *w)
{
	/* Nchan subscribes at the upgrade; Parley once told where from. */
	if (hw_nchan) {
		w->live = 1;
		hw_live++;
		samples_add(&hw_sub, now_us() - w->t_open);
	} else
		ws_send_text(w, "{\"since\":null}", 14);
}

static void
hold_text(struct ws *w, char *text, size_t len)
{
	(void)len;
	if (!w->live && !hw_nchan && strncmp(text, "{\"events\":", 10) == 0) {
		w->live = 1;
		hw_live++;
		samples_add(&hw_sub, now_us() - w->t_open);
	} else if (hw_early++ < 5)
		fprintf(stderr, "loadgen: wshold %d: %.200s\n", w->idx, text);
}

static void
hold_close(struct ws *w, int code)
{
	if (w->live)
		hw_live--;
	else if (code < 0)
		hw_refused++; /* the upgrade itself was refused */
	w->live = 0;
	if (++hw_closes <= 5)
		fprintf(stderr, "loadgen: wshold %d: closed (%d)\n", w->idx,
		    code);
	w->retry_at = now_us() + 1000000;
}

static void
hold_issue(struct ws *w)
{
	char path[64];

	if (hw_nchan)
		snprintf(path, sizeof(path), "/ws/hw%d", w->idx);
	else
		snprintf(path, sizeof(path), "/api/v1/stream");
	ws_connect(w,
	    hw_nsrc > 0 ?
		htonl(INADDR_LOOPBACK + 1 + (in_addr_t)(w->idx % hw_nsrc)) :
		0,
	    path, hw_nchan ? NULL : hw_tokens[w->idx]);
}

/* Sockets come from --srcs source addresses 127.0.0.2...; a stage is held
 * once all its sockets are subscribed and the processes in --fdpids hold
 * that many more descriptors, within --stagewait s (90). */
int
mode_wshold(void)
{
	int	      n = (int)optn("n", 15000), i, started = 0, stage = 0;
	double	      stagewait = optn("stagewait", 90);
	const char   *pids = opt("fdpids", "");
	long	      base = count_fds(pids), held = 0, pings0 = 0;
	long	      closes0 = 0;
	int64_t	      t, ts = 0, t_ready = 0, next_fd = 0;
	struct stages sg;

	stages_init(&sg, n, 1000, 120);
	hw_nchan = strcmp(opt("kind", "parley"), "nchan") == 0;
	hw_nsrc = (int)optn("srcs", 4);
	if (!hw_nchan)
		hw_tokens = stages_tokens(opt("file", "hold.txt"), n);
	hw = ws_new(n);
	ws_on_open = hold_open;
	ws_on_text = hold_text;
	ws_on_close = hold_close;
	for (;;) {
		t = now_us();
		if (t_ready == 0) {
			if (ts == 0)
				ts = t;
			while (started < stages_due(&sg, stage, ts, t))
				hold_issue(&hw[started++]);
		}
		for (i = 0; i < started; i++)
			if (hw[i].retry_at > 0 && hw[i].retry_at <= t) {
				hw[i].retry_at = 0;
				hold_issue(&hw[i]);
			}
		if (t_ready == 0 && started == sg.n[stage] &&
		    hw_live >= sg.n[stage] && t >= next_fd) {
			held = count_fds(pids) - base;
			next_fd = t + 200000;
			if (held >= sg.n[stage]) {
				t_ready = t;
				pings0 = ws_pings;
				closes0 = hw_closes;
				printf("stage%d_sockets=%d\nstage%d_held_fds=%"
				       "ld\n"
				       "stage%d_ready_s=%.3f\n",
				    stage, sg.n[stage], stage, held, stage,
				    (double)(t - ts) / 1e6);
				stages_ready(&sg, stage);
			}
		}
		if (t_ready == 0 && t - ts > (int64_t)(stagewait * 1e6))
			die("only %ld of %d sockets subscribed (%ld "
			    "descriptors "
			    "held) after %.0f s",
			    hw_live, sg.n[stage], held, stagewait);
		if (t_ready != 0 && stages_over(&sg, stage, t_ready, t)) {
			printf("stage%d_held_s=%.1f\nstage%d_pings=%ld\n"
			       "stage%d_closes=%ld\n",
			    stage, (double)(t - t_ready) / 1e6, stage,
			    ws_pings - pings0, stage, hw_closes - closes0);
			if (++stage == sg.count)
				break;
			t_ready = 0;
			ts = 0;
		}
		loop_once(t_ready ? 20 : 1);
	}
	held = count_fds(pids) - base;
	printf("kind=%s\nsockets=%d\nstill_live=%ld\nheld_fds_end=%ld\n"
	       "closes=%ld\nrefused=%ld\nunexpected_texts=%ld\npings=%ld\n"
	       "pongs=%ld\n",
	    hw_nchan ? "nchan" : "parley", n, hw_live, held, hw_closes,
	    hw_refused, hw_early, ws_pings, ws_pongs);
	print_dist("subscribe", hw_sub.v, hw_sub.n);
	ws_on_close = NULL;
	for (i = 0; i < n; i++)
		ws_close(&hw[i]);
	return 0;
}
