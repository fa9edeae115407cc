/* messages: the FastCGI binary for /api/v1/messages, /api/v1/conversations
 * and /api/v1/groups. Its notifier thread sends wake-up hints to the poll
 * service after each committed write. */
#include "messages.h"
#include "notify.h"
#include "server.h"

static const struct service messages = {
	.name = "messages",
	.kept_connections = 1,
	/* routes_messages.c, from docs/openapi.json */
	.routes = messages_routes,
	.nroutes = MESSAGES_NROUTES,
	.thread_init = replica_thread_init,
	.thread_free = replica_thread_free,
	.on_start = notify_start,
	.on_stop = notify_stop,
};

int
main(void)
{
	return server_run(&messages);
}
