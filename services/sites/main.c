/* sites: the FastCGI binary for /api/v1/server/, the API a site's backend
 * calls with requests signed by its secret (ROUTE_SITE, shared/site.c).
 * Webhook deliveries are another process: services/webhooks. */
#include "config.h"
#include "notify.h"
#include "server.h"
#include "sites.h"

static const struct route routes[] = {
	{ "PUT",    "/api/v1/server/users/{external_id}", sites_user_put,
	    ROUTE_SITE },
	{ "GET",    "/api/v1/server/users/{external_id}", sites_user_get,
	    ROUTE_SITE },
	{ "POST",   "/api/v1/server/users/{external_id}/login-tickets",
	    sites_ticket_new, ROUTE_SITE },
	{ "POST",   "/api/v1/server/friendships", sites_friend_add, ROUTE_SITE },
	{ "DELETE", "/api/v1/server/friendships", sites_friend_remove,
	    ROUTE_SITE },
	{ "POST",   "/api/v1/server/messages", sites_message, ROUTE_SITE },
	{ "POST",   "/api/v1/server/push", sites_push, ROUTE_SITE },
	{ "GET",    "/api/v1/server/webhook", sites_webhook_get, ROUTE_SITE },
	{ "PUT",    "/api/v1/server/webhook", sites_webhook_put, ROUTE_SITE },
	{ "DELETE", "/api/v1/server/webhook", sites_webhook_delete,
	    ROUTE_SITE },
	{ "GET",    "/api/v1/server/webhook/deliveries", sites_deliveries,
	    ROUTE_SITE },
};

static void
sites_start(void)
{
	sites_ticket_ttl = config_env_long("PARLEY_TICKET_TTL", 60, 5, 3600);
	notify_start();
}

static const struct service sites = {
	.name = "sites",
	.kept_connections = 1,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.on_start = sites_start,
	.on_stop = notify_stop,
};

int
main(void)
{
	return server_run(&sites);
}
