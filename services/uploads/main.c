/* uploads: the FastCGI binary for /api/v1/uploads. It also runs the
 * janitor that collects uploads nobody sent (uploads_janitor.c). */
#include "server.h"
#include "uploads.h"

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
	/* routes_uploads.c, from docs/openapi.json */
	.routes = uploads_routes,
	.nroutes = UPLOADS_NROUTES,
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
