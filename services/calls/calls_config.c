/* calls_config: the calls service's settings, read once at start. */
#include <stdlib.h>

#include "calls.h"
#include "config.h"
#include "log.h"

struct calls_config calls_config;

void
calls_config_load(void)
{
	const char *s;

	calls_config.ring_timeout =
	    config_env_long("PARLEY_CALL_RING_TIMEOUT", 30, 1, 600);
	calls_config.online_window =
	    config_env_long("PARLEY_ONLINE_WINDOW", 60, 3, 3600);
	/* Short: this credential serves any call of the user (the ones
	 * handed out with a call last only calls_config.call_ttl). */
	calls_config.turn_ttl =
	    config_env_long("PARLEY_TURN_TTL", 600, 60, 7L * 86400);
	calls_config.call_ttl = calls_config.ring_timeout + TURN_CALL_MARGIN;
	s = getenv("PARLEY_TURN_SECRET");
	calls_config.turn_secret = s != NULL && *s != '\0' ? s : NULL;
	calls_config.turn_uris = getenv("PARLEY_TURN_URIS");
	calls_config.stun_uris = getenv("PARLEY_STUN_URIS");
	if (calls_config.turn_secret != NULL &&
	    (calls_config.turn_uris == NULL || *calls_config.turn_uris == '\0'))
		log_fatal("PARLEY_TURN_SECRET is set but PARLEY_TURN_URIS is "
			  "not");
	/* An SDP may be 64 KiB, and JSON escaping its CRLFs adds more. */
	if (config.body_limit < 3 * SDP_MAX_BYTES)
		config.body_limit = 3 * SDP_MAX_BYTES;
}
