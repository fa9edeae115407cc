/* accounts: the FastCGI binary for /api/v1/auth/..., /api/v1/users and
 * /api/v1/health. main only wires the route table to the server loop. */
#include "accounts.h"
#include "server.h"

static const struct route routes[] = {
	{ "GET",    "/api/v1/health",		  accounts_health, ROUTE_PUBLIC },
	{ "POST",   "/api/v1/auth/register",	  accounts_register, ROUTE_PUBLIC },
	{ "POST",   "/api/v1/auth/login",	  accounts_login, ROUTE_PUBLIC },
	{ "POST",   "/api/v1/auth/ticket",	  accounts_ticket, ROUTE_PUBLIC },
	{ "POST",   "/api/v1/auth/logout",	  accounts_logout, ROUTE_USER },
	{ "GET",    "/api/v1/auth/me",		  accounts_me, ROUTE_USER },
	{ "POST",   "/api/v1/auth/stream-token",  accounts_stream_token, ROUTE_USER },
	{ "GET",    "/api/v1/auth/sessions",	  accounts_sessions_list, ROUTE_USER },
	{ "DELETE", "/api/v1/auth/sessions/{id}", accounts_sessions_revoke, ROUTE_USER },
	{ "GET",    "/api/v1/users",		  accounts_users_search, ROUTE_USER },
};

static const struct service accounts = {
	.name = "accounts",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.on_start = accounts_start,	/* the password hashing pool */
	.on_stop = accounts_stop,
};

int
main(void)
{
	return server_run(&accounts);
}
