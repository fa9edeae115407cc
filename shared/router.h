/* router: a service's route table and the matcher over request paths. */
#ifndef PARLEY_ROUTER_H
#define PARLEY_ROUTER_H

#include <stddef.h>

struct http_req;

enum route_auth {
	ROUTE_PUBLIC,	  /* no token needed */
	ROUTE_USER,	  /* a valid session token (header or cookie + CSRF) */
	ROUTE_USER_JSONP, /* GET for old browsers: ?callback=, and a stream
			   * token (never a session token) as
			   * ?access_token=; no cookie with callback= */
	ROUTE_SITE,  /* a site's backend: a signed request (shared/site.h) */
	ROUTE_ADMIN, /* an admin's session (auth_admin); only in a service
			 * with admin_only set, which checks it before
			 * routing and answers everyone else exactly as a
			 * path no service has (http_reply_missing) */
	ROUTE_USER_FORM, /* ROUTE_USER for a form an old browser posts (an
			  * upload through a hidden iframe): by cookie
			  * without X-CSRF-Token, the token may come in the
			  * body, which the handler checks (auth_csrf_check)
			  * before acting; ?iframe=1 wraps every reply for
			  * the frame (http.h, r->iframe) */
};

struct route {
	const char *method;  /* "GET", "POST", ... */
	const char *pattern; /* "/api/v1/friends/{id}"; {x} = 1 segment */
	void (*handler)(struct http_req *);
	enum route_auth auth;
};

enum router_result {
	ROUTER_FOUND,
	ROUTER_NOT_FOUND,  /* no pattern matches the path */
	ROUTER_BAD_METHOD, /* a pattern matches, not the method */
	ROUTER_BAD_PARAM,  /* a path segment is not decodable */
};

/* Finds the route for method + path, filling params[] with the decoded
 * {segments} (each under 256 bytes with its NUL, at most maxp of them)
 * and *found with the route when ROUTER_FOUND (else NULL). */
enum router_result router_match(const struct route *routes, size_t n,
    const char *method, const char *path, char params[][256], int maxp,
    int *nparams, const struct route **found);

#endif
