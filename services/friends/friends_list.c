/* friends_list: the friend list and ending a friendship. */
#include <stdlib.h>

#include "events.h"
#include "friends.h"
#include "http.h"
#include "notify.h"
#include "user.h"

void
friends_list(struct http_req *r)
{
	char	  me[24];
	PGresult *res;
	json_t	 *list, *u;
	int	  row;

	if ((res = DB_EXEC(r->db, &sql_friends_list, db_i64(me, r->user_id))) ==
	    NULL) {
		http_db_error(r);
		return;
	}
	list = json_array();
	for (row = 0; row < PQntuples(res); row++) {
		u = user_json(res, row, 0);
		json_object_set_new(u, "since",
		    json_string(PQgetvalue(res, row, 3)));
		json_object_set_new(u, "online",
		    json_boolean(db_get_bool(res, row, 4)));
		json_array_append_new(list, u);
	}
	PQclear(res);
	http_reply(r, 200, json_pack("{s:o}", "friends", list));
}

/* The friend.removed event data, the same for both sides. */
json_t *
friends_removed_json(int64_t by, int64_t other)
{
	return json_pack("{s:[I,I],s:I}", "users", (json_int_t)by,
	    (json_int_t)other, "by", (json_int_t)by);
}

void
friends_remove(struct http_req *r)
{
	char	  me[24], them[24], *woken = NULL;
	PGresult *res;
	int64_t	  id, users[2];
	int	  gone;

	if (http_param_id(r, 0, &id) == -1)
		return;
	if (db_begin(r->db) == -1 || pair_lock(r->db, r->user_id, id) == -1 ||
	    (res = DB_EXEC(r->db, &sql_friendship_del, db_i64(me, r->user_id),
		 db_i64(them, id))) == NULL)
		goto dberr;
	/* Both rows go in one statement: the friendship ends for both. */
	gone = PQcmdTuples(res)[0] != '0';
	PQclear(res);
	if (!gone) {
		db_rollback(r->db);
		http_error(r, 404, "not_friends",
		    "You are not friends with "
		    "user %lld.",
		    (long long)id);
		return;
	}
	users[0] = r->user_id;
	users[1] = id;
	if (events_emit(r->db, users, 2, "friend.removed",
		friends_removed_json(r->user_id, id), &woken) == -1 ||
	    db_commit(r->db) == -1)
		goto dberr;
	notify_users(woken);
	free(woken);
	http_reply(r, 204, NULL);
	return;
dberr:
	free(woken);
	db_rollback(r->db);
	http_db_error(r);
}
