/* http: one FastCGI request and its response, and the one error convention:
 * every failure leaves as {"error":{"code","message"}} with its status. */
#ifndef PARLEY_HTTP_H
#define PARLEY_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>
#include <jansson.h>

#define HTTP_MAX_PARAMS 4
#define HTTP_PARAM_MAX	256

struct db;
struct route;

struct http_req {
	FCGX_Request fcgi;
	const char  *method; /* REQUEST_METHOD */
	const char  *query;  /* raw QUERY_STRING, never logged */
	const char  *remote_addr;
	char	     path[1024]; /* REQUEST_URI without the query */
	char	     params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX]; /* decoded */
	int	     nparams;
	int	     status;  /* 0 until a reply is sent */
	int64_t	     user_id; /* authenticated user, 0 if none */
	int64_t	     session_id;
	int	     cookie_auth;   /* authenticated by cookie, not header */
	char	     headers[2048]; /* extra response header lines */
	size_t	     headers_len;
	char	     jsonp[80];	    /* JSONP callback, "" for JSON */
	int	     iframe;	    /* ?iframe=1 on a form route: every reply
					 * is a 200 HTML page a hidden iframe
					 * reads (http_iframe_wrap) */
	int	     csrf_pending;  /* ROUTE_USER_FORM by cookie without the
					 * header: auth_csrf_check() pending */
	char	     csrf_want[48]; /* the CSRF value it must match */
	char	    *body;	    /* raw body once read (http_body_read) */
	size_t	     body_len;
	int	     body_read;
	int64_t	     site_id; /* signed site request: the site */
	char	     site[40];
	struct db   *db;	   /* this thread's connection */
	void	    *ctx;	   /* the service's per-thread data */
	const struct route *route; /* the matched route, NULL if none: the
					 * metrics' label, without matching
					 * again at the end */
};

/* Resets per-request state after FCGX_Accept_r filled `fcgi`. Returns -1
 * (and replies 400) when the request line is unusable. */
int http_begin(struct http_req *);
/* The same without replying: -1 when the request line is unusable. */
int http_begin_quiet(struct http_req *);

/* Value of a FastCGI parameter such as "HTTP_USER_AGENT", or NULL. */
const char *http_env(const struct http_req *, const char *name);

/* Adds a response header line ("Name: value"); -1 if it does not fit. */
int http_header(struct http_req *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sends `body` (reference stolen; NULL = no body) with `status`. */
void http_reply(struct http_req *, int status, json_t *body);
/* Sends a raw body with its content type (JSONP, static text). */
void http_reply_raw(struct http_req *, int status, const char *ctype,
    const char *body, size_t len);
/* Sends {"<key>":<json>} where json is JSON text already (as PostgreSQL
 * builds it), without parsing it again. */
void http_reply_wrap(struct http_req *, int status, const char *key,
    const char *json);
/* nginx's answer to a path no location serves (nginx/parley.conf.in,
 * location @not_found), byte for byte. */
#define HTTP_MISSING_BODY                                                      \
	"{\"error\":{\"code\":\"not_found\",\"message\":\"No such "            \
	"endpoint.\"}}\n"
/* Answers exactly as a path no service has: 404 with X-Accel-Redirect to
 * nginx's @not_found, so behind nginx the status, headers and body are
 * the ones nginx sends for any unknown /api/ path; without nginx, the
 * same status and body. Sends no header collected on the request. */
void http_reply_missing(struct http_req *);
/* Sends {"error":{"code":code,"message":...}}. */
void http_error(struct http_req *, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Maps the thread's last database failure to 503 (with Retry-After) or 500. */
void http_db_error(struct http_req *);

/* Reads the raw body once (later calls return the same bytes); *buf is
 * NUL-terminated and owned by the request. Returns 0, or -1 after replying
 * 400 or 413. */
int http_body_read(struct http_req *, const char **buf, size_t *len);
/* Frees the body kept by http_body_read (http_begin does it too). */
void http_body_free(struct http_req *);

/* Reads and parses the JSON object body. On failure replies 413, 415 or
 * 400 and returns NULL. Caller owns the result (json_decref). */
json_t *http_body_json(struct http_req *);

/* Looks up `key` in the query string. Returns 1 and the percent-decoded,
 * UTF-8-checked value in `out`, 0 when absent, -1 when invalid or longer
 * than outlen - 1. Pure function, also used by the fuzz driver. */
int http_query_find(const char *qs, const char *key, char *out, size_t outlen);
/* Same, for a cookie in a Cookie header value. */
int http_cookie_find(const char *header, const char *name, char *out,
    size_t outlen);
/* Percent-decodes src[0..len) into out ('+' is a space when `plus`).
 * Returns decoded length or -1 (bad escape, NUL, too long, not UTF-8). */
long
http_decode(const char *src, size_t len, int plus, char *out, size_t outlen);

/* Query parameter as an integer in [min, max]: 1 found, 0 absent; replies
 * 400 naming the parameter and returns -1 when invalid. */
int http_query_long(struct http_req *, const char *key, long long min,
    long long max, long long *out);

/* Reads ?callback= into r->jsonp: then every reply, errors included, is
 * "/\**\/callback(json);" as application/javascript with status 200 (a
 * script tag cannot see a status; errors carry it as "status"). Replies
 * 400 and returns -1 for a callback that is not a JS identifier path. */
int http_jsonp(struct http_req *);
/* The JSONP body for callback `cb` and `len` bytes of JSON: "/\**\/cb(json);"
 * with U+2028 and U+2029 written as \u2028 and \u2029, so that it is an
 * ES5 program. Returns a NUL-terminated string the caller frees, its
 * length in *outlen. Pure; used by http_reply_raw and the fuzz driver. */
char *
http_jsonp_wrap(const char *cb, const char *json, size_t len, size_t *outlen);

/* Reads ?iframe=1 into r->iframe (any other value is no iframe). */
void http_iframe(struct http_req *);
/* The HTML page for a hidden iframe holding `len` bytes of JSON:
 * <textarea id="parley-reply"> with the JSON, &, < and > written as
 * entities, so the page's textarea.value is the JSON again and no byte of
 * it can end the element or start markup. Returns a NUL-terminated string
 * the caller frees, its length in *outlen. Pure (fuzzed). */
char *http_iframe_wrap(const char *json, size_t len, size_t *outlen);

/* Path parameter `i` as a positive id; replies 400 and returns -1 if not. */
int http_param_id(struct http_req *, int i, int64_t *out);

/* Maps a status string returned by a database function to a reply. The
 * table ends with { NULL }. */
struct http_outcome {
	const char *status;  /* "ok", "not_found", ... */
	int	    http;    /* HTTP status to answer */
	const char *code;    /* error code; NULL for a success */
	const char *message; /* error message */
};

/* For an error outcome, replies with it and returns -1; for a success,
 * returns its HTTP status without replying. An unknown status is a bug:
 * logged, answered 500, -1. */
int http_outcome(struct http_req *, const struct http_outcome *,
    const char *status);

#endif
