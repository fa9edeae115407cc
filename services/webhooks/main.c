/* webhooks: the dispatcher process (not a FastCGI service). It reads like
 * a script: load config, block the stop signals (they arrive on a
 * signalfd the delivery loop watches beside its transfers), then deliver
 * until one comes (webhooks_loop.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/signalfd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "nofile.h"
#include "webhooks.h"

struct webhooks_config webhooks_config;

static void
config_webhooks(void)
{
	const char *s;

	webhooks_config.timeout =
	    config_env_long("PARLEY_WEBHOOK_TIMEOUT", 10, 1, 120);
	webhooks_config.give_up =
	    config_env_long("PARLEY_WEBHOOK_GIVE_UP", 86400, 1, 30L * 86400);
	webhooks_config.backoff_ms =
	    config_env_long("PARLEY_WEBHOOK_BACKOFF_MS", 5000, 10,
		3600L * 1000);
	webhooks_config.poll_ms =
	    config_env_long("PARLEY_WEBHOOK_POLL_MS", 1000, 10, 60000);
	webhooks_config.batch =
	    config_env_long("PARLEY_WEBHOOK_BATCH", 32, 1, 256);
	webhooks_config.per_site =
	    config_env_long("PARLEY_WEBHOOK_PER_SITE", 4, 1, 256);
	/* Internal addresses are refused unless explicitly allowed: a site
	 * must not reach into Parley's own network by default. */
	s = getenv("PARLEY_WEBHOOK_PRIVATE");
	if (s == NULL || *s == '\0' || strcmp(s, "deny") == 0)
		webhooks_config.deny_private = 1;
	else if (strcmp(s, "allow") == 0)
		webhooks_config.deny_private = 0;
	else
		log_fatal("PARLEY_WEBHOOK_PRIVATE=%s: expected deny or allow",
		    s);
	s = getenv("PARLEY_WEBHOOK_PROXY");
	webhooks_config.proxy = s != NULL && *s != '\0' ? s : NULL;
}

int
main(void)
{
	struct db *db;
	sigset_t   set;
	int	   sigfd, sig;

	setvbuf(stderr, NULL, _IOLBF, 0);
	config_load("webhooks");
	nofile_apply(config.max_files);
	config_webhooks();
	db_configure(config.database_url, "webhooks");
	if (sodium_init() < 0)
		log_fatal("libsodium failed to initialize");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_fatal("libcurl failed to initialize");
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		log_fatal("signalfd: %s", strerror(errno));
	db = db_new();
	log_info("delivering webhooks (poll %ld ms, timeout %ld s, give up "
		 "after %ld s, %ld in flight, %ld per site, internal addresses "
		 "%s%s%s)",
	    webhooks_config.poll_ms, webhooks_config.timeout,
	    webhooks_config.give_up, webhooks_config.batch,
	    webhooks_config.per_site,
	    webhooks_config.deny_private ? "refused" : "allowed",
	    webhooks_config.proxy != NULL ? ", through proxy " : "",
	    webhooks_config.proxy != NULL ? webhooks_config.proxy : "");
	sig = webhooks_run(db, sigfd);
	log_info("signal %d: stopped", sig);
	db_free(db);
	curl_global_cleanup();
	return 0;
}
