/* server: thread-per-connection FastCGI workers. Signals are taken by the
 * main thread with sigwait(); shutting down the listening socket wakes
 * workers blocked in accept(), so SIGTERM ends the process cleanly (libfcgi's
 * own handler only sets a flag and leaves them blocked). A worker between
 * two requests on a connection nginx keeps open (svc->kept_connections)
 * waits in poll() on it and on a pipe that shutdown makes readable, so it
 * ends too, without cutting a request short: one nginx already sent is
 * served first. A failed accept (out of descriptors, say) never ends a
 * worker: only shutdown does. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "nofile.h"
#include "server.h"
#include "site.h"

#define ACCEPT_BACKOFF_MIN 10 /* ms, doubling while accept fails */
#define ACCEPT_BACKOFF_MAX 500
#define ACCEPT_LOG_S	   10 /* one line per this many seconds */

#define LISTEN_BACKLOG 65535

struct worker {
	pthread_t	      thread;
	const struct service *svc;
};

static int		listen_fd = -1;
static int		wake_fd[2] = { -1, -1 }; /* readable: stopping */
static atomic_int	stopping;
static __thread int	handed_over; /* see server_handover() */
static struct log_limit accept_log = LOG_LIMIT(ACCEPT_LOG_S);

static void	       *worker_main(void *);
static struct http_req *req_new(struct db *, void *);
static void		accept_failed(int, int *);

static struct http_req *
req_new(struct db *db, void *ctx)
{
	struct http_req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		log_fatal("calloc: out of memory");
	r->db = db;
	r->ctx = ctx;
	if (FCGX_InitRequest(&r->fcgi, listen_fd, 0) != 0)
		log_fatal("FCGX_InitRequest failed");
	return r;
}

void
server_access_log(const struct http_req *r, double ms)
{
	/* Scrapes (server_metrics) are not requests of the service. A
	 * handed-over request (a parked poll) carries its route along. */
	if (strncmp(r->path, "/metrics/", 9) != 0)
		metrics_request(r->route, r->status, ms);
	/* The query is never logged: it may carry an access_token. */
	if (r->site[0] != '\0')
		log_info("access %s %s %d %.1fms site=%s addr=%s", r->method,
		    r->path, r->status, ms, r->site, r->remote_addr);
	else
		log_info("access %s %s %d %.1fms user=%lld addr=%s", r->method,
		    r->path, r->status, ms, (long long)r->user_id,
		    r->remote_addr);
}

void
server_handover(void)
{
	handed_over = 1;
}

/* nginx's metrics listener (only it sets PARLEY_METRICS; README
 * "Metrics") asks for the exposition. */
static void
server_metrics(struct http_req *r)
{
	char  *text;
	size_t len;

	if (http_begin_quiet(r) == -1) {
		http_reply_missing(r);
		return;
	}
	text = metrics_render(r->db, &len);
	http_reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", text,
	    len);
	free(text);
}

void
server_detach(struct http_req *r)
{
	/* FCGX_Free without `close` frees the streams and parameters only:
	 * no byte is written (nothing is flushed) and the descriptor stays
	 * open for its new owner, who may already be using it. */
	FCGX_Free(&r->fcgi, 0);
	http_body_free(r);
	free(r);
	handed_over = 1;
}

void
server_dispatch(const struct service *svc, struct http_req *r)
{
	const struct route *rt;
	enum router_result  res;

	r->route = NULL; /* the worker's request is reused */
	if (http_env(r, "PARLEY_METRICS") != NULL) {
		server_metrics(r);
		return;
	}
	if (svc->admin_only) {
		if (http_begin_quiet(r) == -1 || auth_admin(r) == -1) {
			http_reply_missing(r);
			return;
		}
	} else if (http_begin(r) == -1)
		return;
	res = router_match(svc->routes, svc->nroutes, r->method, r->path,
	    r->params, HTTP_MAX_PARAMS, &r->nparams, &rt);
	switch (res) {
	case ROUTER_NOT_FOUND:
		http_error(r, 404, "not_found", "No such endpoint: %s.",
		    r->path);
		return;
	case ROUTER_BAD_METHOD:
		http_error(r, 405, "method_not_allowed",
		    "Method %s is not allowed here.", r->method);
		return;
	case ROUTER_BAD_PARAM:
		http_error(r, 400, "invalid_path",
		    "A path segment is not valid percent-encoded UTF-8.");
		return;
	case ROUTER_FOUND:
		r->route = rt;
		break;
	}
	if (rt->auth == ROUTE_USER_JSONP && http_jsonp(r) == -1)
		return;
	if (rt->auth == ROUTE_ADMIN) {
		/* Checked before routing; server_run makes sure of it. */
		if (!svc->admin_only) {
			http_reply_missing(r);
			return;
		}
	} else if (rt->auth == ROUTE_USER_FORM) {
		http_iframe(r);
		/* The frame's page is read by the client's page only. */
		if (r->iframe) {
			http_header(r,
			    "Content-Security-Policy: default-src "
			    "'none'; frame-ancestors 'self'");
			http_header(r, "X-Frame-Options: SAMEORIGIN");
		}
		if (auth_request_form(r) == -1)
			return;
	} else if (rt->auth == ROUTE_SITE) {
		if (site_auth_request(r) == -1)
			return;
	} else if (rt->auth != ROUTE_PUBLIC &&
	    auth_request(r, rt->auth == ROUTE_USER_JSONP) == -1)
		return;
	rt->handler(r);
	if (handed_over)
		return; /* r may be gone already */
	server_after_handler(r, rt->pattern);
}

void
server_after_handler(struct http_req *r, const char *what)
{
	if (r->db != NULL && db_in_tx(r->db)) {
		log_warn("%s %s left a transaction open", r->method, what);
		db_rollback(r->db);
	}
	if (r->status == 0) {
		log_warn("%s %s sent no reply", r->method, what);
		http_error(r, 500, "internal_error",
		    "The server sent no reply.");
	}
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

void
server_finish_handed(struct http_req *r, const struct timespec *t0)
{
	server_access_log(r, ms_since(t0));
	/* No worker reads this connection again: close it even if nginx
	 * asked to keep it. That close races with nginx reusing the
	 * connection, so services that hand over are not kept at all
	 * (kept_connections, nginx/parley.conf.in); this is a backstop. */
	r->fcgi.keepConnection = 0;
	FCGX_Finish_r(&r->fcgi);
	http_body_free(r);
	free(r);
}

/* FCGX_Accept_r failed with `rc` (-errno, or -9999 without one): EMFILE
 * and ENFILE while parked polls hold every descriptor, ENOBUFS/ENOMEM,
 * ECONNABORTED. They pass once descriptors or memory are freed, so the
 * worker logs (rate-limited, shared by all workers), waits a little longer
 * each time, and accepts again. */
static void
accept_failed(int rc, int *backoff_ms)
{
	struct timespec ts;
	unsigned long	quiet;
	int		err = rc > -9000 ? -rc : 0;

	if (log_limit_ok(&accept_log, &quiet))
		log_warn("accept failed: %s; retrying (%lu more failures since "
			 "the last report)",
		    err != 0 ? strerror(err) : "unknown error", quiet);
	*backoff_ms = *backoff_ms == 0		 ? ACCEPT_BACKOFF_MIN :
	    *backoff_ms * 2 > ACCEPT_BACKOFF_MAX ? ACCEPT_BACKOFF_MAX :
						   *backoff_ms * 2;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)*backoff_ms * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR &&
	    !atomic_load(&stopping))
		;
}

/* Between two requests on a kept connection (fd): 0 once the next request
 * (or nginx's close) is there to read, -1 when the server stops first. */
static int
kept_wait(int fd)
{
	struct pollfd pfd[2];

	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = wake_fd[0];
	pfd[1].events = POLLIN;
	for (;;) {
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return 0; /* let libfcgi's read find out */
		}
		if (pfd[0].revents != 0)
			return 0;
		if (pfd[1].revents != 0)
			return -1;
	}
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct http_req *r;
	struct timespec	 t0;
	struct db	*db;
	void		*ctx;
	int		 rc, backoff = 0;

	r = req_new(db_new(),
	    w->svc->thread_init != NULL ? w->svc->thread_init() : NULL);
	while (!atomic_load(&stopping)) {
		if (r->fcgi.ipcFd >= 0 && kept_wait(r->fcgi.ipcFd) == -1)
			break;
		if ((rc = FCGX_Accept_r(&r->fcgi)) < 0) {
			/* shutdown() makes accept fail too: that one ends it. */
			if (atomic_load(&stopping))
				break;
			accept_failed(rc, &backoff);
			continue;
		}
		backoff = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		db = r->db;
		ctx = r->ctx;
		handed_over = 0;
		server_dispatch(w->svc, r);
		if (handed_over) {
			/* Its new owner replies, logs and frees it. */
			r = req_new(db, ctx);
			continue;
		}
		server_access_log(r, ms_since(&t0));
		FCGX_Finish_r(&r->fcgi);
	}
	http_body_free(r);
	FCGX_Free(&r->fcgi, 1);
	if (w->svc->thread_free != NULL)
		w->svc->thread_free(r->ctx);
	db_free(r->db);
	free(r);
	return NULL;
}

static int
open_listener(const char *where)
{
	int fd;

	/* A socket path left by a previous run would make bind() fail. */
	if (where[0] != ':' && strchr(where, '/') != NULL)
		(void)unlink(where);
	/* A burst of long polls arrives faster than the workers park them;
	 * a full backlog makes nginx's connect() fail at once (EAGAIN on a
	 * unix socket: a 503). The kernel caps the value at
	 * net.core.somaxconn (4096 on Debian 12). */
	if ((fd = FCGX_OpenSocket(where, LISTEN_BACKLOG)) < 0)
		log_fatal("cannot listen on %s: %s", where, strerror(errno));
	if (strchr(where, '/') != NULL && chmod(where, 0660) == -1)
		log_fatal("chmod %s: %s", where, strerror(errno));
	return fd;
}

int
server_run(const struct service *svc)
{
	struct worker *workers;
	sigset_t       set;
	int	       i, sig;

	setvbuf(stderr, NULL, _IOLBF, 0);
	for (i = 0; (size_t)i < svc->nroutes; i++)
		if ((svc->routes[i].auth == ROUTE_ADMIN) !=
		    (svc->admin_only != 0))
			log_fatal("route %s %s: ROUTE_ADMIN routes belong to "
				  "an "
				  "admin_only service, and only they do",
			    svc->routes[i].method, svc->routes[i].pattern);
	config_load(svc->name);
	if (svc->kept_connections)
		config.threads = config_kept_threads();
	nofile_apply(config.max_files);
	db_configure(config.database_url, svc->name);
	metrics_init(svc->name, svc->routes, svc->nroutes);
	auth_init();
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked here, inherited by every worker: only sigwait() sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0)
		log_fatal("FCGX_Init failed");
	if (pipe2(wake_fd, O_CLOEXEC) == -1)
		log_fatal("pipe2: %s", strerror(errno));
	/* Before the socket exists: a service setting it refuses stops the
	 * process before anyone (scripts/parley, nginx) takes it for up. */
	if (svc->on_start != NULL)
		svc->on_start();
	listen_fd = open_listener(config.listen);
	if ((workers = calloc((size_t)config.threads, sizeof(*workers))) ==
	    NULL)
		log_fatal("calloc: out of memory");
	for (i = 0; i < config.threads; i++) {
		workers[i].svc = svc;
		if (pthread_create(&workers[i].thread, NULL, worker_main,
			&workers[i]) != 0)
			log_fatal("pthread_create failed");
	}
	log_info("listening on %s with %d threads", config.listen,
	    config.threads);
	for (;;) {
		if (sigwait(&set, &sig) == 0 && sig != SIGHUP)
			break;
	}
	log_info("signal %d: finishing requests in progress", sig);
	atomic_store(&stopping, 1);
	shutdown(listen_fd, SHUT_RDWR);
	/* Never read: it stays readable for every waiting worker. */
	if (write(wake_fd[1], "", 1) == -1)
		log_warn("waking kept connections: %s", strerror(errno));
	for (i = 0; i < config.threads; i++)
		pthread_join(workers[i].thread, NULL);
	if (svc->on_stop != NULL)
		svc->on_stop();
	close(listen_fd);
	close(wake_fd[0]);
	close(wake_fd[1]);
	if (strchr(config.listen, '/') != NULL)
		(void)unlink(config.listen);
	free(workers);
	log_info("stopped");
	return 0;
}
