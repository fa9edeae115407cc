/* test_router: route matching over a table shaped like the services' own,
 * with {param} segments and several methods on one path. */
#include "http.h"
#include "router.h"
#include "unit.h"

static void h_dummy(struct http_req *);

static void
h_dummy(struct http_req *r)
{
	(void)r;
}

static const struct route routes[] = {
	{ "GET", "/api/v1/health", h_dummy, ROUTE_PUBLIC },
	{ "GET", "/api/v1/friends", h_dummy, ROUTE_USER },
	{ "DELETE", "/api/v1/friends/{id}", h_dummy, ROUTE_USER },
	{ "POST", "/api/v1/friends/requests", h_dummy, ROUTE_USER },
	{ "POST", "/api/v1/friends/requests/{id}/accept", h_dummy, ROUTE_USER },
	{ "GET", "/api/v1/pairs/{a}/{b}", h_dummy, ROUTE_USER },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static char		   params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
static int		   nparams;
static const struct route *found;

static enum router_result match(const char *, const char *);
static const char	 *t_exact(void);
static const char	 *t_params(void);
static const char	 *t_params_decoded(void);
static const char	 *t_trailing_slash(void);
static const char	 *t_bad_method(void);
static const char	 *t_bad_param(void);
static const char	 *t_empty_segment(void);
static const char	 *t_max_params(void);

static enum router_result
match(const char *method, const char *path)
{
	return router_match(routes, NROUTES, method, path, params,
	    HTTP_MAX_PARAMS, &nparams, &found);
}

static const char *
t_exact(void)
{
	CHECK_EQ(match("GET", "/api/v1/health"), ROUTER_FOUND);
	CHECK(found == &routes[0]);
	CHECK_EQ(nparams, 0);
	CHECK_EQ(match("POST", "/api/v1/friends/requests"), ROUTER_FOUND);
	CHECK(found == &routes[3]);
	CHECK_EQ(match("GET", "/api/v1/nothing"), ROUTER_NOT_FOUND);
	CHECK(found == NULL);
	CHECK_EQ(match("GET", "/api/v1/healthz"), ROUTER_NOT_FOUND);
	CHECK_EQ(match("GET", "/api/v1/healt"), ROUTER_NOT_FOUND);
	CHECK_EQ(match("GET", "/api/v1"), ROUTER_NOT_FOUND);
	CHECK_EQ(match("GET", ""), ROUTER_NOT_FOUND);
	CHECK_EQ(match("GET", "/"), ROUTER_NOT_FOUND);
	/* Segments compare as bytes: no case folding, no decoding. */
	CHECK_EQ(match("GET", "/API/v1/health"), ROUTER_NOT_FOUND);
	CHECK_EQ(match("GET", "/api/v1/%68ealth"), ROUTER_NOT_FOUND);
	return NULL;
}

static const char *
t_params(void)
{
	CHECK_EQ(match("DELETE", "/api/v1/friends/42"), ROUTER_FOUND);
	CHECK(found == &routes[2]);
	CHECK_EQ(nparams, 1);
	CHECK_STR(params[0], "42");
	CHECK_EQ(match("POST", "/api/v1/friends/requests/7/accept"),
	    ROUTER_FOUND);
	CHECK(found == &routes[4]);
	CHECK_EQ(nparams, 1);
	CHECK_STR(params[0], "7");
	CHECK_EQ(match("GET", "/api/v1/pairs/x/y"), ROUTER_FOUND);
	CHECK_EQ(nparams, 2);
	CHECK_STR(params[0], "x");
	CHECK_STR(params[1], "y");
	return NULL;
}

static const char *
t_params_decoded(void)
{
	CHECK_EQ(match("DELETE", "/api/v1/friends/a%20b"), ROUTER_FOUND);
	CHECK_STR(params[0], "a b");
	/* '+' means a space only in query strings. */
	CHECK_EQ(match("DELETE", "/api/v1/friends/a+b"), ROUTER_FOUND);
	CHECK_STR(params[0], "a+b");
	CHECK_EQ(match("DELETE", "/api/v1/friends/caf%C3%A9"), ROUTER_FOUND);
	CHECK_STR(params[0], "caf\xc3\xa9");
	return NULL;
}

static const char *
t_trailing_slash(void)
{
	CHECK_EQ(match("GET", "/api/v1/health/"), ROUTER_NOT_FOUND);
	CHECK_EQ(match("GET", "/api/v1/friends/"), ROUTER_NOT_FOUND);
	CHECK_EQ(match("DELETE", "/api/v1/friends/42/"), ROUTER_NOT_FOUND);
	CHECK_EQ(match("GET", "/api/v1//health"), ROUTER_NOT_FOUND);
	CHECK_EQ(match("GET", "//api/v1/health"), ROUTER_NOT_FOUND);
	return NULL;
}

static const char *
t_bad_method(void)
{
	CHECK_EQ(match("POST", "/api/v1/health"), ROUTER_BAD_METHOD);
	CHECK(found == NULL);
	CHECK_EQ(match("GET", "/api/v1/friends/42"), ROUTER_BAD_METHOD);
	CHECK_EQ(match("get", "/api/v1/health"), ROUTER_BAD_METHOD);
	CHECK_EQ(match("", "/api/v1/health"), ROUTER_BAD_METHOD);
	/* Two methods on one path: each finds its own route. */
	CHECK_EQ(match("GET", "/api/v1/friends"), ROUTER_FOUND);
	CHECK(found == &routes[1]);
	CHECK_EQ(match("PUT", "/api/v1/friends"), ROUTER_BAD_METHOD);
	return NULL;
}

static const char *
t_bad_param(void)
{
	CHECK_EQ(match("DELETE", "/api/v1/friends/%G1"), ROUTER_BAD_PARAM);
	CHECK(found == NULL);
	CHECK_EQ(match("DELETE", "/api/v1/friends/%4"), ROUTER_BAD_PARAM);
	CHECK_EQ(match("DELETE", "/api/v1/friends/%00"), ROUTER_BAD_PARAM);
	CHECK_EQ(match("DELETE", "/api/v1/friends/%FF"), ROUTER_BAD_PARAM);
	CHECK_EQ(match("DELETE", "/api/v1/friends/\xff"), ROUTER_BAD_PARAM);
	CHECK_EQ(match("DELETE", "/api/v1/friends/%C0%80"), ROUTER_BAD_PARAM);
	/* An encoded slash would let one segment pose as two. */
	CHECK_EQ(match("DELETE", "/api/v1/friends/1%2F2"), ROUTER_BAD_PARAM);
	CHECK_EQ(match("DELETE", "/api/v1/friends/%2f"), ROUTER_BAD_PARAM);
	/* Too long to decode into a parameter. */
	{
		char   path[400];
		size_t n;

		n = strlen("/api/v1/friends/");
		memcpy(path, "/api/v1/friends/", n);
		memset(path + n, 'a', 300);
		path[n + 300] = '\0';
		CHECK_EQ(match("DELETE", path), ROUTER_BAD_PARAM);
	}
	return NULL;
}

static const char *
t_empty_segment(void)
{
	CHECK_EQ(match("DELETE", "/api/v1/friends/"), ROUTER_NOT_FOUND);
	CHECK_EQ(match("POST", "/api/v1/friends/requests//accept"),
	    ROUTER_NOT_FOUND);
	CHECK_EQ(match("GET", "/api/v1/pairs//y"), ROUTER_NOT_FOUND);
	CHECK_EQ(match("GET", "/api/v1/pairs/x/"), ROUTER_NOT_FOUND);
	return NULL;
}

static const char *
t_max_params(void)
{
	/* Fewer slots than the pattern has {params}: no match, no overflow. */
	CHECK_EQ(router_match(routes, NROUTES, "GET", "/api/v1/pairs/x/y",
		     params, 1, &nparams, &found),
	    ROUTER_NOT_FOUND);
	CHECK(found == NULL);
	return NULL;
}

void
test_router(void)
{
	unit_run("router_match/exact", t_exact);
	unit_run("router_match/params", t_params);
	unit_run("router_match/params_decoded", t_params_decoded);
	unit_run("router_match/trailing_slash", t_trailing_slash);
	unit_run("router_match/bad_method", t_bad_method);
	unit_run("router_match/bad_param", t_bad_param);
	unit_run("router_match/empty_segment", t_empty_segment);
	unit_run("router_match/max_params", t_max_params);
}
