/* send: what the two callers of send_message() share, the messages
 * service (a user sending) and the sites service (a site sending for one
 * of its users): the statement, and its outcomes as HTTP. The function is
 * in sql/functions/40_messaging.sql. */
#ifndef PARLEY_SEND_H
#define PARLEY_SEND_H

#include "db.h"
#include "http.h"

/* Who is answered: the sender, or a site speaking for them (the same
 * refusals, said of "the sender"; one code differs). */
enum send_voice {
	SEND_USER,
	SEND_SITE,
};

/* One status of send_message(): the HTTP status, and per voice the error
 * code and message (code NULL: a success, the message is the reply). */
struct send_outcome {
	const char *status;
	int	    http;
	struct {
		const char *code;
		const char *message;
	} voice[2];
};

/* $1 sender, $2 to or NULL, $3 group_id or NULL, $4 client_id or NULL,
 * $5 type, $6 body (JSON text) -> status, message (JSON text), woken (a
 * bigint[] for notify_users()). */
extern const struct db_stmt send_stmt;

/* The outcome of `status`, or NULL for a status the table lacks. */
const struct send_outcome *send_outcome_find(const char *status);

/* As http_outcome(): for an error outcome, replies with it in `voice` and
 * returns -1; for a success, returns its HTTP status (201 created, 200 a
 * client_id's repeat) without replying; an unknown status is logged and
 * answered 500, -1. */
int send_reply_status(struct http_req *, enum send_voice, const char *status);

#endif
