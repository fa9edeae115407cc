/* sites: the FastCGI binary for /api/v1/server/, the API a site's backend
 * calls with requests signed by its secret (ROUTE_SITE, shared/site.c).
 * Webhook deliveries are another process: services/webhooks. */
#include "config.h"
#include "notify.h"
#include "server.h"
#include "sites.h"

static void
sites_start(void)
{
	sites_ticket_ttl = config_env_long("PARLEY_TICKET_TTL", 60, 5, 3600);
	notify_start();
}

static const struct service sites = {
	.name = "sites",
	.kept_connections = 1,
	/* routes_sites.c, from docs/openapi.json */
	.routes = sites_routes,
	.nroutes = SITES_NROUTES,
	.on_start = sites_start,
	.on_stop = notify_stop,
};

int
main(void)
{
	return server_run(&sites);
}
