/* calls: the FastCGI binary for /api/v1/calls, /api/v1/rooms and
 * /api/v1/ice-servers. The server owns every call's state (in PostgreSQL);
 * this process also runs the sweeper that ends unanswered calls and calls
 * whose party went offline, so the timers hold across restarts. */
#include "calls.h"
#include "config.h"
#include "notify.h"
#include "server.h"

static const struct route routes[] = {
	{ "POST",   "/api/v1/calls",			calls_create, ROUTE_USER },
	{ "GET",    "/api/v1/calls",			calls_list, ROUTE_USER },
	{ "GET",    "/api/v1/calls/{id}",		calls_get, ROUTE_USER },
	{ "POST",   "/api/v1/calls/{id}/accept",	calls_accept, ROUTE_USER },
	{ "POST",   "/api/v1/calls/{id}/reject",	calls_reject, ROUTE_USER },
	{ "POST",   "/api/v1/calls/{id}/cancel",	calls_cancel, ROUTE_USER },
	{ "POST",   "/api/v1/calls/{id}/hangup",	calls_hangup, ROUTE_USER },
	{ "POST",   "/api/v1/calls/{id}/signal",	calls_signal, ROUTE_USER },
	{ "POST",   "/api/v1/rooms",			rooms_create, ROUTE_USER },
	{ "GET",    "/api/v1/rooms/{id}",		rooms_get, ROUTE_USER },
	{ "POST",   "/api/v1/rooms/{id}/join",		rooms_join, ROUTE_USER },
	{ "POST",   "/api/v1/rooms/{id}/leave",		rooms_leave, ROUTE_USER },
	{ "POST",   "/api/v1/rooms/{id}/signal",	rooms_signal, ROUTE_USER },
	{ "GET",    "/api/v1/ice-servers",		ice_servers, ROUTE_USER },
};

static void
calls_start(void)
{
	calls_config_load();
	notify_start();
	sweeper_start();
}

static void
calls_stop(void)
{
	sweeper_stop();
	notify_stop();
}

static const struct service calls = {
	.name = "calls",
	.kept_connections = 1,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.on_start = calls_start,
	.on_stop = calls_stop,
};

int
main(void)
{
	return server_run(&calls);
}
