/* test_reply: the response side of http.c and the dispatch errors of
 * server.c over a memory FastCGI request: every failure must leave as
 * {"error":{"code","message"}}, whatever bytes the client sent. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "fcgi_mem.h"
#include "http.h"
#include "server.h"
#include "unit.h"

static const char *t_error_body(void);
static const char *t_error_raw_bytes(void);
static const char *t_error_truncated(void);
static const char *t_header(void);
static const char *t_body_ok(void);
static const char *t_body_refused(void);
static const char *t_query_long(void);
static const char *t_param_id(void);
static const char *t_dispatch(void);
static const char *t_admin_gate(void);
static const char *t_jsonp_separators(void);
static const char *t_iframe(void);
static void	   h_ok(struct http_req *);
static void	   start(const char *, ...);

static struct http_req req;
static struct fcgi_mem mem;

#define CHECK_REPLY(status)                                                    \
	do {                                                                   \
		const char *why_ = fcgi_mem_check(&mem, (status));             \
		if (why_ != NULL)                                              \
			return unit_fail(__FILE__, __LINE__, "%s", why_);      \
		fcgi_mem_rewind(&mem, &req);                                   \
	} while (0)

/* A fresh request with the given body and parameters (name, value, ...,
 * NULL). It ends the previous one, so a failed CHECK leaks nothing. */
static void
start(const char *body, ...)
{
	va_list	    ap;
	const char *name, *value;

	fcgi_mem_cleanup(&mem);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	fcgi_mem_init(&mem, &req, body, body != NULL ? strlen(body) : 0);
	va_start(ap, body);
	while ((name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		fcgi_mem_setenv(&mem, name, value);
	}
	va_end(ap);
}

static const char *
t_error_body(void)
{
	const char *out;
	size_t	    len;

	start(NULL, NULL);
	http_error(&req, 404, "not_found", "No %s here.", "thing");
	out = fcgi_mem_output(&mem, &len);
	CHECK(strncmp(out, "Status: 404 Not Found\r\n", 23) == 0);
	CHECK(strstr(out,
		  "{\"error\":{\"code\":\"not_found\",\"message\":"
		  "\"No thing here.\"}}") != NULL);
	CHECK_REPLY(404);
	/* A second reply to one request is dropped, not appended. */
	http_error(&req, 400, "first", "First.");
	http_error(&req, 500, "second", "Second.");
	CHECK_REPLY(400);
	return NULL;
}

/* Messages quote client bytes (the path of a 404): they need not be
 * UTF-8, and the reply must still be the JSON error. */
static const char *
t_error_raw_bytes(void)
{
	start(NULL, NULL);
	http_error(&req, 404, "not_found", "No such endpoint: %s.",
	    "/api/\xff\xfe/\xc3");
	CHECK_REPLY(404);
	http_error(&req, 400, "bad", "%s", "\xed\xa0\x80 and \xc0\x80");
	CHECK_REPLY(400);
	return NULL;
}

/* A long message is cut to fit; the cut must not split a character. */
static const char *
t_error_truncated(void)
{
	char   long_path[1024];
	size_t i;

	for (i = 0; i + 2 < sizeof(long_path); i += 2)
		memcpy(long_path + i, "\xc3\xa9", 2);
	long_path[i] = '\0';
	start(NULL, NULL);
	http_error(&req, 404, "not_found", "No such endpoint: %s.", long_path);
	CHECK_REPLY(404);
	http_error(&req, 404, "not_found", "x%s", long_path);
	CHECK_REPLY(404);
	return NULL;
}

static const char *
t_header(void)
{
	char big[sizeof(req.headers)];

	start(NULL, NULL);
	CHECK_EQ(http_header(&req, "Retry-After: %d", 2), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* Too long: refused, and what was there stays intact. */
	CHECK_EQ(http_header(&req, "X-Big: %s", big), -1);
	CHECK_STR(req.headers, "Retry-After: 2\r\n");
	http_error(&req, 503, "busy", "Busy.");
	CHECK(strstr(fcgi_mem_output(&mem, &(size_t){ 0 }),
		  "\r\nRetry-After: 2\r\n") != NULL);
	CHECK_REPLY(503);
	return NULL;
}

static const char *
t_body_ok(void)
{
	json_t *o;

	start("{\"a\":1}", "CONTENT_LENGTH", "7", "CONTENT_TYPE",
	    "application/json; charset=utf-8", NULL);
	o = http_body_json(&req);
	CHECK(o != NULL);
	CHECK_EQ(json_integer_value(json_object_get(o, "a")), 1);
	json_decref(o);
	CHECK(req.status == 0);
	return NULL;
}

struct body_row {
	const char *body;
	const char *length; /* CONTENT_LENGTH, NULL = unset */
	const char *type;   /* CONTENT_TYPE, NULL = unset */
	int	    status;
};

static const struct body_row body_rows[] = {
	{ "{\"a\":1,\"a\":2}", "13", "application/json", 400 },
	{ "[1]", "3", "application/json", 400 },
	{ "\"s\"", "3", "application/json", 400 },
	{ "{\"a\":", "5", "application/json", 400 },
	{ "{\"a\":\"\\u0000\"}", "14", "application/json", 400 },
	{ "{\"a\":\"\xff\"}", "8", "application/json", 400 },
	{ "{}", NULL, "application/json", 400 },
	{ "{}", "", "application/json", 400 },
	{ "{}", "0", "application/json", 400 },
	{ "{}", "2x", "application/json", 400 },
	{ "{}", "5", "application/json", 400 }, /* ends early */
	{ "{}", "99999999", "application/json", 413 },
	{ "{}", "2", NULL, 415 },
	{ "{}", "2", "text/plain", 415 },
	{ "{}", "2", "application/jsonx", 415 },
	{ "{}", "2", "application/js", 415 },
};

static const char *
t_body_refused(void)
{
	const struct body_row *row;
	size_t		       i;
	static char	       why[256];
	const char	      *w;

	for (i = 0; i < sizeof(body_rows) / sizeof(body_rows[0]); i++) {
		row = &body_rows[i];
		start(row->body, NULL);
		if (row->length != NULL)
			fcgi_mem_setenv(&mem, "CONTENT_LENGTH", row->length);
		if (row->type != NULL)
			fcgi_mem_setenv(&mem, "CONTENT_TYPE", row->type);
		if (http_body_json(&req) != NULL)
			w = "accepted";
		else
			w = fcgi_mem_check(&mem, row->status);
		fcgi_mem_cleanup(&mem);
		if (w != NULL) {
			snprintf(why, sizeof(why), "row %zu (%s): %s", i,
			    row->body, w);
			return why;
		}
	}
	return NULL;
}

static const char *
t_query_long(void)
{
	long long v = 7;

	start(NULL, NULL);
	req.query = "limit=25&neg=-3&big=999&x=1x&e=&huge="
		    "99999999999999999999999";
	CHECK_EQ(http_query_long(&req, "limit", 1, 50, &v), 1);
	CHECK_EQ(v, 25);
	CHECK_EQ(http_query_long(&req, "neg", -5, 5, &v), 1);
	CHECK_EQ(v, -3);
	CHECK_EQ(http_query_long(&req, "absent", 1, 50, &v), 0);
	CHECK_EQ(v, -3);
	CHECK(req.status == 0);
	CHECK_EQ(http_query_long(&req, "big", 1, 50, &v), -1);
	CHECK_REPLY(400);
	CHECK_EQ(http_query_long(&req, "x", 1, 50, &v), -1);
	CHECK_REPLY(400);
	CHECK_EQ(http_query_long(&req, "e", 1, 50, &v), -1);
	CHECK_REPLY(400);
	CHECK_EQ(http_query_long(&req, "huge", 1, 50, &v), -1);
	CHECK_REPLY(400);
	CHECK_EQ(v, -3);
	return NULL;
}

static const char *
t_param_id(void)
{
	static const char *const bad[] = { "", "0", "-1", "01", "+1", " 1",
		"4x", "1.0", "99999999999999999999" };
	int64_t			 id = 0;
	size_t			 i;

	start(NULL, NULL);
	req.nparams = 1;
	strcpy(req.params[0], "42");
	CHECK_EQ(http_param_id(&req, 0, &id), 0);
	CHECK_EQ(id, 42);
	CHECK_EQ(http_param_id(&req, 1, &id), -1); /* no such param */
	CHECK_REPLY(400);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(req.params[0], bad[i]);
		CHECK_EQ(http_param_id(&req, 0, &id), -1);
		CHECK_REPLY(400);
	}
	CHECK_EQ(id, 42);
	return NULL;
}

static void
h_ok(struct http_req *r)
{
	http_reply(r, 200, json_pack("{s:s}", "id", r->params[0]));
}

static const struct route dispatch_routes[] = {
	{ "GET", "/api/v1/things/{id}", h_ok, ROUTE_PUBLIC },
};

static const struct service dispatch_svc = { .name = "unit",
	.routes = dispatch_routes,
	.nroutes = 1 };

/* server_dispatch maps each router result to its reply; paths are raw
 * client bytes (nginx passes $request_uri undecoded). */
static const char *
t_dispatch(void)
{
	static const struct {
		const char *method, *uri;
		int	    status;
	} rows[] = {
		{ "GET", "/api/v1/things/a%20b?x=1", 200 },
		{ "GET", "/api/v1/nothing", 404 },
		{ "GET", "/api/v1/\xff\xfe", 404 },
		{ "GET", "/api/v1/caf\xc3", 404 },
		{ "POST", "/api/v1/things/1", 405 },
		{ "GET", "/api/v1/things/%ff", 400 },
		{ "GET", "/api/v1/things/%2F", 400 },
		{ "GET", "no-slash", 400 },
		{ "GET", "", 400 },
	};
	static char why[256];
	const char *w;
	size_t	    i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		start(NULL, "REQUEST_METHOD", rows[i].method, "REQUEST_URI",
		    rows[i].uri, NULL);
		req.db = db_new();
		server_dispatch(&dispatch_svc, &req);
		w = fcgi_mem_check(&mem, rows[i].status);
		db_free(req.db);
		fcgi_mem_cleanup(&mem);
		if (w != NULL) {
			/* Row number, not the URI: its bytes are not text. */
			snprintf(why, sizeof(why), "row %zu (%s, want %d): %s",
			    i, rows[i].method, rows[i].status, w);
			return why;
		}
	}
	return NULL;
}

static const struct route admin_routes[] = {
	{ "GET", "/api/v1/admin/things/{id}", h_ok, ROUTE_ADMIN },
	{ "POST", "/api/v1/admin/things/{id}/zap", h_ok, ROUTE_ADMIN },
};

static const struct service admin_svc = {
	.name = "unit-admin",
	.routes = admin_routes,
	.nroutes = 2,
	.admin_only = 1,
};

/* The same ROUTE_ADMIN route in a service that does not check first. */
static const struct service admin_unguarded_svc = {
	.name = "unit-unguarded",
	.routes = admin_routes,
	.nroutes = 2,
};

/* An admin-only service answers every request without an admin's
 * credential with the same bytes, whatever its path, method or ids:
 * nginx's 404 for an unknown path (by X-Accel-Redirect), nothing of the
 * authentication attempt (no WWW-Authenticate), no Cache-Control (nginx
 * would copy it). No database is needed to refuse these. */
static const char *
t_admin_gate(void)
{
	static const char want[] =
	    "Status: 404 Not Found\r\n"
	    "X-Accel-Redirect: @not_found\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 61\r\n\r\n"
	    "{\"error\":{\"code\":\"not_found\",\"message\":"
	    "\"No such endpoint.\"}}\n";
	static char longpath[1200], why[256];
	static const struct {
		const char *method, *uri, *auth, *cookie;
	} rows[] = {
		{ "GET", "/api/v1/admin/things/1", NULL, NULL },
		{ "POST", "/api/v1/admin/things/1/zap", NULL, NULL },
		{ "PUT", "/api/v1/admin/things/1", NULL, NULL },
		{ "GET", "/api/v1/admin/nothing", NULL, NULL },
		{ "GET", "/api/v1/admin/things/%ff", NULL, NULL },
		{ "GET", "/api/v1/admin/things/1", "Bearer abc", NULL },
		{ "GET", "/api/v1/admin/things/1", "Basic YTpi", NULL },
		{ "GET", "/api/v1/admin/things/1?access_token=st_x", NULL,
		    NULL },
		/* A well-formed cookie on POST without X-CSRF-Token. */
		{ "POST", "/api/v1/admin/things/1/zap", NULL,
		    "parley_session="
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ "GET", "", NULL, NULL },
		{ "GET", longpath, NULL, NULL },
	};
	const struct service *svc;
	const char	     *out;
	size_t		      i, len;
	int		      pass;

	memcpy(longpath, "/api/v1/admin/", 14);
	memset(longpath + 14, 'a', sizeof(longpath) - 15);
	for (pass = 0; pass < 2; pass++) {
		svc = pass == 0 ? &admin_svc : &admin_unguarded_svc;
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			/* The unguarded service routes first: only its
			 * routes' rows reach the ROUTE_ADMIN check there. */
			if (pass == 1 && i > 1)
				break;
			start(NULL, "REQUEST_METHOD", rows[i].method,
			    "REQUEST_URI", rows[i].uri, NULL);
			if (rows[i].auth != NULL)
				fcgi_mem_setenv(&mem, "HTTP_AUTHORIZATION",
				    rows[i].auth);
			if (rows[i].cookie != NULL)
				fcgi_mem_setenv(&mem, "HTTP_COOKIE",
				    rows[i].cookie);
			req.db = db_new();
			server_dispatch(svc, &req);
			out = fcgi_mem_output(&mem, &len);
			db_free(req.db);
			if (len != sizeof(want) - 1 ||
			    memcmp(out, want, len) != 0) {
				snprintf(why, sizeof(why),
				    "%s row %zu (%s): "
				    "%.*s",
				    svc->name, i, rows[i].method,
				    (int)(len < 160 ? len : 160), out);
				fcgi_mem_cleanup(&mem);
				return why;
			}
			CHECK_EQ(req.status, 404);
			CHECK_EQ(req.user_id, 0);
		}
	}
	fcgi_mem_cleanup(&mem);
	return NULL;
}

/* U+2028/U+2029 end a line in ES5, so a raw one in a string makes the
 * whole script fail: every JSONP body has them escaped, and only them. */
static const char *
t_jsonp_separators(void)
{
	static const char json[] = "{\"m\":\"a\xe2\x80\xa8"
				   "b\xe2\x80"
				   "\xa9"
				   "c\xe2\x80\xa7\xe2\x80\"}";
	const char	 *out, *body;
	char		 *w;
	size_t		  len;

	w = http_jsonp_wrap("p.cb", json, sizeof(json) - 1, &len);
	CHECK_STR(w,
	    "/**/p.cb({\"m\":\"a\\u2028b\\u2029c\xe2\x80\xa7"
	    "\xe2\x80\"});");
	CHECK_EQ(len, strlen(w));
	free(w);
	/* A cut-off sequence at the very end stays as it is. */
	w = http_jsonp_wrap("cb", "\xe2\x80", 2, &len);
	CHECK_STR(w, "/**/cb(\xe2\x80);");
	free(w);
	/* And the reply path uses it, errors included. */
	start(NULL, NULL);
	memcpy(req.jsonp, "cb", 3);
	http_error(&req, 404, "not_found", "x\xe2\x80\xa8y");
	out = fcgi_mem_output(&mem, &len);
	CHECK((body = strstr(out, "\r\n\r\n")) != NULL);
	CHECK(strstr(body, "\xe2\x80\xa8") == NULL);
	CHECK(strstr(body, "x\\u2028y") != NULL);
	CHECK(strstr(out, "Status: 200 OK\r\n") == out);
	fcgi_mem_rewind(&mem, &req);
	return NULL;
}

/* ?iframe=1 (a form route): every reply, errors too, is a 200 HTML page
 * with the JSON in a textarea, markup characters as entities. */
static const char *
t_iframe(void)
{
	const char *out, *body;
	size_t	    len;
	char	   *page;

	start(NULL, NULL);
	req.query = "a=b&iframe=1";
	http_iframe(&req);
	CHECK(req.iframe);
	http_error(&req, 403, "csrf_failed", "No <b>%s</b> & co.", "token");
	out = fcgi_mem_output(&mem, &len);
	CHECK(strncmp(out, "Status: 200 OK\r\n", 16) == 0);
	CHECK(strstr(out, "\r\nContent-Type: text/html; charset=utf-8\r\n") !=
	    NULL);
	CHECK((body = strstr(out, "<textarea id=\"parley-reply\">")) != NULL);
	CHECK(strstr(body,
		  "{\"error\":{\"code\":\"csrf_failed\",\"message\":"
		  "\"No &lt;b&gt;token&lt;/b&gt; &amp; co.\"},\"status\":403}"
		  "</textarea>") != NULL);
	CHECK(strchr(body + 28, '<') == strstr(body, "</textarea>"));
	start(NULL, NULL);
	req.query = "iframe=yes";
	http_iframe(&req);
	CHECK(!req.iframe);
	page = http_iframe_wrap("<&>", 3, &len);
	CHECK(strstr(page, ">&lt;&amp;&gt;</textarea>") != NULL);
	CHECK_EQ(len, strlen(page));
	free(page);
	start(NULL, NULL);
	return NULL;
}

void
test_reply(void)
{
	unit_run("http_error/body", t_error_body);
	unit_run("http_error/raw_bytes", t_error_raw_bytes);
	unit_run("http_error/truncated", t_error_truncated);
	unit_run("http_header", t_header);
	unit_run("http_body_json/ok", t_body_ok);
	unit_run("http_body_json/refused", t_body_refused);
	unit_run("http_query_long", t_query_long);
	unit_run("http_param_id", t_param_id);
	unit_run("server_dispatch/errors", t_dispatch);
	unit_run("server_dispatch/admin_gate", t_admin_gate);
	unit_run("http_jsonp_wrap/separators", t_jsonp_separators);
	unit_run("http_iframe_wrap", t_iframe);
	fcgi_mem_cleanup(&mem);
}
