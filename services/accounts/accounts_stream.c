/* accounts_stream: POST /auth/stream-token. A script-tag (JSONP) client
 * must put its credential in a URL, and URLs leak (history, proxy logs,
 * Referer); so it gets a stream token: short-lived, good only for reading
 * GET /api/v1/events, bound to this session and stored hashed (sql/014).
 * The request itself needs the session (bearer, or cookie + CSRF): a
 * stream token cannot mint another. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <sodium.h>

#include "accounts.h"
#include "auth.h"
#include "http.h"
#include "log.h"

#define TTL_DEFAULT 600
#define TTL_MIN	    30
#define TTL_MAX	    86400

static pthread_once_t ttl_once = PTHREAD_ONCE_INIT;
static long	      ttl = TTL_DEFAULT;

static void ttl_load(void);

/* PARLEY_STREAM_TOKEN_TTL, read at the first mint. A bad value is logged
 * and the default used: this route must not stop the service. */
static void
ttl_load(void)
{
	const char *s = getenv("PARLEY_STREAM_TOKEN_TTL");
	char	   *end;
	long	    v;

	if (s == NULL || *s == '\0')
		return;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < TTL_MIN || v > TTL_MAX) {
		log_warn("PARLEY_STREAM_TOKEN_TTL=%s: expected an integer in "
			 "[%d, %d]; using %d",
		    s, TTL_MIN, TTL_MAX, TTL_DEFAULT);
		return;
	}
	ttl = v;
}

void
accounts_stream_token(struct http_req *r)
{
	char	  tok[AUTH_STREAM_LEN + 1], hash[AUTH_HASH_HEX];
	char	  sid[24], secs[24];
	PGresult *res;

	pthread_once(&ttl_once, ttl_load);
	auth_stream_token_new(tok, hash);
	if ((res = DB_EXEC(r->db, &sql_stream_token_insert, hash,
		 db_i64(sid, r->session_id), db_i64(secs, ttl))) == NULL) {
		http_db_error(r);
		goto out;
	}
	PQclear(res);
	http_reply(r, 201,
	    json_pack("{s:s,s:i}", "stream_token", tok, "expires_in",
		(int)ttl));
out:
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(hash, sizeof(hash));
}
