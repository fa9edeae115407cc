/* webhooks: the dispatcher process (not a FastCGI service). It reads like
 * a script: load config, block the stop signals, then alternate between
 * delivery rounds and sleeping in sigtimedwait() until the outbox has due
 * rows again or a signal says stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "nofile.h"
#include "webhooks.h"

#define PURGE_EVERY	60	/* s */

struct webhooks_config webhooks_config;

static void
config_webhooks(void)
{
	const char	*s;

	webhooks_config.timeout = config_env_long("PARLEY_WEBHOOK_TIMEOUT",
	    10, 1, 120);
	webhooks_config.give_up = config_env_long("PARLEY_WEBHOOK_GIVE_UP",
	    86400, 1, 30L * 86400);
	webhooks_config.backoff_ms = config_env_long(
	    "PARLEY_WEBHOOK_BACKOFF_MS", 5000, 10, 3600L * 1000);
	webhooks_config.poll_ms = config_env_long("PARLEY_WEBHOOK_POLL_MS",
	    1000, 10, 60000);
	webhooks_config.batch = config_env_long("PARLEY_WEBHOOK_BATCH", 32, 1,
	    256);
	s = getenv("PARLEY_WEBHOOK_PRIVATE");
	if (s == NULL || *s == '\0' || strcmp(s, "allow") == 0)
		webhooks_config.deny_private = 0;
	else if (strcmp(s, "deny") == 0)
		webhooks_config.deny_private = 1;
	else
		log_fatal("PARLEY_WEBHOOK_PRIVATE=%s: expected allow or deny", s);
}

int
main(void)
{
	struct timespec	 nap;
	struct db	*db;
	sigset_t	 set;
	time_t		 purged = 0;
	int		 n, sig, down = 0;

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
	db = db_new();
	log_info("delivering webhooks (poll %ld ms, timeout %ld s, give up "
	    "after %ld s, internal addresses %s)", webhooks_config.poll_ms,
	    webhooks_config.timeout, webhooks_config.give_up,
	    webhooks_config.deny_private ? "refused" : "allowed");
	for (;;) {
		n = webhooks_round(db);
		if (n < 0 && !down)
			log_warn("cannot read the outbox; retrying");
		down = n < 0;
		if (time(NULL) - purged >= PURGE_EVERY && !down) {
			webhooks_purge(db);
			purged = time(NULL);
		}
		/* A full batch means more may be due: go on at once. */
		if (n == webhooks_config.batch)
			nap.tv_sec = 0, nap.tv_nsec = 0;
		else {
			nap.tv_sec = webhooks_config.poll_ms / 1000;
			nap.tv_nsec = webhooks_config.poll_ms % 1000 * 1000000L;
		}
		sig = sigtimedwait(&set, NULL, &nap);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == -1 && errno != EAGAIN && errno != EINTR)
			log_fatal("sigtimedwait: %s", strerror(errno));
	}
	log_info("signal %d: stopped", sig);
	db_free(db);
	curl_global_cleanup();
	return 0;
}
