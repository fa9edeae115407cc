/* calls_calls: one-to-one calls. The handlers check the input; the state
 * machine (ringing -> active -> ended, busy, offline, first accept wins)
 * lives in the database functions of sql/functions/70_calls.sql. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "valid.h"

#define LIST_DEFAULT 20
#define LIST_MAX     100

static const struct http_outcome invite_outcomes[] = {
	{ "created", 201, NULL, NULL },
	{ "no_such_user", 404, "user_not_found", "No such user." },
	/* Only to the blocker: the one they blocked hears not_friends. */
	{ "blocked", 403, "blocked",
	    "You blocked this user; unblock them to "
	    "call them." },
	{ "not_friends", 403, "not_friends",
	    "You can only call your "
	    "friends." },
	{ "busy", 409, "busy",
	    "The user is in another call; a missed call "
	    "was recorded." },
	{ "caller_busy", 409, "busy",
	    "You are already in a call; end it "
	    "first." },
	{ "callee_offline", 409, "callee_offline",
	    "The user has no device "
	    "online; a missed call was recorded." },
	{ NULL, 0, NULL, NULL },
};

static const struct http_outcome accept_outcomes[] = {
	{ "ok", 200, NULL, NULL },
	{ "not_found", 404, "call_not_found", "No such call." },
	{ "not_callee", 403, "not_callee",
	    "Only the called user may accept "
	    "a call." },
	{ "answered_elsewhere", 409, "answered_elsewhere",
	    "The call was "
	    "answered on another device." },
	{ "ended", 409, "call_ended", "The call has ended." },
	{ NULL, 0, NULL, NULL },
};

static const struct http_outcome end_outcomes[] = {
	{ "ok", 200, NULL, NULL },
	{ "not_found", 404, "call_not_found", "No such call." },
	{ "not_callee", 403, "not_callee",
	    "Only the called user may reject "
	    "a call." },
	{ "not_caller", 403, "not_caller",
	    "Only the caller may cancel a "
	    "call." },
	{ "not_ringing", 409, "not_ringing",
	    "The call is no longer ringing; "
	    "hang up instead." },
	{ "not_active", 409, "not_active",
	    "The call has not been answered; "
	    "cancel or reject it instead." },
	{ "ended", 409, "call_ended", "The call has ended." },
	{ NULL, 0, NULL, NULL },
};

static const struct http_outcome signal_outcomes[] = {
	{ "ok", 202, NULL, NULL },
	{ "not_found", 404, "call_not_found", "No such call." },
	{ "ended", 409, "call_ended", "The call has ended." },
	{ "wrong_device", 409, "wrong_device",
	    "This call is taking place on "
	    "another of your devices." },
	{ "not_answered", 409, "not_answered",
	    "Accept the call before "
	    "signaling." },
	{ "too_many", 429, "too_many_signals",
	    "Too many signals for this "
	    "call." },
	{ NULL, 0, NULL, NULL },
};

void
calls_reply(struct http_req *r, PGresult *res,
    const struct http_outcome *outcomes, const char *key)
{
	calls_reply_ice(r, res, outcomes, key, NULL);
}

void
calls_reply_ice(struct http_req *r, PGresult *res,
    const struct http_outcome *outcomes, const char *key, json_t *ice)
{
	json_t *obj;
	int	status;

	if (res == NULL) {
		json_decref(ice);
		http_db_error(r);
		return;
	}
	/* Refusals can write too: a busy or offline callee gets a missed
	 * call in the history. */
	notify_users(db_get_str(res, 0, 2));
	if ((status = http_outcome(r, outcomes, PQgetvalue(res, 0, 0))) > 0) {
		if (key != NULL && !PQgetisnull(res, 0, 1) && ice != NULL) {
			if ((obj = json_loads(PQgetvalue(res, 0, 1), 0,
				 NULL)) == NULL)
				log_fatal("%s: the database returned bad JSON",
				    key);
			http_reply(r, status,
			    json_pack("{s:o,s:O}", key, obj, "ice", ice));
		} else if (key != NULL && !PQgetisnull(res, 0, 1))
			http_reply_wrap(r, status, key, PQgetvalue(res, 0, 1));
		else if (status == 202)
			http_reply(r, 202,
			    json_pack("{s:s}", "status", "relayed"));
		else
			http_reply(r, 204, NULL);
	}
	json_decref(ice);
	PQclear(res);
}

/* "audio" or "video" from an optional field (default `def`); -1 after a 400. */
int
calls_media(struct http_req *r, json_t *req, const char *def, const char **out)
{
	*out = def;
	if (valid_string(r, req, "media", 0, 1, 8, out) == -1)
		return -1;
	if (strcmp(*out, "audio") != 0 && strcmp(*out, "video") != 0) {
		http_error(r, 400, "invalid_field",
		    "The field 'media' must be "
		    "audio or video.");
		return -1;
	}
	return 0;
}

/* The call id is drawn first: the callee's TURN credential, sent with
 * call.invite, and the caller's, in the reply, name it. */
void
calls_create(struct http_req *r)
{
	char	    me[24], dev[24], to_s[24], win[24], ring[24], id_s[24];
	char	   *callee_ice = NULL;
	const char *media;
	json_t	   *req;
	PGresult   *res;
	int64_t	    to, id;

	if ((req = http_body_json(r)) == NULL)
		return;
	if (valid_id(r, req, "to", VALID_REQUIRED, &to) == -1 ||
	    calls_media(r, req, "audio", &media) == -1)
		goto out;
	if (to == r->user_id) {
		http_error(r, 400, "invalid_field",
		    "You cannot call yourself.");
		goto out;
	}
	if ((res = db_exec(r->db, &sql_call_next_id, 0, NULL)) == NULL) {
		http_db_error(r);
		goto out;
	}
	id = db_get_i64(res, 0, 0);
	PQclear(res);
	callee_ice = ice_text(to, 'c', id, calls_config.call_ttl);
	calls_reply_ice(r,
	    DB_EXEC(r->db, &sql_call_invite, db_i64(me, r->user_id),
		db_i64(dev, r->session_id), db_i64(to_s, to), media,
		db_i64(win, calls_config.online_window),
		db_i64(ring, calls_config.ring_timeout), db_i64(id_s, id),
		callee_ice),
	    invite_outcomes, "call",
	    ice_json(r->user_id, 'c', id, calls_config.call_ttl));
out:
	free(callee_ice);
	json_decref(req);
}

void
calls_get_visible(struct http_req *r, const struct db_stmt *st, const char *key,
    const char *code, const char *message)
{
	char	  me[24], id_s[24];
	PGresult *res;
	int64_t	  id;

	if (http_param_id(r, 0, &id) == -1)
		return;
	if ((res = DB_EXEC(r->db, st, db_i64(id_s, id),
		 db_i64(me, r->user_id))) == NULL) {
		http_db_error(r);
		return;
	}
	if (PQntuples(res) == 0)
		http_error(r, 404, code, "%s", message);
	else
		http_reply_wrap(r, 200, key, PQgetvalue(res, 0, 0));
	PQclear(res);
}

void
calls_get(struct http_req *r)
{
	calls_get_visible(r, &sql_call_get, "call", "call_not_found",
	    "No such call.");
}

void
calls_list(struct http_req *r)
{
	char	  me[24], before_s[24], limit_s[24];
	long long before = INT64_MAX, limit = LIST_DEFAULT;
	PGresult *res;

	if (http_query_long(r, "before", 1, INT64_MAX, &before) == -1 ||
	    http_query_long(r, "limit", 1, LIST_MAX, &limit) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_call_list, db_i64(me, r->user_id),
		 db_i64(before_s, before), db_i64(limit_s, limit))) == NULL) {
		http_db_error(r);
		return;
	}
	http_reply_wrap(r, 200, "calls", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* Both parties get a fresh credential for the call: the callee in the
 * reply, the caller with call.accepted (it offers, and gathers, now). */
void
calls_accept(struct http_req *r)
{
	char	  me[24], dev[24], id_s[24], *caller_ice = NULL;
	PGresult *res;
	int64_t	  id;

	if (http_param_id(r, 0, &id) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_call_caller, db_i64(id_s, id),
		 db_i64(me, r->user_id))) == NULL) {
		http_db_error(r);
		return;
	}
	if (PQntuples(res) == 1)
		caller_ice = ice_text(db_get_i64(res, 0, 0), 'c', id,
		    calls_config.call_ttl);
	PQclear(res);
	calls_reply_ice(r,
	    DB_EXEC(r->db, &sql_call_accept, me, db_i64(dev, r->session_id),
		id_s, caller_ice),
	    accept_outcomes, "call",
	    ice_json(r->user_id, 'c', id, calls_config.call_ttl));
	free(caller_ice);
}

static void
call_end(struct http_req *r, const char *action)
{
	char	me[24], id_s[24];
	int64_t id;

	if (http_param_id(r, 0, &id) == -1)
		return;
	calls_reply(r,
	    DB_EXEC(r->db, &sql_call_end, db_i64(me, r->user_id),
		db_i64(id_s, id), action),
	    end_outcomes, "call");
}

void
calls_reject(struct http_req *r)
{
	call_end(r, "reject");
}

void
calls_cancel(struct http_req *r)
{
	call_end(r, "cancel");
}

void
calls_hangup(struct http_req *r)
{
	call_end(r, "hangup");
}

/* {"kind","data"} checked and cleaned (calls_signal.c); NULL after a 400.
 * On success *kind points into the returned body's owner `req`. */
char *
calls_signal_body(struct http_req *r, json_t *req, const char **kind)
{
	char	err[160];
	json_t *clean;
	char   *text;

	if (valid_string(r, req, "kind", VALID_REQUIRED, 1, 16, kind) == -1)
		return NULL;
	if (json_object_get(req, "data") == NULL) {
		http_error(r, 400, "missing_field",
		    "The field 'data' is "
		    "required.");
		return NULL;
	}
	if ((clean = signal_clean(*kind, json_object_get(req, "data"), err,
		 sizeof(err))) == NULL) {
		http_error(r, 400, "invalid_signal", "%s", err);
		return NULL;
	}
	text = json_dumps(clean, JSON_COMPACT);
	json_decref(clean);
	return text;
}

void
calls_signal(struct http_req *r)
{
	char	    me[24], dev[24], id_s[24], max[24], *data = NULL;
	const char *kind;
	json_t	   *req;
	int64_t	    id;

	if (http_param_id(r, 0, &id) == -1 || (req = http_body_json(r)) == NULL)
		return;
	if ((data = calls_signal_body(r, req, &kind)) != NULL)
		calls_reply(r,
		    DB_EXEC(r->db, &sql_call_signal, db_i64(me, r->user_id),
			db_i64(dev, r->session_id), db_i64(id_s, id), kind,
			data, db_i64(max, SIGNALS_PER_CALL)),
		    signal_outcomes, NULL);
	free(data);
	json_decref(req);
}
