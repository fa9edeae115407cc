/* lg_calls.c: mode "calls" of the load generator (a test tool, not
 * product code): call setup through long polls, with a message round trip
 * of the same shape as the reference. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_common.h"

/* Call setup under waiting pollers. --file: the first 2 * --pairs lines
 * are the call parties (pair i: caller 2i, callee 2i+1; "token user_id
 * partner_token"), then --n pollers that only wait. Each pair, in turn:
 *
 *   call: the caller POSTs /api/v1/calls; the callee's long poll brings
 *         call.invite and the callee at once POSTs .../accept with the id
 *         from the event; the caller's long poll brings call.accepted.
 *         Then the caller hangs up and both polls bring call.ended.
 *   ping: the reference, the same shape with messages: the caller sends
 *         "p<k>" to the callee; the callee's poll brings it and the
 *         callee at once sends "q<k>" back; the caller's poll brings it.
 *
 * Before each step both parties' polls have been parked for --settle_ms
 * and both request connections are idle. The first --warm calls of each
 * pair are not counted; --calls counted calls in all (split over the
 * pairs), at most --maxsecs seconds. A step not done in 5 s is a timeout:
 * the call is cancelled or hung up and the pair goes on. */

enum { CP_SETTLE, CP_CALL, CP_HANGUP, CP_PING, CP_RECOVER, CP_DONE };
enum { OP_INVITE = 1, OP_ACCEPT, OP_HANGUP, OP_CANCEL, OP_PING, OP_PONG };

struct cpair {
	int	  st, next;	/* state; after settling: CP_CALL or CP_PING */
	int	  calls, pings; /* started, warm-up included */
	int64_t	  t_st;		/* state entered */
	int64_t	  not_before;	/* settle: not before this time */
	long long call;		/* this call's id, 0 unknown */
	int	  inv_status, acc_status, hang_status, ended[2];
	int	  hang_sent;
	int64_t	  t_inv, t_seen, t_acc, t_done;
	long	  k; /* this ping's number */
	int64_t	  t_ping, t_ping_seen, t_pong_seen;
};

static struct cpair *cps;
static struct conn  *creq; /* 2 per pair: caller, callee */
static int	     ncp, cp_per, cp_warm;
static int64_t	     cp_settle, cp_deadline;
static long	     cp_k;
/* Results. */
static int64_t *cr_setup, *cr_inv, *cr_acc, *cr_invreq, *cr_accreq;
static int64_t *cr_rtt, *cr_ping, *cr_pong;
static size_t	cr_n, cr_nreq, cr_nacc, cr_nrtt;
static long	c_busy, c_offline, c_inv_err, c_acc_err, c_hang_err;
static long	c_msg_err, c_timeouts, c_stray, c_seen_first;
static long	c_ok, c_pings_ok;

#define CP_STEP_US 5000000

/* The number after "key" (then spaces, ':', spaces) at or after p, or 0. */
static long long
num_after(const char *p, const char *key)
{
	if ((p = strstr(p, key)) == NULL)
		return 0;
	p += strlen(key);
	p += strspn(p, " ");
	if (*p++ != ':')
		return 0;
	return strtoll(p, NULL, 10);
}

static void
cp_state(struct cpair *p, int st)
{
	p->st = st;
	p->t_st = now_us();
}

static void
cp_settle_then(struct cpair *p, int next, int64_t gap_us)
{
	cp_state(p, CP_SETTLE);
	p->next = next;
	p->not_before = p->t_st + gap_us;
}

static void
cp_post(int pi, int role, int op, const char *path, const char *body)
{
	struct conn *c = &creq[2 * pi + role];

	c->a = op;
	req_post(c, path, pollers[2 * pi + role].token, "application/json",
	    body);
	conn_send(c);
}

static void
cp_message(int pi, int role, int op, int kind, long k)
{
	struct conn *c = &creq[2 * pi + role];
	char	     text[32];

	c->a = op;
	snprintf(text, sizeof(text), "%c%ld", kind, k);
	req_message(c, pollers[2 * pi + role].token, "to",
	    pollers[2 * pi + 1 - role].user, text);
	conn_send(c);
}

/* Ends whatever call the pair may still have, then settles. */
static void
cp_recover(int pi)
{
	struct cpair *p = &cps[pi];
	char	      path[96];
	int	      role;

	for (role = 0; role < 2; role++)
		if (creq[2 * pi + role].st != ST_IDLE)
			conn_close(&creq[2 * pi + role]);
	cp_state(p, CP_RECOVER);
	if (p->call == 0) {
		cp_settle_then(p, CP_CALL, 1000000);
		return;
	}
	snprintf(path, sizeof(path), "/api/v1/calls/%lld/cancel", p->call);
	cp_post(pi, 0, OP_CANCEL, path, "");
}

static void
cp_fail(int pi, const char *what)
{
	struct cpair *p = &cps[pi];

	if (++c_timeouts <= 5)
		fprintf(stderr,
		    "loadgen: calls pair %d: %s timed out (call "
		    "%lld, invite %d, seen %d, accept %d, accepted %d, hangup "
		    "%d, ended %d/%d)\n",
		    pi, what, p->call, p->inv_status, p->t_seen != 0,
		    p->acc_status, p->t_done != 0, p->hang_status, p->ended[0],
		    p->ended[1]);
	cp_recover(pi);
}

static void
cp_req_error(const char *what, int status, const char *body)
{
	static int shown;

	if (++shown <= 8)
		fprintf(stderr, "loadgen: calls: %s: status %d: %.200s\n", what,
		    status, body ? body : "");
}

static void
cp_req_done(struct conn *c, int status, char *body, size_t len)
{
	int	      pi = c->idx / 2;
	struct cpair *p = &cps[pi];
	int64_t	      t = now_us();
	long long     id;
	char	      path[96];

	(void)len;
	switch (c->a) {
	case OP_INVITE:
		/* The 201 may come after call.accepted (then: CP_HANGUP). */
		p->inv_status = status;
		if (p->st != CP_CALL && p->st != CP_HANGUP)
			return;
		if (status != 201) {
			if (status == 409 && body != NULL &&
			    strstr(body, "callee_offline") != NULL)
				c_offline++;
			else if (status == 409 && body != NULL &&
			    strstr(body, "busy") != NULL)
				c_busy++;
			else
				c_inv_err++;
			cp_req_error("invite", status, body);
			cp_recover(pi);
			return;
		}
		id = num_after(body, "\"id\"");
		if (p->call == 0)
			p->call = id;
		else if (p->call != id)
			c_stray++;
		if (p->t_seen != 0)
			c_seen_first++;
		if (p->calls > cp_warm)
			cr_invreq[cr_nreq++] = t - c->t_issue;
		return;
	case OP_ACCEPT:
		p->acc_status = status;
		if (p->st != CP_CALL && p->st != CP_HANGUP)
			return;
		if (status != 200) {
			c_acc_err++;
			cp_req_error("accept", status, body);
			cp_recover(pi);
			return;
		}
		if (p->calls > cp_warm)
			cr_accreq[cr_nacc++] = t - c->t_issue;
		return;
	case OP_HANGUP:
		p->hang_status = status;
		if (p->st != CP_HANGUP)
			return;
		if (status != 200) {
			c_hang_err++;
			cp_req_error("hangup", status, body);
			cp_recover(pi);
		}
		return;
	case OP_CANCEL:
		/* Recovery: a ringing call is cancelled, an active one hung
		 * up; either may already have ended. */
		if (p->st != CP_RECOVER)
			return;
		snprintf(path, sizeof(path), "/api/v1/calls/%lld/hangup",
		    p->call);
		cp_post(pi, 0, OP_HANGUP, path, "");
		cp_settle_then(p, CP_CALL, 500000);
		p->call = 0;
		return;
	case OP_PING:
	case OP_PONG:
		if (status != 201) {
			c_msg_err++;
			cp_req_error("message", status, body);
			if (p->st == CP_PING)
				cp_recover(pi);
		}
		return;
	}
}

static void
cp_tick(int pi, int64_t t)
{
	struct cpair  *p = &cps[pi];
	struct conn   *ra = &creq[2 * pi], *rb = &creq[2 * pi + 1];
	struct poller *a = &pollers[2 * pi], *b = &pollers[2 * pi + 1];
	char	       body[96], path[96];

	switch (p->st) {
	case CP_SETTLE:
		if (t < p->not_before || ra->st != ST_IDLE ||
		    rb->st != ST_IDLE || !a->armed || !b->armed ||
		    t - a->armed_at < cp_settle || t - b->armed_at < cp_settle)
			return;
		if (t >= cp_deadline ||
		    (p->next == CP_CALL && p->calls >= cp_per)) {
			cp_state(p, CP_DONE);
			return;
		}
		if (p->next == CP_PING) {
			cp_state(p, CP_PING);
			p->k = ++cp_k;
			p->pings++;
			p->t_ping_seen = p->t_pong_seen = 0;
			cp_message(pi, 0, OP_PING, 'p', p->k);
			p->t_ping = ra->t_issue;
			return;
		}
		cp_state(p, CP_CALL);
		p->calls++;
		p->call = 0;
		p->inv_status = p->acc_status = p->hang_status = 0;
		p->ended[0] = p->ended[1] = 0;
		p->hang_sent = 0;
		p->t_seen = p->t_acc = p->t_done = 0;
		snprintf(body, sizeof(body),
		    "{\"to\":%lld,\"media\":\"audio\"}", b->user);
		cp_post(pi, 0, OP_INVITE, "/api/v1/calls", body);
		p->t_inv = ra->t_issue;
		return;
	case CP_CALL:
	case CP_PING:
		if (t - p->t_st > CP_STEP_US)
			cp_fail(pi, p->st == CP_CALL ? "call setup" : "ping");
		return;
	case CP_HANGUP:
		if (!p->hang_sent && ra->st == ST_IDLE) {
			p->hang_sent = 1;
			snprintf(path, sizeof(path),
			    "/api/v1/calls/%lld/hangup", p->call);
			cp_post(pi, 0, OP_HANGUP, path, "");
		}
		if (p->hang_status == 200 && p->ended[0] && p->ended[1] &&
		    rb->st == ST_IDLE) {
			cp_settle_then(p, CP_PING, 0);
			return;
		}
		if (t - p->t_st > CP_STEP_US)
			cp_fail(pi, "hangup");
		return;
	case CP_RECOVER:
		if (t - p->t_st > CP_STEP_US) {
			conn_close(ra);
			cp_settle_then(p, CP_CALL, 1000000);
		}
		return;
	}
}

/* A call event seen by poller `who`. */
static void
cp_event(int who, const char *name, long long id)
{
	int	      pi = who / 2, role = who % 2;
	struct cpair *p;
	int64_t	      t = now_us();
	char	      path[96];

	if (who >= 2 * ncp) {
		c_stray++;
		return;
	}
	p = &cps[pi];
	if (strcmp(name, "invite") == 0 && role == 1 && p->st == CP_CALL &&
	    p->t_seen == 0 && (p->call == 0 || p->call == id)) {
		p->t_seen = t;
		p->call = id;
		snprintf(path, sizeof(path), "/api/v1/calls/%lld/accept", id);
		cp_post(pi, 1, OP_ACCEPT, path, "");
		p->t_acc = creq[2 * pi + 1].t_issue;
	} else if (strcmp(name, "accepted") == 0 && role == 0 &&
	    p->st == CP_CALL && p->t_acc != 0 && p->t_done == 0 &&
	    id == p->call) {
		p->t_done = t;
		c_ok++;
		if (p->calls > cp_warm) {
			cr_setup[cr_n] = t - p->t_inv;
			cr_inv[cr_n] = p->t_seen - p->t_inv;
			cr_acc[cr_n++] = t - p->t_acc;
		}
		cp_state(p, CP_HANGUP);
		cp_tick(pi, t);
	} else if (strcmp(name, "ended") == 0 && id == p->call &&
	    p->st == CP_HANGUP)
		p->ended[role] = 1;
	else if (strcmp(name, "answered_elsewhere") != 0 &&
	    strcmp(name, "ended") != 0)
		c_stray++;
}

/* Every "type": "call.<name>" in a poll answer, with the id that follows
 * it (the call's: "id" sorts first in a jsonb object). */
static void
cp_body(struct conn *c, const char *body, size_t len)
{
	const char *p = body, *q;
	char	    name[32];
	size_t	    n;

	(void)len;
	while ((p = strstr(p, "\"type\"")) != NULL) {
		q = p += 6;
		q += strspn(q, " ");
		if (*q++ != ':')
			continue;
		q += strspn(q, " ");
		if (strncmp(q, "\"call.", 6) != 0)
			continue;
		q += 6;
		if ((n = strcspn(q, "\"")) >= sizeof(name))
			continue;
		memcpy(name, q, n);
		name[n] = '\0';
		cp_event(c->idx, name, num_after(q, "\"id\""));
	}
}

static void
cp_marker(int kind, long k, void *arg)
{
	struct conn  *c = arg;
	int	      pi = c->idx / 2, role = c->idx % 2;
	struct cpair *p;
	int64_t	      t = now_us();

	if (c->idx >= 2 * ncp || (kind != 'p' && kind != 'q')) {
		c_stray++;
		return;
	}
	if ((kind == 'p') == (role == 0))
		return; /* the sender's own copy of its message */
	p = &cps[pi];
	if (p->st != CP_PING || k != p->k) {
		c_stray++;
		return;
	}
	if (kind == 'p' && p->t_ping_seen == 0) {
		p->t_ping_seen = t;
		cp_message(pi, 1, OP_PONG, 'q', k);
	} else if (kind == 'q' && p->t_ping_seen != 0 && p->t_pong_seen == 0) {
		p->t_pong_seen = t;
		c_pings_ok++;
		if (p->pings > cp_warm) {
			cr_rtt[cr_nrtt] = t - p->t_ping;
			cr_ping[cr_nrtt] = p->t_ping_seen - p->t_ping;
			cr_pong[cr_nrtt++] = t - p->t_ping_seen;
		}
		cp_settle_then(p, CP_CALL, 0);
	} else
		c_stray++;
}

int
mode_calls(void)
{
	int	n = (int)optn("n", 1000), total = (int)optn("calls", 400);
	double	maxsecs = optn("maxsecs", 60);
	int64_t t0, t;
	size_t	cap;
	int	i, active;

	ncp = (int)optn("pairs", 4);
	cp_warm = (int)optn("warm", 3);
	cp_settle = (int64_t)(optn("settle_ms", 50) * 1000);
	if (ncp < 1 || total < 1)
		die("calls: --pairs and --calls must be positive");
	cp_per = (total + ncp - 1) / ncp + cp_warm;
	pollers_load(opt("file", "callpollers.txt"), 2 * ncp + n);
	cps = xcalloc((size_t)ncp, sizeof(*cps));
	creq = conns_new(2 * ncp, cp_req_done);
	cap = (size_t)ncp * (size_t)cp_per + 1;
	cr_setup = xcalloc(cap, sizeof(int64_t));
	cr_inv = xcalloc(cap, sizeof(int64_t));
	cr_acc = xcalloc(cap, sizeof(int64_t));
	cr_invreq = xcalloc(cap, sizeof(int64_t));
	cr_accreq = xcalloc(cap, sizeof(int64_t));
	cr_rtt = xcalloc(cap, sizeof(int64_t));
	cr_ping = xcalloc(cap, sizeof(int64_t));
	cr_pong = xcalloc(cap, sizeof(int64_t));
	on_body = cp_body;
	on_marker = cp_marker;
	pollers_start(optn("openrate", 2000), 1000000, NULL);
	t0 = now_us();
	cp_deadline = t0 + (int64_t)(maxsecs * 1e6);
	/* The pairs start apart, so they overlap only by chance. */
	for (i = 0; i < ncp; i++)
		cp_settle_then(&cps[i], CP_CALL, (int64_t)i * 20000);
	for (;;) {
		t = now_us();
		pollers_retry();
		for (active = 0, i = 0; i < ncp; i++) {
			cp_tick(i, t);
			active += cps[i].st != CP_DONE;
		}
		if (active == 0)
			break;
		if (t > cp_deadline + 2 * CP_STEP_US) {
			fprintf(stderr,
			    "loadgen: calls: %d pairs still busy "
			    "past the deadline\n",
			    active);
			break;
		}
		loop_once(1);
	}
	printf("pairs=%d\npollers=%d\nsecs=%.1f\nsetups_ok=%ld\n"
	       "pings_ok=%ld\nwarm_per_pair=%d\n",
	    ncp, n, (double)(now_us() - t0) / 1e6, c_ok, c_pings_ok, cp_warm);
	printf("busy=%ld\ncallee_offline=%ld\ninvite_errors=%ld\n"
	       "accept_errors=%ld\nhangup_errors=%ld\nmessage_errors=%ld\n"
	       "timeouts=%ld\nstray=%ld\ninvite_seen_before_201=%ld\n"
	       "poll_errors=%ld\n",
	    c_busy, c_offline, c_inv_err, c_acc_err, c_hang_err, c_msg_err,
	    c_timeouts, c_stray, c_seen_first, poll_errors);
	print_dist("setup", cr_setup, cr_n);
	print_dist("setup_invite", cr_inv, cr_n);
	print_dist("setup_accept", cr_acc, cr_n);
	print_dist("invite_req", cr_invreq, cr_nreq);
	print_dist("accept_req", cr_accreq, cr_nacc);
	print_dist("rtt", cr_rtt, cr_nrtt);
	print_dist("rtt_ping", cr_ping, cr_nrtt);
	print_dist("rtt_pong", cr_pong, cr_nrtt);
	return 0;
}
