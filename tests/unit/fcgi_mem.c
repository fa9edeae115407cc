/* fcgi_mem: libfcgi's FCGX_Stream is a public struct whose buffer hooks
 * (fillBuffProc, emptyBuffProc) are how fcgiapp.c itself makes streams;
 * filling them in here gives FCGX_GetStr/FCGX_PutStr a memory buffer
 * instead of a socket. Nothing in shared/ is stubbed or changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fcgi_mem.h"

static void	   in_fill(FCGX_Stream *);
static void	   out_empty(FCGX_Stream *, int);
static void	  *xrealloc(void *, size_t);
static const char *check_error_body(const char *, size_t);

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		fputs("fcgi_mem: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* The whole body is in the buffer from the start: nothing more comes. */
static void
in_fill(FCGX_Stream *s)
{
	s->isClosed = 1;
}

/* Called when a write does not fit: grow the buffer, keep what is in it. */
static void
out_empty(FCGX_Stream *s, int doclose)
{
	struct fcgi_mem *m = s->data;
	size_t		 used = (size_t)(s->wrNext - m->buf);

	(void)doclose;
	m->cap *= 2;
	m->buf = xrealloc(m->buf, m->cap);
	s->wrNext = m->buf + used;
	s->stop = m->buf + m->cap;
	s->rdNext = s->stop;
}

void
fcgi_mem_init(struct fcgi_mem *m, struct http_req *r, const void *body,
    size_t len)
{
	memset(m, 0, sizeof(*m));
	memset(&r->fcgi, 0, sizeof(r->fcgi));
	/* A new request: no body read yet (http_body_read caches it). */
	r->body = NULL;
	r->body_len = 0;
	r->body_read = 0;
	m->req = r;
	/* A copy sized exactly, so ASan sees any read past the body. */
	m->body = xrealloc(NULL, len > 0 ? len : 1);
	if (len > 0)
		memcpy(m->body, body, len);
	m->in.rdNext = m->body;
	m->in.stopUnget = m->body;
	m->in.stop = m->body + len;
	m->in.wrNext = m->in.stop;
	m->in.isReader = 1;
	m->in.fillBuffProc = in_fill;
	m->in.data = m;

	m->cap = 256;
	m->buf = xrealloc(NULL, m->cap);
	m->out.wrNext = m->buf;
	m->out.stop = m->buf + m->cap;
	m->out.rdNext = m->out.stop;
	m->out.emptyBuffProc = out_empty;
	m->out.data = m;

	m->env[0] = NULL;
	r->fcgi.in = &m->in;
	r->fcgi.out = &m->out;
	r->fcgi.err = &m->out;
	r->fcgi.envp = m->env;
	r->fcgi.ipcFd = -1;
	r->status = 0;
}

void
fcgi_mem_setenv(struct fcgi_mem *m, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);
	char  *e;

	if (m->nenv >= FCGI_MEM_NENV) {
		fputs("fcgi_mem: too many parameters\n", stderr);
		abort();
	}
	e = xrealloc(NULL, nlen + vlen + 2);
	memcpy(e, name, nlen);
	e[nlen] = '=';
	memcpy(e + nlen + 1, value, vlen + 1);
	m->env[m->nenv++] = e;
	m->env[m->nenv] = NULL;
}

const char *
fcgi_mem_output(struct fcgi_mem *m, size_t *len)
{
	*len = (size_t)(m->out.wrNext - m->buf);
	if (*len == m->cap)
		out_empty(&m->out, 0);
	m->buf[*len] = '\0';
	return (const char *)m->buf;
}

void
fcgi_mem_rewind(struct fcgi_mem *m, struct http_req *r)
{
	m->out.wrNext = m->buf;
	r->status = 0;
	r->headers_len = 0;
	r->headers[0] = '\0';
}

void
fcgi_mem_cleanup(struct fcgi_mem *m)
{
	int i;

	if (m->req != NULL)
		http_body_free(m->req);
	for (i = 0; i < m->nenv; i++)
		free(m->env[i]);
	free(m->body);
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

/* The error body: an object holding exactly the error object. */
static const char *
check_error_body(const char *body, size_t len)
{
	json_t	   *root, *err, *code, *msg;
	const char *why = NULL;

	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL)) ==
	    NULL)
		return "error body is not JSON";
	err = json_object_get(root, "error");
	code = json_object_get(err, "code");
	msg = json_object_get(err, "message");
	if (!json_is_object(root) || json_object_size(root) != 1 ||
	    !json_is_object(err))
		why = "error body is not {\"error\":{...}}";
	else if (!json_is_string(code) || json_string_length(code) == 0)
		why = "error.code is not a non-empty string";
	else if (!json_is_string(msg) || json_string_length(msg) == 0)
		why = "error.message is not a non-empty string";
	json_decref(root);
	return why;
}

const char *
fcgi_mem_check(struct fcgi_mem *m, int status)
{
	const char   *out, *end, *body, *cl;
	size_t	      len, blen;
	unsigned long clen;
	int	      st, n;

	out = fcgi_mem_output(m, &len);
	if (len == 0)
		return "no reply";
	if (sscanf(out, "Status: %3d %n", &st, &n) != 1 || n < 12)
		return "reply does not start with a Status line";
	if (status != 0 && st != status)
		return "reply has another status";
	if ((end = strstr(out, "\r\n\r\n")) == NULL)
		return "reply head does not end";
	body = end + 4;
	blen = len - (size_t)(body - out);
	cl = strstr(out, "\r\nContent-Length: ");
	if (cl != NULL && cl < end) {
		if (sscanf(cl, "\r\nContent-Length: %lu", &clen) != 1 ||
		    clen != blen)
			return "Content-Length does not match the body";
	} else if (blen != 0)
		return "body without Content-Length";
	if (st >= 400) {
		if (blen == 0)
			return "error reply without a body";
		if (strstr(out, "\r\nContent-Type: application/json") == NULL)
			return "error reply is not application/json";
		return check_error_body(body, blen);
	}
	return NULL;
}
