/* fcgi_out: libfcgi's FCGX_Stream is a public struct whose buffer hook
 * (emptyBuffProc) is how fcgiapp.c itself makes its writers; filling it in
 * gives http.c's FCGX_PutStr calls a growing memory buffer. The framing
 * follows the FastCGI 1.0 specification (section 3.3 and 5.5), the same
 * records fcgiapp.c writes: STDOUT records, an empty STDOUT to end the
 * stream, then END_REQUEST. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fcgi_out.h"
#include "http.h"
#include "log.h"

#define FCGI_VERSION_1	      1
#define FCGI_END_REQUEST      3
#define FCGI_STDOUT	      6
#define FCGI_REQUEST_COMPLETE 0
#define HDR		      8
#define START_CAP	      4096

static void   grow(FCGX_Stream *, int);
static size_t header(unsigned char *, int, int, size_t, size_t);

/* Called when a write does not fit: grow the buffer, keep what is in it.
 * Past FCGI_OUT_MAX the stream closes, so FCGX_PutStr fails (the caller
 * sees it in fcgi_out_bytes' stream and answers an error instead). */
static void
grow(FCGX_Stream *s, int doclose)
{
	struct fcgi_out *o = s->data;
	size_t		 used = o->cap - (size_t)(s->stop - s->wrNext);
	unsigned char	*nb;

	(void)doclose;
	if (o->cap * 2 > FCGI_OUT_MAX) {
		s->isClosed = 1;
		s->FCGI_errno = ENOMEM;
		return;
	}
	if ((nb = realloc(o->buf, o->cap * 2)) == NULL)
		log_fatal("realloc: out of memory");
	o->buf = nb;
	o->cap *= 2;
	s->wrNext = nb + used;
	s->stop = o->buf + o->cap;
	s->rdNext = s->stop;
}

void
fcgi_out_attach(struct fcgi_out *o, struct http_req *r)
{
	/* A buffer grown by one big reply does not stay that big. */
	if (o->buf != NULL && o->cap > 16 * START_CAP)
		fcgi_out_free(o);
	if (o->buf == NULL) {
		o->cap = START_CAP;
		if ((o->buf = malloc(o->cap)) == NULL)
			log_fatal("malloc: out of memory");
	}
	memset(&o->stream, 0, sizeof(o->stream));
	o->stream.wrNext = o->buf;
	o->stream.stop = o->buf + o->cap;
	o->stream.rdNext = o->stream.stop;
	o->stream.emptyBuffProc = grow;
	o->stream.data = o;
	memset(&r->fcgi, 0, sizeof(r->fcgi));
	r->fcgi.out = &o->stream;
	r->fcgi.ipcFd = -1;
}

const char *
fcgi_out_bytes(const struct fcgi_out *o, size_t *len)
{
	*len = (size_t)(o->stream.wrNext - o->buf);
	return (const char *)o->buf;
}

void
fcgi_out_free(struct fcgi_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->cap = 0;
}

/* One record header at p; returns HDR. */
static size_t
header(unsigned char *p, int type, int id, size_t clen, size_t pad)
{
	p[0] = FCGI_VERSION_1;
	p[1] = (unsigned char)type;
	p[2] = (unsigned char)(id >> 8 & 0xff);
	p[3] = (unsigned char)(id & 0xff);
	p[4] = (unsigned char)(clen >> 8 & 0xff);
	p[5] = (unsigned char)(clen & 0xff);
	p[6] = (unsigned char)pad;
	p[7] = 0;
	return HDR;
}

char *
fcgi_out_records(int id, const char *data, size_t len, size_t *outlen)
{
	size_t	       nrec = (len + FCGI_OUT_CHUNK - 1) / FCGI_OUT_CHUNK;
	size_t	       o = 0, off, n, pad;
	unsigned char *out;

	/* Headers, data, at most 7 bytes of padding, the closing records. */
	if ((out = malloc(nrec * HDR + len + 7 + 2 * HDR + 8)) == NULL)
		log_fatal("malloc: out of memory");
	for (off = 0; off < len; off += n) {
		n = len - off < FCGI_OUT_CHUNK ? len - off : FCGI_OUT_CHUNK;
		pad = (8 - n % 8) % 8;
		o += header(out + o, FCGI_STDOUT, id, n, pad);
		memcpy(out + o, data + off, n);
		o += n;
		memset(out + o, 0, pad);
		o += pad;
	}
	o += header(out + o, FCGI_STDOUT, id, 0, 0);
	o += header(out + o, FCGI_END_REQUEST, id, 8, 0);
	/* appStatus 0 (4 bytes), protocolStatus, 3 reserved bytes. */
	memset(out + o, 0, 8);
	out[o + 4] = FCGI_REQUEST_COMPLETE;
	o += 8;
	*outlen = o;
	return (char *)out;
}

int
fcgi_out_send(int fd, int id, const char *data, size_t len)
{
	size_t	n, off = 0;
	ssize_t k;
	char   *rec = fcgi_out_records(id, data, len, &n);
	int	err = 0;

	while (off < n) {
		k = send(fd, rec + off, n - off, MSG_NOSIGNAL);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0) {
			err = k == -1 ? errno : EPIPE;
			break;
		}
		off += (size_t)k;
	}
	free(rec);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
