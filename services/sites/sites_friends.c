/* sites_friends: a site imports (or ends) friendships between its users
 * directly, without requests. */
#include <string.h>

#include "http.h"
#include "notify.h"
#include "sites.h"

static int read_pair(struct http_req *, json_t *, int64_t *, int64_t *);

static const struct http_outcome add_outcomes[] = {
	{ "created", 201, NULL, NULL },
	{ "exists", 200, NULL, NULL },
	{ "blocked", 409, "blocked",
	    "One of the two users blocked the other." },
	{ NULL, 0, NULL, NULL },
};

static const struct http_outcome remove_outcomes[] = {
	{ "removed", 200, NULL, NULL },
	{ "not_friends", 200, NULL, NULL },
	{ NULL, 0, NULL, NULL },
};

/* Body {"a","b"}: two different users of the site. */
static int
read_pair(struct http_req *r, json_t *body, int64_t *a, int64_t *b)
{
	if (sites_lookup_field(r, body, "a", a) == -1 ||
	    sites_lookup_field(r, body, "b", b) == -1)
		return -1;
	if (*a == *b) {
		http_error(r, 400, "invalid_field",
		    "'a' and 'b' must be two different users.");
		return -1;
	}
	return 0;
}

static void
pair_call(struct http_req *r, const struct db_stmt *st,
    const struct http_outcome *outcomes, const char *key, const char *yes)
{
	char	    a_s[24], b_s[24];
	const char *status;
	json_t	   *body;
	PGresult   *res = NULL;
	int64_t	    a, b;
	int	    code;

	if ((body = http_body_json(r)) == NULL)
		return;
	if (read_pair(r, body, &a, &b) == -1)
		goto out;
	if ((res = DB_EXEC(r->db, st, db_i64(a_s, a), db_i64(b_s, b))) ==
	    NULL) {
		http_db_error(r);
		goto out;
	}
	status = PQgetvalue(res, 0, 0);
	if ((code = http_outcome(r, outcomes, status)) < 0)
		goto out;
	notify_users(db_get_str(res, 0, 1));
	http_reply(r, code, json_pack("{s:b}", key, strcmp(status, yes) == 0));
out:
	PQclear(res);
	json_decref(body);
}

void
sites_friend_add(struct http_req *r)
{
	pair_call(r, &sql_friend_add, add_outcomes, "created", "created");
}

void
sites_friend_remove(struct http_req *r)
{
	pair_call(r, &sql_friend_remove, remove_outcomes, "removed", "removed");
}
