/* send: send_message()'s statement and outcomes, shared by the messages
 * and sites services (send.h). */
#include <stddef.h>
#include <string.h>

#include "send.h"

const struct db_stmt send_stmt = { "send",
	"SELECT status, message::text, woken::text FROM send_message("
	"$1, $2, $3, $4, $5, $6::jsonb)" };

#define UPLOAD_KIND_MSG                                                        \
	"The upload's kind does not match 'type' (an image for image, "        \
	"audio for audio, video for video; file takes any)."

/* Every status send_message() answers (tests/unit/sql_functions.test.js
 * checks that against the SQL). */
static const struct send_outcome outcomes[] = {
	{ "created", 201, { { NULL, NULL }, { NULL, NULL } } },
	{ "duplicate", 200, { { NULL, NULL }, { NULL, NULL } } },
	{ "no_such_user", 404,
	    { { "user_not_found", "No such user." },
		{ "unknown_user", "No such user." } } },
	{ "not_friends", 403,
	    { { "not_friends", "You can only message your friends." },
		{ "not_friends",
		    "The sender can only message their friends." } } },
	/* Only the blocker hears of the block; to the one they blocked,
	 * send_message() answers not_friends (can_contact()). */
	{ "blocked", 403,
	    { { "blocked",
		  "You blocked this user; unblock them to send "
		  "messages." },
		{ "blocked", "The sender blocked this user." } } },
	/* A group the sender is not in does not exist for them (nor, to a
	 * site, is it a hint that another site's exists). */
	{ "no_such_group", 404,
	    { { "group_not_found", "No such group." },
		{ "group_not_found", "No such group." } } },
	{ "not_member", 404,
	    { { "group_not_found", "No such group." },
		{ "group_not_found", "No such group." } } },
	/* Someone else's upload is no upload to the sender. */
	{ "no_such_upload", 404,
	    { { "upload_not_found", "No such upload." },
		{ "upload_not_found", "No such upload." } } },
	{ "upload_kind", 400,
	    { { "invalid_field", UPLOAD_KIND_MSG },
		{ "invalid_field", UPLOAD_KIND_MSG } } },
};

const struct send_outcome *
send_outcome_find(const char *status)
{
	size_t i;

	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (strcmp(outcomes[i].status, status) == 0)
			return &outcomes[i];
	return NULL;
}

int
send_reply_status(struct http_req *r, enum send_voice voice, const char *status)
{
	const struct send_outcome *o = send_outcome_find(status);
	/* http_outcome() answers (and logs an unknown status) alike for
	 * every service. */
	struct http_outcome tab[2] = { { NULL, 0, NULL, NULL },
		{ NULL, 0, NULL, NULL } };

	if (o != NULL) {
		tab[0].status = o->status;
		tab[0].http = o->http;
		tab[0].code = o->voice[voice].code;
		tab[0].message = o->voice[voice].message;
	}
	return http_outcome(r, tab, status);
}
