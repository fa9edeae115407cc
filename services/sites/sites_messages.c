/* sites_messages: messages from a site (on behalf of one of its users, or
 * system messages) and push events to its users' streams. */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "metrics.h"
#include "msgbody.h"
#include "notify.h"
#include "send.h"
#include "sites.h"
#include "valid.h"

static int   read_target(struct http_req *, json_t *, int64_t *, int64_t *);
static char *clean_text(struct http_req *, json_t *, const char *);
static int   send_as_user(struct http_req *, json_t *, PGresult **);
static int   send_system(struct http_req *, json_t *, PGresult **);
static char *ext_array(struct http_req *, json_t *);

/* Durable sends (201, not a client_id's repeat): sends/s for the metrics. */
static struct metric m_sent =
    METRIC_COUNTER("parley_messages_sent_total", "via=\"site\"",
	"Messages stored, by the way they came (api: "
	"POST /api/v1/messages, site: the server-to-server API).");

static const struct http_outcome push_outcomes[] = {
	{ "ok", 202, NULL, NULL },
	{ "no_such_group", 404, "group_not_found",
	    "No such group among the site's users' groups." },
	{ NULL, 0, NULL, NULL },
};

/* Exactly one of "to" (an external id) and "group_id". */
static int
read_target(struct http_req *r, json_t *req, int64_t *to, int64_t *group)
{
	*to = *group = 0;
	if (valid_id(r, req, "group_id", 0, group) == -1)
		return -1;
	if (sites_has(req, "to") && sites_lookup_field(r, req, "to", to) == -1)
		return -1;
	if ((*to == 0) == (*group == 0)) {
		http_error(r, 400, "invalid_field",
		    "Give exactly one of 'to' "
		    "and 'group_id'.");
		return -1;
	}
	return 0;
}

/* "body" checked for `type` as JSON text (caller frees), or NULL after a
 * 400. */
static char *
clean_text(struct http_req *r, json_t *req, const char *type)
{
	json_t *clean;
	char   *text;

	if ((clean = msgbody_clean(r, type, json_object_get(req, "body"))) ==
	    NULL)
		return NULL;
	text = json_dumps(clean, JSON_COMPACT);
	json_decref(clean);
	return text;
}

/* {"from","to"|"group_id","type","body","client_id"}: send_message() as
 * the user `from`: a user's send rules hold when the site sends for them. */
static int
send_as_user(struct http_req *r, json_t *req, PGresult **res)
{
	char	    from_s[24], to_s[24], group_s[24];
	const char *type = "text", *client = NULL;
	char	   *text;
	int64_t	    from, to, group;

	if (sites_lookup_field(r, req, "from", &from) == -1 ||
	    valid_string(r, req, "client_id", 0, 1, 64, &client) == -1 ||
	    valid_string(r, req, "type", 0, 1, 16, &type) == -1 ||
	    read_target(r, req, &to, &group) == -1)
		return -1;
	if (to == from) {
		http_error(r, 400, "invalid_field",
		    "A user cannot message "
		    "themselves.");
		return -1;
	}
	if (!msgbody_type_ok(type)) {
		http_error(r, 400, "invalid_field",
		    "The field 'type' must be "
		    "text, image, file, audio or video.");
		return -1;
	}
	if ((text = clean_text(r, req, type)) == NULL)
		return -1;
	*res = DB_EXEC(r->db, &send_stmt, db_i64(from_s, from),
	    to != 0 ? db_i64(to_s, to) : NULL,
	    group != 0 ? db_i64(group_s, group) : NULL, client, type, text);
	free(text);
	return 0;
}

/* {"to"|"group_id","type":"system","body":{"text"}}: no sender. */
static int
send_system(struct http_req *r, json_t *req, PGresult **res)
{
	char	    site[24], to_s[24], group_s[24];
	const char *type = "system";
	char	   *text;
	int64_t	    to, group;

	if (valid_string(r, req, "type", 0, 1, 16, &type) == -1 ||
	    read_target(r, req, &to, &group) == -1)
		return -1;
	if (strcmp(type, "system") != 0) {
		http_error(r, 400, "invalid_field",
		    "Without 'from' a message "
		    "is a system message: 'type' must be system.");
		return -1;
	}
	if (sites_has(req, "client_id")) {
		http_error(r, 400, "invalid_field",
		    "'client_id' needs 'from' "
		    "(retries of system messages are not de-duplicated).");
		return -1;
	}
	/* A system message carries text, like a text message. */
	if ((text = clean_text(r, req, "text")) == NULL)
		return -1;
	*res = DB_EXEC(r->db, &sql_system_message, db_i64(site, r->site_id),
	    to != 0 ? db_i64(to_s, to) : NULL,
	    group != 0 ? db_i64(group_s, group) : NULL, text);
	free(text);
	return 0;
}

void
sites_message(struct http_req *r)
{
	json_t	 *req;
	PGresult *res = NULL;
	int	  status, rc;

	if ((req = http_body_json(r)) == NULL)
		return;
	if (!sites_has(req, "body")) {
		http_error(r, 400, "missing_field",
		    "The field 'body' is "
		    "required.");
		goto out;
	}
	rc = sites_has(req, "from") ? send_as_user(r, req, &res) :
				      send_system(r, req, &res);
	if (rc == -1)
		goto out;
	if (res == NULL) {
		http_db_error(r);
		goto out;
	}
	/* site_system_message()'s statuses (created, no_such_group) are
	 * send_message()'s too. */
	if ((status = send_reply_status(r, SEND_SITE, PQgetvalue(res, 0, 0))) <
	    0)
		goto out;
	notify_users(db_get_str(res, 0, 2));
	if (status == 201)
		metric_add(&m_sent, 1);
	http_reply_wrap(r, status, "message", PQgetvalue(res, 0, 1));
out:
	PQclear(res);
	json_decref(req);
}

/* "users": 1..SITES_PUSH_USERS external ids -> the array as JSON text for
 * the statement (caller frees), or NULL after a 400. */
static char *
ext_array(struct http_req *r, json_t *users)
{
	json_t *v;
	size_t	i;

	if (!json_is_array(users) || json_array_size(users) == 0 ||
	    json_array_size(users) > SITES_PUSH_USERS) {
		http_error(r, 400, "invalid_field",
		    "The field 'users' must be "
		    "an array of 1 to %d external ids.",
		    SITES_PUSH_USERS);
		return NULL;
	}
	json_array_foreach(users, i, v)
	{
		if (!json_is_string(v) || !sites_ext_ok(json_string_value(v))) {
			http_error(r, 400, "invalid_field",
			    "users[%zu] is not "
			    "an external id.",
			    i);
			return NULL;
		}
	}
	return json_dumps(users, JSON_COMPACT);
}

void
sites_push(struct http_req *r)
{
	char	  site[24], group_s[24];
	char	 *users = NULL, *event = NULL;
	json_t	 *req, *ev, *all, *reply;
	PGresult *res = NULL;
	int64_t	  group = 0;
	int	  targets, status;

	if ((req = http_body_json(r)) == NULL)
		return;
	all = sites_has(req, "all") ? json_object_get(req, "all") : NULL;
	targets = sites_has(req, "users") + sites_has(req, "group_id") +
	    (all != NULL);
	if (targets != 1 || (all != NULL && !json_is_true(all))) {
		http_error(r, 400, "invalid_field",
		    "Give exactly one of "
		    "'users' (external ids), 'group_id' and 'all': true.");
		goto out;
	}
	if (valid_id(r, req, "group_id", 0, &group) == -1)
		goto out;
	if (sites_has(req, "users") &&
	    (users = ext_array(r, json_object_get(req, "users"))) == NULL)
		goto out;
	if ((ev = json_object_get(req, "event")) == NULL) {
		/* "event": null is a JSON value like any other: pushed as is. */
		http_error(r, 400, "missing_field",
		    "The field 'event' (any "
		    "JSON) is required.");
		goto out;
	}
	event = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
	if (event == NULL || strlen(event) > SITES_PUSH_BYTES) {
		http_error(r, 400, "invalid_field",
		    "The field 'event' must be "
		    "at most %d bytes of JSON.",
		    SITES_PUSH_BYTES);
		goto out;
	}
	res = DB_EXEC(r->db, &sql_push, db_i64(site, r->site_id), users,
	    group != 0 ? db_i64(group_s, group) : NULL,
	    all != NULL ? "true" : "false", event);
	if (res == NULL) {
		http_db_error(r);
		goto out;
	}
	if ((status = http_outcome(r, push_outcomes, PQgetvalue(res, 0, 0))) <
	    0)
		goto out;
	notify_users(db_get_str(res, 0, 3));
	reply = json_pack("{s:I,s:o}", "recipients",
	    (json_int_t)db_get_i64(res, 0, 1), "unknown",
	    PQgetisnull(res, 0, 2) ?
		json_array() :
		json_loads(PQgetvalue(res, 0, 2), 0, NULL));
	http_reply(r, status, reply);
out:
	PQclear(res);
	free(users);
	free(event);
	json_decref(req);
}
