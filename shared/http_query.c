/* http_query: the request's input parameters: percent-decoding, query
 * string and cookie lookups, and the checked integer and id readers built
 * on them. Apart from http.c because the decoders are pure functions of
 * client input (fuzzed by tests/fuzz/fuzz_query.c) with no reply state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "text.h"

static int hexval(int);

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
http_decode(const char *src, size_t len, int plus, char *out, size_t outlen)
{
	size_t i, o = 0;
	int    hi, lo, c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c == '%') {
			if (len - i < 3)
				return -1;
			hi = hexval((unsigned char)src[i + 1]);
			lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == 0 || o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	if (!text_utf8_valid(out, o))
		return -1;
	return (long)o;
}

/* Shared by query strings ('&', '=') and cookies ("; ", '='). */
static int
find_pair(const char *s, const char *key, char sep, int plus, char *out,
    size_t outlen)
{
	size_t	    klen = strlen(key);
	const char *p = s, *end, *eq;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == sep)
			p++;
		end = strchr(p, sep);
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if ((eq != NULL && (size_t)(eq - p) == klen &&
			memcmp(p, key, klen) == 0) ||
		    (eq == NULL && (size_t)(end - p) == klen &&
			memcmp(p, key, klen) == 0)) {
			if (eq == NULL) {
				if (outlen == 0)
					return -1;
				out[0] = '\0';
				return 1;
			}
			return http_decode(eq + 1, (size_t)(end - eq - 1), plus,
				   out, outlen) < 0 ?
			    -1 :
			    1;
		}
		p = *end != '\0' ? end + 1 : NULL;
	}
	return 0;
}

int
http_query_find(const char *qs, const char *key, char *out, size_t outlen)
{
	return find_pair(qs, key, '&', 1, out, outlen);
}

int
http_cookie_find(const char *header, const char *name, char *out, size_t outlen)
{
	return find_pair(header, name, ';', 0, out, outlen);
}

int
http_query_long(struct http_req *r, const char *key, long long min,
    long long max, long long *out)
{
	char	  buf[32], *end;
	long long v;
	int	  rc;

	rc = http_query_find(r->query, key, buf, sizeof(buf));
	if (rc == 0)
		return 0;
	errno = 0;
	v = rc > 0 && buf[0] != '\0' ? strtoll(buf, &end, 10) : 0;
	if (rc < 0 || buf[0] == '\0' || errno != 0 || *end != '\0' || v < min ||
	    v > max) {
		http_error(r, 400, "invalid_parameter",
		    "Query parameter '%s' must be an integer from %lld to "
		    "%lld.",
		    key, min, max);
		return -1;
	}
	*out = v;
	return 1;
}

int
http_param_id(struct http_req *r, int i, int64_t *out)
{
	const char *s = i < r->nparams ? r->params[i] : "";
	char	   *end = NULL;
	long long   v = 0;

	errno = 0;
	if (s[0] >= '1' && s[0] <= '9')
		v = strtoll(s, &end, 10);
	if (v <= 0 || errno != 0 || end == NULL || *end != '\0') {
		http_error(r, 400, "invalid_id",
		    "The id in the path must be a positive integer.");
		return -1;
	}
	*out = v;
	return 0;
}
