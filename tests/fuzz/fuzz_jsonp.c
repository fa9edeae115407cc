/* fuzz_jsonp: the JSONP wrapper, whose output runs as a script on other
 * sites' pages in ES5 engines. For any callback http_jsonp() accepts and
 * any JSON body: the reply is exactly "/\**\/cb(<body>);" with the
 * callback an identifier path, no raw U+2028/U+2029 anywhere (an ES5
 * engine ends a line there and fails on the whole script), and the
 * argument still JSON with the same value. JSON without those two
 * characters is an ES5 expression, so the reply is an ES5 program.
 * Input: byte 0 is the callback's length (mod 96), then the callback as a
 * raw query value, then the body. */
#include <string.h>

#include <jansson.h>

#include "fcgi_mem.h"
#include "fuzz.h"
#include "http.h"

static int    is_ident_path(const char *);
static size_t count_seps(const char *, size_t);
static void   check_wrap(const char *, const char *, size_t);
static void   check_reply(const char *, const char *, size_t);

/* identifier ("." identifier)*, identifiers of [A-Za-z0-9_$] not starting
 * with a digit. */
static int
is_ident_path(const char *s)
{
	int start = 1;

	for (; *s != '\0'; s++) {
		if (*s == '.' && !start)
			start = 1;
		else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    *s == '_' || *s == '$' ||
		    (!start && *s >= '0' && *s <= '9'))
			start = 0;
		else
			return 0;
	}
	return !start;
}

static size_t
count_seps(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i + 2 < len; i++)
		if ((unsigned char)s[i] == 0xe2 &&
		    (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 ||
			(unsigned char)s[i + 2] == 0xa9))
			n++;
	return n;
}

/* Any bytes: the frame is exact, and only the separators change. */
static void
check_wrap(const char *cb, const char *body, size_t len)
{
	size_t	cl = strlen(cb), n, seps = count_seps(body, len);
	char   *w = http_jsonp_wrap(cb, body, len, &n);
	json_t *in, *out;

	FUZZ_ASSERT(n == len + 3 * seps + cl + 7 && w[n] == '\0');
	FUZZ_ASSERT(memcmp(w, "/**/", 4) == 0 && memcmp(w + 4, cb, cl) == 0 &&
	    w[4 + cl] == '(' && memcmp(w + n - 2, ");", 2) == 0);
	FUZZ_ASSERT(count_seps(w, n) == 0);
	/* A JSON body (as jansson or PostgreSQL wrote it) is still JSON,
	 * with the same value, between the parentheses. */
	in = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (in != NULL) {
		out = json_loadb(w + cl + 5, n - cl - 7,
		    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		FUZZ_ASSERT(out != NULL && json_equal(in, out));
		json_decref(out);
	}
	json_decref(in);
	free(w);
}

/* Through http_jsonp() and the reply writer, as the poll service does. */
static void
check_reply(const char *qs, const char *body, size_t len)
{
	static struct http_req r;
	struct fcgi_mem	       m;
	const char	      *out, *got;
	char		      *want;
	size_t		       olen, wlen;

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.query = qs;
	fcgi_mem_init(&m, &r, NULL, 0);
	if (http_jsonp(&r) == 0 && r.jsonp[0] != '\0') {
		FUZZ_ASSERT(r.status == 0 && is_ident_path(r.jsonp) &&
		    strlen(r.jsonp) < sizeof(r.jsonp));
		http_reply_raw(&r, 404, "application/json; charset=utf-8", body,
		    len);
		out = fcgi_mem_output(&m, &olen);
		FUZZ_ASSERT(strncmp(out, "Status: 200 OK\r\n", 16) == 0);
		FUZZ_ASSERT((got = strstr(out, "\r\n\r\n")) != NULL);
		got += 4;
		want = http_jsonp_wrap(r.jsonp, body, len, &wlen);
		FUZZ_ASSERT((size_t)(out + olen - got) == wlen &&
		    memcmp(got, want, wlen) == 0);
		free(want);
		check_wrap(r.jsonp, body, len);
	}
	fcgi_mem_cleanup(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char  *qs, *body;
	size_t cl;

	if (size < 1)
		return 0;
	cl = data[0] % 96;
	if (cl > size - 1)
		cl = size - 1;
	/* The body is not NUL-terminated: len alone bounds the reads. */
	if ((qs = malloc(cl + 10)) == NULL ||
	    (body = malloc(size - 1 - cl + 1)) == NULL)
		abort();
	memcpy(qs, "callback=", 9);
	memcpy(qs + 9, data + 1, cl);
	qs[9 + cl] = '\0';
	memcpy(body, data + 1 + cl, size - 1 - cl);
	check_wrap("cb", body, size - 1 - cl);
	check_reply(qs, body, size - 1 - cl);
	free(qs);
	free(body);
	return 0;
}
