/* loadgen: the load generator behind `make bench` (a test tool, not product
 * code). One thread, epoll, non-blocking sockets, HTTP/1.1 keep-alive
 * written by hand, CLOCK_MONOTONIC in microseconds. Modes:
 *
 *   tokens            usernames on stdin -> "username\ttoken\thexhash" lines
 *                     (the session token and its BLAKE2b-256, as
 *                     shared/auth.c stores it)
 *   send              closed-loop POST /api/v1/messages on --conns
 *                     connections for --warm + --secs seconds
 *   latency           --n long pollers (--kind parley or nchan) or
 *                     WebSocket clients (ws: Parley's gateway, nchanws:
 *                     Nchan's), messages at --rate per second round-robin
 *                     to them; per message: send issued -> the poller's
 *                     response (the socket's frame) fully read
 *   hold              --n long polls held open; waits until the server
 *                     processes (--fdpids) hold --n more descriptors, then
 *                     writes --ready and waits for --done
 *   fanout            --file members (first = group owner, the sender);
 *                     rounds of one group message, then one direct message
 *                     owner -> second member as the reference
 *   calls             --pairs caller/callee pairs among --n more waiting
 *                     pollers: call setup (invite -> call.invite in the
 *                     callee's poll -> accept -> call.accepted in the
 *                     caller's poll), each followed by the same round
 *                     trip made of two messages as the reference
 *   wshold            --n idle WebSockets held (ws.c), in stages as hold
 *
 * Results go to stdout as "key=value" lines for bench/run.sh.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "loadgen.h"

enum { ST_IDLE, ST_CONNECTING, ST_WRITING, ST_READING };

struct conn;
typedef void (*done_fn)(struct conn *, int, char *, size_t);

struct conn {
	int		 fd, st, events;
	char		 out[4096];
	size_t		 outlen, outoff;
	char		*in;
	size_t		 inlen, incap;
	int64_t		 t_issue;
	done_fn		 done;
	int		 idx;		/* owner's index */
	int64_t		 a;		/* owner's data (message number) */
	int64_t		 retry_at;	/* > 0: re-issue then */
	char		 etag[128], lastmod[64];
};

int				 epfd;
struct sockaddr_in		 addr;
static int			 nopts;
static char			*optk[64], *optv[64];
static int64_t			 t_base;

/* ---------------------------------------------------------------- util */

void
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

int64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *
opt(const char *k, const char *def)
{
	int	i;

	for (i = 0; i < nopts; i++)
		if (strcmp(optk[i], k) == 0)
			return optv[i];
	return def;
}

double
optn(const char *k, double def)
{
	const char	*s = opt(k, NULL);

	return s != NULL ? atof(s) : def;
}

void *
xcalloc(size_t n, size_t sz)
{
	void	*p = calloc(n == 0 ? 1 : n, sz);

	if (p == NULL)
		die("out of memory");
	return p;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile (0..100) of n sorted values, in ms. */
static double
pct(const int64_t *v, size_t n, double p)
{
	size_t	i;

	if (n == 0)
		return -1;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

void
print_dist(const char *name, int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	printf("%s_n=%zu\n", name, n);
	printf("%s_p50_ms=%.3f\n", name, pct(v, n, 50));
	printf("%s_p90_ms=%.3f\n", name, pct(v, n, 90));
	printf("%s_p99_ms=%.3f\n", name, pct(v, n, 99));
	printf("%s_max_ms=%.3f\n", name, n ? (double)v[n - 1] / 1000 : -1.0);
}

/* Lines of whitespace-separated fields; returns the count. */
int
read_lines(const char *path, char ***lines)
{
	FILE	*f = fopen(path, "r");
	char	 buf[1024];
	int	 n = 0, cap = 0;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	*lines = NULL;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] == '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((*lines = realloc(*lines, cap * sizeof(char *))) ==
			    NULL)
				die("out of memory");
		}
		if (((*lines)[n++] = strdup(buf)) == NULL)
			die("out of memory");
	}
	fclose(f);
	return n;
}

/* Field i (0-based) of a whitespace-separated line, copied into out. */
const char *
field(const char *line, int i, char *out, size_t len)
{
	const char	*p = line;
	size_t		 n;

	for (;;) {
		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (i-- == 0)
			break;
		p += n;
	}
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

/* Descriptors open in the given processes ("pid,pid,..."). */
long
count_fds(const char *pids)
{
	char		 path[64], buf[512], *p, *save = NULL;
	DIR		*d;
	struct dirent	*e;
	long		 n = 0;

	snprintf(buf, sizeof(buf), "%s", pids);
	for (p = strtok_r(buf, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		snprintf(path, sizeof(path), "/proc/%s/fd", p);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
	}
	return n;
}

/* ------------------------------------------------------- connections */

static void	conn_fail(struct conn *);

static void
conn_events(struct conn *c, int ev)
{
	struct epoll_event	e;

	if (c->events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = (uint32_t)ev;
	e.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) == -1)
		die("epoll_ctl mod: %s", strerror(errno));
	c->events = ev;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);	/* leaves the epoll set too */
	c->fd = -1;
	c->st = ST_IDLE;
	c->events = 0;
	c->inlen = 0;
}

static void
conn_write(struct conn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n > 0) {
			c->outoff += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EAGAIN) {
			conn_events(c, EPOLLIN | EPOLLOUT);
			return;
		}
		conn_fail(c);
		return;
	}
	c->st = ST_READING;
	conn_events(c, EPOLLIN);
}

/* Sends the request in c->out (outlen set); opens a connection if none. */
static void
conn_send(struct conn *c)
{
	struct epoll_event	e;
	int			one = 1;

	c->outoff = 0;
	c->inlen = 0;
	c->t_issue = now_us();
	if (c->fd >= 0) {
		c->st = ST_WRITING;
		conn_write(c);
		return;
	}
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		die("socket: %s (raise ulimit -n)", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 &&
	    errno != EINPROGRESS) {
		c->st = ST_IDLE;
		close(c->fd);
		c->fd = -1;
		c->done(c, -1, NULL, 0);
		return;
	}
	c->st = ST_CONNECTING;
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN | EPOLLOUT;
	e.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) == -1)
		die("epoll_ctl add: %s", strerror(errno));
	c->events = EPOLLIN | EPOLLOUT;
}

static void
conn_fail(struct conn *c)
{
	conn_close(c);
	c->done(c, -1, NULL, 0);
}

/* 1 when c->in holds a whole response; fills status/body. Decodes a
 * chunked body in place. */
static int
parse(struct conn *c, int eof, int *status, char **body, size_t *blen,
    int *close_after)
{
	char	*he, *p, *line, *end, *o;
	long	 clen = -1;
	int	 chunked = 0;
	size_t	 bo, sz;

	if ((he = memmem(c->in, c->inlen, "\r\n\r\n", 4)) == NULL)
		return 0;
	if (strncmp(c->in, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(c->in + 9);
	*close_after = strncmp(c->in, "HTTP/1.0", 8) == 0;
	for (line = strstr(c->in, "\r\n") + 2; line < he; line = end + 2) {
		end = strstr(line, "\r\n");
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 &&
		    strstr(line, "chunked") != NULL && strstr(line, "chunked") <
		    end)
			chunked = 1;
		else if (strncasecmp(line, "Connection:", 11) == 0) {
			p = line + 11 + strspn(line + 11, " ");
			*close_after = strncasecmp(p, "close", 5) == 0;
		} else if (strncasecmp(line, "Etag:", 5) == 0) {
			p = line + 5 + strspn(line + 5, " ");
			snprintf(c->etag, sizeof(c->etag), "%.*s",
			    (int)(end - p), p);
		} else if (strncasecmp(line, "Last-Modified:", 14) == 0) {
			p = line + 14 + strspn(line + 14, " ");
			snprintf(c->lastmod, sizeof(c->lastmod), "%.*s",
			    (int)(end - p), p);
		}
	}
	bo = (size_t)(he + 4 - c->in);
	if (*status == 204 || *status == 304 || (*status >= 100 &&
	    *status < 200))
		clen = 0;
	if (chunked) {
		/* Complete only with the last chunk; then decode. */
		p = c->in + bo;
		for (;;) {
			if ((end = memmem(p, c->inlen - (size_t)(p - c->in),
			    "\r\n", 2)) == NULL)
				return 0;
			sz = strtoul(p, NULL, 16);
			if (sz == 0) {
				if (c->inlen - (size_t)(end + 2 - c->in) < 2)
					return 0;
				break;
			}
			if ((size_t)(end + 2 - c->in) + sz + 2 > c->inlen)
				return 0;
			p = end + 2 + sz + 2;
		}
		p = c->in + bo;
		o = p;
		for (;;) {
			end = strstr(p, "\r\n");
			sz = strtoul(p, NULL, 16);
			if (sz == 0)
				break;
			memmove(o, end + 2, sz);
			o += sz;
			p = end + 2 + sz + 2;
		}
		*o = '\0';
		*body = c->in + bo;
		*blen = (size_t)(o - *body);
		return 1;
	}
	if (clen >= 0) {
		if (c->inlen - bo < (size_t)clen)
			return 0;
		*body = c->in + bo;
		*blen = (size_t)clen;
		(*body)[clen] = '\0';
		return 1;
	}
	if (!eof)
		return 0;
	*close_after = 1;
	*body = c->in + bo;
	*blen = c->inlen - bo;
	return 1;
}

static void
conn_read(struct conn *c)
{
	ssize_t	 n;
	int	 eof = 0, status = 0, close_after = 0, rc;
	char	*body = NULL;
	size_t	 blen = 0;

	for (;;) {
		if (c->incap - c->inlen < 4096) {
			c->incap = c->incap ? c->incap * 2 : 8192;
			if ((c->in = realloc(c->in, c->incap)) == NULL)
				die("out of memory");
		}
		n = read(c->fd, c->in + c->inlen, c->incap - c->inlen - 1);
		if (n > 0) {
			c->inlen += (size_t)n;
			c->in[c->inlen] = '\0';
			continue;
		}
		if (n == 0)
			eof = 1;
		else if (errno != EAGAIN) {
			conn_fail(c);
			return;
		}
		break;
	}
	if (c->st != ST_READING) {
		/* An idle keep-alive connection closed by the server. */
		if (eof)
			conn_close(c);
		c->inlen = 0;
		return;
	}
	rc = parse(c, eof, &status, &body, &blen, &close_after);
	if (rc == 0 && !eof)
		return;
	if (rc <= 0) {
		conn_fail(c);
		return;
	}
	if (close_after || eof)
		conn_close(c);
	c->st = ST_IDLE;
	c->inlen = 0;		/* body stays valid until the next read */
	c->done(c, status, body, blen);
}

static void
conn_event(struct conn *c, uint32_t ev)
{
	int		err = 0;
	socklen_t	len = sizeof(err);

	if (c->fd < 0)
		return;
	if (c->st == ST_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			conn_fail(c);
			return;
		}
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		c->st = ST_WRITING;
	}
	if (c->st == ST_WRITING) {
		conn_write(c);
		return;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		conn_read(c);
}

void
loop_once(int timeout_ms)
{
	struct epoll_event	ev[1024];
	int			i, n;

	n = epoll_wait(epfd, ev, 1024, timeout_ms);
	if (n == -1 && errno != EINTR)
		die("epoll_wait: %s", strerror(errno));
	/* ws.c tags its sockets with the low bit (loadgen.h). */
	for (i = 0; i < n; i++)
		if (ev[i].data.u64 & 1)
			ws_event((struct ws *)(uintptr_t)(ev[i].data.u64 &
			    ~(uint64_t)1), ev[i].events);
		else
			conn_event(ev[i].data.ptr, ev[i].events);
}

static struct conn *
conns_new(int n, done_fn done)
{
	struct conn	*c = xcalloc((size_t)n, sizeof(*c));
	int		 i;

	for (i = 0; i < n; i++) {
		c[i].fd = -1;
		c[i].idx = i;
		c[i].done = done;
	}
	return c;
}

/* --------------------------------------------------- request builders */

static void
req_get(struct conn *c, const char *path, const char *token)
{
	int	n;

	n = snprintf(c->out, sizeof(c->out), "GET %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n%s%s%s", path, token ? "Authorization: Bearer "
	    : "", token ? token : "", token ? "\r\n" : "");
	if (c->lastmod[0] != '\0')
		n += snprintf(c->out + n, sizeof(c->out) - (size_t)n,
		    "If-Modified-Since: %s\r\nIf-None-Match: %s\r\n",
		    c->lastmod, c->etag);
	n += snprintf(c->out + n, sizeof(c->out) - (size_t)n, "\r\n");
	c->outlen = (size_t)n;
}

static void
req_post(struct conn *c, const char *path, const char *token,
    const char *ctype, const char *body)
{
	c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
	    "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", path,
	    token ? "Authorization: Bearer " : "", token ? token : "",
	    token ? "\r\n" : "", ctype, strlen(body), body);
}

static char	run_id[32];

/* A text message; client_id is unique per run and message. */
static void
req_message(struct conn *c, const char *token, const char *to_field,
    long long to, const char *text)
{
	char	body[512];

	snprintf(body, sizeof(body), "{\"%s\":%lld,\"type\":\"text\","
	    "\"body\":{\"text\":\"%s\"},\"client_id\":\"%s-%s\"}", to_field,
	    to, text, run_id, text);
	req_post(c, "/api/v1/messages", token, "application/json", body);
}

/* Calls fn(kind, number) for each "text": "<kind><digits>" in a poll
 * answer (jsonb prints ": " with a space, json without), or for a bare
 * Nchan body "<kind><digits>". Kinds: m (latency), g and s (fanout), p and
 * q (calls: the message round trip). Returns the count. */
static int
markers(const char *body, size_t len, void (*fn)(int, long, void *),
    void *arg)
{
	const char	*p = body, *q;
	int		 n = 0;

	if (len > 1 && body[0] != '{' && strchr("mgspq", body[0]) != NULL) {
		fn(body[0], strtol(body + 1, NULL, 10), arg);
		return 1;
	}
	while ((p = strstr(p, "\"text\"")) != NULL) {
		q = p + 6;
		q += strspn(q, " ");
		if (*q++ != ':')
			goto next;
		q += strspn(q, " ");
		if (*q++ != '"' || strchr("mgspq", *q) == NULL || q[0] == '\0' ||
		    q[1] < '0' || q[1] > '9')
			goto next;
		fn(*q, strtol(q + 1, NULL, 10), arg);
		n++;
next:
		p += 6;
	}
	return n;
}

/* The "next" cursor of a poll answer, or -1. */
static long long
next_cursor(const char *body)
{
	const char	*p = body, *last = NULL;

	while ((p = strstr(p, "\"next\":")) != NULL)
		last = p++;
	return last ? strtoll(last + 7, NULL, 10) : -1;
}

/* ------------------------------------------------------------ pollers */

/* A long poller, Parley or Nchan. */
struct poller {
	char		 token[64];
	long long	 user;
	char		 sender[64];	/* a friend who sends to it */
	long long	 since;		/* -1: ask for the head first */
	int		 armed;		/* a waiting poll is out */
	int64_t		 armed_at;
	long		 polls, errors;
};

static struct poller	*pollers;
static struct conn	*pconns;
static int		 npollers, nchan;
static long		 poll_errors;
static void		(*on_marker)(int, long, void *);
static void		(*on_body)(struct conn *, const char *, size_t);
static int64_t		 repoll_delay;	/* us before polling again */

static void
poller_issue(struct conn *c)
{
	struct poller	*p = &pollers[c->idx];
	char		 path[128];

	if (nchan) {
		snprintf(path, sizeof(path), "/sub/ch%d", c->idx);
		req_get(c, path, NULL);
		p->armed = 1;
	} else if (p->since < 0) {
		req_get(c, "/api/v1/events", p->token);
		p->armed = 0;
	} else {
		snprintf(path, sizeof(path), "/api/v1/events?since=%lld"
		    "&timeout=25", p->since);
		req_get(c, path, p->token);
		p->armed = 1;
	}
	p->armed_at = now_us();
	p->polls++;
	conn_send(c);
}

static void
poller_done(struct conn *c, int status, char *body, size_t len)
{
	struct poller	*p = &pollers[c->idx];
	long long	 next;

	p->armed = 0;
	if (status == 200) {
		if (on_body != NULL)
			on_body(c, body, len);
		markers(body, len, on_marker, c);
		if (!nchan) {
			if ((next = next_cursor(body)) < 0)
				goto bad;
			p->since = next;
		}
		if (repoll_delay > 0)
			c->retry_at = now_us() + repoll_delay;
		else
			poller_issue(c);
		return;
	}
	if (nchan && (status == 304 || status == 408)) {
		poller_issue(c);
		return;
	}
bad:
	p->errors++;
	poll_errors++;
	if (poll_errors <= 5)
		fprintf(stderr, "loadgen: poll %d: status %d: %.200s\n",
		    c->idx, status, body ? body : "");
	if (!nchan)
		p->since = -1;
	c->retry_at = now_us() + 100000;
}

static void
pollers_load(const char *path, int n)
{
	char	**lines;
	int	  i, nl;

	pollers = xcalloc((size_t)n, sizeof(*pollers));
	if (nchan)
		nl = n;
	else if ((nl = read_lines(path, &lines)) < n)
		die("%s: %d lines, need %d", path, nl, n);
	for (i = 0; i < n; i++) {
		pollers[i].since = -1;
		if (nchan)
			continue;
		field(lines[i], 0, pollers[i].token, sizeof(pollers[i].token));
		pollers[i].user = atoll(field(lines[i], 1, (char[24]){ 0 },
		    24));
		field(lines[i], 2, pollers[i].sender,
		    sizeof(pollers[i].sender));
	}
	npollers = n;
	pconns = conns_new(n, poller_done);
}

/* Starts every poller at `rate` per second (keeps the accept queues
 * short) and returns once all are armed and the last for `settle_us`. */
static void
pollers_start(double rate, int64_t settle_us, void (*tick)(void))
{
	int64_t	t0 = now_us(), last = 0, t;
	int	started = 0, armed, i;

	for (;;) {
		t = now_us();
		while (started < npollers && (double)(t - t0) * rate / 1e6 >=
		    started)
			poller_issue(&pconns[started++]);
		for (i = 0; i < npollers; i++)
			if (pconns[i].retry_at > 0 && pconns[i].retry_at <= t) {
				pconns[i].retry_at = 0;
				poller_issue(&pconns[i]);
			}
		for (armed = 0, i = 0; i < npollers; i++)
			armed += pollers[i].armed;
		if (armed < npollers)
			last = t;
		else if (t - last >= settle_us)
			return;
		if (t - t0 > 60000000)
			die("pollers not armed after 60 s (%d of %d)", armed,
			    npollers);
		if (tick != NULL)
			tick();
		loop_once(1);
	}
}

static void
pollers_retry(void)
{
	int64_t	t = now_us();
	int	i;

	for (i = 0; i < npollers; i++)
		if (pconns[i].retry_at > 0 && pconns[i].retry_at <= t) {
			pconns[i].retry_at = 0;
			poller_issue(&pconns[i]);
		}
}

/* ---------------------------------------------------------- mode send */

struct pair {
	char		token[64];
	long long	to;
};

static struct pair	*pairs;
static int		 npairs;
static int64_t		 s_start, s_end;
static long		 s_ok, s_err, s_seq;
static int64_t		*s_lat;
static size_t		 s_nlat, s_caplat;

static void
send_issue(struct conn *c)
{
	struct pair	*p = &pairs[c->idx % npairs];
	char		 text[32];

	snprintf(text, sizeof(text), "m%ld", ++s_seq);
	req_message(c, p->token, "to", p->to, text);
	conn_send(c);
}

static void
send_done(struct conn *c, int status, char *body, size_t len)
{
	int64_t	t = now_us();

	(void)len;
	if (t >= s_start && t < s_end) {
		if (status == 201) {
			s_ok++;
			if (s_nlat == s_caplat) {
				s_caplat = s_caplat ? s_caplat * 2 : 65536;
				if ((s_lat = realloc(s_lat, s_caplat *
				    sizeof(*s_lat))) == NULL)
					die("out of memory");
			}
			s_lat[s_nlat++] = t - c->t_issue;
		} else {
			if (++s_err <= 5)
				fprintf(stderr, "loadgen: send: status %d: "
				    "%.200s\n", status, body ? body : "");
		}
	}
	if (t < s_end) {
		if (status == -1)
			c->retry_at = t + 50000;
		else
			send_issue(c);
	}
}

static void
load_pairs(const char *path)
{
	char	**lines, buf[24];
	int	  i;

	npairs = read_lines(path, &lines);
	if (npairs == 0)
		die("%s: no pairs", path);
	pairs = xcalloc((size_t)npairs, sizeof(*pairs));
	for (i = 0; i < npairs; i++) {
		field(lines[i], 0, pairs[i].token, sizeof(pairs[i].token));
		pairs[i].to = atoll(field(lines[i], 1, buf, sizeof(buf)));
	}
}

static int
mode_send(void)
{
	int		 n = (int)optn("conns", 32), i, busy;
	double		 secs = optn("secs", 10), warm = optn("warm", 2);
	struct conn	*c = conns_new(n, send_done);
	int64_t		 t;

	load_pairs(opt("file", "pairs.txt"));
	s_start = now_us() + (int64_t)(warm * 1e6);
	s_end = s_start + (int64_t)(secs * 1e6);
	for (i = 0; i < n; i++)
		send_issue(&c[i]);
	for (;;) {
		t = now_us();
		for (busy = 0, i = 0; i < n; i++) {
			if (c[i].retry_at > 0 && c[i].retry_at <= t) {
				c[i].retry_at = 0;
				if (t < s_end)
					send_issue(&c[i]);
			}
			busy += c[i].st != ST_IDLE || c[i].retry_at > 0;
		}
		if (t >= s_end && (busy == 0 || t > s_end + 10000000))
			break;
		loop_once(10);
	}
	printf("conns=%d\nsecs=%.3f\nsends_ok=%ld\nsend_errors=%ld\n", n, secs,
	    s_ok, s_err);
	printf("sends_per_s=%.1f\n", (double)s_ok / secs);
	print_dist("send_req", s_lat, s_nlat);
	return 0;
}

/* ------------------------------------------------------- mode latency */

struct msg {
	int64_t	t_issue, t_ack, t_deliv;
	int	to;
};

static struct msg	*msgs;
static long		 nmsgs, msgs_dups, msgs_stray;

/* Message k read by recipient `to`. */
static void
lat_mark(int kind, long k, int to)
{
	if (kind != 'm' || k < 0 || k >= nmsgs) {
		msgs_stray++;
		return;
	}
	if (msgs[k].to != to)
		msgs_stray++;
	else if (msgs[k].t_deliv != 0)
		msgs_dups++;
	else
		msgs[k].t_deliv = now_us();
}

static void
lat_marker(int kind, long k, void *arg)
{
	lat_mark(kind, k, ((struct conn *)arg)->idx);
}

static long		 send_errors;
static const char	*nchan_pub = "ch";	/* Nchan channel prefix */

static void
lat_send_done(struct conn *c, int status, char *body, size_t len)
{
	(void)len;
	if (status == 201 || status == 202 || status == 200)
		msgs[c->a].t_ack = now_us();
	else if (++send_errors <= 5)
		fprintf(stderr, "loadgen: send %ld: status %d: %.200s\n",
		    (long)c->a, status, body ? body : "");
}

static void
lat_send(struct conn *c, long k)
{
	struct poller	*p = &pollers[msgs[k].to];
	char		 text[32], path[64];

	snprintf(text, sizeof(text), "m%ld", k);
	c->a = k;
	if (nchan) {
		snprintf(path, sizeof(path), "/pub/%s%d", nchan_pub,
		    msgs[k].to);
		req_post(c, path, NULL, "text/plain", text);
	} else
		req_message(c, p->sender, "to", p->user, text);
	conn_send(c);
	msgs[k].t_issue = c->t_issue;
}

/* The same over WebSockets (--kind ws: Parley's gateway; nchanws:
 * Nchan's websocket subscriber): the same recipients, senders, messages
 * and clock, each recipient holding one socket instead of a poll. */
static struct ws	*lws;
static long		 lws_closes;
static int		 lws_ack = 1;	/* --ack 0: never acknowledge */

static void
lat_ws_marker(int kind, long k, void *arg)
{
	lat_mark(kind, k, ((struct ws *)arg)->idx);
}

static void
lat_ws_issue(struct ws *w)
{
	char	path[64];

	if (nchan)
		snprintf(path, sizeof(path), "/ws/wch%d", w->idx);
	else
		snprintf(path, sizeof(path), "/api/v1/stream");
	ws_connect(w, 0, path, nchan ? NULL : pollers[w->idx].token);
}

static void
lat_ws_open(struct ws *w)
{
	if (nchan)
		w->live = 1;	/* subscribed by the upgrade itself */
	else
		ws_send_text(w, "{\"since\":null}", 14);
}

static void
lat_ws_text(struct ws *w, char *text, size_t len)
{
	char		ack[48];
	long long	next;
	int		n;

	markers(text, len, lat_ws_marker, w);
	if (nchan)
		return;
	if ((next = next_cursor(text)) < 0) {
		if (++poll_errors <= 5)
			fprintf(stderr, "loadgen: ws %d: %.200s\n", w->idx,
			    text);
		return;
	}
	w->live = 1;
	/* Acknowledged at once, as a client that has shown the events
	 * does; a long poller's next since= does the same. */
	if (next > w->next && lws_ack) {
		n = snprintf(ack, sizeof(ack), "{\"ack\":%lld}", next);
		ws_send_text(w, ack, (size_t)n);
	}
	w->next = next;
}

static void
lat_ws_close(struct ws *w, int code)
{
	w->live = 0;
	if (++lws_closes <= 5)
		fprintf(stderr, "loadgen: ws %d: closed (%d)\n", w->idx, code);
	w->retry_at = now_us() + 100000;
}

static void
lat_ws_retry(void)
{
	int64_t	t = now_us();
	int	i;

	for (i = 0; i < npollers; i++)
		if (lws[i].retry_at > 0 && lws[i].retry_at <= t) {
			lws[i].retry_at = 0;
			lat_ws_issue(&lws[i]);
		}
}

/* As pollers_start(): every socket subscribed, the last `settle_us` ago. */
static void
lat_ws_start(double rate, int64_t settle_us)
{
	int64_t	t0 = now_us(), last = 0, t;
	int	started = 0, live, i;

	lws = xcalloc((size_t)npollers, sizeof(*lws));
	for (i = 0; i < npollers; i++) {
		lws[i].fd = -1;
		lws[i].idx = i;
	}
	ws_on_open = lat_ws_open;
	ws_on_text = lat_ws_text;
	ws_on_close = lat_ws_close;
	for (;;) {
		t = now_us();
		while (started < npollers && (double)(t - t0) * rate / 1e6 >=
		    started)
			lat_ws_issue(&lws[started++]);
		lat_ws_retry();
		for (live = 0, i = 0; i < npollers; i++)
			live += lws[i].live;
		if (live < npollers)
			last = t;
		else if (t - last >= settle_us)
			return;
		if (t - t0 > 60000000)
			die("sockets not subscribed after 60 s (%d of %d)", live,
			    npollers);
		loop_once(1);
	}
}

static int
mode_latency(void)
{
	int		 n = (int)optn("n", 1000), ns = (int)optn("sendconns", 32);
	double		 rate = optn("rate", 500), secs = optn("secs", 10);
	double		 warm = optn("warm", 2);
	struct conn	*sc;
	long		 k = 0, nwarm, i, delivered = 0, lost = 0;
	int64_t		 t0, t, lag, maxlag = 0, *lat, *lat_ack, *req;
	size_t		 nl = 0, na = 0;
	int		 j;

	const char	*kind = opt("kind", "parley");
	int		 sock = strcmp(kind, "ws") == 0 ||
			    strcmp(kind, "nchanws") == 0;

	nchan = strcmp(kind, "nchan") == 0 || strcmp(kind, "nchanws") == 0;
	if (sock && nchan)
		nchan_pub = "wch";	/* not the long pollers' channels */
	pollers_load(opt("file", "pollers.txt"), n);
	on_marker = lat_marker;
	nwarm = (long)(warm * rate);
	nmsgs = (long)((warm + secs) * rate);
	msgs = xcalloc((size_t)nmsgs, sizeof(*msgs));
	for (i = 0; i < nmsgs; i++)
		msgs[i].to = (int)(i % n);
	sc = conns_new(ns, lat_send_done);
	lws_ack = optn("ack", 1) > 0;
	if (sock)
		lat_ws_start(optn("openrate", 2000), 1000000);
	else
		pollers_start(optn("openrate", 2000), 1000000, NULL);
	t0 = now_us();
	for (;;) {
		t = now_us();
		while (k < nmsgs && t0 + (int64_t)((double)k * 1e6 / rate) <=
		    t) {
			for (j = 0; j < ns && sc[j].st != ST_IDLE; j++)
				;
			if (j == ns)
				break;	/* every sender busy: late */
			lag = t - (t0 + (int64_t)((double)k * 1e6 / rate));
			if (k >= nwarm && lag > maxlag)
				maxlag = lag;
			lat_send(&sc[j], k++);
		}
		if (sock)
			lat_ws_retry();
		else
			pollers_retry();
		if (k == nmsgs) {
			for (i = nwarm; i < nmsgs; i++)
				if (msgs[i].t_deliv == 0)
					break;
			if (i == nmsgs || t - (t0 + (int64_t)((warm + secs) *
			    1e6)) > 5000000)
				break;
		}
		loop_once(1);
	}
	lat = xcalloc((size_t)nmsgs, sizeof(*lat));
	lat_ack = xcalloc((size_t)nmsgs, sizeof(*lat));
	req = xcalloc((size_t)nmsgs, sizeof(*lat));
	for (i = nwarm; i < nmsgs; i++) {
		if (msgs[i].t_deliv == 0) {
			lost++;
			continue;
		}
		delivered++;
		lat[nl] = msgs[i].t_deliv - msgs[i].t_issue;
		if (msgs[i].t_ack != 0) {
			lat_ack[na] = msgs[i].t_deliv - msgs[i].t_ack;
			req[na++] = msgs[i].t_ack - msgs[i].t_issue;
		}
		nl++;
	}
	printf("kind=%s\npollers=%d\nrate=%.0f\nsecs=%.1f\n", kind, n, rate,
	    secs);
	if (sock)
		printf("ws_closes=%ld\nws_pings=%ld\n", lws_closes, ws_pings);
	printf("messages=%ld\ndelivered=%ld\nlost=%ld\nduplicates=%ld\n"
	    "stray=%ld\nsend_errors=%ld\npoll_errors=%ld\n", nmsgs - nwarm,
	    delivered, lost, msgs_dups, msgs_stray, send_errors, poll_errors);
	printf("max_send_lag_ms=%.3f\n", (double)maxlag / 1000);
	print_dist("lat", lat, nl);
	print_dist("ack_to_deliv", lat_ack, na);
	print_dist("send_req", req, na);
	return 0;
}

/* ---------------------------------------------------------- mode hold */

static long	h_early, h_errors, h_ok;

static void
hold_done(struct conn *c, int status, char *body, size_t len)
{
	(void)len;
	/* A held poll must not end while held: count it, poll again. */
	if (status == 200)
		h_early++;
	else if (++h_errors <= 5)
		fprintf(stderr, "loadgen: hold %d: status %d: %.200s\n",
		    c->idx, status, body ? body : "");
	c->retry_at = now_us() + 200000;
}

static void
hold_issue(struct conn *c, char **tokens)
{
	char	path[64];

	if (nchan) {
		snprintf(path, sizeof(path), "/sub/h%d", c->idx);
		req_get(c, path, NULL);
	} else
		req_get(c, "/api/v1/events?since=0&timeout=55", tokens[c->idx]);
	conn_send(c);
}

/* Stages ("1000,10000"): open polls up to each count, wait until the
 * processes in --fdpids hold that many more descriptors, create
 * "<ready>.<i>", wait for "<done>.<i>" (or --maxhold seconds). A stage not
 * held within --stagewait s (60) is fatal, unless --ladder 1: then the
 * number held is printed as max_held and the run ends there. */
static int
mode_hold(void)
{
	int		 n = (int)optn("n", 10000), i, started = 0, stage = 0;
	int		 nst = 0, st_n[16];
	double		 rate = optn("openrate", 2000);
	const char	*pids = opt("fdpids", ""), *ready = opt("ready", "ready");
	const char	*done = opt("done", "done");
	double		 maxhold = optn("maxhold", 40);
	double		 stagewait = optn("stagewait", 60);
	int		 ladder = optn("ladder", 0) > 0;
	char		**tokens = NULL, tok[64], path[512], buf[256], *p, *sv;
	struct conn	*c = conns_new(n, hold_done);
	long		 base = count_fds(pids), held = 0;
	int64_t		 t, ts = 0, t_ready = 0, next_fd = 0;
	struct stat	 sb;
	FILE		*f;

	nchan = strcmp(opt("kind", "parley"), "nchan") == 0;
	snprintf(buf, sizeof(buf), "%s", opt("stages", ""));
	for (p = strtok_r(buf, ",", &sv); p != NULL && nst < 15;
	    p = strtok_r(NULL, ",", &sv))
		if (atoi(p) > 0 && atoi(p) < n)
			st_n[nst++] = atoi(p);
	st_n[nst++] = n;
	if (!nchan) {
		if (read_lines(opt("file", "hold.txt"), &tokens) < n)
			die("not enough tokens for %d polls", n);
		for (i = 0; i < n; i++)
			tokens[i] = strdup(field(tokens[i], 0, tok,
			    sizeof(tok)));
	}
	for (;;) {
		t = now_us();
		if (t_ready == 0) {
			if (ts == 0)
				ts = t;
			while (started < st_n[stage] && (double)(t - ts) *
			    rate / 1e6 >= started - (stage ? st_n[stage - 1] :
			    0))
				hold_issue(&c[started++], tokens);
		}
		for (i = 0; i < started; i++)
			if (c[i].retry_at > 0 && c[i].retry_at <= t) {
				c[i].retry_at = 0;
				hold_issue(&c[i], tokens);
			}
		if (t_ready == 0 && started == st_n[stage] && t >= next_fd) {
			held = count_fds(pids) - base;
			next_fd = t + 200000;
			if (held >= st_n[stage]) {
				t_ready = t;
				printf("stage%d_waiters=%d\nstage%d_held_fds=%ld\n"
				    "stage%d_ready_s=%.3f\n", stage,
				    st_n[stage], stage, held, stage,
				    (double)(t - ts) / 1e6);
				snprintf(path, sizeof(path), "%s.%d", ready,
				    stage);
				if ((f = fopen(path, "w")) != NULL)
					fclose(f);
			} else if (t - ts > (int64_t)(stagewait * 1e6)) {
				printf("stage%d_held_fds=%ld\n", stage, held);
				if (!ladder)
					die("only %ld of %d polls held after %.0f s",
					    held, st_n[stage], stagewait);
				/* --ladder: the most held is the answer. */
				printf("max_held=%ld\n", held);
				break;
			}
		}
		if (t_ready != 0) {
			snprintf(path, sizeof(path), "%s.%d", done, stage);
			if (stat(path, &sb) == 0 ||
			    t - t_ready > (int64_t)(maxhold * 1e6)) {
				if (++stage == nst)
					break;
				t_ready = 0;
				ts = 0;
			}
		}
		loop_once(t_ready ? 20 : 1);
	}
	held = count_fds(pids) - base;
	for (i = 0; i < n; i++)
		h_ok += c[i].st == ST_READING;
	printf("kind=%s\nwaiters=%d\nstill_waiting=%ld\nheld_fds_end=%ld\n"
	    "early_answers=%ld\nerrors=%ld\n", nchan ? "nchan" : "parley", n,
	    h_ok, held, h_early, h_errors);
	for (i = 0; i < n; i++)
		conn_close(&c[i]);
	return 0;
}

/* -------------------------------------------------------- mode fanout */

#define FO_MAXROUNDS	100

static int	 fo_round = -1, fo_got[FO_MAXROUNDS], fo_single_got;
static int64_t	 fo_t_group, fo_t_last, fo_t_single, fo_single_lat;
static int64_t	*fo_member_lat;
static size_t	 fo_nmember;
static char	*fo_seen;	/* per poller: has this round's message */

static void
fo_marker(int kind, long k, void *arg)
{
	struct conn	*c = arg;
	int64_t		 t = now_us();

	if (k != fo_round)
		return;
	if (kind == 'g' && !fo_seen[c->idx]) {
		fo_seen[c->idx] = 1;
		fo_got[k]++;
		fo_t_last = t;
		fo_member_lat[fo_nmember++] = t - fo_t_group;
	} else if (kind == 's' && c->idx == 1 && !fo_single_got) {
		fo_single_got = 1;
		fo_single_lat = t - fo_t_single;
	}
}

static void
fo_send_done(struct conn *c, int status, char *body, size_t len)
{
	(void)c;
	(void)len;
	if (status != 201 && ++send_errors <= 5)
		fprintf(stderr, "loadgen: fanout send: status %d: %.200s\n",
		    status, body ? body : "");
}

static void
fo_wait(int64_t until, int (*cond)(void))
{
	while (now_us() < until && (cond == NULL || !cond())) {
		pollers_retry();
		loop_once(1);
	}
}

static int	fo_all_armed(void);
static int	fo_group_done(void);
static int	fo_single_done(void);

static int
fo_all_armed(void)
{
	int	i;

	for (i = 0; i < npollers; i++)
		if (!pollers[i].armed)
			return 0;
	return 1;
}

static int
fo_group_done(void)
{
	return fo_got[fo_round] == npollers;
}

static int
fo_single_done(void)
{
	return fo_single_got;
}

static int
mode_fanout(void)
{
	int		 rounds = (int)optn("rounds", 10), r, n;
	long long	 group = (long long)optn("group", 0);
	double		 gap = optn("gap", 0.5);
	struct conn	*sc = conns_new(1, fo_send_done);
	int64_t		 fan[FO_MAXROUNDS], single[FO_MAXROUNDS];
	int		 nfan = 0, nsingle = 0, incomplete = 0;
	char		 text[32];

	if (rounds + 1 > FO_MAXROUNDS)
		rounds = FO_MAXROUNDS - 1;
	n = (int)optn("n", 500);
	/* Diagnostic: members poll again only after this many ms. */
	repoll_delay = (int64_t)(optn("repoll_ms", 0) * 1000);
	pollers_load(opt("file", "members.txt"), n);
	fo_seen = xcalloc((size_t)n, 1);
	fo_member_lat = xcalloc((size_t)(n * (rounds + 1)), sizeof(int64_t));
	on_marker = fo_marker;
	pollers_start(optn("openrate", 2000), 1000000, NULL);
	/* Round 0 warms the path up and is not counted. */
	for (r = 0; r <= rounds; r++) {
		fo_wait(now_us() + 5000000, fo_all_armed);
		fo_wait(now_us() + 200000, NULL);
		memset(fo_seen, 0, (size_t)n);
		fo_round = r;
		fo_single_got = 0;
		fo_t_last = 0;
		if (r == 1)
			fo_nmember = 0;
		snprintf(text, sizeof(text), "g%d", r);
		req_message(&sc[0], pollers[0].token, "group_id", group, text);
		conn_send(&sc[0]);
		fo_t_group = sc[0].t_issue;
		fo_wait(fo_t_group + 10000000, fo_group_done);
		if (fo_got[r] < n) {
			incomplete++;
			fprintf(stderr, "loadgen: round %d: %d of %d members "
			    "got it\n", r, fo_got[r], n);
		} else if (r > 0)
			fan[nfan++] = fo_t_last - fo_t_group;
		/* Let the delivery receipts settle, then the reference. */
		fo_wait(now_us() + (int64_t)(gap * 1e6), NULL);
		fo_wait(now_us() + 5000000, fo_all_armed);
		fo_wait(now_us() + 200000, NULL);
		snprintf(text, sizeof(text), "s%d", r);
		req_message(&sc[0], pollers[0].token, "to", pollers[1].user,
		    text);
		conn_send(&sc[0]);
		fo_t_single = sc[0].t_issue;
		fo_wait(fo_t_single + 5000000, fo_single_done);
		if (fo_single_got && r > 0)
			single[nsingle++] = fo_single_lat;
		fo_wait(now_us() + (int64_t)(gap * 1e6), NULL);
	}
	printf("members=%d\nrounds=%d\nincomplete_rounds=%d\nsend_errors=%ld\n"
	    "poll_errors=%ld\n", n, rounds, incomplete, send_errors,
	    poll_errors);
	print_dist("fanout_all", fan, (size_t)nfan);
	print_dist("fanout_member", fo_member_lat, fo_nmember);
	print_dist("single", single, (size_t)nsingle);
	return 0;
}

/* --------------------------------------------------------- mode calls */

/* Call setup under waiting pollers. --file: the first 2 * --pairs lines
 * are the call parties (pair i: caller 2i, callee 2i+1; "token user_id
 * partner_token"), then --n pollers that only wait. Each pair, in turn:
 *
 *   call: the caller POSTs /api/v1/calls; the callee's long poll brings
 *         call.invite and the callee at once POSTs .../accept with the id
 *         from the event; the caller's long poll brings call.accepted.
 *         Then the caller hangs up and both polls bring call.ended.
 *   ping: the reference, the same shape with messages: the caller sends
 *         "p<k>" to the callee; the callee's poll brings it and the
 *         callee at once sends "q<k>" back; the caller's poll brings it.
 *
 * Before each step both parties' polls have been parked for --settle_ms
 * and both request connections are idle. The first --warm calls of each
 * pair are not counted; --calls counted calls in all (split over the
 * pairs), at most --maxsecs seconds. A step not done in 5 s is a timeout:
 * the call is cancelled or hung up and the pair goes on. */

enum { CP_SETTLE, CP_CALL, CP_HANGUP, CP_PING, CP_RECOVER, CP_DONE };
enum { OP_INVITE = 1, OP_ACCEPT, OP_HANGUP, OP_CANCEL, OP_PING, OP_PONG };

struct cpair {
	int		 st, next;	/* state; after settling: CP_CALL or CP_PING */
	int		 calls, pings;	/* started, warm-up included */
	int64_t		 t_st;		/* state entered */
	int64_t		 not_before;	/* settle: not before this time */
	long long	 call;		/* this call's id, 0 unknown */
	int		 inv_status, acc_status, hang_status, ended[2];
	int		 hang_sent;
	int64_t		 t_inv, t_seen, t_acc, t_done;
	long		 k;		/* this ping's number */
	int64_t		 t_ping, t_ping_seen, t_pong_seen;
};

static struct cpair	*cps;
static struct conn	*creq;		/* 2 per pair: caller, callee */
static int		 ncp, cp_per, cp_warm;
static int64_t		 cp_settle, cp_deadline;
static long		 cp_k;
/* Results. */
static int64_t		*cr_setup, *cr_inv, *cr_acc, *cr_invreq, *cr_accreq;
static int64_t		*cr_rtt, *cr_ping, *cr_pong;
static size_t		 cr_n, cr_nreq, cr_nacc, cr_nrtt;
static long		 c_busy, c_offline, c_inv_err, c_acc_err, c_hang_err;
static long		 c_msg_err, c_timeouts, c_stray, c_seen_first;
static long		 c_ok, c_pings_ok;

#define CP_STEP_US	5000000

/* The number after "key" (then spaces, ':', spaces) at or after p, or 0. */
static long long
num_after(const char *p, const char *key)
{
	if ((p = strstr(p, key)) == NULL)
		return 0;
	p += strlen(key);
	p += strspn(p, " ");
	if (*p++ != ':')
		return 0;
	return strtoll(p, NULL, 10);
}

static void
cp_state(struct cpair *p, int st)
{
	p->st = st;
	p->t_st = now_us();
}

static void
cp_settle_then(struct cpair *p, int next, int64_t gap_us)
{
	cp_state(p, CP_SETTLE);
	p->next = next;
	p->not_before = p->t_st + gap_us;
}

static void
cp_post(int pi, int role, int op, const char *path, const char *body)
{
	struct conn	*c = &creq[2 * pi + role];

	c->a = op;
	req_post(c, path, pollers[2 * pi + role].token, "application/json",
	    body);
	conn_send(c);
}

static void
cp_message(int pi, int role, int op, int kind, long k)
{
	struct conn	*c = &creq[2 * pi + role];
	char		 text[32];

	c->a = op;
	snprintf(text, sizeof(text), "%c%ld", kind, k);
	req_message(c, pollers[2 * pi + role].token, "to",
	    pollers[2 * pi + 1 - role].user, text);
	conn_send(c);
}

/* Ends whatever call the pair may still have, then settles. */
static void
cp_recover(int pi)
{
	struct cpair	*p = &cps[pi];
	char		 path[96];
	int		 role;

	for (role = 0; role < 2; role++)
		if (creq[2 * pi + role].st != ST_IDLE)
			conn_close(&creq[2 * pi + role]);
	cp_state(p, CP_RECOVER);
	if (p->call == 0) {
		cp_settle_then(p, CP_CALL, 1000000);
		return;
	}
	snprintf(path, sizeof(path), "/api/v1/calls/%lld/cancel", p->call);
	cp_post(pi, 0, OP_CANCEL, path, "");
}

static void
cp_fail(int pi, const char *what)
{
	struct cpair	*p = &cps[pi];

	if (++c_timeouts <= 5)
		fprintf(stderr, "loadgen: calls pair %d: %s timed out (call "
		    "%lld, invite %d, seen %d, accept %d, accepted %d, hangup "
		    "%d, ended %d/%d)\n", pi, what, p->call, p->inv_status,
		    p->t_seen != 0, p->acc_status, p->t_done != 0,
		    p->hang_status, p->ended[0], p->ended[1]);
	cp_recover(pi);
}

static void
cp_req_error(const char *what, int status, const char *body)
{
	static int	shown;

	if (++shown <= 8)
		fprintf(stderr, "loadgen: calls: %s: status %d: %.200s\n",
		    what, status, body ? body : "");
}

static void
cp_req_done(struct conn *c, int status, char *body, size_t len)
{
	int		 pi = c->idx / 2;
	struct cpair	*p = &cps[pi];
	int64_t		 t = now_us();
	long long	 id;
	char		 path[96];

	(void)len;
	switch (c->a) {
	case OP_INVITE:
		/* The 201 may come after call.accepted (then: CP_HANGUP). */
		p->inv_status = status;
		if (p->st != CP_CALL && p->st != CP_HANGUP)
			return;
		if (status != 201) {
			if (status == 409 && body != NULL &&
			    strstr(body, "callee_offline") != NULL)
				c_offline++;
			else if (status == 409 && body != NULL &&
			    strstr(body, "busy") != NULL)
				c_busy++;
			else
				c_inv_err++;
			cp_req_error("invite", status, body);
			cp_recover(pi);
			return;
		}
		id = num_after(body, "\"id\"");
		if (p->call == 0)
			p->call = id;
		else if (p->call != id)
			c_stray++;
		if (p->t_seen != 0)
			c_seen_first++;
		if (p->calls > cp_warm)
			cr_invreq[cr_nreq++] = t - c->t_issue;
		return;
	case OP_ACCEPT:
		p->acc_status = status;
		if (p->st != CP_CALL && p->st != CP_HANGUP)
			return;
		if (status != 200) {
			c_acc_err++;
			cp_req_error("accept", status, body);
			cp_recover(pi);
			return;
		}
		if (p->calls > cp_warm)
			cr_accreq[cr_nacc++] = t - c->t_issue;
		return;
	case OP_HANGUP:
		p->hang_status = status;
		if (p->st != CP_HANGUP)
			return;
		if (status != 200) {
			c_hang_err++;
			cp_req_error("hangup", status, body);
			cp_recover(pi);
		}
		return;
	case OP_CANCEL:
		/* Recovery: a ringing call is cancelled, an active one hung
		 * up; either may already have ended. */
		if (p->st != CP_RECOVER)
			return;
		snprintf(path, sizeof(path), "/api/v1/calls/%lld/hangup",
		    p->call);
		cp_post(pi, 0, OP_HANGUP, path, "");
		cp_settle_then(p, CP_CALL, 500000);
		p->call = 0;
		return;
	case OP_PING:
	case OP_PONG:
		if (status != 201) {
			c_msg_err++;
			cp_req_error("message", status, body);
			if (p->st == CP_PING)
				cp_recover(pi);
		}
		return;
	}
}

static void
cp_tick(int pi, int64_t t)
{
	struct cpair	*p = &cps[pi];
	struct conn	*ra = &creq[2 * pi], *rb = &creq[2 * pi + 1];
	struct poller	*a = &pollers[2 * pi], *b = &pollers[2 * pi + 1];
	char		 body[96], path[96];

	switch (p->st) {
	case CP_SETTLE:
		if (t < p->not_before || ra->st != ST_IDLE || rb->st !=
		    ST_IDLE || !a->armed || !b->armed || t - a->armed_at <
		    cp_settle || t - b->armed_at < cp_settle)
			return;
		if (t >= cp_deadline || (p->next == CP_CALL && p->calls >=
		    cp_per)) {
			cp_state(p, CP_DONE);
			return;
		}
		if (p->next == CP_PING) {
			cp_state(p, CP_PING);
			p->k = ++cp_k;
			p->pings++;
			p->t_ping_seen = p->t_pong_seen = 0;
			cp_message(pi, 0, OP_PING, 'p', p->k);
			p->t_ping = ra->t_issue;
			return;
		}
		cp_state(p, CP_CALL);
		p->calls++;
		p->call = 0;
		p->inv_status = p->acc_status = p->hang_status = 0;
		p->ended[0] = p->ended[1] = 0;
		p->hang_sent = 0;
		p->t_seen = p->t_acc = p->t_done = 0;
		snprintf(body, sizeof(body), "{\"to\":%lld,\"media\":\"audio\"}",
		    b->user);
		cp_post(pi, 0, OP_INVITE, "/api/v1/calls", body);
		p->t_inv = ra->t_issue;
		return;
	case CP_CALL:
	case CP_PING:
		if (t - p->t_st > CP_STEP_US)
			cp_fail(pi, p->st == CP_CALL ? "call setup" : "ping");
		return;
	case CP_HANGUP:
		if (!p->hang_sent && ra->st == ST_IDLE) {
			p->hang_sent = 1;
			snprintf(path, sizeof(path), "/api/v1/calls/%lld/hangup",
			    p->call);
			cp_post(pi, 0, OP_HANGUP, path, "");
		}
		if (p->hang_status == 200 && p->ended[0] && p->ended[1] &&
		    rb->st == ST_IDLE) {
			cp_settle_then(p, CP_PING, 0);
			return;
		}
		if (t - p->t_st > CP_STEP_US)
			cp_fail(pi, "hangup");
		return;
	case CP_RECOVER:
		if (t - p->t_st > CP_STEP_US) {
			conn_close(ra);
			cp_settle_then(p, CP_CALL, 1000000);
		}
		return;
	}
}

/* A call event seen by poller `who`. */
static void
cp_event(int who, const char *name, long long id)
{
	int		 pi = who / 2, role = who % 2;
	struct cpair	*p;
	int64_t		 t = now_us();
	char		 path[96];

	if (who >= 2 * ncp) {
		c_stray++;
		return;
	}
	p = &cps[pi];
	if (strcmp(name, "invite") == 0 && role == 1 && p->st == CP_CALL &&
	    p->t_seen == 0 && (p->call == 0 || p->call == id)) {
		p->t_seen = t;
		p->call = id;
		snprintf(path, sizeof(path), "/api/v1/calls/%lld/accept", id);
		cp_post(pi, 1, OP_ACCEPT, path, "");
		p->t_acc = creq[2 * pi + 1].t_issue;
	} else if (strcmp(name, "accepted") == 0 && role == 0 &&
	    p->st == CP_CALL && p->t_acc != 0 && p->t_done == 0 &&
	    id == p->call) {
		p->t_done = t;
		c_ok++;
		if (p->calls > cp_warm) {
			cr_setup[cr_n] = t - p->t_inv;
			cr_inv[cr_n] = p->t_seen - p->t_inv;
			cr_acc[cr_n++] = t - p->t_acc;
		}
		cp_state(p, CP_HANGUP);
		cp_tick(pi, t);
	} else if (strcmp(name, "ended") == 0 && id == p->call &&
	    p->st == CP_HANGUP)
		p->ended[role] = 1;
	else if (strcmp(name, "answered_elsewhere") != 0 &&
	    strcmp(name, "ended") != 0)
		c_stray++;
}

/* Every "type": "call.<name>" in a poll answer, with the id that follows
 * it (the call's: "id" sorts first in a jsonb object). */
static void
cp_body(struct conn *c, const char *body, size_t len)
{
	const char	*p = body, *q;
	char		 name[32];
	size_t		 n;

	(void)len;
	while ((p = strstr(p, "\"type\"")) != NULL) {
		q = p += 6;
		q += strspn(q, " ");
		if (*q++ != ':')
			continue;
		q += strspn(q, " ");
		if (strncmp(q, "\"call.", 6) != 0)
			continue;
		q += 6;
		if ((n = strcspn(q, "\"")) >= sizeof(name))
			continue;
		memcpy(name, q, n);
		name[n] = '\0';
		cp_event(c->idx, name, num_after(q, "\"id\""));
	}
}

static void
cp_marker(int kind, long k, void *arg)
{
	struct conn	*c = arg;
	int		 pi = c->idx / 2, role = c->idx % 2;
	struct cpair	*p;
	int64_t		 t = now_us();

	if (c->idx >= 2 * ncp || (kind != 'p' && kind != 'q')) {
		c_stray++;
		return;
	}
	if ((kind == 'p') == (role == 0))
		return;		/* the sender's own copy of its message */
	p = &cps[pi];
	if (p->st != CP_PING || k != p->k) {
		c_stray++;
		return;
	}
	if (kind == 'p' && p->t_ping_seen == 0) {
		p->t_ping_seen = t;
		cp_message(pi, 1, OP_PONG, 'q', k);
	} else if (kind == 'q' && p->t_ping_seen != 0 && p->t_pong_seen == 0) {
		p->t_pong_seen = t;
		c_pings_ok++;
		if (p->pings > cp_warm) {
			cr_rtt[cr_nrtt] = t - p->t_ping;
			cr_ping[cr_nrtt] = p->t_ping_seen - p->t_ping;
			cr_pong[cr_nrtt++] = t - p->t_ping_seen;
		}
		cp_settle_then(p, CP_CALL, 0);
	} else
		c_stray++;
}

static int
mode_calls(void)
{
	int		 n = (int)optn("n", 1000), total = (int)optn("calls", 400);
	double		 maxsecs = optn("maxsecs", 60);
	int64_t		 t0, t;
	size_t		 cap;
	int		 i, active;

	ncp = (int)optn("pairs", 4);
	cp_warm = (int)optn("warm", 3);
	cp_settle = (int64_t)(optn("settle_ms", 50) * 1000);
	if (ncp < 1 || total < 1)
		die("calls: --pairs and --calls must be positive");
	cp_per = (total + ncp - 1) / ncp + cp_warm;
	pollers_load(opt("file", "callpollers.txt"), 2 * ncp + n);
	cps = xcalloc((size_t)ncp, sizeof(*cps));
	creq = conns_new(2 * ncp, cp_req_done);
	cap = (size_t)ncp * (size_t)cp_per + 1;
	cr_setup = xcalloc(cap, sizeof(int64_t));
	cr_inv = xcalloc(cap, sizeof(int64_t));
	cr_acc = xcalloc(cap, sizeof(int64_t));
	cr_invreq = xcalloc(cap, sizeof(int64_t));
	cr_accreq = xcalloc(cap, sizeof(int64_t));
	cr_rtt = xcalloc(cap, sizeof(int64_t));
	cr_ping = xcalloc(cap, sizeof(int64_t));
	cr_pong = xcalloc(cap, sizeof(int64_t));
	on_body = cp_body;
	on_marker = cp_marker;
	pollers_start(optn("openrate", 2000), 1000000, NULL);
	t0 = now_us();
	cp_deadline = t0 + (int64_t)(maxsecs * 1e6);
	/* The pairs start apart, so they overlap only by chance. */
	for (i = 0; i < ncp; i++)
		cp_settle_then(&cps[i], CP_CALL, (int64_t)i * 20000);
	for (;;) {
		t = now_us();
		pollers_retry();
		for (active = 0, i = 0; i < ncp; i++) {
			cp_tick(i, t);
			active += cps[i].st != CP_DONE;
		}
		if (active == 0)
			break;
		if (t > cp_deadline + 2 * CP_STEP_US) {
			fprintf(stderr, "loadgen: calls: %d pairs still busy "
			    "past the deadline\n", active);
			break;
		}
		loop_once(1);
	}
	printf("pairs=%d\npollers=%d\nsecs=%.1f\nsetups_ok=%ld\n"
	    "pings_ok=%ld\nwarm_per_pair=%d\n", ncp, n, (double)(now_us() - t0)
	    / 1e6, c_ok, c_pings_ok, cp_warm);
	printf("busy=%ld\ncallee_offline=%ld\ninvite_errors=%ld\n"
	    "accept_errors=%ld\nhangup_errors=%ld\nmessage_errors=%ld\n"
	    "timeouts=%ld\nstray=%ld\ninvite_seen_before_201=%ld\n"
	    "poll_errors=%ld\n", c_busy, c_offline, c_inv_err, c_acc_err,
	    c_hang_err, c_msg_err, c_timeouts, c_stray, c_seen_first,
	    poll_errors);
	print_dist("setup", cr_setup, cr_n);
	print_dist("setup_invite", cr_inv, cr_n);
	print_dist("setup_accept", cr_acc, cr_n);
	print_dist("invite_req", cr_invreq, cr_nreq);
	print_dist("accept_req", cr_accreq, cr_nacc);
	print_dist("rtt", cr_rtt, cr_nrtt);
	print_dist("rtt_ping", cr_ping, cr_nrtt);
	print_dist("rtt_pong", cr_pong, cr_nrtt);
	return 0;
}

/* -------------------------------------------------------- mode tokens */

static int
mode_tokens(void)
{
	char		 name[256], tok[64], hex[65];
	unsigned char	 raw[32], h[32];

	while (fgets(name, sizeof(name), stdin) != NULL) {
		name[strcspn(name, "\r\n")] = '\0';
		if (name[0] == '\0')
			continue;
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2base64(tok, sizeof(tok), raw, sizeof(raw),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		crypto_generichash(h, sizeof(h), (unsigned char *)tok,
		    strlen(tok), NULL, 0);
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		printf("%s\t%s\t%s\n", name, tok, hex);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char	*mode;
	int		 i;

	if (argc < 2)
		die("usage: loadgen tokens|send|latency|hold|fanout|calls|"
		    "wshold [--key value]...");
	mode = argv[1];
	for (i = 2; i + 1 < argc && nopts < 64; i += 2) {
		if (strncmp(argv[i], "--", 2) != 0)
			die("bad option %s", argv[i]);
		optk[nopts] = argv[i] + 2;
		optv[nopts++] = argv[i + 1];
	}
	if (sodium_init() < 0)
		die("sodium_init failed");
	if (strcmp(mode, "tokens") == 0)
		return mode_tokens();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(run_id, sizeof(run_id), "b%08x", randombytes_random());
	t_base = now_us();
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)optn("port", 18200));
	inet_pton(AF_INET, opt("host", "127.0.0.1"), &addr.sin_addr);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	if (strcmp(mode, "send") == 0)
		return mode_send();
	if (strcmp(mode, "latency") == 0)
		return mode_latency();
	if (strcmp(mode, "hold") == 0)
		return mode_hold();
	if (strcmp(mode, "fanout") == 0)
		return mode_fanout();
	if (strcmp(mode, "calls") == 0)
		return mode_calls();
	if (strcmp(mode, "wshold") == 0)
		return mode_wshold();
	die("unknown mode %s", mode);
	return 1;
}
