/* fuzz_multipart: the streaming multipart/form-data parser of the uploads
 * service on arbitrary bytes. Invariants: the same body cut into pieces
 * anywhere gives the same parts and bytes as in one piece (the delimiter
 * automaton carries its state across pieces); a body built from known
 * parts with a boundary absent from them parses back to exactly those
 * parts; no part or header exceeds its bound.
 * Input: byte 0 picks the cut points, the rest is "boundary\n" then the
 * body (or, in round-trip mode, part contents separated by 0xff).
 * fuzz-sources: services/uploads/multipart.c
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "uploads/multipart.h"

struct log {
	char  *buf;
	size_t len, cap;
	int    parts, ends;
};

static void put(struct log *, const char *, size_t);
static int  on_part(void *, const struct mp_part *);
static int  on_data(void *, const char *, size_t);
static int  on_end(void *);
static enum mp_error
	    run(const char *, const char *, size_t, unsigned, struct log *);
static void roundtrip(const uint8_t *, size_t);

static const struct mp_callbacks cb = { on_part, on_data, on_end };

static void
put(struct log *l, const char *b, size_t n)
{
	if (l->len + n + 1 > l->cap) {
		l->cap = (l->len + n + 1) * 2;
		if ((l->buf = realloc(l->buf, l->cap)) == NULL)
			abort();
	}
	memcpy(l->buf + l->len, b, n);
	l->len += n;
}

static int
on_part(void *arg, const struct mp_part *p)
{
	struct log *l = arg;

	FUZZ_ASSERT(strlen(p->name) > 0 && strlen(p->name) < MP_NAME_MAX);
	FUZZ_ASSERT(strlen(p->filename) < MP_FILENAME_MAX);
	FUZZ_ASSERT(strlen(p->ctype) < MP_CTYPE_MAX);
	FUZZ_ASSERT(++l->parts <= MP_PARTS_MAX);
	put(l, "\0P", 2);
	put(l, p->name, strlen(p->name) + 1);
	put(l, p->filename, strlen(p->filename) + 1);
	put(l, p->ctype, strlen(p->ctype) + 1);
	return 0;
}

static int
on_data(void *arg, const char *b, size_t n)
{
	FUZZ_ASSERT(n > 0);
	put(arg, b, n);
	return 0;
}

static int
on_end(void *arg)
{
	struct log *l = arg;

	l->ends++;
	put(l, "\0E", 2);
	return 0;
}

/* Parses body in pieces whose sizes come from `seed` (0: one piece). */
static enum mp_error
run(const char *ct, const char *body, size_t len, unsigned seed, struct log *l)
{
	struct mp_parser p;
	size_t		 off = 0, n;
	enum mp_error	 e;

	memset(l, 0, sizeof(*l));
	if ((e = mp_init(&p, ct)) != MP_OK)
		return e;
	while (off < len) {
		n = seed == 0 ? len - off :
				1 + (seed = seed * 1103515245u + 12345u) % 7;
		if (n > len - off)
			n = len - off;
		if ((e = mp_feed(&p, body + off, n, &cb, l)) != MP_OK)
			return e;
		off += n;
	}
	return mp_finish(&p);
}

/* Parts from the input (split at 0xff), framed with a boundary none of
 * them contains: the parser must give them back unchanged. */
static void
roundtrip(const uint8_t *data, size_t size)
{
	static const char boundary[] = "zZ9-fuzz-boundary-Zz";
	char		 *body, name[16];
	struct log	  l;
	size_t		  len = 0, i, start = 0, nparts = 0;
	struct log	  want;

	if (memmem(data, size, boundary, sizeof(boundary) - 1) != NULL)
		return;
	if ((body = malloc(size * 2 + 4096)) == NULL)
		abort();
	memset(&want, 0, sizeof(want));
	for (i = 0; i <= size && nparts < MP_PARTS_MAX; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		snprintf(name, sizeof(name), "f%zu", nparts++);
		len += (size_t)sprintf(body + len,
		    "--%s\r\nContent-Disposition:"
		    " form-data; name=\"%s\"; filename=\"x.bin\"\r\n"
		    "Content-Type: application/octet-stream\r\n\r\n",
		    boundary, name);
		memcpy(body + len, data + start, i - start);
		len += i - start;
		memcpy(body + len, "\r\n", 2);
		len += 2;
		put(&want, "\0P", 2);
		put(&want, name, strlen(name) + 1);
		put(&want, "x.bin", 6);
		put(&want, "application/octet-stream", 25);
		put(&want, (const char *)data + start, i - start);
		put(&want, "\0E", 2);
		start = i + 1;
	}
	len += (size_t)sprintf(body + len, "--%s--\r\n", boundary);
	FUZZ_ASSERT(run("multipart/form-data; boundary="
			"zZ9-fuzz-boundary-Zz",
			body, len, size, &l) == MP_OK);
	FUZZ_ASSERT(l.len == want.len && memcmp(l.buf, want.buf, l.len) == 0);
	free(l.buf);
	free(want.buf);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	      ct[200];
	const char   *nl, *body;
	struct log    whole, cut;
	enum mp_error e1, e2;
	size_t	      blen;

	if (size < 2)
		return 0;
	if (data[0] & 0x80) {
		roundtrip(data + 1, size - 1);
		return 0;
	}
	nl = memchr(data + 1, '\n', size - 1);
	if (nl == NULL || (size_t)(nl - (const char *)data - 1) > 100)
		return 0;
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%.*s",
	    (int)(nl - (const char *)data - 1), (const char *)data + 1);
	if (memchr(ct, '\0', strlen(ct)) != NULL)
		return 0;
	body = nl + 1;
	blen = size - (size_t)(body - (const char *)data);
	e1 = run(ct, body, blen, 0, &whole);
	e2 = run(ct, body, blen, data[0] + 1u, &cut);
	FUZZ_ASSERT(e1 == e2);
	FUZZ_ASSERT(whole.parts == cut.parts && whole.ends == cut.ends);
	FUZZ_ASSERT(whole.len == cut.len &&
	    (whole.len == 0 || memcmp(whole.buf, cut.buf, whole.len) == 0));
	FUZZ_ASSERT(whole.ends <= whole.parts);
	free(whole.buf);
	free(cut.buf);
	return 0;
}
