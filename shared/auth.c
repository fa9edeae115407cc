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

static const struct db_stmt st_lookup = { "auth_lookup",
	"SELECT id, user_id, last_seen_at < now() - interval '60 seconds'"
	" FROM sessions WHERE token_hash = $1::bytea AND revoked_at IS NULL"
	" AND expires_at > now()" };
/* A stream token (GET /api/v1/events only) stands for its session while
 * both are live: a revoked or expired session takes its tokens along. */
static const struct db_stmt st_stream_lookup = { "auth_stream_lookup",
	"SELECT s.id, s.user_id, s.last_seen_at < now() - interval '60 seconds'"
	" FROM stream_tokens t JOIN sessions s ON s.id = t.session_id"
	" WHERE t.token_hash = $1::bytea AND t.expires_at > now()"
	" AND s.revoked_at IS NULL AND s.expires_at > now()" };
static const struct db_stmt st_touch = { "auth_touch",
	"UPDATE sessions SET last_seen_at = now() WHERE id = $1" };
static const struct db_stmt st_create = { "auth_create",
	"INSERT INTO sessions (user_id, token_hash, expires_at, user_agent,"
	" ip) VALUES ($1, $2::bytea, now() + make_interval(secs => $3), $4, $5)"
	" RETURNING id" };

static void	encode(const unsigned char *, size_t, char *, size_t);

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
	unsigned char	raw[32];

	randombytes_buf(raw, sizeof(raw));
	encode(raw, sizeof(raw), token, AUTH_TOKEN_LEN + 1);
	auth_token_hash(token, hash);
	sodium_memzero(raw, sizeof(raw));
}

void
auth_stream_token_new(char token[AUTH_STREAM_LEN + 1], char hash[AUTH_HASH_HEX])
{
	char	raw[AUTH_TOKEN_LEN + 1];

	auth_token_new(raw, hash);
	memcpy(token, AUTH_STREAM_PREFIX, sizeof(AUTH_STREAM_PREFIX) - 1);
	memcpy(token + sizeof(AUTH_STREAM_PREFIX) - 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	auth_token_hash(token, hash);
}

void
auth_csrf_for(const char *token, char out[AUTH_TOKEN_LEN + 1])
{
	static const unsigned char	 label[] = "parley-csrf-v1";
	unsigned char			 h[32];

	crypto_generichash(h, sizeof(h), label, sizeof(label) - 1,
	    (const unsigned char *)token, strlen(token) < 64 ? strlen(token) :
	    64);
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
	const char	*h = http_env(r, "HTTP_AUTHORIZATION");
	const char	*c = http_env(r, "HTTP_COOKIE");
	int		 rc;

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

static int	authenticate(struct http_req *, int, int);

int
auth_request(struct http_req *r, int stream)
{
	return authenticate(r, stream, 0);
}

int
auth_request_form(struct http_req *r)
{
	return authenticate(r, 0, 1);
}

static void
csrf_refuse(struct http_req *r)
{
	http_error(r, 403, "csrf_failed", "Requests authenticated by cookie "
	    "must carry the X-CSRF-Token header.");
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

/* `form`: a form route (auth_request_form). */
static int
authenticate(struct http_req *r, int stream, int form)
{
	char		 tok[AUTH_STREAM_LEN + 8], hash[AUTH_HASH_HEX];
	char		 csrf[AUTH_TOKEN_LEN + 1], buf[24];
	const char	*given;
	PGresult	*res;
	size_t		 len;
	int		 stale, is_stream, from;

	if ((from = find_token(r, stream, tok, sizeof(tok))) == -1)
		goto unauthorized;
	len = strlen(tok);
	/* Session tokens are 43 characters, so no session token is ever
	 * taken for a stream token. */
	is_stream = len == AUTH_STREAM_LEN && strncmp(tok, AUTH_STREAM_PREFIX,
	    sizeof(AUTH_STREAM_PREFIX) - 1) == 0;
	/* A URL is logged, kept in history and sent as Referer: it may carry
	 * a stream token, never the session token. */
	if (from == FROM_QUERY && !is_stream) {
		sodium_memzero(tok, sizeof(tok));
		http_header(r, "WWW-Authenticate: Bearer error=\"invalid_token\"");
		http_error(r, 401, "invalid_token", "access_token takes a stream "
		    "token (POST /api/v1/auth/stream-token), never a session "
		    "token.");
		return -1;
	}
	/* A stream token only reads the event stream, and never by cookie. */
	if (len != AUTH_TOKEN_LEN && !(is_stream && stream &&
	    from != FROM_COOKIE))
		goto unauthorized;
	/* The event stream has side effects even on GET (receipts, presence):
	 * by cookie it needs the CSRF proof too. */
	if (r->cookie_auth && (stream || (strcmp(r->method, "GET") != 0 &&
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
			csrf_refuse(r);
			return -1;
		}
	}
	auth_token_hash(tok, hash);
	sodium_memzero(tok, sizeof(tok));
	if ((res = DB_EXEC(r->db, is_stream ? &st_stream_lookup : &st_lookup,
	    hash)) == NULL) {
		http_db_error(r);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		http_header(r, "WWW-Authenticate: Bearer error=\"invalid_token\"");
		http_error(r, 401, "invalid_token",
		    "The access token is unknown, expired or revoked.");
		return -1;
	}
	r->session_id = db_get_i64(res, 0, 0);
	r->user_id = db_get_i64(res, 0, 1);
	stale = db_get_bool(res, 0, 2);
	PQclear(res);
	/* last_seen_at is written at most once a minute per session. */
	if (stale && (res = DB_EXEC(r->db, &st_touch,
	    db_i64(buf, r->session_id))) != NULL)
		PQclear(res);
	return 0;
unauthorized:
	sodium_memzero(tok, sizeof(tok));
	http_header(r, "WWW-Authenticate: Bearer");
	http_error(r, 401, "unauthorized", "A valid access token is "
	    "required (Authorization: Bearer <token>).");
	return -1;
}

int
auth_session_start(struct http_req *r, int64_t user_id, json_t *reply)
{
	char		 tok[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_HEX];
	char		 csrf[AUTH_TOKEN_LEN + 1], uid[24], ttl[24];
	char		 ua[256];
	const char	*agent = http_env(r, "HTTP_USER_AGENT");
	PGresult	*res;

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
	r->session_id = db_get_i64(res, 0, 0);
	PQclear(res);
	auth_csrf_for(tok, csrf);
	json_object_set_new(reply, "token", json_string(tok));
	json_object_set_new(reply, "csrf_token", json_string(csrf));
	json_object_set_new(reply, "expires_in", json_integer(config.session_ttl));
	/* Calls name the device that answered by this id. */
	json_object_set_new(reply, "session_id", json_integer(r->session_id));
	sodium_memzero(tok, sizeof(tok));
	return 0;
}

int
auth_session_cookies(struct http_req *r, const json_t *reply)
{
	const char	*tok, *csrf;

	tok = json_string_value(json_object_get(reply, "token"));
	csrf = json_string_value(json_object_get(reply, "csrf_token"));
	if (tok == NULL || csrf == NULL)
		return -1;
	if (http_header(r, "Set-Cookie: parley_session=%s; Path=/api/; "
	    "Max-Age=%ld; HttpOnly; SameSite=Lax%s", tok, config.session_ttl,
	    config.cookie_secure ? "; Secure" : "") == -1 ||
	    http_header(r, "Set-Cookie: parley_csrf=%s; Path=/; Max-Age=%ld;"
	    " SameSite=Lax%s", csrf, config.session_ttl,
	    config.cookie_secure ? "; Secure" : "") == -1)
		return -1;
	return 0;
}
