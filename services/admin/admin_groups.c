/* admin_groups: finding groups, removing a member, deleting a group, and
 * deleting a message for everyone. The members get the events they get
 * when a member leaves or a message is recalled (sql/019_admin.sql). */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "http.h"
#include "notify.h"

#define LIST_MAX   200 /* groups per page */
#define FIND_BYTES 256 /* a group name: 64 characters, 4 bytes each */

static const struct http_outcome group_outcomes[] = {
	{ "ok", 204, NULL, NULL },
	{ "not_found", 404, "group_not_found", "No such group." },
	{ "not_member", 404, "not_member", "That user is not in the group." },
	{ NULL, 0, NULL, NULL },
};

static const struct http_outcome message_outcomes[] = {
	{ "ok", 204, NULL, NULL },
	{ "not_found", 404, "message_not_found", "No such message." },
	{ NULL, 0, NULL, NULL },
};

static void run_action(struct http_req *, const struct db_stmt *, int,
    const char *const *, const struct http_outcome *);

/* Runs an action function (status, woken) and replies 204 or its
 * refusal; the woken users' hint goes out after the commit. */
static void
run_action(struct http_req *r, const struct db_stmt *st, int n,
    const char *const *params, const struct http_outcome *outcomes)
{
	PGresult *res;
	int	  status;

	if ((res = db_exec(r->db, st, n, params)) == NULL) {
		http_db_error(r);
		return;
	}
	if ((status = http_outcome(r, outcomes, PQgetvalue(res, 0, 0))) > 0) {
		notify_users(db_get_str(res, 0, 1));
		http_reply(r, status, NULL);
	}
	PQclear(res);
}

void
admin_groups(struct http_req *r)
{
	char	  q[FIND_BYTES + 1], lim[24], bef[24];
	long long limit = 50, before = 0;
	PGresult *res;
	int	  rc;

	/* Any text: it is only compared with names, never parsed. */
	if ((rc = http_query_find(r->query, "q", q, sizeof(q))) == -1) {
		http_error(r, 400, "invalid_parameter",
		    "Query parameter 'q' "
		    "must be UTF-8 text of at most %d bytes.",
		    FIND_BYTES);
		return;
	}
	if (rc == 0)
		q[0] = '\0';
	if (http_query_long(r, "limit", 1, LIST_MAX, &limit) == -1 ||
	    http_query_long(r, "before", 1, INT64_MAX, &before) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_groups, q, db_i64(bef, before),
		 db_i64(lim, limit))) == NULL) {
		http_db_error(r);
		return;
	}
	http_reply_wrap(r, 200, "groups", PQgetvalue(res, 0, 0));
	PQclear(res);
}

void
admin_group_get(struct http_req *r)
{
	char	  g[24];
	PGresult *res;
	int64_t	  id;

	if (http_param_id(r, 0, &id) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_group_get, db_i64(g, id))) == NULL) {
		http_db_error(r);
		return;
	}
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		http_error(r, 404, "group_not_found", "No such group.");
	else
		http_reply_wrap(r, 200, "group", PQgetvalue(res, 0, 0));
	PQclear(res);
}

void
admin_group_delete(struct http_req *r)
{
	char	me[24], g[24];
	int64_t id;

	if (http_param_id(r, 0, &id) == -1)
		return;
	run_action(r, &sql_group_delete, 2,
	    (const char *[]){ db_i64(me, r->user_id), db_i64(g, id) },
	    group_outcomes);
}

void
admin_group_remove(struct http_req *r)
{
	char	me[24], g[24], u[24];
	int64_t id, user;

	if (http_param_id(r, 0, &id) == -1 || http_param_id(r, 1, &user) == -1)
		return;
	run_action(r, &sql_group_remove, 3,
	    (const char *[]){ db_i64(me, r->user_id), db_i64(g, id),
		db_i64(u, user) },
	    group_outcomes);
}

void
admin_message_delete(struct http_req *r)
{
	char	me[24], m[24];
	int64_t id;

	if (http_param_id(r, 0, &id) == -1)
		return;
	run_action(r, &sql_message_delete, 2,
	    (const char *[]){ db_i64(me, r->user_id), db_i64(m, id) },
	    message_outcomes);
}
