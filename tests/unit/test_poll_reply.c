/* test_poll_reply: a parked poll's answer (services/poll/poll_reply.c,
 * compiled in whole) as nginx reads it off the socket: the stdout bytes
 * are exactly what http.c writes for a request libfcgi still holds (here
 * tests/unit/fcgi_mem.c), JSONP included, for events over 64 KiB too; the
 * per-thread scratch request keeps nothing of the reply before (a 401's
 * WWW-Authenticate); a hung-up poll gets no bytes, only close(). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* test_poll_hub.c stubs these for the hub; here they are the real ones. */
#define poll_finish_empty real_poll_finish_empty
#define poll_finish_gone  real_poll_finish_gone
#include "../../services/poll/poll_reply.c"
#undef poll_finish_empty
#undef poll_finish_gone

#include "fcgi_mem.h"
#include "fcgi_records.h"
#include "unit.h"

struct slurp {
	pthread_t      t;
	int	       fd;
	unsigned char *buf;
	size_t	       len;
};

static void	     *slurp_main(void *);
static struct waiter *waiter_on(struct slurp *, const char *);
static const char    *read_reply(struct slurp *, struct fcgi_reply *);
static const char    *t_same_bytes(void);
static const char    *t_fresh_scratch(void);
static const char    *t_gone(void);

static void *
slurp_main(void *arg)
{
	struct slurp *s = arg;

	s->buf = fcgi_records_slurp(s->fd, &s->len);
	return NULL;
}

/* A waiter whose socket's other end a thread reads to EOF. */
static struct waiter *
waiter_on(struct slurp *s, const char *jsonp)
{
	struct waiter *w;
	int	       sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
	    (w = calloc(1, sizeof(*w))) == NULL)
		abort();
	w->fd = sv[0];
	w->request_id = 513;
	w->user_id = 77;
	w->session_id = 88;
	w->since = 5;
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	snprintf(w->jsonp, sizeof(w->jsonp), "%s", jsonp);
	snprintf(w->addr, sizeof(w->addr), "127.0.0.1");
	memset(s, 0, sizeof(*s));
	s->fd = sv[1];
	if (pthread_create(&s->t, NULL, slurp_main, s) != 0)
		abort();
	return w;
}

static const char *
read_reply(struct slurp *s, struct fcgi_reply *r)
{
	const char *why;

	pthread_join(s->t, NULL);
	close(s->fd);
	why = fcgi_records_parse(s->buf, s->len, r);
	free(s->buf);
	return why;
}

/* What http.c writes through libfcgi's stream for the same reply. */
static char *
expected(const char *jsonp, const char *events, long long next, int ended,
    size_t *len)
{
	struct http_req *r = calloc(1, sizeof(*r));
	struct fcgi_mem	 m;
	const char	*out;
	char		*copy;

	if (r == NULL)
		abort();
	fcgi_mem_init(&m, r, NULL, 0);
	snprintf(r->jsonp, sizeof(r->jsonp), "%s", jsonp);
	r->method = "GET";
	if (ended)
		poll_session_ended(r);
	else
		poll_reply_json(r, events, next);
	out = fcgi_mem_output(&m, len);
	if ((copy = malloc(*len + 1)) == NULL)
		abort();
	memcpy(copy, out, *len + 1);
	fcgi_mem_cleanup(&m);
	free(r);
	return copy;
}

static const char *
t_same_bytes(void)
{
	static const char *cbs[] = { "", "parley.cb1" };
	struct fcgi_reply  got;
	struct slurp	   s;
	char		  *events, *want;
	size_t		   i, n, p, wn, sizes[] = { 40, 150000 };
	int		   k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < 2; i++) {
			n = sizes[i];
			/* An event text with U+2028 (JSONP escapes it). */
			if ((events = malloc(n + 64)) == NULL)
				abort();
			strcpy(events,
			    "[{\"seq\":6,\"data\":{\"text\":\"a\xe2\x80\xa8");
			p = strlen(events);
			memset(events + p, 'x', n);
			strcpy(events + p + n, "\"}}]");
			want = expected(cbs[k], events, 6, 0, &wn);
			poll_reply_events(waiter_on(&s, cbs[k]), events, 6);
			CHECK(read_reply(&s, &got) == NULL);
			CHECK_EQ(got.id, 513);
			CHECK_EQ(got.outlen, wn);
			CHECK(memcmp(got.out, want, wn) == 0);
			CHECK((strstr(got.out, "\\u2028") != NULL) == (k == 1));
			CHECK(k == 0 ||
			    strstr(got.out, "application/javascript") != NULL);
			free(got.out);
			free(want);
			free(events);
		}
	return NULL;
}

static const char *
t_fresh_scratch(void)
{
	struct fcgi_reply got;
	struct slurp	  s;
	char		 *want;
	size_t		  wn;

	want = expected("cb", NULL, 0, 1, &wn);
	poll_reply_ended(waiter_on(&s, "cb"));
	CHECK(read_reply(&s, &got) == NULL);
	CHECK_EQ(got.outlen, wn);
	CHECK(memcmp(got.out, want, wn) == 0);
	CHECK(strstr(got.out, "WWW-Authenticate") != NULL);
	free(got.out);
	free(want);
	/* The next reply on this thread: plain JSON, no header of the 401. */
	want = expected("", "[]", 5, 0, &wn);
	real_poll_finish_empty(waiter_on(&s, ""));
	CHECK(read_reply(&s, &got) == NULL);
	CHECK_EQ(got.outlen, wn);
	CHECK(memcmp(got.out, want, wn) == 0);
	CHECK(strstr(got.out, "WWW-Authenticate") == NULL);
	CHECK(strstr(got.out, "\"next\":5}") != NULL);
	free(got.out);
	free(want);
	return NULL;
}

static const char *
t_gone(void)
{
	struct slurp s;

	real_poll_finish_gone(waiter_on(&s, ""));
	pthread_join(s.t, NULL);
	close(s.fd);
	free(s.buf);
	CHECK_EQ(s.len, 0);
	return NULL;
}

void
test_poll_reply(void)
{
	unit_run("poll reply: the bytes http.c writes through libfcgi, JSON "
		 "and JSONP, over 64 KiB too",
	    t_same_bytes);
	unit_run("poll reply: nothing of a 401 stays for the next reply",
	    t_fresh_scratch);
	unit_run("poll reply: a hung-up poll gets close() and no byte", t_gone);
}
