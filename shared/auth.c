/* auth: all token crypto is libsodium. The server keeps only BLAKE2b(token);
 * a database leak yields no usable token. Passwords: shared/pwhash.c. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"

/* A suspended user's sessions are revoked when they are suspended; the
 * join makes sure none is taken even if one slipped through. */
static const struct db_stmt st_lookup = { "auth_lookup",
	"SELECT s.id, s.user_id, s.last_seen_at < now() - interval '60 seconds'"
	" FROM sessions s JOIN users u ON u.id = s.user_id"
	" WHERE s.token_hash = $1::bytea AND s.revoked_at IS NULL"
	" AND s.expires_at > now() AND u.suspended_at IS NULL" };
/* A stream token (GET /api/v1/events only) stands for its session while
 * both are live: a revoked or expired session takes its tokens along. */
static const struct db_stmt st_stream_lookup = { "auth_stream_lookup",
	"SELECT s.id, s.user_id, s.last_seen_at < now() - interval '60 seconds'"
	" FROM stream_tokens t JOIN sessions s ON s.id = t.session_id"
	" JOIN users u ON u.id = s.user_id"
	" WHERE t.token_hash = $1::bytea AND t.expires_at > now()"
	" AND s.revoked_at IS NULL AND s.expires_at > now()"
	" AND u.suspended_at IS NULL" };
/* The admin service's lookup: the same, for a user in admins only
 * (sql/019_admin.sql). */
static const struct db_stmt st_admin_lookup = { "auth_admin_lookup",
	"SELECT s.id, s.user_id, s.last_seen_at < now() - interval '60 seconds'"
	" FROM sessions s JOIN users u ON u.id = s.user_id"
	" JOIN admins a ON a.user_id = s.user_id"
	" WHERE s.token_hash = $1::bytea AND s.revoked_at IS NULL"
	" AND s.expires_at > now() AND u.suspended_at IS NULL" };
static const struct db_stmt st_touch = { "auth_touch",
	"UPDATE sessions SET last_seen_at = now() WHERE id = $1" };
/* Only for a user who is not suspended. FOR SHARE waits for a suspension
 * in progress (admin_suspend() holds the users row) and then sees it, so
 * a login racing a suspension either ends before it (and its session is
 * revoked with the others) or makes no session. */
static const struct db_stmt st_create = { "auth_create",
	"INSERT INTO sessions (user_id, token_hash, expires_at, user_agent, ip)"
	" SELECT u.id, $2::bytea, now() + make_interval(secs => $3), $4, $5"
	" FROM users u WHERE u.id = $1 AND u.suspended_at IS NULL FOR SHARE"
	" RETURNING id" };

static void encode(const unsigned char *, size_t, char *, size_t);

void
auth_init(void)
{
	if (sodium_init() < 0)
		log_fatal("sodium_init failed");
}

static void
encode(const unsigned char *bin, size_t len, char *out, size_t outlen)
{
	sodium_bin2base64(out, outlen, bin, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void
auth_token_new(char token[AUTH_TOKEN_LEN + 1], char hash[AUTH_HASH_HEX])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	encode(raw, sizeof(raw), token, AUTH_TOKEN_LEN + 1);
	auth_token_hash(token, hash);
	sodium_memzero(raw, sizeof(raw));
}

void
auth_stream_token_new(char token[AUTH_STREAM_LEN + 1], char hash[AUTH_HASH_HEX])
{
	char raw[AUTH_TOKEN_LEN + 1];

	auth_token_new(raw, hash);
	memcpy(token, AUTH_STREAM_PREFIX, sizeof(AUTH_STREAM_PREFIX) - 1);
	memcpy(token + sizeof(AUTH_STREAM_PREFIX) - 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	auth_token_hash(token, hash);
}

void
auth_csrf_for(const char *token, char out[AUTH_TOKEN_LEN + 1])
{
	static const unsigned char label[] = "parley-csrf-v1";
	unsigned char		   h[32];

	crypto_generichash(h, sizeof(h), label, sizeof(label) - 1,
	    (const unsigned char *)token,
	    strlen(token) < 64 ? strlen(token) : 64);
	encode(h, sizeof(h), out, AUTH_TOKEN_LEN + 1);
}

/* Finds the token: the Authorization header first. On the event stream
 * (`stream`) an access_token in the query comes next, and the cookie only
 * without JSONP: a script tag on any page sends the cookie, and its reply
 * is readable there. Returns where it came from, or -1 when there is none
 * or it is unusable. */
enum token_from { FROM_HEADER, FROM_QUERY, FROM_COOKIE };

static int
find_token(struct http_req *r, int stream, char *tok, size_t len)
{
	const char *h = http_env(r, "HTTP_AUTHORIZATION");
	const char *c = http_env(r, "HTTP_COOKIE");
	int	    rc;

	if (h != NULL) {
		if (strncasecmp(h, "Bearer ", 7) != 0 || strlen(h + 7) >= len)
			return -1;
		strcpy(tok, h + 7);
		return FROM_HEADER;
	}
	if (stream && strcmp(r->method, "GET") == 0 &&
	    (rc = http_query_find(r->query, "access_token", tok, len)) != 0)
		return rc == 1 ? FROM_QUERY : -1;
	if (c != NULL && (!stream || r->jsonp[0] == '\0') &&
	    http_cookie_find(c, "parley_session", tok, len) == 1) {
		r->cookie_auth = 1;
		return FROM_COOKIE;
	}
	return -1;
}

/* Why authenticate() refused; auth_request() answers each as documented,
 * auth_admin() answers none of them. */
enum auth_fail {
	AUTH_OK,
	AUTH_NONE,	     /* 401 unauthorized: no usable credential */
	AUTH_SESSION_IN_URL, /* 401 invalid_token: a session token in
				 * ?access_token= */
	AUTH_CSRF,	     /* 403 csrf_failed */
	AUTH_INVALID,	     /* 401 invalid_token: unknown, expired,
				 * revoked (or, for `admin`, no admin's) */
	AUTH_DB,	     /* the lookup failed: http_db_error() */
};

/* Finds and checks the credential as auth_request() describes; with
 * `admin`, only an admin's session token (header, or cookie + CSRF on
 * every method but GET and HEAD); with `form` (auth_request_form), a
 * cookie without X-CSRF-Token leaves the check to the handler, which has
 * the token from the form's body. Sets r->user_id and r->session_id on
 * AUTH_OK. Replies nothing. */
static enum auth_fail
authenticate(struct http_req *r, int stream, int admin, int form)
{
	char		      tok[AUTH_STREAM_LEN + 8], hash[AUTH_HASH_HEX];
	char		      csrf[AUTH_TOKEN_LEN + 1], buf[24];
	const char	     *given;
	const struct db_stmt *st;
	PGresult	     *res;
	size_t		      len;
	int		      stale, is_stream, from;

	if ((from = find_token(r, stream, tok, sizeof(tok))) == -1) {
		sodium_memzero(tok, sizeof(tok));
		return AUTH_NONE;
	}
	len = strlen(tok);
	/* Session tokens are 43 characters, so no session token is ever
	 * taken for a stream token. */
	is_stream = len == AUTH_STREAM_LEN &&
	    strncmp(tok, AUTH_STREAM_PREFIX, sizeof(AUTH_STREAM_PREFIX) - 1) ==
		0;
	/* A URL is logged, kept in history and sent as Referer: it may carry
	 * a stream token, never the session token. */
	if (from == FROM_QUERY && !is_stream) {
		sodium_memzero(tok, sizeof(tok));
		return AUTH_SESSION_IN_URL;
	}
	/* A stream token only reads the event stream, and never by cookie. */
	if (len != AUTH_TOKEN_LEN &&
	    !(is_stream && stream && from != FROM_COOKIE)) {
		sodium_memzero(tok, sizeof(tok));
		return AUTH_NONE;
	}
	/* The event stream has side effects even on GET (receipts, presence):
	 * by cookie it needs the CSRF proof too. */
	if (r->cookie_auth &&
	    (stream ||
		(strcmp(r->method, "GET") != 0 &&
		    strcmp(r->method, "HEAD") != 0))) {
		auth_csrf_for(tok, csrf);
		given = http_env(r, "HTTP_X_CSRF_TOKEN");
		if (form && given == NULL) {
			/* The form's body carries it: the handler checks. */
			memcpy(r->csrf_want, csrf, sizeof(csrf));
			r->csrf_pending = 1;
		} else if (given == NULL || strlen(given) != AUTH_TOKEN_LEN ||
		    sodium_memcmp(given, csrf, AUTH_TOKEN_LEN) != 0) {
			sodium_memzero(tok, sizeof(tok));
			return AUTH_CSRF;
		}
	}
	auth_token_hash(tok, hash);
	sodium_memzero(tok, sizeof(tok));
	st = admin    ? &st_admin_lookup :
	    is_stream ? &st_stream_lookup :
			&st_lookup;
	if ((res = DB_EXEC(r->db, st, hash)) == NULL)
		return AUTH_DB;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return AUTH_INVALID;
	}
	r->session_id = db_get_i64(res, 0, 0);
	r->user_id = db_get_i64(res, 0, 1);
	stale = db_get_bool(res, 0, 2);
	PQclear(res);
	/* last_seen_at is written at most once a minute per session. */
	if (stale &&
	    (res = DB_EXEC(r->db, &st_touch, db_i64(buf, r->session_id))) !=
		NULL)
		PQclear(res);
	return AUTH_OK;
}

static void
csrf_refuse(struct http_req *r)
{
	http_error(r, 403, "csrf_failed",
	    "Requests authenticated by cookie "
	    "must carry the X-CSRF-Token header.");
}

static int
answer(struct http_req *r, enum auth_fail why)
{
	switch (why) {
	case AUTH_OK:
		return 0;
	case AUTH_NONE:
		http_header(r, "WWW-Authenticate: Bearer");
		http_error(r, 401, "unauthorized",
		    "A valid access token is "
		    "required (Authorization: Bearer <token>).");
		break;
	case AUTH_SESSION_IN_URL:
		http_header(r,
		    "WWW-Authenticate: Bearer error=\"invalid_token\"");
		http_error(r, 401, "invalid_token",
		    "access_token takes a stream "
		    "token (POST /api/v1/auth/stream-token), never a session "
		    "token.");
		break;
	case AUTH_CSRF:
		csrf_refuse(r);
		break;
	case AUTH_INVALID:
		http_header(r,
		    "WWW-Authenticate: Bearer error=\"invalid_token\"");
		http_error(r, 401, "invalid_token",
		    "The access token is unknown, expired or revoked.");
		break;
	case AUTH_DB:
		http_db_error(r);
		break;
	}
	return -1;
}

int
auth_request(struct http_req *r, int stream)
{
	return answer(r, authenticate(r, stream, 0, 0));
}

int
auth_request_form(struct http_req *r)
{
	return answer(r, authenticate(r, 0, 0, 1));
}

int
auth_csrf_check(struct http_req *r, const char *given)
{
	if (!r->csrf_pending)
		return 0;
	if (given == NULL || strlen(given) != AUTH_TOKEN_LEN ||
	    sodium_memcmp(given, r->csrf_want, AUTH_TOKEN_LEN) != 0) {
		csrf_refuse(r);
		return -1;
	}
	r->csrf_pending = 0;
	return 0;
}

int
auth_admin(struct http_req *r)
{
	if (authenticate(r, 0, 1, 0) == AUTH_OK)
		return 0;
	/* Nothing of a refused attempt stays on the request. */
	r->user_id = 0;
	r->session_id = 0;
	r->cookie_auth = 0;
	return -1;
}

int
auth_session_start(struct http_req *r, int64_t user_id, json_t *reply)
{
	char	    tok[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_HEX];
	char	    csrf[AUTH_TOKEN_LEN + 1], uid[24], ttl[24];
	char	    ua[256];
	const char *agent = http_env(r, "HTTP_USER_AGENT");
	PGresult   *res;

	/* Keep a bounded, printable prefix of the agent for the device list. */
	snprintf(ua, sizeof(ua), "%s", agent != NULL ? agent : "");
	for (char *p = ua; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	auth_token_new(tok, hash);
	res = DB_EXEC(r->db, &st_create, db_i64(uid, user_id), hash,
	    db_i64(ttl, config.session_ttl), ua, r->remote_addr);
	if (res == NULL) {
		http_db_error(r);
		return -1;
	}
	/* The password (or ticket) was right, so the account's state is
	 * theirs to know. */
	if (PQntuples(res) != 1) {
		PQclear(res);
		http_error(r, 403, "account_suspended",
		    "This account is "
		    "suspended.");
		return -1;
	}
	r->session_id = db_get_i64(res, 0, 0);
	PQclear(res);
	auth_csrf_for(tok, csrf);
	json_object_set_new(reply, "token", json_string(tok));
	json_object_set_new(reply, "csrf_token", json_string(csrf));
	json_object_set_new(reply, "expires_in",
	    json_integer(config.session_ttl));
	/* Calls name the device that answered by this id. */
	json_object_set_new(reply, "session_id", json_integer(r->session_id));
	sodium_memzero(tok, sizeof(tok));
	return 0;
}

int
auth_session_cookies(struct http_req *r, const json_t *reply)
{
	const char *tok, *csrf;

	tok = json_string_value(json_object_get(reply, "token"));
	csrf = json_string_value(json_object_get(reply, "csrf_token"));
	if (tok == NULL || csrf == NULL)
		return -1;
	if (http_header(r,
		"Set-Cookie: parley_session=%s; Path=/api/; "
		"Max-Age=%ld; HttpOnly; SameSite=Lax%s",
		tok, config.session_ttl,
		config.cookie_secure ? "; Secure" : "") == -1 ||
	    http_header(r,
		"Set-Cookie: parley_csrf=%s; Path=/; Max-Age=%ld;"
		" SameSite=Lax%s",
		csrf, config.session_ttl,
		config.cookie_secure ? "; Secure" : "") == -1)
		return -1;
	return 0;
}
