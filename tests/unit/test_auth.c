/* test_auth: the token and CSRF functions (libsodium; main has called
 * sodium_init). Passwords: test_pwhash.c. */
#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "fcgi_mem.h"
#include "http.h"
#include "unit.h"

static const char *t_token_new(void);
static const char *t_token_hash(void);
static const char *t_csrf(void);
static const char *t_session_cookies(void);
static const char *t_stream_token_new(void);
static const char *t_request_refusals(void);
static int	   is_b64url(const char *, size_t);
static int	   is_hash(const char *);

/* 1 if s is exactly len characters of the base64url alphabet. */
static int
is_b64url(const char *s, size_t len)
{
	return strlen(s) == len &&
	    strspn(s,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789-_") == len;
}

/* 1 if s is "\x" and 64 lowercase hex digits (PostgreSQL bytea input). */
static int
is_hash(const char *s)
{
	return strlen(s) == AUTH_HASH_HEX - 1 && s[0] == '\\' && s[1] == 'x' &&
	    strspn(s + 2, "0123456789abcdef") == 64;
}

static const char *
t_token_new(void)
{
	char t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1];
	char h1[AUTH_HASH_HEX], h2[AUTH_HASH_HEX], again[AUTH_HASH_HEX];

	auth_token_new(t1, h1);
	auth_token_new(t2, h2);
	CHECK(is_b64url(t1, 43));
	CHECK(is_b64url(t2, 43));
	CHECK(strcmp(t1, t2) != 0);
	CHECK(is_hash(h1));
	CHECK(strcmp(h1, h2) != 0);
	/* The stored form is the hash of the token handed out. */
	auth_token_hash(t1, again);
	CHECK_STR(again, h1);
	return NULL;
}

static const char *
t_token_hash(void)
{
	char a[AUTH_HASH_HEX], b[AUTH_HASH_HEX], c[AUTH_HASH_HEX];

	auth_token_hash("some-token", a);
	auth_token_hash("some-token", b);
	auth_token_hash("some-tokem", c);
	CHECK(is_hash(a));
	CHECK_STR(a, b);
	CHECK(strcmp(a, c) != 0);
	/* BLAKE2b-256 of the empty string, a published test vector. */
	auth_token_hash("", a);
	CHECK_STR(a,
	    "\\x0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787"
	    "faab45cdf12fe3a8");
	return NULL;
}

static const char *
t_csrf(void)
{
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1];
	char hash[AUTH_HASH_HEX], hex[AUTH_HASH_HEX];
	char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1];
	char c[AUTH_TOKEN_LEN + 1];

	auth_token_new(tok, hash);
	auth_token_new(tok2, hash);
	auth_csrf_for(tok, a);
	auth_csrf_for(tok, b);
	auth_csrf_for(tok2, c);
	CHECK(is_b64url(a, 43));
	CHECK_STR(a, b);
	CHECK(strcmp(a, c) != 0);
	/* Neither the token itself nor anything a client could compute
	 * from the stored hash alone. */
	CHECK(strcmp(a, tok) != 0);
	auth_token_hash(tok, hex);
	CHECK(strstr(hex, a) == NULL);
	return NULL;
}

/* The cookies come from the reply auth_session_start filled, and only
 * when the handler asks (after its commit). */
static const char *
t_session_cookies(void)
{
	static struct http_req r, none;
	json_t		      *reply, *empty;
	long		       ttl = config.session_ttl;
	int		       rc, rc_none;

	config.session_ttl = 3600;
	reply = json_pack("{s:s,s:s}", "token", "tok-123", "csrf_token",
	    "csrf-456");
	empty = json_object();
	rc = auth_session_cookies(&r, reply);
	rc_none = auth_session_cookies(&none, empty);
	json_decref(reply);
	json_decref(empty);
	config.session_ttl = ttl;
	CHECK_EQ(rc, 0);
	CHECK(strstr(r.headers,
		  "Set-Cookie: parley_session=tok-123; "
		  "Path=/api/; Max-Age=3600; HttpOnly; SameSite=Lax\r\n") !=
	    NULL);
	CHECK(strstr(r.headers,
		  "Set-Cookie: parley_csrf=csrf-456; Path=/; "
		  "Max-Age=3600; SameSite=Lax\r\n") != NULL);
	CHECK_EQ(rc_none, -1);
	CHECK_EQ(none.headers_len, 0);
	return NULL;
}

static const char *
t_stream_token_new(void)
{
	char t[AUTH_STREAM_LEN + 1], h[AUTH_HASH_HEX], again[AUTH_HASH_HEX];

	auth_stream_token_new(t, h);
	CHECK_EQ(strlen(t), AUTH_STREAM_LEN);
	CHECK(strncmp(t, "st_", 3) == 0 && is_b64url(t + 3, 43));
	CHECK(is_hash(h));
	/* The stored form covers the whole token, prefix included. */
	auth_token_hash(t, again);
	CHECK_STR(again, h);
	return NULL;
}

/* Refusals auth_request makes before it asks the database (a row that got
 * that far would fail to connect and answer 503): the cookie never reads
 * JSONP, the URL never carries a session token, a cookie poll needs the
 * CSRF header, and a stream token reads nothing but the stream. */
#define TOK "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" /* 43 */
#define ST  "st_" TOK

static const char *
t_request_refusals(void)
{
	static const struct {
		int	    stream;
		const char *method, *query, *cookie, *bearer, *csrf;
		int	    status;
		const char *code;
	} rows[] = {
		/* <script src=...&callback=steal> with the victim's cookie */
		{ 1, "GET", "since=0&callback=steal", "parley_session=" TOK,
		    NULL, NULL, 401, "\"unauthorized\"" },
		{ 1, "GET", "callback=a.b",
		    "parley_session=" TOK "; "
		    "parley_csrf=x",
		    NULL, NULL, 401, "\"unauthorized\"" },
		/* the session token in the URL, JSON or JSONP */
		{ 1, "GET", "since=0&access_token=" TOK, NULL, NULL, NULL, 401,
		    "\"invalid_token\"" },
		{ 1, "GET", "callback=cb&access_token=" TOK, NULL, NULL, NULL,
		    401, "\"invalid_token\"" },
		{ 1, "GET", "access_token=", NULL, NULL, NULL, 401,
		    "\"invalid_token\"" },
		{ 1, "GET", "access_token=%ff", NULL, NULL, NULL, 401,
		    "\"unauthorized\"" },
		/* a cookie poll without (or with a wrong) CSRF header */
		{ 1, "GET", "since=0", "parley_session=" TOK, NULL, NULL, 403,
		    "\"csrf_failed\"" },
		{ 1, "GET", "since=0", "parley_session=" TOK, NULL,
		    "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", 403,
		    "\"csrf_failed\"" },
		/* a stream token anywhere else, or as the cookie */
		{ 0, "GET", "", NULL, "Bearer " ST, NULL, 401,
		    "\"unauthorized\"" },
		{ 0, "GET", "access_token=" ST, NULL, NULL, NULL, 401,
		    "\"unauthorized\"" },
		{ 1, "GET", "", "parley_session=" ST, NULL, NULL, 401,
		    "\"unauthorized\"" },
		{ 0, "GET", "", "parley_session=" ST, NULL, NULL, 401,
		    "\"unauthorized\"" },
	};
	static struct http_req r;
	static char	       why[256];
	struct fcgi_mem	       m;
	const char	      *out, *w;
	size_t		       i, len;
	int		       rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&r, 0, sizeof(r));
		fcgi_mem_init(&m, &r, NULL, 0);
		fcgi_mem_setenv(&m, "REQUEST_METHOD", rows[i].method);
		fcgi_mem_setenv(&m, "REQUEST_URI", "/api/v1/events");
		fcgi_mem_setenv(&m, "QUERY_STRING", rows[i].query);
		if (rows[i].cookie != NULL)
			fcgi_mem_setenv(&m, "HTTP_COOKIE", rows[i].cookie);
		if (rows[i].bearer != NULL)
			fcgi_mem_setenv(&m, "HTTP_AUTHORIZATION",
			    rows[i].bearer);
		if (rows[i].csrf != NULL)
			fcgi_mem_setenv(&m, "HTTP_X_CSRF_TOKEN", rows[i].csrf);
		r.db = db_new();
		rc = http_begin(&r);
		if (rc == 0 && rows[i].stream)
			rc = http_jsonp(&r);
		if (rc == 0)
			rc = auth_request(&r, rows[i].stream);
		out = fcgi_mem_output(&m, &len);
		w = rc != -1 ? "accepted" :
		    r.jsonp[0] != '\0' ?
			       (strstr(out, "Status: 200 OK\r\n") == out ?
				       NULL :
				       "JSONP not 200") :
			       fcgi_mem_check(&m, rows[i].status);
		if (w == NULL && r.jsonp[0] != '\0') {
			char status[32];

			snprintf(status, sizeof(status), "\"status\":%d",
			    rows[i].status);
			if (strstr(out, status) == NULL)
				w = "JSONP error without its status";
		}
		if (w == NULL && strstr(out, rows[i].code) == NULL)
			w = "another error code";
		db_free(r.db);
		fcgi_mem_cleanup(&m);
		if (w != NULL) {
			snprintf(why, sizeof(why), "row %zu (%s?%s): %s", i,
			    rows[i].method, rows[i].query, w);
			return why;
		}
	}
	return NULL;
}

void
test_auth(void)
{
	unit_run("auth_token_new", t_token_new);
	unit_run("auth_token_hash", t_token_hash);
	unit_run("auth_csrf_for", t_csrf);
	unit_run("auth_session_cookies", t_session_cookies);
	unit_run("auth_stream_token_new", t_stream_token_new);
	unit_run("auth_request/refusals_before_the_database",
	    t_request_refusals);
}
