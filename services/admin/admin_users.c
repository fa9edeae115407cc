/* admin_users: who is online, finding users, and the actions on an
 * account: kick (end every session), suspend and restore. */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "config.h"
#include "http.h"
#include "notify.h"
#include "valid.h"

#define LIST_MAX   500 /* users per page */
#define PREFIX_MAX 32  /* a username is at most 32 characters */

static const struct http_outcome user_outcomes[] = {
	{ "ok", 200, NULL, NULL },
	{ "not_found", 404, "user_not_found", "No such user." },
	{ "self", 409, "cannot_suspend_self",
	    "An admin cannot suspend their own account." },
	{ NULL, 0, NULL, NULL },
};

static int  read_reason(struct http_req *, json_t **, const char **);
static void reply_user(struct http_req *, int64_t, const char *, long long);
static void suspend(struct http_req *, int);

void
admin_start(void)
{
	admin_health_config();
	admin_metrics_start();
	notify_start();
}

void
admin_stop(void)
{
	notify_stop();
}

/* The optional JSON body {"reason": "..."} of an action. An action
 * without a body is fine (a plain POST); *body is the caller's to
 * decref. Returns 0, or -1 after replying 400/413/415. */
static int
read_reason(struct http_req *r, json_t **body, const char **reason)
{
	const char *len = http_env(r, "CONTENT_LENGTH");

	*body = NULL;
	*reason = NULL;
	if (len == NULL || len[0] == '\0' || strcmp(len, "0") == 0)
		return 0;
	if ((*body = http_body_json(r)) == NULL)
		return -1;
	return valid_string(r, *body, "reason", VALID_MULTILINE, 1,
	    ADMIN_REASON_MAX, reason);
}

/* Answers {"user": ..., key: n} (key NULL: the user alone) as it is now. */
static void
reply_user(struct http_req *r, int64_t id, const char *key, long long n)
{
	char	  u[24];
	PGresult *res;
	json_t	 *reply, *user;

	if ((res = DB_EXEC(r->db, &sql_user_get, db_i64(u, id))) == NULL) {
		http_db_error(r);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		http_error(r, 404, "user_not_found", "No such user.");
		return;
	}
	if ((user = json_loads(PQgetvalue(res, 0, 0), 0, NULL)) == NULL) {
		PQclear(res);
		http_error(r, 500, "internal_error", "Unreadable user row.");
		return;
	}
	PQclear(res);
	reply = json_pack("{s:o}", "user", user);
	if (key != NULL)
		json_object_set_new(reply, key, json_integer(n));
	http_reply(r, 200, reply);
}

void
admin_online(struct http_req *r)
{
	char	  win[24], lim[24], *body;
	long long limit = 200;
	PGresult *res;
	size_t	  len;
	int	  n;

	if (http_query_long(r, "limit", 1, LIST_MAX, &limit) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_online,
		 db_i64(win, config.online_window), db_i64(lim, limit))) ==
	    NULL) {
		http_db_error(r);
		return;
	}
	/* {"online":N,"window":S,"users":[...]} around PostgreSQL's JSON. */
	len = strlen(PQgetvalue(res, 0, 1)) + 96;
	if ((body = malloc(len)) == NULL) {
		PQclear(res);
		http_error(r, 500, "internal_error", "Out of memory.");
		return;
	}
	n = snprintf(body, len, "{\"online\":%lld,\"window\":%ld,\"users\":%s}",
	    db_get_i64(res, 0, 0), config.online_window, PQgetvalue(res, 0, 1));
	PQclear(res);
	if (n < 0 || (size_t)n >= len)
		http_error(r, 500, "internal_error", "Reply did not fit.");
	else
		http_reply_raw(r, 200, "application/json; charset=utf-8", body,
		    (size_t)n);
	free(body);
}

void
admin_users(struct http_req *r)
{
	char	  q[PREFIX_MAX + 8], lim[24];
	long long limit = 50, only = 0;
	PGresult *res;
	size_t	  i, len;
	int	  rc;

	rc = http_query_find(r->query, "q", q, sizeof(q));
	len = rc == 1 ? strlen(q) : 0;
	for (i = 0; i < len; i++)
		if (q[i] >= 'A' && q[i] <= 'Z')
			q[i] = (char)(q[i] - 'A' + 'a');
	if (rc == -1 || len > PREFIX_MAX ||
	    strspn(q, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != len) {
		http_error(r, 400, "invalid_parameter",
		    "Query parameter 'q' "
		    "must be at most 32 characters of a-z, 0-9, '_', '.', "
		    "'-'.");
		return;
	}
	if (rc != 1)
		q[0] = '\0';
	if (http_query_long(r, "limit", 1, LIST_MAX, &limit) == -1 ||
	    http_query_long(r, "suspended", 0, 1, &only) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_users, q, only ? "true" : "false",
		 db_i64(lim, limit))) == NULL) {
		http_db_error(r);
		return;
	}
	http_reply_wrap(r, 200, "users", PQgetvalue(res, 0, 0));
	PQclear(res);
}

void
admin_kick(struct http_req *r)
{
	char	    me[24], u[24];
	const char *reason;
	json_t	   *body = NULL;
	PGresult   *res;
	int64_t	    id;
	long long   ended;

	if (http_param_id(r, 0, &id) == -1 ||
	    read_reason(r, &body, &reason) == -1)
		goto out;
	if ((res = DB_EXEC(r->db, &sql_kick, db_i64(me, r->user_id),
		 db_i64(u, id), reason)) == NULL) {
		http_db_error(r);
		goto out;
	}
	if (http_outcome(r, user_outcomes, PQgetvalue(res, 0, 0)) < 0) {
		PQclear(res);
		goto out;
	}
	ended = db_get_i64(res, 0, 1);
	/* Committed: the parked polls wake through the trigger of sql/014;
	 * this hint only carries the presence change to the friends. */
	notify_users(db_get_str(res, 0, 2));
	PQclear(res);
	reply_user(r, id, "sessions_ended", ended);
out:
	json_decref(body);
}

static void
suspend(struct http_req *r, int on)
{
	char	    me[24], u[24];
	const char *reason;
	json_t	   *body = NULL;
	PGresult   *res;
	int64_t	    id;
	long long   ended;

	if (http_param_id(r, 0, &id) == -1 ||
	    read_reason(r, &body, &reason) == -1)
		goto out;
	if ((res = DB_EXEC(r->db, &sql_suspend, db_i64(me, r->user_id),
		 db_i64(u, id), on ? "true" : "false", reason)) == NULL) {
		http_db_error(r);
		goto out;
	}
	if (http_outcome(r, user_outcomes, PQgetvalue(res, 0, 0)) < 0) {
		PQclear(res);
		goto out;
	}
	ended = db_get_i64(res, 0, 2);
	notify_users(db_get_str(res, 0, 3));
	PQclear(res);
	reply_user(r, id, on ? "sessions_ended" : NULL, ended);
out:
	json_decref(body);
}

void
admin_suspend(struct http_req *r)
{
	suspend(r, 1);
}

void
admin_restore(struct http_req *r)
{
	suspend(r, 0);
}
