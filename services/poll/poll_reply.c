/* poll_reply: answers a waiter, whose request libfcgi no longer holds
 * (server_detach), on its own socket. The reply is made by the same http.c
 * functions as any other, on a per-thread scratch request whose output is
 * a memory stream (shared/fcgi_out.c), so its bytes (status line, headers,
 * JSONP wrapping) are exactly those of a reply through libfcgi; then the
 * FastCGI records go out, the access line is logged as server.c logs it,
 * and the socket is closed at once: nginx has what it needs once
 * END_REQUEST arrived, and with the request's stdin read to its end there
 * is nothing unread to turn close() into a reset (libfcgi's lingering
 * close, up to ~1 ms per request here, is not needed). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "fcgi_out.h"
#include "http.h"
#include "log.h"
#include "poll.h"
#include "server.h"

/* One per thread that answers waiters: 4.3 KiB for the request and the
 * output buffer, instead of the same per parked poll. */
struct scratch {
	struct http_req r;
	struct fcgi_out out;
};

static pthread_key_t	scratch_key;
static pthread_once_t	scratch_once = PTHREAD_ONCE_INIT;
static struct log_limit write_log = LOG_LIMIT(10);

static void		scratch_free(void *);
static void		scratch_key_make(void);
static struct http_req *begin(struct waiter *, struct db *);
static void		finish(struct waiter *, int);

static void
scratch_free(void *p)
{
	struct scratch *s = p;

	fcgi_out_free(&s->out);
	free(s);
}

static void
scratch_key_make(void)
{
	if (pthread_key_create(&scratch_key, scratch_free) != 0)
		log_fatal("pthread_key_create failed");
}

/* This thread's scratch request, made ready to answer w. */
static struct http_req *
begin(struct waiter *w, struct db *db)
{
	struct scratch	*s;
	struct http_req *r;

	pthread_once(&scratch_once, scratch_key_make);
	if ((s = pthread_getspecific(scratch_key)) == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			log_fatal("calloc: out of memory");
		if (pthread_setspecific(scratch_key, s) != 0)
			log_fatal("pthread_setspecific failed");
	}
	r = &s->r;
	/* What the route's request had: http_begin() and auth set these. */
	memset(r, 0, sizeof(*r));
	fcgi_out_attach(&s->out, r);
	r->method = "GET";
	/* The route matched this path exactly (main.c). */
	memcpy(r->path, "/api/v1/events", sizeof("/api/v1/events"));
	r->query = "";
	r->remote_addr = w->addr;
	r->user_id = w->user_id;
	r->session_id = w->session_id;
	memcpy(r->jsonp, w->jsonp, sizeof(r->jsonp));
	r->route = w->route;
	r->db = db;
	return r;
}

/* Sends what the scratch request holds (unless not `send`), logs,
 * closes, frees w. */
static void
finish(struct waiter *w, int send)
{
	struct scratch	*s = pthread_getspecific(scratch_key);
	struct http_req *r = &s->r;
	struct timespec	 t1;
	unsigned long	 quiet;
	const char	*bytes;
	size_t		 len;
	int		 err;

	if (send && s->out.stream.isClosed) {
		/* Larger than FCGI_OUT_MAX: never half a reply. */
		log_warn("poll reply for user %lld too large; answered 500",
		    (long long)w->user_id);
		r = begin(w, NULL);
		http_error(r, 500, "internal_error",
		    "The reply is too large; it has been logged.");
	}
	bytes = fcgi_out_bytes(&s->out, &len);
	if (send && fcgi_out_send(w->fd, w->request_id, bytes, len) == -1) {
		/* nginx gave up on the request meanwhile (client gone). */
		err = errno;
		if (log_limit_ok(&write_log, &quiet))
			log_info("poll reply to user %lld not sent: %s (%lu "
				 "more since the last report)",
			    (long long)w->user_id, strerror(err), quiet);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	server_access_log(r,
	    (double)(t1.tv_sec - w->t0.tv_sec) * 1e3 +
		(double)(t1.tv_nsec - w->t0.tv_nsec) / 1e6);
	close(w->fd);
	r->db = NULL;
	free(w);
}

void
poll_reply_json(struct http_req *r, const char *events, long long next)
{
	char  *s;
	size_t len = strlen(events) + 48;

	if ((s = malloc(len)) == NULL)
		log_fatal("malloc: out of memory");
	len = (size_t)snprintf(s, len, "{\"events\":%s,\"next\":%lld}", events,
	    next);
	http_reply_raw(r, 200, "application/json; charset=utf-8", s, len);
	free(s);
}

void
poll_reply_events(struct waiter *w, const char *events, long long next)
{
	poll_reply_json(begin(w, NULL), events, next);
	finish(w, 1);
}

void
poll_finish_empty(struct waiter *w)
{
	poll_reply_json(begin(w, NULL), "[]", (long long)w->since);
	finish(w, 1);
}

void
poll_session_ended(struct http_req *r)
{
	http_header(r, "WWW-Authenticate: Bearer error=\"invalid_token\"");
	http_error(r, 401, "invalid_token",
	    "The access token is unknown, expired or revoked.");
}

void
poll_reply_ended(struct waiter *w)
{
	poll_session_ended(begin(w, NULL));
	finish(w, 1);
}

void
poll_reply_db_error(struct waiter *w, struct db *db)
{
	/* http_db_error reads this thread's last failure from db. */
	http_db_error(begin(w, db));
	finish(w, 1);
}

void
poll_finish_gone(struct waiter *w)
{
	struct http_req *r = begin(w, NULL);

	r->status = 499; /* nginx's "client closed request" */
	finish(w, 0);	 /* nothing to write to: just close */
}
