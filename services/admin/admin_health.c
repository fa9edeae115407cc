/* admin_health: is each Parley process up, how often was it restarted,
 * how deep are the queues. What it can see depends on how the stack
 * runs, so each process says how it was checked:
 *   - "socket": its socket in the run directory (the directory of this
 *     service's own socket: var/run under scripts/parley, /run/parley
 *     under systemd) accepts a connection;
 *   - "process": no socket (the webhook dispatcher), but scripts/parley's
 *     supervisor files say which pid runs it, and that pid is alive with
 *     the recorded start time;
 *   - "database": neither (TCP listeners, containers): it holds at least
 *     one database connection under its name (pg_stat_activity).
 * scripts/parley's supervisor files (NAME.state, NAME.restarts,
 * NAME.pid) also give the state and the restart count; without them
 * (systemd: see `systemctl status`) "supervisor" is null. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "admin.h"
#include "config.h"
#include "http.h"
#include "log.h"

#define WATCH_DEFAULT                                                          \
	"accounts friends messages poll calls sites gateway "                  \
	"admin webhooks"
#define WATCH_MAX    32 /* processes */
#define NAME_MAX_LEN 32

static char run_dir[256]; /* "" when the services listen on TCP */
static char names[WATCH_MAX][NAME_MAX_LEN + 1];
static int  nnames;

static int	   read_small(const char *, const char *, char *, size_t);
static long long   pid_alive(const char *);
static const char *socket_state(const char *);
static json_t	  *process_json(const char *, json_t *);
static json_int_t  connections(const char *, json_t *);

void
admin_health_config(void)
{
	const char *w = getenv("PARLEY_ADMIN_WATCH"), *p, *slash;
	size_t	    len;

	if (w == NULL || *w == '\0')
		w = WATCH_DEFAULT;
	for (p = w; *p != '\0';) {
		p += strspn(p, " ");
		if ((len = strcspn(p, " ")) == 0)
			break;
		if (len > NAME_MAX_LEN || nnames == WATCH_MAX ||
		    strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_-") < len)
			log_fatal(
			    "PARLEY_ADMIN_WATCH must be up to %d names of "
			    "a-z, 0-9, '_', '-' (at most %d characters each), "
			    "separated by spaces",
			    WATCH_MAX, NAME_MAX_LEN);
		memcpy(names[nnames], p, len);
		names[nnames++][len] = '\0';
		p += len;
	}
	/* The others' sockets sit beside ours. */
	if ((slash = strrchr(config.listen, '/')) != NULL &&
	    (size_t)(slash - config.listen) < sizeof(run_dir))
		snprintf(run_dir, sizeof(run_dir), "%.*s",
		    (int)(slash - config.listen), config.listen);
}

/* The first line of run_dir/name.ext (at most len - 1 bytes), 0, or -1
 * when it cannot be read. */
static int
read_small(const char *name, const char *ext, char *buf, size_t len)
{
	char	path[sizeof(run_dir) + NAME_MAX_LEN + 16];
	ssize_t n;
	int	fd;

	if (run_dir[0] == '\0')
		return -1;
	snprintf(path, sizeof(path), "%s/%s.%s", run_dir, name, ext);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The pid in NAME.pid ("pid starttime") if that very process is alive:
 * field 22 of /proc/pid/stat must still be the recorded start time, as
 * scripts/parley checks before it signals anything. 0 otherwise. */
static long long
pid_alive(const char *name)
{
	char		   line[64], path[64], stat[1024], *p, *end;
	long long	   pid;
	unsigned long long start, now;
	ssize_t		   n;
	int		   fd, field;

	if (read_small(name, "pid", line, sizeof(line)) == -1 ||
	    sscanf(line, "%lld %llu", &pid, &start) != 2 || pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	stat[n] = '\0';
	/* The command name may hold spaces and parentheses: fields start
	 * after the last ')'; the state is field 3. */
	if ((p = strrchr(stat, ')')) == NULL)
		return 0;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return 0;
	now = strtoull(p + 1, &end, 10);
	return end != p + 1 && now == start ? pid : 0;
}

/* "up" when run_dir/name.sock accepts a connection (or its backlog is
 * full: busy, but there), "down" when the file is there and nobody
 * listens, NULL when there is no such socket file. */
static const char *
socket_state(const char *name)
{
	struct sockaddr_un sa;
	struct stat	   st;
	int		   fd, rc, err;

	if (run_dir[0] == '\0')
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock",
		run_dir, name) >= sizeof(sa.sun_path))
		return NULL;
	if (lstat(sa.sun_path, &st) == -1 || !S_ISSOCK(st.st_mode))
		return NULL;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		 0)) == -1)
		return "down";
	/* Closed at once: libfcgi and Kore drop a connection that sends
	 * nothing without a word in their logs. */
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	err = errno;
	close(fd);
	return rc == 0 || err == EAGAIN || err == EINPROGRESS ? "up" : "down";
}

/* The database connections of process `name`: those named after it, with
 * the gateway's "parley-" in front or a "-listen" behind (the LISTEN
 * connections of the poll service and the gateway). */
static json_int_t
connections(const char *name, json_t *apps)
{
	const char *key, *k;
	json_t	   *v;
	json_int_t  n = 0;
	size_t	    len = strlen(name), klen;

	json_object_foreach(apps, key, v)
	{
		k = strncmp(key, "parley-", 7) == 0 ? key + 7 : key;
		klen = strlen(k);
		if (klen >= 7 && strcmp(k + klen - 7, "-listen") == 0)
			klen -= 7;
		if (klen == len && strncmp(k, name, len) == 0)
			n += json_integer_value(v);
	}
	return n;
}

/* One process: {"name","up","checked_by","socket","db_connections",
 * "supervisor":{"state","restarts","pid"}|null}. */
static json_t *
process_json(const char *name, json_t *apps)
{
	char	    state[128], restarts[32];
	const char *sock = socket_state(name), *by;
	json_t	   *o, *sup = json_null();
	json_int_t  conns;
	long long   pid = 0;
	int	    up;

	conns = connections(name, apps);
	if (read_small(name, "state", state, sizeof(state)) == 0) {
		for (char *c = state; *c != '\0'; c++)
			if (!isprint((unsigned char)*c))
				*c = '?';
		if (read_small(name, "restarts", restarts, sizeof(restarts)) ==
		    -1)
			restarts[0] = '\0';
		pid = pid_alive(name);
		sup = json_pack("{s:s,s:I}", "state", state, "restarts",
		    (json_int_t)strtoll(restarts, NULL, 10));
		json_object_set_new(sup, "pid",
		    pid > 0 ? json_integer(pid) : json_null());
	}
	if (sock != NULL) {
		by = "socket";
		up = strcmp(sock, "up") == 0;
	} else if (!json_is_null(sup)) {
		by = "process";
		up = pid > 0;
	} else {
		by = "database";
		up = conns > 0;
	}
	o = json_pack("{s:s,s:b,s:s,s:I,s:o}", "name", name, "up", up,
	    "checked_by", by, "db_connections", conns, "supervisor", sup);
	json_object_set_new(o, "socket",
	    sock != NULL ? json_string(sock) : json_null());
	return o;
}

void
admin_health(struct http_req *r)
{
	char	  win[24];
	PGresult *db = NULL, *q = NULL;
	json_t	 *apps, *list, *reply;
	int	  i, all_up = 1;

	if ((db = db_exec(r->db, &sql_health_db, 0, NULL)) == NULL ||
	    (q = DB_EXEC(r->db, &sql_health_queues,
		 db_i64(win, config.online_window))) == NULL) {
		PQclear(db);
		http_db_error(r);
		return;
	}
	if ((apps = json_loads(PQgetvalue(db, 0, 0), 0, NULL)) == NULL)
		apps = json_object();
	list = json_array();
	for (i = 0; i < nnames; i++) {
		json_t *p = process_json(names[i], apps);

		all_up &= json_is_true(json_object_get(p, "up"));
		json_array_append_new(list, p);
	}
	reply = json_pack("{s:s,s:o,s:{s:b,s:I,s:I,s:O},"
			  "s:{s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I}}",
	    "status", all_up ? "ok" : "degraded", "processes", list, "database",
	    "up", 1, "connections", (json_int_t)db_get_i64(db, 0, 1),
	    "max_connections", (json_int_t)db_get_i64(db, 0, 2),
	    "by_application", apps, "webhooks", "pending",
	    (json_int_t)db_get_i64(q, 0, 0), "due",
	    (json_int_t)db_get_i64(q, 0, 1), "oldest_pending_s",
	    (json_int_t)db_get_i64(q, 0, 2), "failed_24h",
	    (json_int_t)db_get_i64(q, 0, 3), "online", "users",
	    (json_int_t)db_get_i64(q, 0, 4), "sessions",
	    (json_int_t)db_get_i64(q, 0, 5), "window",
	    (json_int_t)config.online_window);
	json_decref(apps);
	PQclear(db);
	PQclear(q);
	http_reply(r, 200, reply);
}
