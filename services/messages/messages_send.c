/* messages_send: POST /messages (validation here, the write in
 * send_message()) and recall. */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "metrics.h"
#include "messages.h"
#include "msgbody.h"
#include "notify.h"
#include "send.h"
#include "valid.h"

/* Durable sends (201, not a client_id's repeat): sends/s for the metrics. */
static struct metric m_sent =
    METRIC_COUNTER("parley_messages_sent_total", "via=\"api\"",
	"Messages stored, by the way they came (api: "
	"POST /api/v1/messages, site: the server-to-server API).");

static const struct http_outcome recall_outcomes[] = {
	{ "ok", 200, NULL, NULL },
	{ "already", 200, NULL, NULL },
	{ "not_found", 404, "message_not_found", "No such message." },
	{ "not_sender", 403, "not_sender",
	    "Only the sender may recall a message." },
	{ "too_late", 409, "recall_window_passed",
	    "Messages can only be recalled within 2 minutes of sending." },
	{ NULL, 0, NULL, NULL },
};

void
messages_send(struct http_req *r)
{
	char	    me[24], to_s[24], group_s[24];
	const char *type = NULL, *client = NULL;
	char	   *bodytext = NULL;
	json_t	   *req, *clean = NULL;
	PGresult   *res = NULL;
	int64_t	    to = 0, group = 0;
	int	    status;

	if ((req = http_body_json(r)) == NULL)
		return;
	if (valid_id(r, req, "to", 0, &to) == -1 ||
	    valid_id(r, req, "group_id", 0, &group) == -1 ||
	    valid_string(r, req, "client_id", 0, 1, 64, &client) == -1 ||
	    valid_string(r, req, "type", VALID_REQUIRED, 1, 16, &type) == -1)
		goto out;
	if ((to == 0) == (group == 0)) {
		http_error(r, 400, "invalid_field",
		    "Give exactly one of 'to' "
		    "and 'group_id'.");
		goto out;
	}
	if (!msgbody_type_ok(type)) {
		http_error(r, 400, "invalid_field",
		    "The field 'type' must be "
		    "text, image, file, audio or video.");
		goto out;
	}
	if (json_object_get(req, "body") == NULL) {
		http_error(r, 400, "missing_field",
		    "The field 'body' is "
		    "required.");
		goto out;
	}
	if ((clean = msgbody_clean(r, type, json_object_get(req, "body"))) ==
	    NULL)
		goto out;
	if (to == r->user_id) {
		http_error(r, 400, "invalid_field",
		    "You cannot message "
		    "yourself.");
		goto out;
	}
	bodytext = json_dumps(clean, JSON_COMPACT);
	res = DB_EXEC(r->db, &send_stmt, db_i64(me, r->user_id),
	    to != 0 ? db_i64(to_s, to) : NULL,
	    group != 0 ? db_i64(group_s, group) : NULL, client, type, bodytext);
	if (res == NULL) {
		http_db_error(r);
		goto out;
	}
	if ((status = send_reply_status(r, SEND_USER, PQgetvalue(res, 0, 0))) <
	    0)
		goto out;
	notify_users(db_get_str(res, 0, 2));
	if (status == 201)
		metric_add(&m_sent, 1);
	http_reply_wrap(r, status, "message", PQgetvalue(res, 0, 1));
out:
	PQclear(res);
	free(bodytext);
	json_decref(clean);
	json_decref(req);
}

void
messages_recall(struct http_req *r)
{
	char	  me[24], id_s[24], win[24];
	PGresult *res;
	int64_t	  id;
	int	  status;

	if (http_param_id(r, 0, &id) == -1)
		return;
	res = DB_EXEC(r->db, &sql_recall, db_i64(me, r->user_id),
	    db_i64(id_s, id), db_i64(win, 120));
	if (res == NULL) {
		http_db_error(r);
		return;
	}
	if ((status = http_outcome(r, recall_outcomes, PQgetvalue(res, 0, 0))) >
	    0) {
		notify_users(db_get_str(res, 0, 2));
		http_reply_wrap(r, status, "message", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
}
