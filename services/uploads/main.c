/* uploads: the FastCGI binary for /api/v1/uploads. It also runs the
 * janitor that collects uploads nobody sent (uploads_janitor.c). */
#include "server.h"
#include "uploads.h"

static const struct route routes[] = {
	{ "POST",   "/api/v1/uploads",			uploads_create, ROUTE_USER_FORM },
	{ "GET",    "/api/v1/uploads/{id}",		uploads_get, ROUTE_USER },
	{ "GET",    "/api/v1/uploads/{id}/thumbnail",	uploads_thumbnail, ROUTE_USER },
};

static void
uploads_start(void)
{
	uploads_config_load();
	upload_store_init();
	upload_image_init();
	uploads_janitor_start();
}

static void
uploads_stop(void)
{
	uploads_janitor_stop();
	upload_image_shutdown();
}

static const struct service uploads = {
	.name = "uploads",
	.kept_connections = 1,
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.thread_init = upload_sniff_new,
	.thread_free = upload_sniff_free,
	.on_start = uploads_start,
	.on_stop = uploads_stop,
};

int
main(void)
{
	return server_run(&uploads);
}
