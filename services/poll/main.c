/* poll: the FastCGI binary for GET /api/v1/events (long-poll delivery). */
#include "poll.h"
#include "server.h"

static const struct service poll_service = {
	.name = "poll",
	/* routes_poll.c, from docs/openapi.json */
	.routes = poll_routes,
	.nroutes = POLL_NROUTES,
	.on_start = hub_start,
	.on_stop = hub_stop,
};

int
main(void)
{
	return server_run(&poll_service);
}
