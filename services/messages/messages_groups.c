/* messages_groups: group create, view, rename, members, roles, leave. The
 * rules (who may do what, friends only, 500 members) live in the database
 * functions of sql/functions/60_groups.sql, under the group's row lock. */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "messages.h"
#include "notify.h"
#include "valid.h"

#define NAME_MAX_CHARS 64

static const struct http_outcome group_outcomes[] = {
	{ "ok", 200, NULL, NULL },
	{ "not_found", 404, "group_not_found", "No such group." },
	{ "not_member", 404, "not_member", "That user is not in the group." },
	{ "forbidden", 403, "forbidden",
	    "Your role in this group does not allow that." },
	{ "not_friends", 403, "not_friends",
	    "You can only add your friends to a group." },
	{ "too_many", 409, "group_full", "A group has at most 500 members." },
	{ NULL, 0, NULL, NULL },
};

static void reply_group(struct http_req *, int, int64_t);
static void run_change(struct http_req *, const struct db_stmt *, int,
    const char *const *, int, int64_t);

/* Answers {"group": ...} as the caller sees it now. */
static void
reply_group(struct http_req *r, int status, int64_t id)
{
	char	  g[24], me[24];
	PGresult *res;

	if ((res = DB_EXEC(r->db, &sql_group_get, db_i64(g, id),
		 db_i64(me, r->user_id))) == NULL) {
		http_db_error(r);
		return;
	}
	/* A direct conversation has member rows too, but no group_json. */
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		if (status == 204)
			http_reply(r, 204, NULL);
		else
			http_error(r, 404, "group_not_found", "No such group.");
		return;
	}
	if (status == 204) {
		PQclear(res);
		http_reply(r, 204, NULL);
		return;
	}
	http_reply_wrap(r, status, "group", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* Runs a group function (status, detail, woken) and replies. */
static void
run_change(struct http_req *r, const struct db_stmt *st, int n,
    const char *const *params, int ok_status, int64_t group)
{
	PGresult   *res;
	const char *detail;

	if ((res = db_exec(r->db, st, n, params)) == NULL) {
		http_db_error(r);
		return;
	}
	detail = db_get_str(res, 0, 1);
	if (strcmp(PQgetvalue(res, 0, 0), "not_friends") == 0 &&
	    detail != NULL) {
		http_error(r, 403, "not_friends",
		    "You can only add your "
		    "friends; not friends: %s.",
		    detail);
		PQclear(res);
		return;
	}
	if (http_outcome(r, group_outcomes, PQgetvalue(res, 0, 0)) > 0) {
		notify_users(db_get_str(res, 0, 2));
		reply_group(r, ok_status, group);
	}
	PQclear(res);
}

void
groups_create(struct http_req *r)
{
	char	    me[24], max[24], *arr = NULL;
	const char *name = NULL;
	json_t	   *body;
	int64_t	   *ids = NULL;
	size_t	    n;
	PGresult   *res = NULL;

	if ((body = http_body_json(r)) == NULL)
		return;
	if (valid_string(r, body, "name", VALID_REQUIRED | VALID_NAME, 1,
		NAME_MAX_CHARS, &name) == -1 ||
	    valid_id_array(r, body, "members", VALID_REQUIRED,
		GROUP_MAX_MEMBERS, &ids, &n) == -1)
		goto out;
	arr = db_i64_array(ids, n);
	res = DB_EXEC(r->db, &sql_group_create, db_i64(me, r->user_id), name,
	    arr, db_i64(max, GROUP_MAX_MEMBERS));
	if (res == NULL) {
		http_db_error(r);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "not_friends") == 0)
		http_error(r, 403, "not_friends",
		    "A group can only start with "
		    "your friends; not friends: %s.",
		    PQgetvalue(res, 0, 2));
	else if (http_outcome(r, group_outcomes, PQgetvalue(res, 0, 0)) > 0) {
		notify_users(db_get_str(res, 0, 3));
		reply_group(r, 201, db_get_i64(res, 0, 1));
	}
out:
	PQclear(res);
	free(arr);
	free(ids);
	json_decref(body);
}

void
groups_get(struct http_req *r)
{
	int64_t id;

	if (http_param_id(r, 0, &id) == 0)
		reply_group(r, 200, id);
}

void
groups_rename(struct http_req *r)
{
	char	    me[24], g[24];
	const char *name = NULL;
	json_t	   *body;
	int64_t	    id;

	if (http_param_id(r, 0, &id) == -1 ||
	    (body = http_body_json(r)) == NULL)
		return;
	if (valid_string(r, body, "name", VALID_REQUIRED | VALID_NAME, 1,
		NAME_MAX_CHARS, &name) == 0)
		run_change(r, &sql_group_rename, 3,
		    (const char *[]){ db_i64(me, r->user_id), db_i64(g, id),
			name },
		    200, id);
	json_decref(body);
}

void
groups_add_members(struct http_req *r)
{
	char	me[24], g[24], max[24], *arr;
	json_t *body;
	int64_t id, *ids;
	size_t	n;

	if (http_param_id(r, 0, &id) == -1 ||
	    (body = http_body_json(r)) == NULL)
		return;
	if (valid_id_array(r, body, "members", VALID_REQUIRED,
		GROUP_MAX_MEMBERS, &ids, &n) == 0) {
		arr = db_i64_array(ids, n);
		run_change(r, &sql_group_add, 4,
		    (const char *[]){ db_i64(me, r->user_id), db_i64(g, id),
			arr, db_i64(max, GROUP_MAX_MEMBERS) },
		    200, id);
		free(arr);
		free(ids);
	}
	json_decref(body);
}

void
groups_remove_member(struct http_req *r)
{
	char	me[24], g[24], u[24];
	int64_t id, user;

	if (http_param_id(r, 0, &id) == -1 || http_param_id(r, 1, &user) == -1)
		return;
	run_change(r, &sql_group_remove, 3,
	    (const char *[]){ db_i64(me, r->user_id), db_i64(g, id),
		db_i64(u, user) },
	    204, id);
}

void
groups_leave(struct http_req *r)
{
	char	me[24], g[24];
	int64_t id;

	if (http_param_id(r, 0, &id) == -1)
		return;
	run_change(r, &sql_group_remove, 3,
	    (const char *[]){ db_i64(me, r->user_id), db_i64(g, id), me }, 204,
	    id);
}

void
groups_set_role(struct http_req *r)
{
	char	    me[24], g[24], u[24];
	const char *role = NULL;
	json_t	   *body;
	int64_t	    id, user;

	if (http_param_id(r, 0, &id) == -1 ||
	    http_param_id(r, 1, &user) == -1 ||
	    (body = http_body_json(r)) == NULL)
		return;
	if (valid_string(r, body, "role", VALID_REQUIRED, 1, 16, &role) == 0) {
		if (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0)
			http_error(r, 400, "invalid_field",
			    "The field 'role' "
			    "must be admin or member.");
		else
			run_change(r, &sql_group_role, 4,
			    (const char *[]){ db_i64(me, r->user_id),
				db_i64(g, id), db_i64(u, user), role },
			    200, id);
	}
	json_decref(body);
}
