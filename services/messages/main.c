/* messages: the FastCGI binary for /api/v1/messages, /api/v1/conversations
 * and /api/v1/groups. Its notifier thread sends wake-up hints to the poll
 * service after each committed write. */
#include "messages.h"
#include "notify.h"
#include "server.h"

static const struct route routes[] = {
	{ "POST",   "/api/v1/messages",			 messages_send, ROUTE_USER },
	{ "POST",   "/api/v1/messages/{id}/recall",	 messages_recall, ROUTE_USER },
	{ "GET",    "/api/v1/conversations",		 conversations_list, ROUTE_USER },
	{ "GET",    "/api/v1/conversations/{id}/messages", conversations_history, ROUTE_USER },
	{ "POST",   "/api/v1/conversations/{id}/read",	 conversations_read, ROUTE_USER },
	{ "POST",   "/api/v1/groups",			 groups_create, ROUTE_USER },
	{ "GET",    "/api/v1/groups/{id}",		 groups_get, ROUTE_USER },
	{ "PATCH",  "/api/v1/groups/{id}",		 groups_rename, ROUTE_USER },
	{ "POST",   "/api/v1/groups/{id}/members",	 groups_add_members, ROUTE_USER },
	{ "DELETE", "/api/v1/groups/{id}/members/{user_id}", groups_remove_member, ROUTE_USER },
	{ "PATCH",  "/api/v1/groups/{id}/members/{user_id}", groups_set_role, ROUTE_USER },
	{ "POST",   "/api/v1/groups/{id}/leave",	 groups_leave, ROUTE_USER },
};

static const struct service messages = {
	.name = "messages",
	.kept_connections = 1,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
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
