/* fuzz_router: router_match on arbitrary methods and paths against a
 * reference matcher that splits both into segments first, then the same
 * request through server_dispatch (http_begin, routing, the error replies)
 * on a memory FastCGI request. Input: the method up to the first newline,
 * then the request URI. */
#include <string.h>

#include "db.h"
#include "fcgi_mem.h"
#include "fuzz.h"
#include "http.h"
#include "log.h"
#include "router.h"
#include "server.h"
#include "text.h"

static void h_ok(struct http_req *);
static void split(const char *, char ***, size_t *);
static int  ref_match(const char *, const char *, char[][256], int *);
static enum router_result ref_route(const char *, const char *, char[][256],
    int *, const struct route **);
static void		  check_match(const char *, const char *);
static int		  want_status(const char *, const char *);
static void		  check_dispatch(const char *, const char *);

/* The services' shapes: literals, one or two {params}, shared prefixes,
 * several methods on one path. All public: dispatch must not need a
 * database. */
static const struct route routes[] = {
	{ "GET", "/api/v1/health", h_ok, ROUTE_PUBLIC },
	{ "GET", "/api/v1/friends", h_ok, ROUTE_PUBLIC },
	{ "DELETE", "/api/v1/friends/{id}", h_ok, ROUTE_PUBLIC },
	{ "POST", "/api/v1/friends/requests", h_ok, ROUTE_PUBLIC },
	{ "GET", "/api/v1/friends/requests", h_ok, ROUTE_PUBLIC },
	{ "POST", "/api/v1/friends/requests/{id}/accept", h_ok, ROUTE_PUBLIC },
	{ "DELETE", "/api/v1/friends/requests/{id}", h_ok, ROUTE_PUBLIC },
	{ "GET", "/api/v1/pairs/{a}/{b}", h_ok, ROUTE_PUBLIC },
	{ "GET", "/{any}", h_ok, ROUTE_PUBLIC },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const struct service svc = { .name = "fuzz",
	.routes = routes,
	.nroutes = NROUTES };
static struct db	   *db;

/* Echoes the params: json_string refuses what is not UTF-8, and the router
 * promised UTF-8. */
static void
h_ok(struct http_req *r)
{
	json_t *list = json_array(), *s;
	int	i;

	for (i = 0; i < r->nparams; i++) {
		FUZZ_ASSERT((s = json_string(r->params[i])) != NULL);
		json_array_append_new(list, s);
	}
	http_reply(r, 200, json_pack("{s:o}", "params", list));
}

/* Splits s after its leading '/' into segments (empty ones kept) in a
 * copy; *nseg gets their number. Caller frees (*segs)[0] and *segs. */
static void
split(const char *s, char ***segs, size_t *nseg)
{
	const char *q;
	char	   *copy, *p;
	size_t	    n = 1, i;

	for (q = s + 1; *q != '\0'; q++)
		n += *q == '/';
	if ((copy = strdup(s + 1)) == NULL ||
	    (*segs = calloc(n, sizeof(**segs))) == NULL)
		abort();
	for (i = 0, p = copy; i < n; i++)
		(*segs)[i] = strsep(&p, "/");
	*nseg = n;
}

/* 1 match, 0 no match, -1 a {param} segment does not decode. Both sides
 * are split up front, then compared in order; the first difference
 * decides, as in a left-to-right walk. */
static int
ref_match(const char *pat, const char *path, char params[][256], int *np)
{
	char **ps, **ss;
	size_t npat, npath, i;
	int    rc = -2;

	*np = 0;
	if (path[0] != '/')
		return 0;
	split(pat, &ps, &npat);
	split(path, &ss, &npath);
	for (i = 0; rc == -2 && i < npat && i < npath; i++) {
		if (ps[i][0] != '{') {
			if (strcmp(ps[i], ss[i]) != 0)
				rc = 0;
		} else if (ss[i][0] == '\0' || *np >= HTTP_MAX_PARAMS)
			rc = 0;
		else if (http_decode(ss[i], strlen(ss[i]), 0, params[*np],
			     256) < 0 ||
		    strchr(params[*np], '/') != NULL)
			rc = -1;
		else
			(*np)++;
	}
	if (rc == -2)
		rc = npat == npath;
	free(ps[0]);
	free(ps);
	free(ss[0]);
	free(ss);
	return rc;
}

/* What router_match must answer, from the reference matcher. */
static enum router_result
ref_route(const char *method, const char *path, char params[][256], int *np,
    const struct route **found)
{
	enum router_result res = ROUTER_NOT_FOUND;
	size_t		   i;
	int		   m;

	*found = NULL;
	for (i = 0; i < NROUTES; i++) {
		m = ref_match(routes[i].pattern, path, params, np);
		if (m == 1 && strcmp(routes[i].method, method) == 0) {
			*found = &routes[i];
			return ROUTER_FOUND;
		}
		if (m == 1)
			res = ROUTER_BAD_METHOD;
		else if (m == -1 && res == ROUTER_NOT_FOUND)
			res = ROUTER_BAD_PARAM;
	}
	return res;
}

static void
check_match(const char *method, const char *path)
{
	static char	    params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
	static char	    want[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
	const struct route *found, *wfound;
	enum router_result  res, wres;
	int		    np, wnp, i;

	res = router_match(routes, NROUTES, method, path, params,
	    HTTP_MAX_PARAMS, &np, &found);
	wres = ref_route(method, path, want, &wnp, &wfound);
	FUZZ_ASSERT(res == wres);
	FUZZ_ASSERT(found == wfound);
	if (res != ROUTER_FOUND)
		return;
	FUZZ_ASSERT(np == wnp);
	for (i = 0; i < np; i++) {
		FUZZ_ASSERT(strcmp(params[i], want[i]) == 0);
		FUZZ_ASSERT(params[i][0] != '\0');
		FUZZ_ASSERT(strchr(params[i], '/') == NULL);
		FUZZ_ASSERT(text_utf8_valid(params[i], strlen(params[i])));
	}
}

/* The reply server_dispatch must give, from the router's answer. */
static int
want_status(const char *method, const char *uri)
{
	static char	    params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
	const struct route *found;
	char		   *path;
	size_t		    len = strcspn(uri, "?");
	int		    np, st = 0;

	if (uri[0] != '/' || len >= sizeof(((struct http_req *)0)->path))
		return 400;
	if ((path = strndup(uri, len)) == NULL)
		abort();
	switch (router_match(routes, NROUTES, method, path, params,
	    HTTP_MAX_PARAMS, &np, &found)) {
	case ROUTER_FOUND:
		st = 200;
		break;
	case ROUTER_NOT_FOUND:
		st = 404;
		break;
	case ROUTER_BAD_METHOD:
		st = 405;
		break;
	case ROUTER_BAD_PARAM:
		st = 400;
		break;
	}
	free(path);
	return st;
}

static void
check_dispatch(const char *method, const char *uri)
{
	static struct http_req r;
	struct fcgi_mem	       m;

	memset(&r, 0, sizeof(r));
	fcgi_mem_init(&m, &r, NULL, 0);
	fcgi_mem_setenv(&m, "REQUEST_METHOD", method);
	fcgi_mem_setenv(&m, "REQUEST_URI", uri);
	fcgi_mem_setenv(&m, "REMOTE_ADDR", "127.0.0.1");
	r.db = db;
	server_dispatch(&svc, &r);
	FUZZ_OK(fcgi_mem_check(&m, want_status(method, uri)));
	fcgi_mem_cleanup(&m);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_router");
	db = db_new(); /* never connects: no route needs it */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf, *uri, *nl;
	const char *method;

	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		method = buf;
		uri = nl + 1;
	} else {
		method = "GET";
		uri = buf;
	}
	check_match(method, uri);
	check_dispatch(method, uri);
	free(buf);
	return 0;
}
