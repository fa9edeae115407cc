/* fuzz_query: http_query_find, http_cookie_find and http_decode on
 * arbitrary bytes, each checked against a plain reference written another
 * way (split first, then decode), and http_jsonp, whose callback ends up
 * in a script. Input: byte 0 picks the output size, so short buffers are
 * exercised; the rest is the query string or cookie header, given
 * NUL-terminated as QUERY_STRING and Cookie values are. */
#include <string.h>

#include <jansson.h>

#include "fcgi_mem.h"
#include "fuzz.h"
#include "http.h"
#include "text.h"

static const char *const query_keys[] = { "q", "limit", "access_token", "a",
	"qq" };
static const char *const cookie_names[] = { "parley_session", "parley_csrf",
	"a" };

static int  hex(int);
static long ref_decode(const char *, size_t, int, char *, size_t);
static int  ref_find(const char *, const char *, char, int, char *, size_t);
static void check_find(const char *, const char *, char, int, size_t);
static void check_decode(const uint8_t *, size_t, int, size_t);
static int  is_ident_path(const char *);
static void check_jsonp(const char *);

static int
hex(int c)
{
	const char *digits = "0123456789abcdef", *p;

	if (c >= 'A' && c <= 'F')
		c += 'a' - 'A';
	if (c == '\0' || (p = strchr(digits, c)) == NULL)
		return -1;
	return (int)(p - digits);
}

/* Percent-decoding as RFC 3986 describes it, then the UTF-8 and size
 * rules http.h promises. */
static long
ref_decode(const char *src, size_t len, int plus, char *out, size_t outlen)
{
	char  *tmp;
	size_t i, o = 0;
	long   rc = -1;

	if ((tmp = malloc(len + 1)) == NULL)
		abort();
	for (i = 0; i < len; i++) {
		if (src[i] == '%') {
			if (i + 2 >= len)
				goto out;
			if (hex((unsigned char)src[i + 1]) < 0 ||
			    hex((unsigned char)src[i + 2]) < 0)
				goto out;
			tmp[o++] = (char)(hex((unsigned char)src[i + 1]) * 16 +
			    hex((unsigned char)src[i + 2]));
			i += 2;
		} else
			tmp[o++] = plus && src[i] == '+' ? ' ' : src[i];
	}
	if (memchr(tmp, '\0', o) != NULL || o >= outlen ||
	    !text_utf8_valid(tmp, o))
		goto out;
	memcpy(out, tmp, o);
	out[o] = '\0';
	rc = (long)o;
out:
	free(tmp);
	return rc;
}

/* Splits on `sep`, drops leading spaces of each piece, skips empty ones;
 * the first piece named `key` (up to its first '=') gives the answer. */
static int
ref_find(const char *s, const char *key, char sep, int plus, char *out,
    size_t outlen)
{
	const char *piece = s, *end, *eq;
	size_t	    plen;

	for (;;) {
		end = strchr(piece, sep);
		plen = end != NULL ? (size_t)(end - piece) : strlen(piece);
		while (plen > 0 && *piece == ' ') {
			piece++;
			plen--;
		}
		eq = memchr(piece, '=', plen);
		if (plen > 0 &&
		    (eq != NULL ? (size_t)(eq - piece) : plen) == strlen(key) &&
		    strncmp(piece, key, strlen(key)) == 0) {
			if (eq == NULL) {
				if (outlen == 0)
					return -1;
				out[0] = '\0';
				return 1;
			}
			return ref_decode(eq + 1,
				   plen - (size_t)(eq + 1 - piece), plus, out,
				   outlen) < 0 ?
			    -1 :
			    1;
		}
		if (end == NULL)
			return 0;
		piece = end + 1;
	}
}

/* Both outputs are heap buffers of exactly outlen bytes for ASan. */
static void
check_find(const char *s, const char *key, char sep, int plus, size_t outlen)
{
	char *got = malloc(outlen), *want = malloc(outlen);
	int   rc, ref;

	if ((got == NULL || want == NULL) && outlen > 0)
		abort();
	rc = sep == '&' ? http_query_find(s, key, got, outlen) :
			  http_cookie_find(s, key, got, outlen);
	ref = ref_find(s, key, sep, plus, want, outlen);
	FUZZ_ASSERT(rc == ref);
	if (rc == 1) {
		FUZZ_ASSERT(strlen(got) < outlen);
		FUZZ_ASSERT(strcmp(got, want) == 0);
		FUZZ_ASSERT(text_utf8_valid(got, strlen(got)));
	}
	free(got);
	free(want);
}

/* The raw bytes, not NUL-terminated: len alone must bound the reads. */
static void
check_decode(const uint8_t *data, size_t len, int plus, size_t outlen)
{
	char *src = malloc(len > 0 ? len : 1), *got = malloc(outlen);
	char *want = malloc(outlen);
	long  rc, ref;

	if (src == NULL || ((got == NULL || want == NULL) && outlen > 0))
		abort();
	memcpy(src, data, len);
	rc = http_decode(src, len, plus, got, outlen);
	ref = ref_decode(src, len, plus, want, outlen);
	FUZZ_ASSERT(rc == ref);
	if (rc >= 0) {
		FUZZ_ASSERT((size_t)rc < outlen && got[rc] == '\0');
		FUZZ_ASSERT(memcmp(got, want, (size_t)rc + 1) == 0);
	}
	free(src);
	free(got);
	free(want);
}

/* identifier ("." identifier)*, identifiers of [A-Za-z0-9_$] not starting
 * with a digit: a callback that can only name a function. */
static int
is_ident_path(const char *s)
{
	static const char first[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_$";
	static const char digits[] = "0123456789";
	size_t		  n;

	for (;;) {
		if (*s == '\0' || strchr(first, *s) == NULL)
			return 0;
		n = 1;
		while (s[n] != '\0' &&
		    (strchr(first, s[n]) != NULL ||
			strchr(digits, s[n]) != NULL))
			n++;
		s += n;
		if (*s == '\0')
			return 1;
		if (*s++ != '.')
			return 0;
	}
}

/* A callback http_jsonp accepts must be an identifier path, and an error
 * reply must then be exactly "/\**\/cb(json);", status 200, with the real
 * status inside; one it refuses gets a plain 400. */
static void
check_jsonp(const char *qs)
{
	static struct http_req r;
	struct fcgi_mem	       m;
	json_t		      *o;
	const char	      *out, *body;
	char		       cb[HTTP_PARAM_MAX], prefix[128];
	size_t		       len, plen;
	int		       rc;

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.query = qs;
	fcgi_mem_init(&m, &r, NULL, 0);
	rc = http_jsonp(&r);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_ASSERT(r.jsonp[0] == '\0');
		FUZZ_OK(fcgi_mem_check(&m, 400));
	} else if (r.jsonp[0] == '\0') {
		FUZZ_ASSERT(r.status == 0);
		FUZZ_ASSERT(
		    http_query_find(qs, "callback", cb, sizeof(cb)) == 0);
	} else {
		FUZZ_ASSERT(r.status == 0 && is_ident_path(r.jsonp));
		http_error(&r, 404, "not_found", "Nothing at %s.", qs);
		out = fcgi_mem_output(&m, &len);
		FUZZ_ASSERT(strncmp(out, "Status: 200 OK\r\n", 16) == 0);
		FUZZ_ASSERT(strstr(out,
				"\r\nContent-Type: application/"
				"javascript; charset=utf-8\r\n") != NULL);
		FUZZ_ASSERT((body = strstr(out, "\r\n\r\n")) != NULL);
		body += 4;
		plen = (size_t)snprintf(prefix, sizeof(prefix), "/**/%s(",
		    r.jsonp);
		len -= (size_t)(body - out);
		FUZZ_ASSERT(plen < sizeof(prefix) && len > plen + 2);
		FUZZ_ASSERT(memcmp(body, prefix, plen) == 0);
		FUZZ_ASSERT(memcmp(body + len - 2, ");", 2) == 0);
		o = json_loadb(body + plen, len - plen - 2, 0, NULL);
		FUZZ_ASSERT(o != NULL);
		FUZZ_ASSERT(
		    json_integer_value(json_object_get(o, "status")) == 404);
		FUZZ_ASSERT(json_is_string(
		    json_object_get(json_object_get(o, "error"), "code")));
		json_decref(o);
	}
	fcgi_mem_cleanup(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char  *s;
	size_t i, outlen;

	if (size < 1)
		return 0;
	/* 0..96: room for short values, plus the empty buffer. */
	outlen = data[0] % 97;
	if ((s = malloc(size)) == NULL)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	for (i = 0; i < sizeof(query_keys) / sizeof(query_keys[0]); i++)
		check_find(s, query_keys[i], '&', 1, outlen);
	for (i = 0; i < sizeof(cookie_names) / sizeof(cookie_names[0]); i++)
		check_find(s, cookie_names[i], ';', 0, outlen);
	check_decode(data + 1, size - 1, data[0] & 1, outlen);
	check_decode(data + 1, size - 1, data[0] & 1, 256);
	check_jsonp(s);
	free(s);
	return 0;
}
