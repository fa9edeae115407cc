/* msgbody: the message types users may send and the exact body each one
 * allows (shared by POST /messages and a site's POST /server/messages). */
#ifndef PARLEY_MSGBODY_H
#define PARLEY_MSGBODY_H

#include <stdbool.h>

#include <jansson.h>

struct http_req;

#define MSGBODY_TEXT_MAX 8192 /* bytes of body.text */
#define MSGBODY_URL_MAX	 2048

/* True for text, image, file, audio and video. */
bool msgbody_type_ok(const char *type);

/* A new body holding exactly the fields `type` allows, or NULL after a
 * 400: {"text"} for text; for the others {"upload_id"} (an upload of the
 * sender's, filled in by send_message()) or {"url","name","size","mime"}
 * (a link). Caller owns the result. */
json_t *msgbody_clean(struct http_req *, const char *type, json_t *body);

#endif
