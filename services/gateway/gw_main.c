/* gw_main: Kore's hooks. The parent sizes the workers from the environment
 * (Kore's own configuration file holds only the socket and the route, see
 * services/gateway/gateway.conf.in); each worker opens its connections and
 * starts its timers. */
#include <sys/stat.h>

#include <errno.h>

#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/hooks.h>
#include <kore/seccomp.h>

#include "config.h"
#include "db.h"
#include "gateway.h"
#include "log.h"
#include "nofile.h"

/* libpq reads its service files and the socket directory (newfstatat,
 * getdents64) on Debian 12; Kore's default filter would kill the worker
 * with SIGSYS on its first connection (../shared/NOTES.md). */
KORE_SECCOMP_FILTER("gateway",
	KORE_SYSCALL_ALLOW(newfstatat),
	KORE_SYSCALL_ALLOW(getdents64),
	KORE_SYSCALL_ALLOW(uname),
	KORE_SYSCALL_ALLOW(getsockopt),
	KORE_SYSCALL_ALLOW(getpeername),
	KORE_SYSCALL_ALLOW(getsockname),
);

struct gw_config	 gw_config;
struct gw_sock_list	 gw_all = TAILQ_HEAD_INITIALIZER(gw_all);
struct db		*gw_db;

static void	config_read(void);
static void	tick(void *, u_int64_t);
static void	ping_all(void *, u_int64_t);
static void	touch_all(void *, u_int64_t);

static void
config_read(void)
{
	const char	*s;

	gw_config.ping_ms = config_env_long("PARLEY_GATEWAY_PING", 25, 1,
	    300) * 1000;
	gw_config.max_frame = config_env_long("PARLEY_GATEWAY_MAX_FRAME", 4096,
	    128, 65536);
	gw_config.max_unsent = config_env_long("PARLEY_GATEWAY_MAX_UNSENT",
	    1024 * 1024, 16 * 1024, 64L * 1024 * 1024);
	gw_config.max_per_session = config_env_long(
	    "PARLEY_GATEWAY_MAX_PER_SESSION", 8, 1, 1000);
	gw_config.max_per_user = config_env_long("PARLEY_GATEWAY_MAX_PER_USER",
	    32, 1, 100000);
	gw_config.auth_ms = config_env_long("PARLEY_GATEWAY_AUTH_TIMEOUT", 10,
	    1, 300) * 1000;
	gw_config.online_window = config_env_long("PARLEY_ONLINE_WINDOW", 60,
	    3, 3600);
	s = getenv("PARLEY_ORIGINS");
	if (s != NULL && strlen(s) >= sizeof(gw_config.origins))
		log_fatal("PARLEY_ORIGINS is too long");
	snprintf(gw_config.origins, sizeof(gw_config.origins), "%s",
	    s != NULL ? s : "");
}

/* The parent, after Kore read gateway.conf and before it forks. */
void
kore_parent_configure(int argc, char **argv)
{
	long	workers, files, hard;
	int	failed = 0;

	(void)argc;
	(void)argv;
	config_load("gateway");
	config_read();
	/* Kore bound the socket while reading its configuration, under our
	 * umask (0077 in the systemd unit); nginx reaches it as a member of
	 * the socket's group, as for every FastCGI service. */
	if (config.listen[0] == '/' && chmod(config.listen, 0660) == -1)
		log_warn("chmod %s: %s", config.listen, strerror(errno));
	files = nofile_set(config.max_files, &hard, &failed);
	/* A socket costs the worker one descriptor; keep some for the
	 * database, the listener and Kore's own pipes. Kore adds the
	 * descriptors a worker has open to worker_rlimit_nofiles and sets
	 * that as soft and hard limit: asking for the limit minus a margin
	 * makes that a small lowering, which needs no privilege. */
	worker_rlimit_nofiles = (u_int32_t)(files > 128 ? files - 32 : files);
	worker_max_connections = (u_int32_t)(files > 128 ? files - 64 : 64);
	workers = config_env_long("PARLEY_GATEWAY_WORKERS", 2, 1, 64);
	worker_count = (u_int8_t)workers;
	/* A peer that answers no ping for two intervals is gone. */
	kore_websocket_timeout = (u_int64_t)gw_config.ping_ms * 2 + 5000;
	/* Larger than any frame we accept, so an oversized one reaches
	 * gw_ws_message and gets close code 1009 instead of a bare reset. */
	kore_websocket_maxframe = (u_int64_t)gw_config.max_frame * 4;
	gw_limits_init((int)workers);
	log_info("workers %ld, open files %ld, sockets per worker %u",
	    workers, files, worker_max_connections);
}

void
kore_worker_configure(void)
{
	config_read();
	db_configure(config.database_url, "parley-gateway");
	gw_db = db_new();
	gw_limits_worker(worker->id);
	gw_listen_start();
	(void)kore_timer_add(tick, 20, NULL, 0);
	(void)kore_timer_add(ping_all, (u_int64_t)gw_config.ping_ms, NULL, 0);
	/* As the poll service: a session's poll time is refreshed three
	 * times per presence window, so an open socket stays online. */
	(void)kore_timer_add(touch_all,
	    (u_int64_t)gw_config.online_window * 1000 / 3, NULL, 0);
}

void
kore_worker_teardown(void)
{
	struct gw_sock	*s, *next;

	/* gw_close() may free the socket (Kore disconnects at once when the
	 * close frame could be written). */
	for (s = TAILQ_FIRST(&gw_all); s != NULL; s = next) {
		next = TAILQ_NEXT(s, all_link);
		if (s->ack_want > s->acked)
			gw_ack_now(s);
		if (s->state != GW_CLOSING)
			gw_close(s, GW_CLOSE_GOING_AWAY, "shutting_down",
			    "The gateway is restarting; reconnect.");
	}
	gw_notify_flush();
}

/* Every 20 ms: the sockets that asked for it (gw_deliver.c), the hints
 * this worker owes others, and the LISTEN connection. */
static void
tick(void *arg, u_int64_t now)
{
	(void)arg;
	gw_tick(now);
	gw_notify_flush();
	gw_listen_check();
}

static void
ping_all(void *arg, u_int64_t now)
{
	struct gw_sock	*s;

	(void)arg;
	(void)now;
	TAILQ_FOREACH(s, &gw_all, all_link)
		if (s->state != GW_CLOSING)
			kore_websocket_send(s->c, WEBSOCKET_OP_PING, NULL, 0);
}

/* Refreshes the poll time of every subscribed session here and returns
 * those still live: a session that expired (or was revoked while its
 * hint was lost) is closed within a third of the presence window, even
 * when no event comes to show it. */
static const struct db_stmt sql_touch = { "gw_touch",
	"UPDATE sessions SET last_poll_at = now() WHERE id = ANY ($1::bigint[])"
	" AND revoked_at IS NULL AND expires_at > now() RETURNING id" };

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
touch_all(void *arg, u_int64_t now)
{
	struct gw_sock	*s, *next;
	int64_t		*ids, *live = NULL, id;
	size_t		 n = 0, nlive = 0, cap = 64, i;
	char		*arr;
	PGresult	*res;

	(void)arg;
	(void)now;
	if ((ids = malloc(cap * sizeof(*ids))) == NULL)
		log_fatal("malloc: out of memory");
	TAILQ_FOREACH(s, &gw_all, all_link) {
		if (s->state != GW_LIVE)
			continue;
		if (n == cap && (ids = realloc(ids, (cap *= 2) *
		    sizeof(*ids))) == NULL)
			log_fatal("realloc: out of memory");
		ids[n++] = s->session_id;
	}
	if (n == 0) {
		free(ids);
		return;
	}
	arr = db_i64_array(ids, n);
	free(ids);
	res = DB_EXEC(gw_db, &sql_touch, arr);
	free(arr);
	if (res == NULL) {
		log_warn("presence refresh failed; next one in %ld s",
		    gw_config.online_window / 3);
		return;
	}
	nlive = (size_t)PQntuples(res);
	if (nlive > 0 && (live = malloc(nlive * sizeof(*live))) == NULL)
		log_fatal("malloc: out of memory");
	for (i = 0; i < nlive; i++)
		live[i] = db_get_i64(res, (int)i, 0);
	PQclear(res);
	if (nlive > 0)
		qsort(live, nlive, sizeof(*live), cmp_i64);
	for (s = TAILQ_FIRST(&gw_all); s != NULL; s = next) {
		next = TAILQ_NEXT(s, all_link);
		id = s->session_id;
		if (s->state == GW_LIVE && (nlive == 0 || bsearch(&id, live,
		    nlive, sizeof(*live), cmp_i64) == NULL))
			gw_close(s, GW_CLOSE_AUTH, "invalid_token",
			    "The session has ended.");
	}
	free(live);
}
