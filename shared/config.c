/* config: environment variables -> struct config, validated at start so a
 * typo fails loudly before the service accepts anything. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

struct config config;

long
config_env_long(const char *name, long def, long min, long max)
{
	const char *s = getenv(name);
	char	   *end;
	long	    v;

	if (s == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		log_fatal("%s=%s: expected an integer in [%ld, %ld]", name, s,
		    min, max);
	return v;
}

void
config_load(const char *service)
{
	static char listen[512];
	const char *s;
	long	    cores;

	log_init(service);
	config.database_url = getenv("DATABASE_URL");
	if (config.database_url == NULL || *config.database_url == '\0')
		config.database_url = "postgresql:///parley";
	config.read_database_url = getenv("PARLEY_READ_DATABASE_URL");
	if (config.read_database_url != NULL &&
	    *config.read_database_url == '\0')
		config.read_database_url = NULL;
	s = getenv("PARLEY_LISTEN");
	if (s == NULL || *s == '\0') {
		s = getenv("PARLEY_RUN_DIR");
		if (snprintf(listen, sizeof(listen), "%s/%s.sock",
			s != NULL && *s != '\0' ? s : "var/run",
			service) >= (int)sizeof(listen))
			log_fatal("PARLEY_RUN_DIR is too long");
		s = listen;
	}
	config.listen = s;
	config.threads = (int)config_env_long("PARLEY_THREADS", 8, 1, 256);
	config.body_limit = (size_t)config_env_long("PARLEY_BODY_LIMIT",
	    64 * 1024, 1024, 16 * 1024 * 1024);
	config.session_ttl = config_env_long("PARLEY_SESSION_TTL", 30L * 86400,
	    60, 3650L * 86400);
	config.login_fails_user =
	    (int)config_env_long("PARLEY_LOGIN_FAILS_USER", 100, 1, 1000000);
	config.login_fails_user_ip =
	    (int)config_env_long("PARLEY_LOGIN_FAILS_USER_IP", 5, 1, 1000000);
	config.login_fails_ip =
	    (int)config_env_long("PARLEY_LOGIN_FAILS_IP", 50, 1, 1000000);
	config.login_window =
	    config_env_long("PARLEY_LOGIN_WINDOW", 900, 1, 86400);
	config.register_per_ip =
	    (int)config_env_long("PARLEY_REGISTER_PER_IP", 20, 0, 1000000);
	config.register_window =
	    config_env_long("PARLEY_REGISTER_WINDOW", 3600, 1, 86400);
	s = getenv("PARLEY_PWHASH");
	config.pwhash_fast = s != NULL && strcmp(s, "min") == 0;
	/* argon2id on at most half the cores (64 MiB each, at most 4):
	 * the other half stays for every cheap request. */
	cores = sysconf(_SC_NPROCESSORS_ONLN) / 2;
	config.pwhash_slots = (int)config_env_long("PARLEY_PWHASH_SLOTS",
	    cores < 1	  ? 1 :
		cores > 4 ? 4 :
			    cores,
	    1, 64);
	/* A queued login holds a connection, not a worker thread. */
	config.pwhash_queue =
	    (int)config_env_long("PARLEY_PWHASH_QUEUE", 64, 0, 4096);
	config.pwhash_wait_ms =
	    config_env_long("PARLEY_PWHASH_WAIT_MS", 2000, 1, 60000);
	config.cookie_secure =
	    (int)config_env_long("PARLEY_COOKIE_SECURE", 0, 0, 1);
	config.online_window =
	    config_env_long("PARLEY_ONLINE_WINDOW", 60, 1, 3600);
	/* Below 64 a service cannot even open its database connections. */
	config.max_files = config_env_long("PARLEY_MAX_FILES", 0, 64, 1L << 30);
}

/* A thread holding a kept connection serves only that connection: it
 * never accepts another while nginx keeps it open. nginx keeps up to
 * CONFIG_UPSTREAM_KEEPALIVE idle connections per worker (nginx's
 * `keepalive` in nginx/parley.conf.in) and opens one per request in
 * flight beyond those, so every connection has a thread when threads >=
 * workers x keepalive + requests in flight at the peak
 * (PARLEY_NGINX_WORKERS, which scripts/parley exports, and
 * PARLEY_PEAK_REQUESTS); fewer, and a new connection waits in the backlog
 * until nginx closes an idle one. Capped at 256 like PARLEY_THREADS. */
int
config_kept_threads(void)
{
	long workers, peak;

	workers = config_env_long("PARLEY_NGINX_WORKERS", 3, 1, 64);
	peak = config_env_long("PARLEY_PEAK_REQUESTS", 32, 1, 256);
	return (int)config_env_long("PARLEY_THREADS",
	    workers * CONFIG_UPSTREAM_KEEPALIVE + peak > 256 ?
		256 :
		workers * CONFIG_UPSTREAM_KEEPALIVE + peak,
	    1, 256);
}
