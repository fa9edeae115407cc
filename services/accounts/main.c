/* accounts: the FastCGI binary for /api/v1/auth/..., /api/v1/users and
 * /api/v1/health. main only wires the route table to the server loop. */
#include "accounts.h"
#include "server.h"

static const struct service accounts = {
	.name = "accounts",
	/* routes_accounts.c, from docs/openapi.json */
	.routes = accounts_routes,
	.nroutes = ACCOUNTS_NROUTES,
	.on_start = accounts_start, /* the password hashing pool */
	.on_stop = accounts_stop,
};

int
main(void)
{
	return server_run(&accounts);
}
