/* calls_rooms: mesh rooms of 2 to 8 people. The server keeps who is in a
 * room and relays signals between members; media flows peer to peer (each
 * member connects to every other). */
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "valid.h"

#define CAPACITY_DEFAULT 4

static const struct http_outcome create_outcomes[] = {
	{ "created", 201, NULL, NULL },
	{ "no_such_user", 404, "user_not_found",
	    "An invited user does not "
	    "exist." },
	/* Only to the blocker: who blocked the owner is just no friend. */
	{ "blocked", 403, "blocked",
	    "You blocked one of these users; unblock "
	    "them to invite them." },
	{ "not_friends", 403, "not_friends",
	    "You can only invite your "
	    "friends." },
	{ NULL, 0, NULL, NULL },
};

static const struct http_outcome join_outcomes[] = {
	{ "ok", 200, NULL, NULL },
	{ "not_found", 404, "room_not_found", "No such room." },
	/* To the uninvited a room does not exist. */
	{ "not_invited", 404, "room_not_found", "No such room." },
	{ "closed", 409, "room_closed", "The room has closed." },
	{ "full", 409, "room_full", "The room is full." },
	{ NULL, 0, NULL, NULL },
};

static const struct http_outcome leave_outcomes[] = {
	{ "ok", 204, NULL, NULL },
	{ "not_found", 404, "room_not_found", "No such room." },
	{ "not_member", 409, "not_in_room", "You are not in this room." },
	{ NULL, 0, NULL, NULL },
};

static const struct http_outcome signal_outcomes[] = {
	{ "ok", 202, NULL, NULL },
	{ "not_found", 404, "room_not_found", "No such room." },
	{ "not_member", 403, "not_in_room",
	    "Join the room before "
	    "signaling." },
	{ "peer_not_member", 409, "peer_not_in_room",
	    "That user is not in "
	    "the room." },
	{ "too_many", 429, "too_many_signals",
	    "Too many signals in this "
	    "room." },
	{ NULL, 0, NULL, NULL },
};

void
rooms_create(struct http_req *r)
{
	char	    me[24], cap[24], *ids = NULL;
	const char *media;
	long long   capacity = CAPACITY_DEFAULT;
	json_t	   *req;
	int64_t	   *invite = NULL;
	size_t	    n = 0;

	if ((req = http_body_json(r)) == NULL)
		return;
	if (valid_int(r, req, "capacity", 0, 2, 8, &capacity) == -1 ||
	    calls_media(r, req, "video", &media) == -1 ||
	    valid_id_array(r, req, "invite", VALID_REQUIRED, ROOM_MAX_INVITES,
		&invite, &n) == -1)
		goto out;
	if (n == 0) {
		http_error(r, 400, "invalid_field",
		    "The field 'invite' must "
		    "name at least one friend.");
		goto out;
	}
	ids = db_i64_array(invite, n);
	calls_reply(r,
	    DB_EXEC(r->db, &sql_room_create, db_i64(me, r->user_id),
		db_i64(cap, capacity), media, ids),
	    create_outcomes, "room");
out:
	free(ids);
	free(invite);
	json_decref(req);
}

void
rooms_get(struct http_req *r)
{
	calls_get_visible(r, &sql_room_get, "room", "room_not_found",
	    "No such room.");
}

/* Each member already in the room gets room.peer_joined with its own
 * TURN credential for the room (it answers the joiner's offer with a new
 * connection); the joiner gets its own in the reply. */
void
rooms_join(struct http_req *r)
{
	char	  me[24], dev[24], id_s[24], uid[24], *map_text;
	PGresult *res;
	json_t	 *room, *peers, *map;
	int64_t	  id, user;
	int	  row;

	if (http_param_id(r, 0, &id) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_room_invited, db_i64(id_s, id),
		 db_i64(me, r->user_id))) == NULL) {
		http_db_error(r);
		return;
	}
	map = json_object();
	for (row = 0; row < PQntuples(res); row++) {
		user = db_get_i64(res, row, 0);
		json_object_set_new(map, db_i64(uid, user),
		    ice_json(user, 'r', id, calls_config.call_ttl));
	}
	PQclear(res);
	if ((map_text = json_dumps(map, JSON_COMPACT)) == NULL)
		log_fatal("json_dumps: out of memory");
	json_decref(map);
	res = DB_EXEC(r->db, &sql_room_join, me, db_i64(dev, r->session_id),
	    id_s, map_text);
	free(map_text);
	if (res == NULL) {
		http_db_error(r);
		return;
	}
	notify_users(db_get_str(res, 0, 2));
	if (http_outcome(r, join_outcomes, PQgetvalue(res, 0, 0)) > 0) {
		room = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
		peers = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
		if (room == NULL || !json_is_array(peers))
			log_fatal("room_join returned bad JSON");
		/* The joiner offers to every peer already there. */
		http_reply(r, 200,
		    json_pack("{s:o,s:o,s:b,s:o}", "room", room, "peers", peers,
			"initiator", json_array_size(peers) > 0, "ice",
			ice_json(r->user_id, 'r', id, calls_config.call_ttl)));
	}
	PQclear(res);
}

void
rooms_leave(struct http_req *r)
{
	char	me[24], id_s[24];
	int64_t id;

	if (http_param_id(r, 0, &id) == -1)
		return;
	calls_reply(r,
	    DB_EXEC(r->db, &sql_room_leave, db_i64(me, r->user_id),
		db_i64(id_s, id)),
	    leave_outcomes, NULL);
}

void
rooms_signal(struct http_req *r)
{
	char	    me[24], id_s[24], to_s[24], max[24], *data = NULL;
	const char *kind;
	json_t	   *req;
	int64_t	    id, to;

	if (http_param_id(r, 0, &id) == -1 || (req = http_body_json(r)) == NULL)
		return;
	if (valid_id(r, req, "to", VALID_REQUIRED, &to) == 0 &&
	    (data = calls_signal_body(r, req, &kind)) != NULL)
		calls_reply(r,
		    DB_EXEC(r->db, &sql_room_signal, db_i64(me, r->user_id),
			db_i64(id_s, id), db_i64(to_s, to), kind, data,
			db_i64(max, SIGNALS_PER_CALL)),
		    signal_outcomes, NULL);
	free(data);
	json_decref(req);
}
