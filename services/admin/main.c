/* admin: the FastCGI binary for /api/v1/admin/..., the operator console's
 * API. Only admins' sessions get in (admin_only: checked before routing);
 * everyone else is answered exactly as a path no service has. */
#include "admin.h"
#include "server.h"

static const struct route routes[] = {
	{ "GET",    "/api/v1/admin/online",		   admin_online, ROUTE_ADMIN },
	{ "GET",    "/api/v1/admin/users",		   admin_users, ROUTE_ADMIN },
	{ "POST",   "/api/v1/admin/users/{id}/kick",	   admin_kick, ROUTE_ADMIN },
	{ "POST",   "/api/v1/admin/users/{id}/suspend",	   admin_suspend, ROUTE_ADMIN },
	{ "POST",   "/api/v1/admin/users/{id}/restore",	   admin_restore, ROUTE_ADMIN },
	{ "GET",    "/api/v1/admin/groups",		   admin_groups, ROUTE_ADMIN },
	{ "GET",    "/api/v1/admin/groups/{id}",	   admin_group_get, ROUTE_ADMIN },
	{ "DELETE", "/api/v1/admin/groups/{id}",	   admin_group_delete, ROUTE_ADMIN },
	{ "DELETE", "/api/v1/admin/groups/{id}/members/{user_id}", admin_group_remove, ROUTE_ADMIN },
	{ "DELETE", "/api/v1/admin/messages/{id}",	   admin_message_delete, ROUTE_ADMIN },
	{ "GET",    "/api/v1/admin/health",		   admin_health, ROUTE_ADMIN },
	{ "GET",    "/api/v1/admin/audit",		   admin_audit, ROUTE_ADMIN },
};

static const struct service admin = {
	.name = "admin",
	.kept_connections = 1,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.on_start = admin_start,
	.on_stop = admin_stop,
	.admin_only = 1,
};

int
main(void)
{
	return server_run(&admin);
}
