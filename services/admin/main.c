/* admin: the FastCGI binary for /api/v1/admin/..., the operator console's
 * API. Only admins' sessions get in (admin_only: checked before routing);
 * everyone else is answered exactly as a path no service has. */
#include "admin.h"
#include "server.h"

static const struct service admin = {
	.name = "admin",
	.kept_connections = 1,
	/* routes_admin.c, from docs/openapi.json */
	.routes = admin_routes,
	.nroutes = ADMIN_NROUTES,
	.on_start = admin_start,
	.on_stop = admin_stop,
	.admin_only = 1,
};

int
main(void)
{
	return server_run(&admin);
}
