/* friends_list: the friend list and ending a friendship. */
#include "friends.h"
#include "http.h"
#include "user.h"

void
friends_list(struct http_req *r)
{
	char		 me[24];
	PGresult	*res;
	json_t		*list, *u;
	int		 row;

	if ((res = DB_EXEC(r->db, &sql_friends_list,
	    db_i64(me, r->user_id))) == NULL) {
		http_db_error(r);
		return;
	}
	list = json_array();
	for (row = 0; row < PQntuples(res); row++) {
		u = user_json(res, row, 0);
		json_object_set_new(u, "since", json_string(PQgetvalue(res, row,
		    3)));
		json_array_append_new(list, u);
	}
	PQclear(res);
	http_reply(r, 200, json_pack("{s:o}", "friends", list));
}

void
friends_remove(struct http_req *r)
{
	char		 me[24], them[24];
	PGresult	*res;
	int64_t		 id;

	if (http_param_id(r, 0, &id) == -1)
		return;
	/* Both rows go in one statement: the friendship ends for both. */
	res = DB_EXEC(r->db, &sql_friendship_del, db_i64(me, r->user_id),
	    db_i64(them, id));
	if (res == NULL) {
		http_db_error(r);
		return;
	}
	if (PQcmdTuples(res)[0] == '0')
		http_error(r, 404, "not_friends", "You are not friends with "
		    "user %lld.", (long long)id);
	else
		http_reply(r, 204, NULL);
	PQclear(res);
}
