/* poll_events: GET /api/v1/events. Answers at once when events newer than
 * `since` exist (or without `since`, with the head as cursor), otherwise
 * parks the poll in the hub, as a compact record without the request
 * (poll.h), until a hint, the timeout or a hangup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "poll.h"
#include "server.h"
#include "stream.h"

#define LIMIT_DEFAULT  100
#define LIMIT_MAX      500
#define SEND_TIMEOUT_S 10 /* s, for writing one reply */

struct poll_config poll_config;

void
poll_config_load(void)
{
	poll_config.max_timeout =
	    config_env_long("PARLEY_POLL_MAX_TIMEOUT", 55, 1, 60);
	poll_config.online_window =
	    config_env_long("PARLEY_ONLINE_WINDOW", 60, 3, 3600);
	poll_config.retention = config_env_long("PARLEY_EVENT_RETENTION",
	    30L * 86400, 60, 3650L * 86400);
	/* Browsers open at most 6 connections per host over HTTP/1.1, shared
	 * by all tabs: 8 per session never displaces a real browser's polls,
	 * and 32 per user leaves room for several devices. */
	poll_config.max_per_session =
	    config_env_long("PARLEY_POLL_MAX_PER_SESSION", 8, 1, 1000);
	poll_config.max_per_user =
	    config_env_long("PARLEY_POLL_MAX_PER_USER", 32, 1, 100000);
}

/* The compact record of a poll about to wait (poll.h). */
static struct waiter *
waiter_new(struct http_req *r, long long since, long long limit,
    long long timeout)
{
	struct timeval tv = { SEND_TIMEOUT_S, 0 };
	struct waiter *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		log_fatal("calloc: out of memory");
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	w->fd = r->fcgi.ipcFd;
	w->request_id = r->fcgi.requestId;
	w->user_id = r->user_id;
	w->session_id = r->session_id;
	w->since = since;
	w->limit = (int)limit;
	w->deadline = hub_now_ms() + timeout * 1000;
	w->heap_idx = -1;
	memcpy(w->jsonp, r->jsonp, sizeof(w->jsonp));
	w->route = r->route;
	snprintf(w->addr, sizeof(w->addr), "%s", r->remote_addr);
	/* A reply is written with a blocking send(): bound the time a
	 * responder can spend on a peer that stopped reading. */
	(void)setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return w;
}

void
poll_events(struct http_req *r)
{
	char	       sid[24], uid[24], since_s[24], fresh[24], lim[24];
	long long      since = -1, timeout = 25, limit = LIMIT_DEFAULT;
	long long      head, floor, acked;
	int	       stale, rc, tries;
	struct waiter *w;
	struct db     *db = r->db;
	PGresult      *st, *res;
	uint64_t       g0 = 0;

	if ((rc = http_query_long(r, "since", 0, INT64_MAX, &since)) == -1 ||
	    http_query_long(r, "timeout", 0, poll_config.max_timeout,
		&timeout) == -1 ||
	    http_query_long(r, "limit", 1, LIMIT_MAX, &limit) == -1)
		return;
	/* A device's poll time is refreshed at least 3 times per presence
	 * window (the janitor's PARLEY_ONLINE_WINDOW), so a device that keeps
	 * polling never looks offline: 20 s with the default 60 s window. */
	db_i64(sid, r->session_id);
	db_i64(fresh, poll_config.online_window / 3);
	if (rc == 1) {
		/* With a cursor, the first batch comes in the same statement
		 * (one round trip less per poll); g0 is read before it. */
		db_i64(since_s, since);
		db_i64(lim, limit);
		g0 = hub_generation();
		st = DB_EXEC(db, &sql_state_events, sid, fresh, since_s, lim);
	} else
		st = DB_EXEC(db, &stream_sql_state, sid, fresh);
	if (st == NULL) {
		http_db_error(r);
		return;
	}
	/* Signed out, revoked or deleted since auth_request() saw it. */
	if (PQntuples(st) != 1) {
		PQclear(st);
		poll_session_ended(r);
		return;
	}
	head = db_get_i64(st, 0, 0);
	floor = db_get_i64(st, 0, 1);
	acked = db_get_i64(st, 0, 2);
	stale = db_get_bool(st, 0, 3);
	if (rc == 1 && (since < floor || since > head)) {
		json_t *err = json_pack("{s:{s:s,s:s},s:I,s:I}", "error",
		    "code", "cursor_expired", "message",
		    since > head ? "The cursor is ahead of this stream; reload "
				   "and use 'next'." :
				   "Events after this cursor were pruned; "
				   "reload the history "
				   "and continue from 'next'.",
		    "oldest", (json_int_t)floor, "next", (json_int_t)head);

		PQclear(st);
		/* JSONP answers 200: the status travels inside, as in
		 * http_error(). */
		if (r->jsonp[0] != '\0')
			json_object_set_new(err, "status", json_integer(410));
		http_reply(r, 410, err);
		return;
	}
	db_i64(uid, r->user_id);
	db_i64(since_s, rc == 1 ? since : 0);
	/* The poll acknowledges `since` for this device (delivery receipts)
	 * and keeps the user online: a write only when something changed.
	 * The events above were read before it: the ack writes none of this
	 * user's, and a hint after g0 refuses the park below anyway. */
	if ((rc == 1 && since > acked) || stale) {
		res = DB_EXEC(r->db, &stream_sql_ack, sid, uid, since_s);
		if (res == NULL) {
			PQclear(st);
			http_db_error(r);
			return;
		}
		notify_users(db_get_str(res, 0, 0));
		PQclear(res);
		/* Receipts it owes are flushed together (sql/021). */
		if (rc == 1 && since > acked)
			receipts_kick();
	}
	if (rc == 0) {
		PQclear(st);
		poll_reply_json(r, "[]", head);
		return;
	}
	/* The session expired (the row above only says not revoked). */
	if (!db_get_bool(st, 0, 6)) {
		PQclear(st);
		poll_session_ended(r);
		return;
	}
	if (timeout == 0 || strcmp(PQgetvalue(st, 0, 4), "[]") != 0) {
		poll_reply_json(r, PQgetvalue(st, 0, 4), db_get_i64(st, 0, 5));
		PQclear(st);
		return;
	}
	PQclear(st);
	/* Nothing yet: the poll waits. Read the empty stdin record now:
	 * afterwards any readable byte on the socket means a hangup, and
	 * close() after the reply has nothing unread to reset. */
	while (FCGX_GetChar(r->fcgi.in) != EOF)
		;
	w = waiter_new(r, since, limit, timeout);
	/* r and libfcgi's buffers go; w has all a reply needs. */
	server_detach(r);
	for (tries = 1;; tries++) {
		if (hub_park(w, g0) == 0)
			return; /* the hub's now */
		/* A hint for this user came after g0: look again. */
		g0 = hub_generation();
		if (!poll_deliver(db, w, tries >= POLL_TRIES_MAX))
			return;
	}
}
