/* messages_send: POST /messages (validation here, the write in
 * send_message()) and recall. */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "messages.h"
#include "notify.h"
#include "valid.h"

#define TEXT_MAX_BYTES	8192
#define URL_MAX		2048

static json_t	*clean_body(struct http_req *, const char *, json_t *);
static int	 valid_url(const char *);
static int	 valid_mime(const char *);

static const struct http_outcome send_outcomes[] = {
	{ "created", 201, NULL, NULL },
	{ "duplicate", 200, NULL, NULL },
	{ "no_such_user", 404, "user_not_found", "No such user." },
	{ "not_friends", 403, "not_friends",
	    "You can only message your friends." },
	{ "blocked", 403, "blocked",
	    "Messages between you and this user are blocked." },
	{ "no_such_group", 404, "group_not_found", "No such group." },
	{ "not_member", 403, "not_member",
	    "Only members may send to this group." },
	{ NULL, 0, NULL, NULL },
};

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

static int
valid_url(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static int
valid_mime(const char *s)
{
	const char	*tchar = "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&^_.+-";
	size_t		 n = strspn(s, tchar);

	return n > 0 && s[n] == '/' && strspn(s + n + 1, tchar) > 0 &&
	    s[n + 1 + strspn(s + n + 1, tchar)] == '\0';
}

/* A body of exactly the fields its type allows, or NULL after a 400. */
static json_t *
clean_body(struct http_req *r, const char *type, json_t *body)
{
	const char	*text, *url, *name, *mime;
	long long	 size;

	if (!json_is_object(body)) {
		http_error(r, 400, "invalid_field", "The field 'body' must be "
		    "an object.");
		return NULL;
	}
	if (strcmp(type, "text") == 0) {
		if (valid_string(r, body, "text", VALID_REQUIRED |
		    VALID_MULTILINE, 1, TEXT_MAX_BYTES, &text) == -1)
			return NULL;
		if (strlen(text) > TEXT_MAX_BYTES) {
			http_error(r, 400, "invalid_field", "The field "
			    "'body.text' must be at most %d bytes.",
			    TEXT_MAX_BYTES);
			return NULL;
		}
		return json_pack("{s:s}", "text", text);
	}
	if (valid_string(r, body, "url", VALID_REQUIRED, 1, URL_MAX,
	    &url) == -1 ||
	    valid_string(r, body, "name", VALID_REQUIRED, 1, 255, &name) == -1 ||
	    valid_int(r, body, "size", VALID_REQUIRED, 0, 9007199254740991LL,
	    &size) == -1 ||
	    valid_string(r, body, "mime", VALID_REQUIRED, 3, 127, &mime) == -1)
		return NULL;
	if (!valid_url(url) || strpbrk(url, " \"<>\\^`{|}") != NULL) {
		http_error(r, 400, "invalid_field", "The field 'body.url' must "
		    "be an http or https URL.");
		return NULL;
	}
	if (!valid_mime(mime)) {
		http_error(r, 400, "invalid_field", "The field 'body.mime' must "
		    "be a media type like image/png.");
		return NULL;
	}
	return json_pack("{s:s,s:s,s:I,s:s}", "url", url, "name", name,
	    "size", (json_int_t)size, "mime", mime);
}

void
messages_send(struct http_req *r)
{
	static const char *const types[] = { "text", "image", "file", "audio",
	    "video", NULL };
	char		 me[24], to_s[24], group_s[24];
	const char	*type = NULL, *client = NULL;
	char		*bodytext = NULL;
	json_t		*req, *clean = NULL;
	PGresult	*res = NULL;
	int64_t		 to = 0, group = 0;
	int		 i, status;

	if ((req = http_body_json(r)) == NULL)
		return;
	if (valid_id(r, req, "to", 0, &to) == -1 ||
	    valid_id(r, req, "group_id", 0, &group) == -1 ||
	    valid_string(r, req, "client_id", 0, 1, 64, &client) == -1 ||
	    valid_string(r, req, "type", VALID_REQUIRED, 1, 16, &type) == -1)
		goto out;
	if ((to == 0) == (group == 0)) {
		http_error(r, 400, "invalid_field", "Give exactly one of 'to' "
		    "and 'group_id'.");
		goto out;
	}
	for (i = 0; types[i] != NULL && strcmp(types[i], type) != 0; i++)
		;
	if (types[i] == NULL) {
		http_error(r, 400, "invalid_field", "The field 'type' must be "
		    "text, image, file, audio or video.");
		goto out;
	}
	if (json_object_get(req, "body") == NULL) {
		http_error(r, 400, "missing_field", "The field 'body' is "
		    "required.");
		goto out;
	}
	if ((clean = clean_body(r, type, json_object_get(req, "body"))) ==
	    NULL)
		goto out;
	if (to == r->user_id) {
		http_error(r, 400, "invalid_field", "You cannot message "
		    "yourself.");
		goto out;
	}
	bodytext = json_dumps(clean, JSON_COMPACT);
	res = DB_EXEC(r->db, &sql_send, db_i64(me, r->user_id),
	    to != 0 ? db_i64(to_s, to) : NULL,
	    group != 0 ? db_i64(group_s, group) : NULL, client, type,
	    bodytext);
	if (res == NULL) {
		http_db_error(r);
		goto out;
	}
	if ((status = http_outcome(r, send_outcomes, PQgetvalue(res, 0, 0))) <
	    0)
		goto out;
	notify_users(db_get_str(res, 0, 2));
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
	char		 me[24], id_s[24], win[24];
	PGresult	*res;
	int64_t		 id;
	int		 status;

	if (http_param_id(r, 0, &id) == -1)
		return;
	res = DB_EXEC(r->db, &sql_recall, db_i64(me, r->user_id),
	    db_i64(id_s, id), db_i64(win, 120));
	if (res == NULL) {
		http_db_error(r);
		return;
	}
	if ((status = http_outcome(r, recall_outcomes,
	    PQgetvalue(res, 0, 0))) > 0) {
		notify_users(db_get_str(res, 0, 2));
		http_reply_wrap(r, status, "message", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
}
