/* poll_events: GET /api/v1/events. Answers at once when events newer than
 * `since` exist (or without `since`, with the head as cursor), otherwise
 * parks the request in the hub until a hint, the timeout or a hangup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "poll.h"
#include "server.h"
#include "stream.h"

#define LIMIT_DEFAULT	100
#define LIMIT_MAX	500

struct poll_config poll_config;

static void	reply_events(struct http_req *, const char *, long long);

void
poll_config_load(void)
{
	poll_config.max_timeout = config_env_long("PARLEY_POLL_MAX_TIMEOUT",
	    55, 1, 60);
	poll_config.online_window = config_env_long("PARLEY_ONLINE_WINDOW",
	    60, 3, 3600);
	poll_config.retention = config_env_long("PARLEY_EVENT_RETENTION",
	    30L * 86400, 60, 3650L * 86400);
	/* Browsers open at most 6 connections per host over HTTP/1.1, shared
	 * by all tabs: 8 per session never displaces a real browser's polls,
	 * and 32 per user leaves room for several devices. */
	poll_config.max_per_session = config_env_long(
	    "PARLEY_POLL_MAX_PER_SESSION", 8, 1, 1000);
	poll_config.max_per_user = config_env_long("PARLEY_POLL_MAX_PER_USER",
	    32, 1, 100000);
}

void
poll_finish(struct waiter *w)
{
	server_finish_handed(w->r, &w->t0);
	free(w);
}

static void
reply_events(struct http_req *r, const char *events, long long next)
{
	char	*s;
	size_t	 len = strlen(events) + 48;

	if ((s = malloc(len)) == NULL)
		log_fatal("malloc: out of memory");
	len = (size_t)snprintf(s, len, "{\"events\":%s,\"next\":%lld}", events,
	    next);
	http_reply_raw(r, 200, "application/json; charset=utf-8", s, len);
	free(s);
}

void
poll_finish_empty(struct waiter *w)
{
	reply_events(w->r, "[]", (long long)w->since);
	poll_finish(w);
}

void
poll_session_ended(struct http_req *r)
{
	http_header(r, "WWW-Authenticate: Bearer error=\"invalid_token\"");
	http_error(r, 401, "invalid_token",
	    "The access token is unknown, expired or revoked.");
}

int
poll_deliver(struct db *db, struct waiter *w, int final)
{
	char		 u[24], s[24], l[24], sid[24];
	PGresult	*res;

	res = DB_EXEC(db, &stream_sql_events, db_i64(u, w->user_id),
	    db_i64(s, w->since), db_i64(l, w->limit),
	    db_i64(sid, w->r->session_id));
	if (res == NULL) {
		w->r->db = db;	/* http_db_error reads this thread's error */
		http_db_error(w->r);
		w->r->db = NULL;
		poll_finish(w);
		return 0;
	}
	/* Revoked or logged out while parked: the revocation's hint woke us
	 * (sql/014), or an event's did; either way nothing more is read. */
	if (!db_get_bool(res, 0, 2)) {
		PQclear(res);
		poll_session_ended(w->r);
		poll_finish(w);
		return 0;
	}
	if (!final && strcmp(PQgetvalue(res, 0, 0), "[]") == 0) {
		PQclear(res);
		return 1;
	}
	reply_events(w->r, PQgetvalue(res, 0, 0), db_get_i64(res, 0, 1));
	PQclear(res);
	poll_finish(w);
	return 0;
}

void
poll_events(struct http_req *r)
{
	char		 sid[24], uid[24], since_s[24], fresh[24], lim[24];
	long long	 since = -1, timeout = 25, limit = LIMIT_DEFAULT;
	long long	 head, floor, acked;
	int		 stale, rc, tries;
	struct waiter	*w;
	struct db	*db = r->db;
	PGresult	*res;
	uint64_t	 g0;

	if ((rc = http_query_long(r, "since", 0, INT64_MAX, &since)) == -1 ||
	    http_query_long(r, "timeout", 0, poll_config.max_timeout,
	    &timeout) == -1 ||
	    http_query_long(r, "limit", 1, LIMIT_MAX, &limit) == -1)
		return;
	/* A device's poll time is refreshed at least 3 times per presence
	 * window (the janitor's PARLEY_ONLINE_WINDOW), so a device that keeps
	 * polling never looks offline: 20 s with the default 60 s window. */
	if ((res = DB_EXEC(r->db, &stream_sql_state, db_i64(sid, r->session_id),
	    db_i64(fresh, poll_config.online_window / 3))) == NULL) {
		http_db_error(r);
		return;
	}
	/* Signed out, revoked or deleted since auth_request() saw it. */
	if (PQntuples(res) != 1) {
		PQclear(res);
		poll_session_ended(r);
		return;
	}
	head = db_get_i64(res, 0, 0);
	floor = db_get_i64(res, 0, 1);
	acked = db_get_i64(res, 0, 2);
	stale = db_get_bool(res, 0, 3);
	PQclear(res);
	if (rc == 1 && (since < floor || since > head)) {
		json_t *err = json_pack("{s:{s:s,s:s},s:I,s:I}", "error",
		    "code", "cursor_expired", "message", since > head ?
		    "The cursor is ahead of this stream; reload and use 'next'." :
		    "Events after this cursor were pruned; reload the history "
		    "and continue from 'next'.", "oldest", (json_int_t)floor,
		    "next", (json_int_t)head);

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
	 * and keeps the user online: a write only when something changed. */
	if ((rc == 1 && since > acked) || stale) {
		res = DB_EXEC(r->db, &stream_sql_ack, sid, uid, since_s);
		if (res == NULL) {
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
		reply_events(r, "[]", head);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		log_fatal("calloc: out of memory");
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	w->r = r;
	w->user_id = r->user_id;
	w->since = since;
	w->limit = (int)limit;
	w->deadline = hub_now_ms() + timeout * 1000;
	w->heap_idx = -1;
	db_i64(lim, limit);
	for (tries = 0;; tries++) {
		g0 = hub_generation();
		res = DB_EXEC(db, &stream_sql_events, uid, since_s, lim, sid);
		if (res == NULL) {
			free(w);
			r->db = db;
			http_db_error(r);
			return;
		}
		if (!db_get_bool(res, 0, 2)) {
			PQclear(res);
			free(w);
			r->db = db;
			poll_session_ended(r);
			return;
		}
		if (timeout == 0 || tries >= 3 ||
		    strcmp(PQgetvalue(res, 0, 0), "[]") != 0) {
			r->db = db;
			reply_events(r, PQgetvalue(res, 0, 0),
			    db_get_i64(res, 0, 1));
			PQclear(res);
			free(w);
			return;
		}
		PQclear(res);
		if (tries == 0) {
			/* Read the empty stdin record now: afterwards any
			 * readable byte on the socket means a hangup. */
			while (FCGX_GetChar(r->fcgi.in) != EOF)
				;
			/* This thread's connection stays with this thread. */
			r->db = NULL;
		}
		if (hub_park(w, g0) == 0) {
			server_handover();	/* r belongs to the hub now */
			return;
		}
	}
}
