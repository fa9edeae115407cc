/* friends_requests: send, list, accept, reject and cancel friend requests.
 * Every change runs in a transaction under the pair lock (friends_pair.c),
 * so two users asking each other at once end as friends, not as two
 * pending requests. */
#include <string.h>

#include <stdlib.h>

#include "friends.h"
#include "http.h"
#include "notify.h"
#include "user.h"
#include "valid.h"

#define MEMO_MAX 200

static json_t	*request_json(const PGresult *, int);
static PGresult *request_get(struct http_req *, int64_t);
static void	 decide(struct http_req *, const char *);

static json_t *
request_json(const PGresult *res, int row)
{
	return json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:o}", "id",
	    (json_int_t)db_get_i64(res, row, 0), "from",
	    (json_int_t)db_get_i64(res, row, 1), "to",
	    (json_int_t)db_get_i64(res, row, 2), "memo",
	    PQgetvalue(res, row, 3), "state", PQgetvalue(res, row, 4),
	    "created_at", PQgetvalue(res, row, 5), "user",
	    user_json(res, row, 6));
}

/* The request as the caller may see it; replies 404/503 and returns NULL
 * when it is unknown, someone else's, or silent toward the caller. */
static PGresult *
request_get(struct http_req *r, int64_t id)
{
	char	  sid[24], me[24];
	PGresult *res;

	res = DB_EXEC(r->db, &sql_request_get, db_i64(sid, id),
	    db_i64(me, r->user_id));
	if (res == NULL) {
		http_db_error(r);
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		http_error(r, 404, "request_not_found",
		    "You have no friend "
		    "request with id %lld.",
		    (long long)id);
		return NULL;
	}
	return res;
}

void
friends_request_create(struct http_req *r)
{
	char	    me[24], them[24], rid[24];
	const char *memo = "";
	json_t	   *body, *user = NULL, *reqjson = NULL;
	PGresult   *res = NULL;
	int64_t	    target, theirs = 0, id, users[2];
	int	    status = 201, silent = 0;
	char	   *woken = NULL;

	if ((body = http_body_json(r)) == NULL)
		return;
	if (valid_string(r, body, "memo", VALID_MULTILINE, 0, MEMO_MAX,
		&memo) == -1 ||
	    pair_target(r, body, &target, &user) == -1)
		goto out;
	if (target == r->user_id) {
		http_error(r, 400, "cannot_befriend_self",
		    "You cannot send a "
		    "friend request to yourself.");
		goto out;
	}
	db_i64(me, r->user_id);
	db_i64(them, target);
	if (db_begin(r->db) == -1 ||
	    pair_lock(r->db, r->user_id, target) == -1 ||
	    (res = DB_EXEC(r->db, &sql_relation, me, them)) == NULL)
		goto dberr;
	if (db_get_bool(res, 0, 0)) {
		http_error(r, 409, "already_friends",
		    "You are already "
		    "friends.");
		goto rollback;
	}
	if (db_get_bool(res, 0, 1)) {
		http_error(r, 403, "blocked",
		    "You have blocked this user; "
		    "unblock them first.");
		goto rollback;
	}
	if (db_get_bool(res, 0, 3)) {
		http_error(r, 409, "request_pending",
		    "You already asked this "
		    "user; the request is pending.");
		goto rollback;
	}
	if (!PQgetisnull(res, 0, 4))
		theirs = db_get_i64(res, 0, 4);
	/* If they blocked me, the request is stored silently: I see it as
	 * pending, they never do, and nothing tells me about the block. */
	id = theirs;
	if (theirs != 0) {
		PQclear(res);
		res = DB_EXEC(r->db, &sql_request_decide, db_i64(rid, theirs),
		    me, "accepted");
		if (res == NULL)
			goto dberr;
		PQclear(res);
		if ((res = DB_EXEC(r->db, &sql_friendship_add, me, them)) ==
		    NULL)
			goto dberr;
		status = 200;
	} else {
		silent = db_get_bool(res, 0, 2);
		PQclear(res);
		res = DB_EXEC(r->db, &sql_request_insert, me, them, memo,
		    silent ? "true" : "false");
		if (res == NULL)
			goto dberr;
		id = db_get_i64(res, 0, 0);
	}
	PQclear(res);
	res = NULL;
	/* The request, as I see it, goes to my devices; to theirs too unless
	 * it is silent. A crossing request is an acceptance for both. */
	if ((res = request_get(r, id)) == NULL) {
		db_rollback(r->db);
		goto out;
	}
	reqjson = request_json(res, 0);
	users[0] = r->user_id;
	users[1] = target;
	if (pair_request_event(r->db, users, silent && status == 201 ? 1 : 2,
		status == 201 ? "friend.request" : "friend.accepted", id,
		&woken) == -1 ||
	    db_commit(r->db) == -1)
		goto dberr;
	notify_users(woken);
	http_reply(r, status, json_pack("{s:O}", "request", reqjson));
	goto out;
dberr:
	db_rollback(r->db);
	http_db_error(r);
	goto out;
rollback:
	db_rollback(r->db);
out:
	PQclear(res);
	free(woken);
	json_decref(reqjson);
	json_decref(user);
	json_decref(body);
}

void
friends_request_list(struct http_req *r)
{
	const struct db_stmt *st[2] = { &sql_requests_in, &sql_requests_out };
	const char	     *key[2] = { "incoming", "outgoing" };
	char		      me[24];
	json_t		     *reply, *list;
	PGresult	     *res;
	int		      i, row;

	reply = json_object();
	for (i = 0; i < 2; i++) {
		if ((res = DB_EXEC(r->db, st[i], db_i64(me, r->user_id))) ==
		    NULL) {
			json_decref(reply);
			http_db_error(r);
			return;
		}
		list = json_array();
		for (row = 0; row < PQntuples(res); row++)
			json_array_append_new(list, request_json(res, row));
		PQclear(res);
		json_object_set_new(reply, key[i], list);
	}
	http_reply(r, 200, reply);
}

/* Accept or reject: only the recipient, only while pending. */
static void
decide(struct http_req *r, const char *state)
{
	char	  sid[24], me[24], from[24], *woken = NULL;
	PGresult *res;
	json_t	 *reqjson;
	int64_t	  id, from_id, users[2];

	if (http_param_id(r, 0, &id) == -1 ||
	    (res = request_get(r, id)) == NULL)
		return;
	from_id = db_get_i64(res, 0, 1);
	if (db_get_i64(res, 0, 2) != r->user_id) {
		PQclear(res);
		http_error(r, 403, "not_recipient",
		    "Only the recipient may "
		    "accept or reject a friend request.");
		return;
	}
	PQclear(res);
	db_i64(sid, id);
	db_i64(me, r->user_id);
	db_i64(from, from_id);
	if (db_begin(r->db) == -1 ||
	    pair_lock(r->db, from_id, r->user_id) == -1 ||
	    (res = DB_EXEC(r->db, &sql_request_decide, sid, me, state)) == NULL)
		goto dberr;
	/* Re-checked under the lock: a block or cancel may have won. */
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(r->db);
		http_error(r, 409, "request_not_pending",
		    "This friend request "
		    "is no longer pending.");
		return;
	}
	PQclear(res);
	if (strcmp(state, "accepted") == 0) {
		if ((res = DB_EXEC(r->db, &sql_friendship_add, me, from)) ==
		    NULL)
			goto dberr;
		PQclear(res);
	}
	if ((res = request_get(r, id)) == NULL) {
		db_rollback(r->db);
		return;
	}
	reqjson = request_json(res, 0);
	PQclear(res);
	/* Both sides learn of a friendship; a rejection only syncs my own
	 * devices (the sender is not told). */
	users[0] = r->user_id;
	users[1] = from_id;
	if (pair_request_event(r->db, users,
		strcmp(state, "accepted") == 0 ? 2 : 1,
		strcmp(state, "accepted") == 0 ? "friend.accepted" :
						 "friend.rejected",
		id, &woken) == -1 ||
	    db_commit(r->db) == -1) {
		json_decref(reqjson);
		free(woken);
		goto dberr;
	}
	notify_users(woken);
	free(woken);
	http_reply(r, 200, json_pack("{s:o}", "request", reqjson));
	return;
dberr:
	db_rollback(r->db);
	http_db_error(r);
}

void
friends_request_accept(struct http_req *r)
{
	decide(r, "accepted");
}

void
friends_request_reject(struct http_req *r)
{
	decide(r, "rejected");
}

void
friends_request_cancel(struct http_req *r)
{
	char	  sid[24], me[24], *woken = NULL;
	PGresult *res;
	int64_t	  id, users[2];
	int	  mine, silent;

	if (http_param_id(r, 0, &id) == -1 ||
	    (res = request_get(r, id)) == NULL)
		return;
	mine = db_get_i64(res, 0, 1) == r->user_id;
	PQclear(res);
	if (!mine) {
		http_error(r, 403, "not_sender",
		    "Only the sender may cancel a "
		    "friend request; the recipient rejects it.");
		return;
	}
	if (db_begin(r->db) == -1 ||
	    (res = DB_EXEC(r->db, &sql_request_cancel, db_i64(sid, id),
		 db_i64(me, r->user_id))) == NULL)
		goto dberr;
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(r->db);
		http_error(r, 409, "request_not_pending",
		    "This friend request "
		    "is no longer pending.");
		return;
	}
	users[0] = r->user_id;
	users[1] = db_get_i64(res, 0, 0);
	silent = db_get_bool(res, 0, 1);
	PQclear(res);
	/* The recipient's pending list changes too, unless it never saw it. */
	if (pair_request_event(r->db, users, silent ? 1 : 2, "friend.canceled",
		id, &woken) == -1 ||
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
