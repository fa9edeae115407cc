/* auth: session tokens (random, stored hashed, revocable, expiring) and
 * request authentication. Password hashing: pwhash.h. */
#ifndef PARLEY_AUTH_H
#define PARLEY_AUTH_H

#include <stdint.h>

#include <jansson.h>

struct http_req;

#define AUTH_TOKEN_LEN 43   /* base64url of 32 bytes, no padding */
#define AUTH_HASH_HEX  67   /* "\x" + 64 hex digits + NUL */
#define AUTH_PW_MAX    1024 /* bytes; longer passwords are refused */
/* Stream tokens: "st_" + 43 base64url characters, for GET /api/v1/events
 * only (the one route a URL may carry a credential to). */
#define AUTH_STREAM_PREFIX "st_"
#define AUTH_STREAM_LEN	   (3 + AUTH_TOKEN_LEN)

/* Initializes libsodium. */
void auth_init(void);

/* New token into `token` and its stored form ("\x<hex>") into `hash`. */
void auth_token_new(char token[AUTH_TOKEN_LEN + 1], char hash[AUTH_HASH_HEX]);
/* Stored form of a token presented by a client. */
void auth_token_hash(const char *token, char hash[AUTH_HASH_HEX]);
/* New stream token and its stored form, as auth_token_new. */
void auth_stream_token_new(char token[AUTH_STREAM_LEN + 1],
    char			hash[AUTH_HASH_HEX]);
/* The CSRF value that goes with a session token (derived, not stored). */
void auth_csrf_for(const char *token, char out[AUTH_TOKEN_LEN + 1]);

/* Authenticates the request from "Authorization: Bearer" or the session
 * cookie (plus X-CSRF-Token for unsafe methods). With `stream` (GET
 * /api/v1/events, after http_jsonp()): also a stream token, in the header
 * or as ?access_token= (which takes nothing else); the cookie is never
 * read for JSONP and needs X-CSRF-Token even on GET. Sets r->user_id /
 * r->session_id (a stream token's session) and returns 0, or replies
 * 401/403/503 and returns -1. */
int auth_request(struct http_req *, int stream);
/* For the admin service (ROUTE_ADMIN): a session token of a user in the
 * admins table who is not suspended, in the header or as the cookie (with
 * X-CSRF-Token unless GET or HEAD). Sets r->user_id / r->session_id and
 * returns 0, or returns -1 without replying: the caller answers every
 * refusal alike (http_reply_missing), a failed lookup included. */
int auth_admin(struct http_req *);

/* auth_request for a ROUTE_USER_FORM route: by cookie without
 * X-CSRF-Token it authenticates and sets r->csrf_pending; the handler
 * then must pass the body's token to auth_csrf_check before it acts. */
int auth_request_form(struct http_req *);
/* With r->csrf_pending: 0 when `given` is the session's CSRF value (and
 * clears it), else replies 403 csrf_failed, as auth_request does, and
 * returns -1. Without it: 0. */
int auth_csrf_check(struct http_req *, const char *given);

/* Creates a session for `user_id` and adds "token", "csrf_token",
 * "expires_in" and "session_id" to `reply`. Returns 0, or -1 after
 * replying (403 account_suspended for a suspended user). Sets no cookie:
 * the session may still be rolled back. */
int auth_session_start(struct http_req *, int64_t user_id, json_t *reply);
/* Adds the Set-Cookie lines (parley_session, parley_csrf) for the session
 * auth_session_start put in `reply`. Call it only once that session is
 * committed, so no failed request hands out a cookie for a session that
 * does not exist. Returns 0, or -1 when `reply` has no session or the
 * headers do not fit. */
int auth_session_cookies(struct http_req *, const json_t *reply);

#endif
