/* http: a request's start and the response writer over libfcgi. Handlers
 * never print to the FastCGI stream themselves; every byte goes out here.
 * The body reader is in http_body.c, the query, cookie and path parameter
 * readers in http_query.c (one API, http.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "http.h"
#include "log.h"
#include "text.h"

static const char *reason(int);

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 413:
		return "Payload Too Large";
	case 416:
		return "Range Not Satisfiable";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

const char *
http_env(const struct http_req *r, const char *name)
{
	return FCGX_GetParam(name, r->fcgi.envp);
}

/* http_begin without the reply: 0, or why the request line is unusable. */
enum begin_fail { BEGIN_OK, BEGIN_NO_URI, BEGIN_TOO_LONG };

static enum begin_fail
begin(struct http_req *r)
{
	const char *uri, *q;
	size_t	    len;

	http_body_free(r);
	r->status = 0;
	r->site_id = 0;
	r->site[0] = '\0';
	r->user_id = 0;
	r->session_id = 0;
	r->cookie_auth = 0;
	r->nparams = 0;
	r->headers_len = 0;
	r->headers[0] = '\0';
	r->path[0] = '\0';
	r->jsonp[0] = '\0';
	r->iframe = 0;
	r->csrf_pending = 0;
	r->csrf_want[0] = '\0';
	r->method = http_env(r, "REQUEST_METHOD");
	r->remote_addr = http_env(r, "REMOTE_ADDR");
	r->query = http_env(r, "QUERY_STRING");
	if (r->method == NULL)
		r->method = "";
	if (r->remote_addr == NULL)
		r->remote_addr = "-";
	if (r->query == NULL)
		r->query = "";
	uri = http_env(r, "REQUEST_URI");
	if (uri == NULL || uri[0] != '/')
		return BEGIN_NO_URI;
	q = strchr(uri, '?');
	len = q != NULL ? (size_t)(q - uri) : strlen(uri);
	if (len >= sizeof(r->path))
		return BEGIN_TOO_LONG;
	memcpy(r->path, uri, len);
	r->path[len] = '\0';
	return BEGIN_OK;
}

int
http_begin(struct http_req *r)
{
	switch (begin(r)) {
	case BEGIN_OK:
		return 0;
	case BEGIN_NO_URI:
		http_error(r, 400, "bad_request",
		    "The request URI is missing.");
		break;
	case BEGIN_TOO_LONG:
		http_error(r, 400, "uri_too_long",
		    "The request path is too long.");
		break;
	}
	return -1;
}

int
http_begin_quiet(struct http_req *r)
{
	return begin(r) == BEGIN_OK ? 0 : -1;
}

int
http_header(struct http_req *r, const char *fmt, ...)
{
	va_list ap;
	size_t	room = sizeof(r->headers) - r->headers_len;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(r->headers + r->headers_len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= room) {
		r->headers[r->headers_len] = '\0';
		log_warn("response header dropped: no room");
		return -1;
	}
	r->headers_len += (size_t)n;
	memcpy(r->headers + r->headers_len, "\r\n", 3);
	r->headers_len += 2;
	return 0;
}

void
http_reply_raw(struct http_req *r, int status, const char *ctype,
    const char *body, size_t len)
{
	char  head[sizeof(r->headers) + 256];
	char *wrapped = NULL;
	int   n, wire = status;

	if (r->status != 0) {
		log_warn("second reply to %s %s ignored", r->method, r->path);
		return;
	}
	r->status = status;
	if (r->jsonp[0] != '\0' && body != NULL) {
		body = wrapped = http_jsonp_wrap(r->jsonp, body, len, &len);
		ctype = "application/javascript; charset=utf-8";
		wire = 200;
	} else if (r->iframe && body != NULL) {
		body = wrapped = http_iframe_wrap(body, len, &len);
		ctype = "text/html; charset=utf-8";
		wire = 200;
	}
	/* libfcgi's FCGX_FPrintF has its own printf without %zu: format
	 * here and write bytes. */
	if (body != NULL && ctype != NULL)
		n = snprintf(head, sizeof(head),
		    "Status: %d %s\r\n"
		    "Cache-Control: no-store\r\n"
		    "X-Content-Type-Options: nosniff\r\n%s"
		    "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
		    wire, reason(wire), r->headers, ctype, len);
	else
		n = snprintf(head, sizeof(head),
		    "Status: %d %s\r\n"
		    "Cache-Control: no-store\r\n%s\r\n",
		    status, reason(status), r->headers);
	if (n < 0 || (size_t)n >= sizeof(head))
		log_fatal("response head does not fit");
	FCGX_PutStr(head, n, r->fcgi.out);
	if (body != NULL && len > 0)
		FCGX_PutStr(body, (int)len, r->fcgi.out);
	free(wrapped);
}

void
http_reply_missing(struct http_req *r)
{
	static const char body[] = HTTP_MISSING_BODY;
	char		  head[192];
	int		  n;

	if (r->status != 0) {
		log_warn("second reply to %s %s ignored", r->method, r->path);
		return;
	}
	r->status = 404;
	/* Not http_reply_raw: nginx copies an upstream's Cache-Control to
	 * the redirected reply, and the headers collected so far (an
	 * authentication attempt's) must not leave either. */
	n = snprintf(head, sizeof(head),
	    "Status: 404 Not Found\r\n"
	    "X-Accel-Redirect: @not_found\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    sizeof(body) - 1);
	if (n < 0 || (size_t)n >= sizeof(head))
		log_fatal("response head does not fit");
	FCGX_PutStr(head, n, r->fcgi.out);
	FCGX_PutStr(body, (int)sizeof(body) - 1, r->fcgi.out);
}

char *
http_jsonp_wrap(const char *cb, const char *json, size_t len, size_t *outlen)
{
	size_t cl = strlen(cb), i, o, seps = 0;
	char  *out;

	/* U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8. */
	for (i = 0; i + 2 < len; i++)
		if ((unsigned char)json[i] == 0xe2 &&
		    (unsigned char)json[i + 1] == 0x80 &&
		    ((unsigned char)json[i + 2] & 0xfe) == 0xa8)
			seps++;
	if ((out = malloc(len + 3 * seps + cl + 8)) == NULL)
		log_fatal("malloc: out of memory");
	memcpy(out, "/**/", 4);
	memcpy(out + 4, cb, cl);
	o = 4 + cl;
	out[o++] = '(';
	/* JSON allows the two separators raw in strings; ES5 ends a line at
	 * them, so an ES5 engine fails on the whole script ("unterminated
	 * string"). Outside strings JSON has neither, so the escape is only
	 * ever inside a string, where it means the same character. */
	for (i = 0; i < len; i++) {
		if (i + 2 < len && (unsigned char)json[i] == 0xe2 &&
		    (unsigned char)json[i + 1] == 0x80 &&
		    ((unsigned char)json[i + 2] & 0xfe) == 0xa8) {
			memcpy(out + o, json[i + 2] & 1 ? "\\u2029" : "\\u2028",
			    6);
			o += 6;
			i += 2;
		} else
			out[o++] = json[i];
	}
	memcpy(out + o, ");", 3);
	*outlen = o + 2;
	return out;
}

char *
http_iframe_wrap(const char *json, size_t len, size_t *outlen)
{
	static const char head[] =
	    "<!DOCTYPE html><html><head>"
	    "<meta charset=\"utf-8\"><title>upload</title>"
	    "</head><body><textarea id=\"parley-reply\">";
	static const char tail[] = "</textarea></body></html>\n";
	size_t		  i, o;
	char		 *out;

	/* At most 5 bytes ("&amp;") per input byte. */
	if ((out = malloc(sizeof(head) + sizeof(tail) + len * 5)) == NULL)
		log_fatal("malloc: out of memory");
	memcpy(out, head, sizeof(head) - 1);
	o = sizeof(head) - 1;
	for (i = 0; i < len; i++) {
		switch (json[i]) {
		case '&':
			memcpy(out + o, "&amp;", 5);
			o += 5;
			break;
		case '<':
			memcpy(out + o, "&lt;", 4);
			o += 4;
			break;
		case '>':
			memcpy(out + o, "&gt;", 4);
			o += 4;
			break;
		default:
			out[o++] = json[i];
			break;
		}
	}
	memcpy(out + o, tail, sizeof(tail));
	*outlen = o + sizeof(tail) - 1;
	return out;
}

void
http_iframe(struct http_req *r)
{
	char v[4];

	r->iframe = http_query_find(r->query, "iframe", v, sizeof(v)) == 1 &&
	    strcmp(v, "1") == 0;
}

void
http_reply(struct http_req *r, int status, json_t *body)
{
	char *s;

	if (body == NULL) {
		http_reply_raw(r, status, NULL, NULL, 0);
		return;
	}
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (s == NULL)
		log_fatal("json_dumps: out of memory");
	http_reply_raw(r, status, "application/json; charset=utf-8", s,
	    strlen(s));
	free(s);
}

void
http_reply_wrap(struct http_req *r, int status, const char *key,
    const char *json)
{
	size_t klen = strlen(key), jlen = strlen(json), len;
	char  *s;

	len = klen + jlen + 5;
	if ((s = malloc(len + 1)) == NULL)
		log_fatal("malloc: out of memory");
	s[0] = '{';
	s[1] = '"';
	memcpy(s + 2, key, klen);
	memcpy(s + 2 + klen, "\":", 2);
	memcpy(s + 4 + klen, json, jlen);
	memcpy(s + 4 + klen + jlen, "}", 2);
	http_reply_raw(r, status, "application/json; charset=utf-8", s, len);
	free(s);
}

void
http_error(struct http_req *r, int status, const char *code, const char *fmt,
    ...)
{
	char	msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap); /* truncation keeps a prefix */
	va_end(ap);
	/* Messages quote client bytes (a raw path, jansson's "near '...'")
	 * and the cut above may split a character: json_pack refuses
	 * invalid UTF-8, and the reply would go out without its body. */
	text_utf8_scrub(msg);
	if (r->jsonp[0] != '\0' || r->iframe)
		http_reply(r, status,
		    json_pack("{s:{s:s,s:s},s:i}", "error", "code", code,
			"message", msg, "status", status));
	else
		http_reply(r, status,
		    json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
			msg));
}

int
http_jsonp(struct http_req *r)
{
	char   cb[sizeof(r->jsonp)];
	size_t i;
	int    rc, start = 1;

	rc = http_query_find(r->query, "callback", cb, sizeof(cb));
	if (rc == 0)
		return 0;
	/* identifier ("." identifier)*: nothing else reaches the page. */
	for (i = 0; rc == 1 && cb[i] != '\0'; i++) {
		char c = cb[i];

		if (c == '.' && !start)
			start = 1;
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || c == '$' || (!start && c >= '0' && c <= '9'))
			start = 0;
		else
			rc = -1;
	}
	if (rc != 1 || i == 0 || start) {
		http_error(r, 400, "invalid_callback",
		    "The callback must be a "
		    "JavaScript identifier such as parley.cb1 (at most %zu "
		    "characters).",
		    sizeof(cb) - 1);
		return -1;
	}
	memcpy(r->jsonp, cb, i + 1);
	return 0;
}

void
http_db_error(struct http_req *r)
{
	switch (db_error(r->db)) {
	case DB_UNAVAILABLE:
		http_header(r, "Retry-After: 2");
		http_error(r, 503, "database_unavailable",
		    "The database is unavailable; try again shortly.");
		break;
	case DB_UNIQUE:
		http_error(r, 409, "conflict",
		    "The request conflicts with the current state.");
		break;
	case DB_RETRY:
		http_header(r, "Retry-After: 1");
		http_error(r, 503, "busy", "The server is busy; try again.");
		break;
	default:
		http_error(r, 500, "internal_error",
		    "Something went wrong on the server; it has been logged.");
		break;
	}
}

int
http_outcome(struct http_req *r, const struct http_outcome *tab,
    const char *status)
{
	for (; tab->status != NULL; tab++) {
		if (strcmp(tab->status, status) != 0)
			continue;
		if (tab->code == NULL)
			return tab->http;
		http_error(r, tab->http, tab->code, "%s", tab->message);
		return -1;
	}
	log_warn("%s %s: unexpected status '%s'", r->method, r->path, status);
	http_error(r, 500, "internal_error",
	    "Unexpected state; it has been "
	    "logged.");
	return -1;
}
