/* test_auth: the token and CSRF functions (libsodium; main has called
 * sodium_init). Passwords: test_pwhash.c. */
#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "unit.h"

static const char	*t_token_new(void);
static const char	*t_token_hash(void);
static const char	*t_csrf(void);
static const char	*t_session_cookies(void);
static int		 is_b64url(const char *, size_t);
static int		 is_hash(const char *);

/* 1 if s is exactly len characters of the base64url alphabet. */
static int
is_b64url(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") == len;
}

/* 1 if s is "\x" and 64 lowercase hex digits (PostgreSQL bytea input). */
static int
is_hash(const char *s)
{
	return strlen(s) == AUTH_HASH_HEX - 1 && s[0] == '\\' &&
	    s[1] == 'x' && strspn(s + 2, "0123456789abcdef") == 64;
}

static const char *
t_token_new(void)
{
	char	t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1];
	char	h1[AUTH_HASH_HEX], h2[AUTH_HASH_HEX], again[AUTH_HASH_HEX];

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
	char	a[AUTH_HASH_HEX], b[AUTH_HASH_HEX], c[AUTH_HASH_HEX];

	auth_token_hash("some-token", a);
	auth_token_hash("some-token", b);
	auth_token_hash("some-tokem", c);
	CHECK(is_hash(a));
	CHECK_STR(a, b);
	CHECK(strcmp(a, c) != 0);
	/* BLAKE2b-256 of the empty string, a published test vector. */
	auth_token_hash("", a);
	CHECK_STR(a, "\\x0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787"
	    "faab45cdf12fe3a8");
	return NULL;
}

static const char *
t_csrf(void)
{
	char	tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1];
	char	hash[AUTH_HASH_HEX], hex[AUTH_HASH_HEX];
	char	a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1];
	char	c[AUTH_TOKEN_LEN + 1];

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
	static struct http_req	 r, none;
	json_t			*reply, *empty;
	long			 ttl = config.session_ttl;
	int			 rc, rc_none;

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
	CHECK(strstr(r.headers, "Set-Cookie: parley_session=tok-123; "
	    "Path=/api/; Max-Age=3600; HttpOnly; SameSite=Lax\r\n") != NULL);
	CHECK(strstr(r.headers, "Set-Cookie: parley_csrf=csrf-456; Path=/; "
	    "Max-Age=3600; SameSite=Lax\r\n") != NULL);
	CHECK_EQ(rc_none, -1);
	CHECK_EQ(none.headers_len, 0);
	return NULL;
}

void
test_auth(void)
{
	unit_run("auth_token_new", t_token_new);
	unit_run("auth_token_hash", t_token_hash);
	unit_run("auth_csrf_for", t_csrf);
	unit_run("auth_session_cookies", t_session_cookies);
}
