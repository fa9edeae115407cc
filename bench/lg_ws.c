/* lg_ws.c: the load generator's WebSocket client (RFC 6455; a test tool,
 * not product code). A client sends the upgrade request, with the token
 * as the subprotocol "parley, token.<token>" as docs/EVENTS.md describes,
 * checks the 101, its Sec-WebSocket-Accept and the protocol chosen, then
 * writes masked text frames and reads the server's unmasked ones; pings
 * are answered at once, as a browser does. Same thread, epoll set and
 * clock as lg_http.c: a socket's epoll data is its address with the low
 * bit set, so loop_once() can tell the two kinds of connection apart. */
#define _GNU_SOURCE
#include <arpa/inet.h>
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

#include <openssl/sha.h>
#include <sodium.h>

#include "lg_common.h"

#define WS_GUID	 "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define OP_TEXT	 0x1
#define OP_CLOSE 0x8
#define OP_PING	 0x9
#define OP_PONG	 0xa
#define HEAD_MAX 16384 /* a 101 answer is far smaller */

void (*ws_on_open)(struct ws *);
void (*ws_on_text)(struct ws *, char *, size_t);
void (*ws_on_close)(struct ws *, int);
long ws_pings, ws_pongs;

static long refusals;

static void lost(struct ws *, int);
static int  flush_out(struct ws *);

static void
set_events(struct ws *w, int ev)
{
	struct epoll_event e;

	if (w->events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = (uint32_t)ev;
	e.data.u64 = (uint64_t)(uintptr_t)w | 1;
	if (epoll_ctl(epfd, w->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
		w->fd, &e) == -1)
		die("epoll_ctl: %s", strerror(errno));
	w->events = ev;
}

void
ws_close(struct ws *w)
{
	if (w->fd >= 0)
		close(w->fd); /* leaves the epoll set too */
	w->fd = -1;
	w->st = WS_IDLE;
	w->events = 0;
	w->inlen = w->outlen = w->outoff = 0;
}

struct ws *
ws_new(int n)
{
	struct ws *w = xcalloc((size_t)n, sizeof(*w));
	int	   i;

	for (i = 0; i < n; i++) {
		w[i].fd = -1;
		w[i].idx = i;
	}
	return w;
}

/* The connection is gone: closes it, then tells the owner. */
static void
lost(struct ws *w, int code)
{
	ws_close(w);
	if (ws_on_close != NULL)
		ws_on_close(w, code);
}

static void
out_reserve(struct ws *w, size_t n)
{
	if (w->outoff == w->outlen)
		w->outoff = w->outlen = 0;
	if (w->outlen + n <= w->outcap)
		return;
	w->outcap =
	    w->outcap * 2 > w->outlen + n ? w->outcap * 2 : w->outlen + n + 512;
	if ((w->out = realloc(w->out, w->outcap)) == NULL)
		die("out of memory");
}

/* 0, or -1 when the connection was lost. */
static int
flush_out(struct ws *w)
{
	ssize_t n;

	while (w->outoff < w->outlen) {
		n = write(w->fd, w->out + w->outoff, w->outlen - w->outoff);
		if (n > 0) {
			w->outoff += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			set_events(w, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
			return 0;
		}
		lost(w, 1006);
		return -1;
	}
	w->outoff = w->outlen = 0;
	set_events(w, EPOLLIN | EPOLLRDHUP);
	return 0;
}

/* A client frame: FIN, the opcode, a fresh mask, the masked payload. */
static int
send_frame(struct ws *w, int op, const void *data, size_t len)
{
	const unsigned char *d = data;
	unsigned char	    *p, mask[4];
	size_t		     h = 0, i;

	out_reserve(w, len + 14);
	p = (unsigned char *)w->out + w->outlen;
	p[h++] = (unsigned char)(0x80 | op);
	if (len < 126)
		p[h++] = (unsigned char)(0x80 | len);
	else if (len < 65536) {
		p[h++] = 0x80 | 126;
		p[h++] = (unsigned char)(len >> 8);
		p[h++] = (unsigned char)len;
	} else {
		p[h++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			p[h++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	randombytes_buf(mask, sizeof(mask));
	memcpy(p + h, mask, 4);
	h += 4;
	for (i = 0; i < len; i++)
		p[h + i] = d[i] ^ mask[i & 3];
	w->outlen += h + len;
	return w->st == WS_OPEN ? flush_out(w) : 0;
}

void
ws_send_text(struct ws *w, const char *text, size_t len)
{
	if (w->fd >= 0)
		(void)send_frame(w, OP_TEXT, text, len);
}

void
ws_connect(struct ws *w, in_addr_t src, const char *path, const char *token)
{
	struct sockaddr_in sa;
	unsigned char	   raw[16];
	char		   host[INET_ADDRSTRLEN];
	int		   one = 1, n;

	w->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->fd == -1)
		die("socket: %s (raise ulimit -n)", strerror(errno));
	setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != 0) {
		/* The port is chosen at connect(), per destination: many
		 * more sockets than one address's ephemeral ports. */
		setsockopt(w->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = src;
		if (bind(w->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
			die("bind: %s", strerror(errno));
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(w->key, sizeof(w->key), raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);
	inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host));
	w->inlen = w->outlen = w->outoff = 0;
	w->next = -1;
	w->live = 0;
	w->proto = token != NULL;
	out_reserve(w, 1024);
	n = snprintf(w->out, w->outcap,
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	    "%s%s%s\r\n",
	    path, host, ntohs(addr.sin_port), w->key,
	    token ? "Sec-WebSocket-Protocol: parley, token." : "",
	    token ? token : "", token ? "\r\n" : "");
	if (n < 0 || (size_t)n >= w->outcap)
		die("upgrade request too long");
	w->outlen = (size_t)n;
	w->st = WS_CONNECTING;
	w->events = 0;
	w->t_open = now_us();
	if (connect(w->fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 &&
	    errno != EINPROGRESS) {
		lost(w, 1006);
		return;
	}
	set_events(w, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

/* The value of header `name` in the head [p, end), or NULL. */
static const char *
header(const char *p, const char *end, const char *name, size_t *len)
{
	const char *e;
	size_t	    n = strlen(name);

	for (p = strstr(p, "\r\n"); p != NULL && p + 2 < end; p = e) {
		p += 2;
		if ((e = strstr(p, "\r\n")) == NULL || e > end)
			return NULL;
		if ((size_t)(e - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			p += n + 1;
			p += strspn(p, " \t");
			*len = (size_t)(e - p);
			return p;
		}
	}
	return NULL;
}

/* 1 upgraded, 0 more to read, -1 refused (the socket is closed). */
static int
handshake(struct ws *w)
{
	char	     *he, want[64], buf[64];
	unsigned char dig[SHA_DIGEST_LENGTH];
	const char   *v;
	size_t	      vlen, rest;
	int	      status, n;

	if ((he = memmem(w->in, w->inlen, "\r\n\r\n", 4)) == NULL) {
		if (w->inlen > HEAD_MAX) {
			lost(w, -1);
			return -1;
		}
		return 0;
	}
	status = strncmp(w->in, "HTTP/1.1 ", 9) == 0 ? atoi(w->in + 9) : 0;
	if (status != 101) {
		if (++refusals <= 5)
			fprintf(stderr, "loadgen: ws %d: HTTP %d: %.200s\n",
			    w->idx, status, he + 4);
		lost(w, status > 0 ? -status : -1);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%s%s", w->key, WS_GUID);
	SHA1((unsigned char *)buf, (size_t)n, dig);
	sodium_bin2base64(want, sizeof(want), dig, sizeof(dig),
	    sodium_base64_VARIANT_ORIGINAL);
	if ((v = header(w->in, he + 2, "Sec-WebSocket-Accept", &vlen)) ==
		NULL ||
	    vlen != strlen(want) || strncmp(v, want, vlen) != 0) {
		if (++refusals <= 5)
			fprintf(stderr,
			    "loadgen: ws %d: bad "
			    "Sec-WebSocket-Accept\n",
			    w->idx);
		lost(w, -2);
		return -1;
	}
	if (w->proto &&
	    ((v = header(w->in, he + 2, "Sec-WebSocket-Protocol", &vlen)) ==
		    NULL ||
		vlen != 6 || strncmp(v, "parley", 6) != 0)) {
		if (++refusals <= 5)
			fprintf(stderr,
			    "loadgen: ws %d: protocol parley not "
			    "chosen\n",
			    w->idx);
		lost(w, -3);
		return -1;
	}
	rest = w->inlen - (size_t)(he + 4 - w->in);
	memmove(w->in, he + 4, rest);
	w->inlen = rest;
	w->st = WS_OPEN;
	w->t_up = now_us();
	if (ws_on_open != NULL)
		ws_on_open(w);
	return w->fd >= 0 ? 1 : -1;
}

/* Handles every whole frame read; 0, or -1 when the socket is gone. */
static int
frames(struct ws *w)
{
	unsigned char *p;
	char	      *payload, save;
	size_t	       off = 0, avail, hl, i;
	uint64_t       len;
	int	       op, code;

	while ((avail = w->inlen - off) >= 2) {
		p = (unsigned char *)w->in + off;
		op = p[0] & 0x0f;
		len = p[1] & 0x7f;
		hl = 2;
		if (len == 126) {
			if (avail < 4)
				break;
			len = (uint64_t)p[2] << 8 | p[3];
			hl = 4;
		} else if (len == 127) {
			if (avail < 10)
				break;
			for (len = 0, i = 0; i < 8; i++)
				len = len << 8 | p[2 + i];
			hl = 10;
		}
		if (len > avail - hl)
			break;
		/* Servers mask nothing, and these two fragment nothing and
		 * send only text. */
		if ((p[1] & 0x80) || !(p[0] & 0x80) ||
		    (op != OP_TEXT && op != OP_CLOSE && op != OP_PING &&
			op != OP_PONG)) {
			if (++refusals <= 5)
				fprintf(stderr,
				    "loadgen: ws %d: unexpected "
				    "frame 0x%02x 0x%02x\n",
				    w->idx, p[0], p[1]);
			lost(w, 1002);
			return -1;
		}
		payload = (char *)p + hl;
		off += hl + (size_t)len;
		switch (op) {
		case OP_TEXT:
			/* in[] always has a byte to spare past inlen. */
			save = payload[len];
			payload[len] = '\0';
			w->texts++;
			if (ws_on_text != NULL)
				ws_on_text(w, payload, (size_t)len);
			if (w->fd < 0)
				return -1;
			payload[len] = save;
			break;
		case OP_PING:
			ws_pings++;
			w->pings++;
			if (send_frame(w, OP_PONG, payload, (size_t)len) == -1)
				return -1;
			ws_pongs++;
			break;
		case OP_PONG:
			break;
		case OP_CLOSE:
			code = len >= 2 ? (unsigned char)payload[0] << 8 |
				(unsigned char)payload[1] :
					  1005;
			(void)send_frame(w, OP_CLOSE, payload,
			    len >= 2 ? 2 : 0);
			if (w->fd >= 0)
				lost(w, code);
			return -1;
		}
	}
	if (off > 0) {
		memmove(w->in, w->in + off, w->inlen - off);
		w->inlen -= off;
	}
	return 0;
}

static void
ws_read(struct ws *w)
{
	ssize_t n;
	int	eof = 0, rc;

	for (;;) {
		if (w->incap - w->inlen < 2048) {
			w->incap = w->incap ? w->incap * 2 : 4096;
			if ((w->in = realloc(w->in, w->incap)) == NULL)
				die("out of memory");
		}
		n = read(w->fd, w->in + w->inlen, w->incap - w->inlen - 1);
		if (n > 0) {
			w->inlen += (size_t)n;
			w->in[w->inlen] = '\0';
			continue;
		}
		if (n == 0)
			eof = 1;
		else if (errno == EINTR)
			continue;
		else if (errno != EAGAIN) {
			lost(w, 1006);
			return;
		}
		break;
	}
	if (w->st == WS_HANDSHAKE) {
		if ((rc = handshake(w)) == -1)
			return;
		if (rc == 0) {
			if (eof)
				lost(w, 1006);
			return;
		}
	}
	if (w->st == WS_OPEN && w->inlen > 0 && frames(w) == -1)
		return;
	if (eof)
		lost(w, 1006);
}

void
ws_event(struct ws *w, uint32_t ev)
{
	int	  err = 0;
	socklen_t len = sizeof(err);

	if (w->fd < 0)
		return;
	if (w->st == WS_CONNECTING) {
		if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			lost(w, 1006);
			return;
		}
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		w->st = WS_HANDSHAKE;
		if (flush_out(w) == -1)
			return;
	} else if ((ev & EPOLLOUT) && w->outoff < w->outlen &&
	    flush_out(w) == -1)
		return;
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		ws_read(w);
}
