/* poll: the FastCGI binary for GET /api/v1/events (long-poll delivery). */
#include "poll.h"
#include "server.h"

static const struct route routes[] = {
	{ "GET", "/api/v1/events", poll_events, ROUTE_USER_JSONP },
};

static const struct service poll_service = {
	.name = "poll",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.on_start = hub_start,
	.on_stop = hub_stop,
};

int
main(void)
{
	return server_run(&poll_service);
}
