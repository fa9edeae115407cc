/* uploads_config: the uploads service's settings, read once at start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "uploads.h"

#define MIB (1024L * 1024L)

struct uploads_config uploads_config;

static const char *const kind_names[KIND_N] = { "image", "audio", "video",
	"file" };

const char *
upload_kind_name(enum upload_kind k)
{
	return kind_names[k];
}

void
uploads_config_load(void)
{
	static const char *const vars[KIND_N] = { "PARLEY_UPLOAD_MAX_IMAGE",
		"PARLEY_UPLOAD_MAX_AUDIO", "PARLEY_UPLOAD_MAX_VIDEO",
		"PARLEY_UPLOAD_MAX_FILE" };
	static const long defaults[KIND_N] = { 20 * MIB, 20 * MIB, 100 * MIB,
		25 * MIB };
	const char	 *dir = getenv("PARLEY_UPLOAD_DIR"), *var;
	int		  k, n;

	var = getenv("PARLEY_VAR");
	if (dir != NULL && *dir != '\0')
		n = snprintf(uploads_config.dir, sizeof(uploads_config.dir),
		    "%s", dir);
	else
		n = snprintf(uploads_config.dir, sizeof(uploads_config.dir),
		    "%s/uploads", var != NULL && *var != '\0' ? var : "var");
	if (n < 0 || (size_t)n >= sizeof(uploads_config.dir))
		log_fatal("PARLEY_UPLOAD_DIR is too long");
	uploads_config.max_body = 0;
	for (k = 0; k < KIND_N; k++) {
		uploads_config.max_size[k] =
		    config_env_long(vars[k], defaults[k], 1, 4096 * MIB);
		if (uploads_config.max_size[k] > uploads_config.max_body)
			uploads_config.max_body = uploads_config.max_size[k];
	}
	uploads_config.quota =
	    config_env_long("PARLEY_UPLOAD_QUOTA", 1024 * MIB, 0, 1L << 50);
	uploads_config.grace =
	    config_env_long("PARLEY_UPLOAD_GRACE", 86400, 1, 365L * 86400);
	uploads_config.gc_interval =
	    config_env_long("PARLEY_UPLOAD_GC_INTERVAL", 60, 1, 86400);
	uploads_config.max_pixels = config_env_long("PARLEY_UPLOAD_MAX_PIXELS",
	    40000000L, 1, 1000000000L);
	uploads_config.thumb_px =
	    (int)config_env_long("PARLEY_UPLOAD_THUMB", 320, 16, 2048);
}
