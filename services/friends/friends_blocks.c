/* friends_blocks: block, unblock, list blocks. A block ends the friendship
 * and every pending request between the two, in one transaction. */
#include <stdio.h>

#include <stdlib.h>

#include "events.h"
#include "friends.h"
#include "http.h"
#include "notify.h"
#include "user.h"
#include "valid.h"

void
friends_block(struct http_req *r)
{
	char	  me[24], them[24], since[40];
	json_t	 *body, *user = NULL;
	PGresult *res = NULL;
	int64_t	  target, users[2];
	int	  created, ended;
	char	 *woken = NULL;

	if ((body = http_body_json(r)) == NULL)
		return;
	if (json_object_get(body, "user_id") == NULL) {
		http_error(r, 400, "missing_field",
		    "The field 'user_id' is "
		    "required.");
		goto out;
	}
	if (pair_target(r, body, &target, &user) == -1)
		goto out;
	if (target == r->user_id) {
		http_error(r, 400, "cannot_block_self",
		    "You cannot block "
		    "yourself.");
		goto out;
	}
	db_i64(me, r->user_id);
	db_i64(them, target);
	if (db_begin(r->db) == -1 ||
	    pair_lock(r->db, r->user_id, target) == -1 ||
	    (res = DB_EXEC(r->db, &sql_block_add, me, them)) == NULL)
		goto dberr;
	/* xmax = 0: the row was inserted now, not found already there. */
	created = db_get_bool(res, 0, 1);
	snprintf(since, sizeof(since), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((res = DB_EXEC(r->db, &sql_friendship_del, me, them)) == NULL)
		goto dberr;
	ended = PQcmdTuples(res)[0] != '0';
	PQclear(res);
	res = NULL;
	if ((res = DB_EXEC(r->db, &sql_requests_end_pair, me, them)) == NULL)
		goto dberr;
	PQclear(res);
	res = NULL;
	users[0] = r->user_id;
	users[1] = target;
	/* To the blocked side this is an ordinary unfriending. Streams are
	 * the last locks a transaction takes (DESIGN.md, "Lock order"), so
	 * the request rows are ended first. */
	if (ended &&
	    events_emit(r->db, users, 2, "friend.removed",
		friends_removed_json(r->user_id, target), &woken) == -1)
		goto dberr;
	if (db_commit(r->db) == -1)
		goto dberr;
	notify_users(woken);
	http_reply(r, created ? 201 : 200,
	    json_pack("{s:{s:O,s:s}}", "block", "user", user, "created_at",
		since));
	goto out;
dberr:
	db_rollback(r->db);
	http_db_error(r);
out:
	PQclear(res);
	free(woken);
	json_decref(user);
	json_decref(body);
}

void
friends_unblock(struct http_req *r)
{
	char	  me[24], them[24];
	PGresult *res;
	int64_t	  id;

	if (http_param_id(r, 0, &id) == -1)
		return;
	db_i64(me, r->user_id);
	db_i64(them, id);
	/* Under the pair lock, so a request sent now is either silent and
	 * ended here, or sees no block. */
	if (db_begin(r->db) == -1 || pair_lock(r->db, r->user_id, id) == -1 ||
	    (res = DB_EXEC(r->db, &sql_block_del, me, them)) == NULL)
		goto dberr;
	if (PQcmdTuples(res)[0] == '0') {
		PQclear(res);
		db_rollback(r->db);
		http_error(r, 404, "not_blocked",
		    "You have not blocked user "
		    "%lld.",
		    (long long)id);
		return;
	}
	PQclear(res);
	if ((res = DB_EXEC(r->db, &sql_requests_end_silent, me, them)) == NULL)
		goto dberr;
	PQclear(res);
	if (db_commit(r->db) == -1)
		goto dberr;
	http_reply(r, 204, NULL);
	return;
dberr:
	db_rollback(r->db);
	http_db_error(r);
}

void
friends_block_list(struct http_req *r)
{
	char	  me[24];
	PGresult *res;
	json_t	 *list;
	int	  row;

	if ((res = DB_EXEC(r->db, &sql_block_list, db_i64(me, r->user_id))) ==
	    NULL) {
		http_db_error(r);
		return;
	}
	list = json_array();
	for (row = 0; row < PQntuples(res); row++)
		json_array_append_new(list,
		    json_pack("{s:o,s:s}", "user", user_json(res, row, 0),
			"created_at", PQgetvalue(res, row, 3)));
	PQclear(res);
	http_reply(r, 200, json_pack("{s:o}", "blocks", list));
}
