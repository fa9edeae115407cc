/* config: process-wide settings read once from the environment at start. */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H

#include <stddef.h>

struct config {
	const char *database_url;      /* DATABASE_URL: libpq conninfo or URI */
	const char *read_database_url; /* PARLEY_READ_DATABASE_URL: a
					 * streaming replica, or NULL */
	const char *listen;	/* PARLEY_LISTEN: socket path or host:port */
	int	    threads;	/* PARLEY_THREADS: worker threads */
	size_t	    body_limit; /* PARLEY_BODY_LIMIT: bytes, default 64 KiB */
	long session_ttl; /* PARLEY_SESSION_TTL: seconds, default 30 days */
	int  login_fails_user;	  /* PARLEY_LOGIN_FAILS_USER: per window,
					    * all addresses together */
	int  login_fails_user_ip; /* PARLEY_LOGIN_FAILS_USER_IP: per
					       * window, one username from one
					       * address */
	int  login_fails_ip;	  /* PARLEY_LOGIN_FAILS_IP: per window */
	long login_window;	  /* PARLEY_LOGIN_WINDOW: seconds */
	int  register_per_ip;	  /* PARLEY_REGISTER_PER_IP: per window,
					   * 0 = no limit */
	long register_window;	  /* PARLEY_REGISTER_WINDOW: seconds */
	int  pwhash_fast;    /* PARLEY_PWHASH=min: test-only cheap hashes */
	int  pwhash_slots;   /* PARLEY_PWHASH_SLOTS: hashes at once */
	int  pwhash_queue;   /* PARLEY_PWHASH_QUEUE: more may wait */
	long pwhash_wait_ms; /* PARLEY_PWHASH_WAIT_MS: longest wait
					  * in the queue */
	int  cookie_secure;  /* PARLEY_COOKIE_SECURE=1: add Secure */
	long online_window;  /* PARLEY_ONLINE_WINDOW: seconds a device
					 * counts as online after its last poll */
	long max_files;	     /* PARLEY_MAX_FILES: open-file soft limit,
					 * 0 (unset) = the hard limit */
};

extern struct config config;

/* Fills `config` from the environment; exits with a message on bad values.
 * `service` names the default socket (var/run/<service>.sock). */
void config_load(const char *service);

/* Integer environment variable in [min, max], or `def` when unset. */
long config_env_long(const char *name, long def, long min, long max);
/* nginx's upstream `keepalive` for the kept services (parley.conf.in). */
#define CONFIG_UPSTREAM_KEEPALIVE 8

/* The thread count of a service behind kept connections: PARLEY_THREADS,
 * or by default enough for every connection nginx may hold (config.c). */
int config_kept_threads(void);

#endif
