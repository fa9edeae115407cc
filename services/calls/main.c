/* calls: the FastCGI binary for /api/v1/calls, /api/v1/rooms and
 * /api/v1/ice-servers. The server owns every call's state (in PostgreSQL);
 * this process also runs the sweeper that ends unanswered calls and calls
 * whose party went offline, so the timers hold across restarts. */
#include "calls.h"
#include "config.h"
#include "notify.h"
#include "server.h"

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
	/* routes_calls.c, from docs/openapi.json */
	.routes = calls_routes,
	.nroutes = CALLS_NROUTES,
	.on_start = calls_start,
	.on_stop = calls_stop,
};

int
main(void)
{
	return server_run(&calls);
}
