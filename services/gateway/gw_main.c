/* gw_main: Kore's hooks. The parent sizes the workers from the environment
 * (Kore's own configuration file holds only the socket and the route, see
 * services/gateway/gateway.conf.in); each worker opens its connections and
 * starts its timers. */
#include <sys/stat.h>

#include <errno.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/hooks.h>
#include <kore/seccomp.h>

#include "config.h"
#include "db.h"
#include "gateway.h"
#include "log.h"
#include "nofile.h"
#include "stream.h"

/* libpq reads its service files and the socket directory (newfstatat,
 * getdents64) on Debian 12; Kore's default filter would kill the worker
 * with SIGSYS on its first connection (../shared/NOTES.md). */
KORE_SECCOMP_FILTER("gateway", KORE_SYSCALL_ALLOW(newfstatat),
    KORE_SYSCALL_ALLOW(getdents64), KORE_SYSCALL_ALLOW(uname),
    KORE_SYSCALL_ALLOW(getsockopt), KORE_SYSCALL_ALLOW(getpeername),
    KORE_SYSCALL_ALLOW(getsockname), KORE_SYSCALL_ALLOW(getppid), );

struct gw_config    gw_config;
struct gw_sock_list gw_all = TAILQ_HEAD_INITIALIZER(gw_all);
struct db	   *gw_db;

static pid_t parent; /* Kore's parent, as the worker began */
static int   touch_failing;

static void config_read(void);
static void tick(void *, u_int64_t);
static void ping_all(void *, u_int64_t);
static void touch_all(void *, u_int64_t);
static void orphan_check(void *, u_int64_t);

static void
config_read(void)
{
	const char *s;

	gw_config.ping_ms =
	    config_env_long("PARLEY_GATEWAY_PING", 25, 1, 300) * 1000;
	gw_config.max_frame =
	    config_env_long("PARLEY_GATEWAY_MAX_FRAME", 4096, 128, 65536);
	gw_config.max_unsent = config_env_long("PARLEY_GATEWAY_MAX_UNSENT",
	    1024 * 1024, 16 * 1024, 64L * 1024 * 1024);
	gw_config.max_per_session =
	    config_env_long("PARLEY_GATEWAY_MAX_PER_SESSION", 8, 1, 1000);
	gw_config.max_per_user =
	    config_env_long("PARLEY_GATEWAY_MAX_PER_USER", 32, 1, 100000);
	gw_config.auth_ms =
	    config_env_long("PARLEY_GATEWAY_AUTH_TIMEOUT", 10, 1, 300) * 1000;
	gw_config.online_window =
	    config_env_long("PARLEY_ONLINE_WINDOW", 60, 3, 3600);
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
	long workers, files, hard;

	(void)argc;
	(void)argv;
	config_load("gateway");
	config_read();
	/* Kore bound the socket while reading its configuration, under our
	 * umask (0077 in the systemd unit); nginx reaches it as a member of
	 * the socket's group, as for every FastCGI service. */
	if (config.listen[0] == '/' && chmod(config.listen, 0660) == -1)
		log_warn("chmod %s: %s", config.listen, strerror(errno));
	/* A limit that cannot be raised is the one to size for. */
	(void)nofile_set(config.max_files, &files, &hard);
	/* A socket costs the worker one descriptor; keep some for the
	 * database, the listener and Kore's own pipes. Kore adds the
	 * descriptors a worker has open to worker_rlimit_nofiles and sets
	 * that as soft and hard limit: asking for the limit minus a margin
	 * makes that a small lowering, which needs no privilege. */
	worker_rlimit_nofiles = (u_int32_t)(files > 128 ? files - 32 : files);
	worker_max_connections = (u_int32_t)(files > 128 ? files - 64 : 64);
	workers = config_env_long("PARLEY_GATEWAY_WORKERS", 2, 1, 64);
	worker_count = (u_int8_t)workers;
	/* A peer that answers no ping for two intervals is gone (Kore's
	 * idle timer; ping_all() checks what it cannot see). */
	kore_websocket_timeout = GW_DEAD_MS();
	/* Larger than any frame we accept, so an oversized one reaches
	 * gw_ws_message and gets close code 1009 instead of a bare reset. */
	kore_websocket_maxframe = (u_int64_t)gw_config.max_frame * 4;
	gw_limits_init((int)workers);
	gw_metrics_init((int)workers);
	log_info("workers %ld, open files %ld, sockets per worker %u", workers,
	    files, worker_max_connections);
}

void
kore_worker_configure(void)
{
	config_read();
	db_configure(config.database_url, "parley-gateway");
	gw_db = db_new();
	gw_limits_worker(worker->id);
	gw_metrics_worker(worker->id);
	gw_listen_start();
	gw_async_start();
	(void)kore_timer_add(tick, 20, NULL, 0);
	(void)kore_timer_add(ping_all, (u_int64_t)gw_config.ping_ms, NULL, 0);
	/* As the poll service: a session's poll time is refreshed three
	 * times per presence window, so an open socket stays online. */
	(void)kore_timer_add(touch_all,
	    (u_int64_t)gw_config.online_window * 1000 / 3, NULL, 0);
	parent = getppid();
	(void)kore_timer_add(orphan_check, 500, NULL, 0);
}

/* Kore's workers learn of their parent's death from the end of their
 * message socket, but each worker inherits the other end of every
 * worker's pair, so that end never comes: after a kill -9 of the parent
 * the workers would serve their sockets forever beside the gateway the
 * supervisor starts anew. So a worker whose parent is gone shuts down
 * the way the parent would have told it to (1001 to every socket). */
static void
orphan_check(void *arg, u_int64_t now)
{
	static int told;

	(void)arg;
	(void)now;
	if (!told && getppid() != parent) {
		told = 1;
		log_warn("Kore's parent (pid %d) is gone; shutting down",
		    (int)parent);
		(void)kill(getpid(), SIGQUIT);
	}
}

void
kore_worker_teardown(void)
{
	struct gw_sock *s, *next;

	gw_async_stop();
	/* gw_close() frees a socket whose queue it could write at once. */
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
	gw_async_check();
}

static void
ping_all(void *arg, u_int64_t now)
{
	struct gw_sock *s, *next;

	(void)arg;
	for (s = TAILQ_FIRST(&gw_all); s != NULL; s = next) {
		next = TAILQ_NEXT(s, all_link);
		if (s->state == GW_CLOSING)
			continue;
		/* No pong (nor anything) for two pings: the peer is gone,
		 * and would not read a close frame (frees s). */
		if (now > s->heard_ms && now - s->heard_ms > GW_DEAD_MS())
			kore_connection_disconnect(s->c);
		else
			kore_websocket_send(s->c, WEBSOCKET_OP_PING, NULL, 0);
	}
}

/* Refreshes the poll time of every subscribed session here. Returns those
 * still live, each with whether a sweep took its user offline all the
 * same (the database was away longer than the window, say; normally
 * never). A session missing from the answer expired (or was revoked while
 * its hint was lost): its sockets are closed within a third of the
 * presence window, even when no event comes to show it. */
static const struct db_stmt sql_touch = { "gw_touch",
	"WITH t AS (UPDATE sessions SET last_poll_at = now()"
	" WHERE id = ANY ($1::bigint[]) AND revoked_at IS NULL"
	" AND expires_at > now() RETURNING id, user_id)"
	" SELECT t.id, t.user_id, p.online IS NOT TRUE FROM t"
	" LEFT JOIN presence p ON p.user_id = t.user_id ORDER BY t.id" };

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* A socket, unlike a poll, never comes back to say it is there: a user a
 * sweep took offline is made online again as a poll would (poll_ack with
 * cursor 0 acknowledges nothing), once per user. */
static void
back_online(PGresult *res)
{
	PGresult *ack;
	int64_t	  done = -1;
	int	  i;

	for (i = 0; i < PQntuples(res); i++) {
		if (!db_get_bool(res, i, 2) || db_get_i64(res, i, 1) == done)
			continue;
		done = db_get_i64(res, i, 1);
		ack = DB_EXEC(gw_db, &stream_sql_ack, PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), "0");
		if (ack != NULL)
			gw_notify(db_get_str(ack, 0, 0));
		PQclear(ack);
	}
}

static void
touch_all(void *arg, u_int64_t now)
{
	struct gw_sock *s, *next;
	int64_t	       *ids, *live = NULL, id;
	size_t		n = 0, nlive = 0, cap = 64, i;
	char	       *arr;
	PGresult       *res;

	(void)arg;
	(void)now;
	if ((ids = malloc(cap * sizeof(*ids))) == NULL)
		log_fatal("malloc: out of memory");
	TAILQ_FOREACH(s, &gw_all, all_link)
	{
		if (s->state != GW_LIVE)
			continue;
		if (n == cap &&
		    (ids = realloc(ids, (cap *= 2) * sizeof(*ids))) == NULL)
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
	/* Logged once per outage: it runs every few seconds. */
	if (res == NULL && !touch_failing)
		log_warn("presence refresh failed; retried every %ld ms",
		    gw_config.online_window * 1000 / 3);
	touch_failing = res == NULL;
	if (res == NULL)
		return;
	back_online(res);
	nlive = (size_t)PQntuples(res);
	if (nlive > 0 && (live = malloc(nlive * sizeof(*live))) == NULL)
		log_fatal("malloc: out of memory");
	for (i = 0; i < nlive; i++)
		live[i] = db_get_i64(res, (int)i, 0);
	PQclear(res);
	/* Ordered by id already (ORDER BY t.id): bsearch needs no sort. */
	for (s = TAILQ_FIRST(&gw_all); s != NULL; s = next) {
		next = TAILQ_NEXT(s, all_link);
		id = s->session_id;
		if (s->state == GW_LIVE &&
		    (nlive == 0 ||
			bsearch(&id, live, nlive, sizeof(*live), cmp_i64) ==
			    NULL))
			gw_close(s, GW_CLOSE_AUTH, "invalid_token",
			    "The session has ended.");
	}
	free(live);
}
