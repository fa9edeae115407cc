/* friends: the FastCGI binary for /api/v1/friends and /api/v1/blocks. */
#include "friends.h"
#include "notify.h"
#include "server.h"

static const struct route routes[] = {
	{ "GET",    "/api/v1/friends",			   friends_list, ROUTE_USER },
	{ "DELETE", "/api/v1/friends/{id}",		   friends_remove, ROUTE_USER },
	{ "POST",   "/api/v1/friends/requests",		   friends_request_create, ROUTE_USER },
	{ "GET",    "/api/v1/friends/requests",		   friends_request_list, ROUTE_USER },
	{ "POST",   "/api/v1/friends/requests/{id}/accept", friends_request_accept, ROUTE_USER },
	{ "POST",   "/api/v1/friends/requests/{id}/reject", friends_request_reject, ROUTE_USER },
	{ "DELETE", "/api/v1/friends/requests/{id}",	   friends_request_cancel, ROUTE_USER },
	{ "POST",   "/api/v1/blocks",			   friends_block, ROUTE_USER },
	{ "GET",    "/api/v1/blocks",			   friends_block_list, ROUTE_USER },
	{ "DELETE", "/api/v1/blocks/{id}",		   friends_unblock, ROUTE_USER },
};

static const struct service friends = {
	.name = "friends",
	.kept_connections = 1,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.on_start = notify_start,
	.on_stop = notify_stop,
};

int
main(void)
{
	return server_run(&friends);
}
