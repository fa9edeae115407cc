/* lg_http.c: the load generator's HTTP/1.1 client (a test tool, not
 * product code): non-blocking keep-alive connections, one request at a
 * time each, written and parsed by hand (Content-Length and chunked
 * bodies), the epoll loop that also drives lg_ws.c's sockets, and the
 * requests and answer scanners the modes share. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lg_common.h"

static void conn_fail(struct conn *);

static void
conn_events(struct conn *c, int ev)
{
	struct epoll_event e;

	if (c->events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = (uint32_t)ev;
	e.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) == -1)
		die("epoll_ctl mod: %s", strerror(errno));
	c->events = ev;
}

void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* leaves the epoll set too */
	c->fd = -1;
	c->st = ST_IDLE;
	c->events = 0;
	c->inlen = 0;
}

static void
conn_write(struct conn *c)
{
	ssize_t n;

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

void
conn_send(struct conn *c)
{
	struct epoll_event e;
	int		   one = 1;

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
	char  *he, *p, *line, *end, *o;
	long   clen = -1;
	int    chunked = 0;
	size_t bo, sz;

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
		    strstr(line, "chunked") != NULL &&
		    strstr(line, "chunked") < end)
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
	if (*status == 204 || *status == 304 ||
	    (*status >= 100 && *status < 200))
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
	ssize_t n;
	int	eof = 0, status = 0, close_after = 0, rc;
	char   *body = NULL;
	size_t	blen = 0;

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
	c->inlen = 0; /* body stays valid until the next read */
	c->done(c, status, body, blen);
}

static void
conn_event(struct conn *c, uint32_t ev)
{
	int	  err = 0;
	socklen_t len = sizeof(err);

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
	struct epoll_event ev[1024];
	int		   i, n;

	n = epoll_wait(epfd, ev, 1024, timeout_ms);
	if (n == -1 && errno != EINTR)
		die("epoll_wait: %s", strerror(errno));
	/* lg_ws.c tags its sockets with the low bit. */
	for (i = 0; i < n; i++)
		if (ev[i].data.u64 & 1)
			ws_event((struct ws *)(uintptr_t)(ev[i].data.u64 &
				     ~(uint64_t)1),
			    ev[i].events);
		else
			conn_event(ev[i].data.ptr, ev[i].events);
}

struct conn *
conns_new(int n, done_fn done)
{
	struct conn *c = xcalloc((size_t)n, sizeof(*c));
	int	     i;

	for (i = 0; i < n; i++) {
		c[i].fd = -1;
		c[i].idx = i;
		c[i].done = done;
	}
	return c;
}

/* --------------------------------------------------- request builders */

void
req_get(struct conn *c, const char *path, const char *token)
{
	int n;

	n = snprintf(c->out, sizeof(c->out),
	    "GET %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n%s%s%s",
	    path, token ? "Authorization: Bearer " : "", token ? token : "",
	    token ? "\r\n" : "");
	if (c->lastmod[0] != '\0')
		n += snprintf(c->out + n, sizeof(c->out) - (size_t)n,
		    "If-Modified-Since: %s\r\nIf-None-Match: %s\r\n",
		    c->lastmod, c->etag);
	n += snprintf(c->out + n, sizeof(c->out) - (size_t)n, "\r\n");
	c->outlen = (size_t)n;
}

void
req_post(struct conn *c, const char *path, const char *token, const char *ctype,
    const char *body)
{
	c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
	    "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
	    path, token ? "Authorization: Bearer " : "", token ? token : "",
	    token ? "\r\n" : "", ctype, strlen(body), body);
}

void
req_message(struct conn *c, const char *token, const char *to_field,
    long long to, const char *text)
{
	char body[512];

	snprintf(body, sizeof(body),
	    "{\"%s\":%lld,\"type\":\"text\","
	    "\"body\":{\"text\":\"%s\"},\"client_id\":\"%s-%s\"}",
	    to_field, to, text, run_id, text);
	req_post(c, "/api/v1/messages", token, "application/json", body);
}

/* Calls fn(kind, number) for each "text": "<kind><digits>" in a poll
 * answer (jsonb prints ": " with a space, json without), or for a bare
 * Nchan body "<kind><digits>". Kinds: m (latency), g and s (fanout), p and
 * q (calls: the message round trip). Returns the count. */
int
markers(const char *body, size_t len, void (*fn)(int, long, void *), void *arg)
{
	const char *p = body, *q;
	int	    n = 0;

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
		if (*q++ != '"' || strchr("mgspq", *q) == NULL ||
		    q[0] == '\0' || q[1] < '0' || q[1] > '9')
			goto next;
		fn(*q, strtol(q + 1, NULL, 10), arg);
		n++;
next:
		p += 6;
	}
	return n;
}

long long
next_cursor(const char *body)
{
	const char *p = body, *last = NULL;

	while ((p = strstr(p, "\"next\":")) != NULL)
		last = p++;
	return last ? strtoll(last + 7, NULL, 10) : -1;
}
