/* lg_latency.c: mode "latency" of the load generator (a test tool, not
 * product code): --n recipients each waiting in a long poll (--kind parley
 * or nchan) or holding a WebSocket (ws: Parley's gateway, nchanws: Nchan's
 * websocket subscriber), messages "m<k>" at --rate per second round-robin
 * to them from --sendconns connections; per message: send issued -> the
 * recipient's response (the socket's frame) carrying it fully read. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_common.h"

struct msg {
	int64_t t_issue, t_ack, t_deliv;
	int	to;
};

static struct msg *msgs;
static long	   nmsgs, msgs_dups, msgs_stray;

/* Message k read by recipient `to`. */
static void
lat_mark(int kind, long k, int to)
{
	if (kind != 'm' || k < 0 || k >= nmsgs) {
		msgs_stray++;
		return;
	}
	if (msgs[k].to != to)
		msgs_stray++;
	else if (msgs[k].t_deliv != 0)
		msgs_dups++;
	else
		msgs[k].t_deliv = now_us();
}

static void
lat_marker(int kind, long k, void *arg)
{
	lat_mark(kind, k, ((struct conn *)arg)->idx);
}

static long	   send_errors;
static const char *nchan_pub = "ch"; /* Nchan channel prefix */

static void
lat_send_done(struct conn *c, int status, char *body, size_t len)
{
	(void)len;
	if (status == 201 || status == 202 || status == 200)
		msgs[c->a].t_ack = now_us();
	else if (++send_errors <= 5)
		fprintf(stderr, "loadgen: send %ld: status %d: %.200s\n",
		    (long)c->a, status, body ? body : "");
}

static void
lat_send(struct conn *c, long k)
{
	struct poller *p = &pollers[msgs[k].to];
	char	       text[32], path[64];

	snprintf(text, sizeof(text), "m%ld", k);
	c->a = k;
	if (nchan) {
		snprintf(path, sizeof(path), "/pub/%s%d", nchan_pub,
		    msgs[k].to);
		req_post(c, path, NULL, "text/plain", text);
	} else
		req_message(c, p->sender, "to", p->user, text);
	conn_send(c);
	msgs[k].t_issue = c->t_issue;
}

/* The same over WebSockets (--kind ws: Parley's gateway; nchanws:
 * Nchan's websocket subscriber): the same recipients, senders, messages
 * and clock, each recipient holding one socket instead of a poll. */
static struct ws *lws;
static long	  lws_closes;
static int	  lws_ack = 1; /* --ack 0: never acknowledge */

static void
lat_ws_marker(int kind, long k, void *arg)
{
	lat_mark(kind, k, ((struct ws *)arg)->idx);
}

static void
lat_ws_issue(struct ws *w)
{
	char path[64];

	if (nchan)
		snprintf(path, sizeof(path), "/ws/wch%d", w->idx);
	else
		snprintf(path, sizeof(path), "/api/v1/stream");
	ws_connect(w, 0, path, nchan ? NULL : pollers[w->idx].token);
}

static void
lat_ws_open(struct ws *w)
{
	if (nchan)
		w->live = 1; /* subscribed by the upgrade itself */
	else
		ws_send_text(w, "{\"since\":null}", 14);
}

static void
lat_ws_text(struct ws *w, char *text, size_t len)
{
	char	  ack[48];
	long long next;
	int	  n;

	markers(text, len, lat_ws_marker, w);
	if (nchan)
		return;
	if ((next = next_cursor(text)) < 0) {
		if (++poll_errors <= 5)
			fprintf(stderr, "loadgen: ws %d: %.200s\n", w->idx,
			    text);
		return;
	}
	w->live = 1;
	/* Acknowledged at once, as a client that has shown the events
	 * does; a long poller's next since= does the same. */
	if (next > w->next && lws_ack) {
		n = snprintf(ack, sizeof(ack), "{\"ack\":%lld}", next);
		ws_send_text(w, ack, (size_t)n);
	}
	w->next = next;
}

static void
lat_ws_close(struct ws *w, int code)
{
	w->live = 0;
	if (++lws_closes <= 5)
		fprintf(stderr, "loadgen: ws %d: closed (%d)\n", w->idx, code);
	w->retry_at = now_us() + 100000;
}

static void
lat_ws_retry(void)
{
	int64_t t = now_us();
	int	i;

	for (i = 0; i < npollers; i++)
		if (lws[i].retry_at > 0 && lws[i].retry_at <= t) {
			lws[i].retry_at = 0;
			lat_ws_issue(&lws[i]);
		}
}

/* As pollers_start(): every socket subscribed, the last `settle_us` ago. */
static void
lat_ws_start(double rate, int64_t settle_us)
{
	int64_t t0 = now_us(), last = 0, t;
	int	started = 0, live, i;

	lws = ws_new(npollers);
	ws_on_open = lat_ws_open;
	ws_on_text = lat_ws_text;
	ws_on_close = lat_ws_close;
	for (;;) {
		t = now_us();
		while (started < npollers &&
		    (double)(t - t0) * rate / 1e6 >= started)
			lat_ws_issue(&lws[started++]);
		lat_ws_retry();
		for (live = 0, i = 0; i < npollers; i++)
			live += lws[i].live;
		if (live < npollers)
			last = t;
		else if (t - last >= settle_us)
			return;
		if (t - t0 > 60000000)
			die("sockets not subscribed after 60 s (%d of %d)",
			    live, npollers);
		loop_once(1);
	}
}

int
mode_latency(void)
{
	int	     n = (int)optn("n", 1000), ns = (int)optn("sendconns", 32);
	double	     rate = optn("rate", 500), secs = optn("secs", 10);
	double	     warm = optn("warm", 2);
	struct conn *sc;
	long	     k = 0, nwarm, i, delivered = 0, lost = 0;
	int64_t	     t0, t, lag, maxlag = 0, *lat, *lat_ack, *req;
	size_t	     nl = 0, na = 0;
	int	     j;

	const char *kind = opt("kind", "parley");
	int sock = strcmp(kind, "ws") == 0 || strcmp(kind, "nchanws") == 0;

	nchan = strcmp(kind, "nchan") == 0 || strcmp(kind, "nchanws") == 0;
	if (sock && nchan)
		nchan_pub = "wch"; /* not the long pollers' channels */
	pollers_load(opt("file", "pollers.txt"), n);
	on_marker = lat_marker;
	nwarm = (long)(warm * rate);
	nmsgs = (long)((warm + secs) * rate);
	msgs = xcalloc((size_t)nmsgs, sizeof(*msgs));
	for (i = 0; i < nmsgs; i++)
		msgs[i].to = (int)(i % n);
	sc = conns_new(ns, lat_send_done);
	lws_ack = optn("ack", 1) > 0;
	if (sock)
		lat_ws_start(optn("openrate", 2000), 1000000);
	else
		pollers_start(optn("openrate", 2000), 1000000, NULL);
	t0 = now_us();
	for (;;) {
		t = now_us();
		while (
		    k < nmsgs && t0 + (int64_t)((double)k * 1e6 / rate) <= t) {
			for (j = 0; j < ns && sc[j].st != ST_IDLE; j++)
				;
			if (j == ns)
				break; /* every sender busy: late */
			lag = t - (t0 + (int64_t)((double)k * 1e6 / rate));
			if (k >= nwarm && lag > maxlag)
				maxlag = lag;
			lat_send(&sc[j], k++);
		}
		if (sock)
			lat_ws_retry();
		else
			pollers_retry();
		if (k == nmsgs) {
			for (i = nwarm; i < nmsgs; i++)
				if (msgs[i].t_deliv == 0)
					break;
			if (i == nmsgs ||
			    t - (t0 + (int64_t)((warm + secs) * 1e6)) > 5000000)
				break;
		}
		loop_once(1);
	}
	lat = xcalloc((size_t)nmsgs, sizeof(*lat));
	lat_ack = xcalloc((size_t)nmsgs, sizeof(*lat));
	req = xcalloc((size_t)nmsgs, sizeof(*lat));
	for (i = nwarm; i < nmsgs; i++) {
		if (msgs[i].t_deliv == 0) {
			lost++;
			continue;
		}
		delivered++;
		lat[nl] = msgs[i].t_deliv - msgs[i].t_issue;
		if (msgs[i].t_ack != 0) {
			lat_ack[na] = msgs[i].t_deliv - msgs[i].t_ack;
			req[na++] = msgs[i].t_ack - msgs[i].t_issue;
		}
		nl++;
	}
	printf("kind=%s\npollers=%d\nrate=%.0f\nsecs=%.1f\n", kind, n, rate,
	    secs);
	if (sock)
		printf("ws_closes=%ld\nws_pings=%ld\n", lws_closes, ws_pings);
	printf("messages=%ld\ndelivered=%ld\nlost=%ld\nduplicates=%ld\n"
	       "stray=%ld\nsend_errors=%ld\npoll_errors=%ld\n",
	    nmsgs - nwarm, delivered, lost, msgs_dups, msgs_stray, send_errors,
	    poll_errors);
	printf("max_send_lag_ms=%.3f\n", (double)maxlag / 1000);
	print_dist("lat", lat, nl);
	print_dist("ack_to_deliv", lat_ack, na);
	print_dist("send_req", req, na);
	return 0;
}
