/* multipart: the delimiter is found with a KMP automaton over
 * "\r\n--boundary", so a delimiter split across two pieces is still found
 * and bytes that only looked like its start are handed on as content. The
 * body is treated as if a CRLF came first, so the opening delimiter, which
 * has none, is found by the same automaton. */
#include <string.h>
#include <strings.h>

#include "multipart.h"

enum { S_PREAMBLE, S_AFTER, S_HEADERS, S_BODY, S_DONE };

static const char *skip_ws(const char *, const char *);
static const char *
param(const char *, const char *, char *, size_t, char *, size_t, int *);
static enum mp_error parse_headers(struct mp_parser *);
static enum mp_error scan(struct mp_parser *, const char *, size_t, size_t *,
    int, const struct mp_callbacks *, void *);

const char *
mp_strerror(enum mp_error e)
{
	switch (e) {
	case MP_OK:
		return "no error";
	case MP_BAD_TYPE:
		return "the Content-Type is not multipart/form-data "
		       "with a boundary";
	case MP_BAD_SYNTAX:
		return "the multipart body is malformed";
	case MP_TOO_BIG:
		return "a part's headers are too long, or there are "
		       "too many parts";
	case MP_TRUNCATED:
		return "the multipart body ended early";
	case MP_STOPPED:
		return "stopped";
	}
	return "unknown error";
}

static const char *
skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* One "; key=value" parameter from s (up to end): the key into key, the
 * value (a token, or a quoted string taken literally up to the next
 * quote: browsers do not escape, and IE puts raw backslashes of a Windows
 * path there) into val; *trunc set when it did not fit. Returns the
 * position after it, or NULL when there is none or it is malformed. */
static const char *
param(const char *s, const char *end, char *key, size_t klen, char *val,
    size_t vlen, int *trunc)
{
	const char *k, *v;
	size_t	    n;

	s = skip_ws(s, end);
	if (s >= end || *s != ';')
		return NULL;
	s = skip_ws(s + 1, end);
	for (k = s; s < end && *s != '=' && *s != ';' && *s != ' '; s++)
		;
	n = (size_t)(s - k);
	if (n == 0 || n >= klen || s >= end || *s != '=')
		return NULL;
	memcpy(key, k, n);
	key[n] = '\0';
	s++;
	if (s < end && *s == '"') {
		v = ++s;
		while (s < end && *s != '"')
			s++;
		if (s >= end)
			return NULL;
		n = (size_t)(s - v);
		s++;
	} else {
		for (v = s; s < end && *s != ';' && *s != ' ' && *s != '\t';
		     s++)
			;
		n = (size_t)(s - v);
	}
	*trunc = n >= vlen;
	if (*trunc)
		n = vlen - 1;
	memcpy(val, v, n);
	val[n] = '\0';
	return s;
}

enum mp_error
mp_init(struct mp_parser *p, const char *ct)
{
	const char *end, *s;
	char	    key[32], val[MP_BOUNDARY_MAX + 2];
	size_t	    i, k;
	int	    trunc, found = 0;

	memset(p, 0, sizeof(*p));
	p->error = MP_BAD_TYPE;
	if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0)
		return MP_BAD_TYPE;
	end = ct + strlen(ct);
	for (s = ct + 19; s != NULL && skip_ws(s, end) < end;) {
		s = param(s, end, key, sizeof(key), val, sizeof(val), &trunc);
		if (s == NULL)
			return MP_BAD_TYPE;
		if (strcasecmp(key, "boundary") != 0)
			continue;
		if (trunc || found || val[0] == '\0' ||
		    strlen(val) > MP_BOUNDARY_MAX)
			return MP_BAD_TYPE;
		for (i = 0; val[i] != '\0'; i++)
			if ((unsigned char)val[i] < 0x20 ||
			    (unsigned char)val[i] > 0x7e)
				return MP_BAD_TYPE;
		found = 1;
		memcpy(p->delim, "\r\n--", 4);
		memcpy(p->delim + 4, val, i);
		p->dlen = 4 + i;
	}
	if (!found)
		return MP_BAD_TYPE;
	/* fail[i]: the longest proper prefix of delim[0..i] that is also
	 * its suffix. */
	p->fail[0] = 0;
	for (i = 1, k = 0; i < p->dlen; i++) {
		while (k > 0 && p->delim[i] != p->delim[k])
			k = p->fail[k - 1];
		if (p->delim[i] == p->delim[k])
			k++;
		p->fail[i] = (unsigned char)k;
	}
	p->state = S_PREAMBLE;
	p->match = 2; /* the CRLF before the opening delimiter */
	p->error = MP_OK;
	return MP_OK;
}

/* The header block in p->hdr (ending in an empty line) into p->part. */
static enum mp_error
parse_headers(struct mp_parser *p)
{
	const char *s = p->hdr, *end = p->hdr + p->hlen - 2, *eol, *c, *v;
	char	    key[16], val[MP_FILENAME_MAX];
	size_t	    n;
	int	    trunc, disposition = 0;

	memset(&p->part, 0, sizeof(p->part));
	for (; s < end; s = eol + 2) {
		eol = memmem(s, (size_t)(end - s), "\r\n", 2);
		if (eol == NULL || eol == s || *s == ' ' || *s == '\t')
			return MP_BAD_SYNTAX; /* no folding, no empty line */
		if ((c = memchr(s, ':', (size_t)(eol - s))) == NULL)
			return MP_BAD_SYNTAX;
		v = skip_ws(c + 1, eol);
		if ((size_t)(c - s) == 19 &&
		    strncasecmp(s, "Content-Disposition", 19) == 0) {
			if (disposition++ || (size_t)(eol - v) < 9 ||
			    strncasecmp(v, "form-data", 9) != 0)
				return MP_BAD_SYNTAX;
			for (v += 9; skip_ws(v, eol) < eol;) {
				v = param(v, eol, key, sizeof(key), val,
				    sizeof(val), &trunc);
				if (v == NULL || trunc)
					return MP_BAD_SYNTAX;
				if (strcasecmp(key, "name") == 0) {
					if (strlen(val) >= sizeof(p->part.name))
						return MP_BAD_SYNTAX;
					strcpy(p->part.name, val);
				} else if (strcasecmp(key, "filename") == 0) {
					strcpy(p->part.filename, val);
					p->part.has_filename = 1;
				}
			}
		} else if ((size_t)(c - s) == 12 &&
		    strncasecmp(s, "Content-Type", 12) == 0) {
			n = (size_t)(eol - v);
			if (n >= sizeof(p->part.ctype))
				n = sizeof(p->part.ctype) - 1;
			memcpy(p->part.ctype, v, n);
			p->part.ctype[n] = '\0';
		}
	}
	if (!disposition || p->part.name[0] == '\0')
		return MP_BAD_SYNTAX;
	return MP_OK;
}

/* Runs the delimiter automaton over buf; content goes to cb->data unless
 * `discard` (the preamble). Stops just after a delimiter: *used is how
 * much it consumed, and p->state is S_AFTER then. */
static enum mp_error
scan(struct mp_parser *p, const char *buf, size_t len, size_t *used,
    int discard, const struct mp_callbacks *cb, void *arg)
{
	size_t	    i, n, k;
	const char *cr;
	char	    c;

#define EMIT(b, l)                                                             \
	do {                                                                   \
		if (!discard && (l) > 0 && cb->data(arg, (b), (l)) != 0)       \
			return MP_STOPPED;                                     \
	} while (0)
	for (i = 0; i < len; i++) {
		if (p->match == 0) {
			cr = memchr(buf + i, '\r', len - i);
			n = cr != NULL ? (size_t)(cr - (buf + i)) : len - i;
			EMIT(buf + i, n);
			i += n;
			if (cr == NULL)
				break;
		}
		c = buf[i];
		while (p->match > 0 && c != p->delim[p->match]) {
			k = p->fail[p->match - 1];
			EMIT(p->delim, p->match - k);
			p->match = k;
		}
		if (c == p->delim[p->match]) {
			if (++p->match == p->dlen) {
				p->match = 0;
				p->state = S_AFTER;
				p->after = 0;
				*used = i + 1;
				return MP_OK;
			}
		} else
			EMIT(&c, 1);
	}
#undef EMIT
	*used = len;
	return MP_OK;
}

enum mp_error
mp_feed(struct mp_parser *p, const char *buf, size_t len,
    const struct mp_callbacks *cb, void *arg)
{
	size_t	      used;
	enum mp_error e = MP_OK;

	while (p->error == MP_OK && len > 0) {
		used = 1;
		switch (p->state) {
		case S_PREAMBLE:
		case S_BODY:
			e = scan(p, buf, len, &used, p->state == S_PREAMBLE, cb,
			    arg);
			if (e == MP_OK && p->state == S_AFTER &&
			    p->nparts > 0 && cb->end(arg) != 0)
				e = MP_STOPPED;
			break;
		case S_AFTER:
			/* "--" closes the body, CRLF starts a part. */
			p->after_buf[p->after++] = *buf;
			if (p->after < 2)
				break;
			if (memcmp(p->after_buf, "--", 2) == 0)
				p->state = S_DONE;
			else if (memcmp(p->after_buf, "\r\n", 2) == 0) {
				p->state = S_HEADERS;
				p->hlen = 0;
			} else
				e = MP_BAD_SYNTAX;
			break;
		case S_HEADERS:
			if (p->hlen == sizeof(p->hdr)) {
				e = MP_TOO_BIG;
				break;
			}
			p->hdr[p->hlen++] = *buf;
			if (!(p->hlen >= 2 &&
				memcmp(p->hdr + p->hlen - 2, "\r\n", 2) == 0 &&
				(p->hlen == 2 ||
				    (p->hlen >= 4 &&
					memcmp(p->hdr + p->hlen - 4, "\r\n\r\n",
					    4) == 0))))
				break;
			if (p->hlen == 2) {
				e = MP_BAD_SYNTAX; /* no Content-Disposition */
				break;
			}
			if (++p->nparts > MP_PARTS_MAX) {
				e = MP_TOO_BIG;
				break;
			}
			if ((e = parse_headers(p)) != MP_OK)
				break;
			if (cb->part(arg, &p->part) != 0) {
				e = MP_STOPPED;
				break;
			}
			p->state = S_BODY;
			p->match = 0;
			break;
		case S_DONE:
			used = len; /* the epilogue is ignored */
			break;
		}
		buf += used;
		len -= used;
		p->error = e;
	}
	return p->error;
}

enum mp_error
mp_finish(const struct mp_parser *p)
{
	if (p->error != MP_OK)
		return p->error;
	return p->state == S_DONE ? MP_OK : MP_TRUNCATED;
}
