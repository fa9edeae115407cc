/* friends: the FastCGI binary for /api/v1/friends and /api/v1/blocks. */
#include "friends.h"
#include "notify.h"
#include "server.h"

static const struct service friends = {
	.name = "friends",
	.kept_connections = 1,
	/* routes_friends.c, from docs/openapi.json */
	.routes = friends_routes,
	.nroutes = FRIENDS_NROUTES,
	.on_start = notify_start,
	.on_stop = notify_stop,
};

int
main(void)
{
	return server_run(&friends);
}
