/* test_http: percent-decoding and the query-string and cookie lookups,
 * the pure parsers of client input in http_query.c. */
#include "http.h"
#include "unit.h"

static const char *t_decode_plain(void);
static const char *t_decode_escapes(void);
static const char *t_decode_plus(void);
static const char *t_decode_bad_escapes(void);
static const char *t_decode_nul(void);
static const char *t_decode_utf8(void);
static const char *t_decode_out_size(void);
static const char *t_query_positions(void);
static const char *t_query_missing(void);
static const char *t_query_prefix_keys(void);
static const char *t_query_empty_values(void);
static const char *t_query_encoded(void);
static const char *t_query_invalid(void);
static const char *t_query_out_size(void);
static const char *t_cookie_find(void);
static long	   dec(const char *, int, char *, size_t);

/* Decodes a NUL-terminated string (its whole length). */
static long
dec(const char *s, int plus, char *out, size_t outlen)
{
	return http_decode(s, strlen(s), plus, out, outlen);
}

static const char *
t_decode_plain(void)
{
	char out[32];

	CHECK_EQ(dec("hello", 0, out, sizeof(out)), 5);
	CHECK_STR(out, "hello");
	CHECK_EQ(dec("", 0, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	return NULL;
}

static const char *
t_decode_escapes(void)
{
	char out[32];

	CHECK_EQ(dec("a%20b", 0, out, sizeof(out)), 3);
	CHECK_STR(out, "a b");
	CHECK_EQ(dec("%41%62%7e%7E", 0, out, sizeof(out)), 4);
	CHECK_STR(out, "Ab~~");
	CHECK_EQ(dec("%2B%25", 0, out, sizeof(out)), 2);
	CHECK_STR(out, "+%");
	/* The decoded '%' is data, not the start of another escape. */
	CHECK_EQ(dec("%2541", 0, out, sizeof(out)), 3);
	CHECK_STR(out, "%41");
	/* The length argument bounds the input, NUL or not. */
	CHECK_EQ(http_decode("abc%41", 3, 0, out, sizeof(out)), 3);
	CHECK_STR(out, "abc");
	return NULL;
}

static const char *
t_decode_plus(void)
{
	char out[32];

	CHECK_EQ(dec("a+b", 1, out, sizeof(out)), 3);
	CHECK_STR(out, "a b");
	CHECK_EQ(dec("a+b", 0, out, sizeof(out)), 3);
	CHECK_STR(out, "a+b");
	/* An encoded plus stays a plus in both modes. */
	CHECK_EQ(dec("%2B", 1, out, sizeof(out)), 1);
	CHECK_STR(out, "+");
	return NULL;
}

static const char *
t_decode_bad_escapes(void)
{
	char out[32];

	CHECK_EQ(dec("%G1", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("%1G", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("%4", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("abc%", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("%", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("%%41", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("% 41", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("%-1", 0, out, sizeof(out)), -1);
	/* A short escape may not borrow bytes past the given length. */
	CHECK_EQ(http_decode("%41", 2, 0, out, sizeof(out)), -1);
	return NULL;
}

static const char *
t_decode_nul(void)
{
	char out[32];

	CHECK_EQ(dec("%00", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("a%00b", 1, out, sizeof(out)), -1);
	/* A raw NUL inside the given length is refused too. */
	CHECK_EQ(http_decode("a\0b", 3, 0, out, sizeof(out)), -1);
	return NULL;
}

static const char *
t_decode_utf8(void)
{
	char out[32];

	CHECK_EQ(dec("caf%C3%A9", 0, out, sizeof(out)), 5);
	CHECK_STR(out, "caf\xc3\xa9");
	CHECK_EQ(dec("%E2%82%AC", 0, out, sizeof(out)), 3);
	CHECK_STR(out, "\xe2\x82\xac");
	CHECK_EQ(dec("%F0%9F%98%80", 0, out, sizeof(out)), 4);
	CHECK_EQ(dec("caf\xc3\xa9", 0, out, sizeof(out)), 5);
	CHECK_EQ(dec("%FF", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("%C3", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("%C0%80", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("%ED%A0%80", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("%F4%90%80%80", 0, out, sizeof(out)), -1);
	CHECK_EQ(dec("\xff", 0, out, sizeof(out)), -1);
	return NULL;
}

static const char *
t_decode_out_size(void)
{
	char out[8];

	/* Four bytes and the NUL need five. */
	CHECK_EQ(dec("abcd", 0, out, 5), 4);
	CHECK_STR(out, "abcd");
	CHECK_EQ(dec("abcd", 0, out, 4), -1);
	CHECK_EQ(dec("%41%42%43%44", 0, out, 5), 4);
	CHECK_EQ(dec("%41%42%43%44", 0, out, 4), -1);
	CHECK_EQ(dec("", 0, out, 1), 0);
	CHECK_EQ(dec("", 0, out, 0), -1);
	CHECK_EQ(dec("a", 0, out, 1), -1);
	return NULL;
}

static const char *
t_query_positions(void)
{
	const char *qs = "first=1&middle=two&last=3";
	char	    out[32];

	CHECK_EQ(http_query_find(qs, "first", out, sizeof(out)), 1);
	CHECK_STR(out, "1");
	CHECK_EQ(http_query_find(qs, "middle", out, sizeof(out)), 1);
	CHECK_STR(out, "two");
	CHECK_EQ(http_query_find(qs, "last", out, sizeof(out)), 1);
	CHECK_STR(out, "3");
	/* The first of repeated keys wins. */
	CHECK_EQ(http_query_find("a=1&a=2", "a", out, sizeof(out)), 1);
	CHECK_STR(out, "1");
	/* Empty pairs between separators are skipped. */
	CHECK_EQ(http_query_find("&&a=1&&b=2&", "b", out, sizeof(out)), 1);
	CHECK_STR(out, "2");
	return NULL;
}

static const char *
t_query_missing(void)
{
	char out[32];

	CHECK_EQ(http_query_find("a=1&b=2", "c", out, sizeof(out)), 0);
	CHECK_EQ(http_query_find("", "a", out, sizeof(out)), 0);
	CHECK_EQ(http_query_find("&", "a", out, sizeof(out)), 0);
	/* A key only matches as a whole key, not inside a value. */
	CHECK_EQ(http_query_find("x=a=1", "a", out, sizeof(out)), 0);
	CHECK_EQ(http_query_find("x=1&b=a", "a", out, sizeof(out)), 0);
	return NULL;
}

static const char *
t_query_prefix_keys(void)
{
	char out[32];

	CHECK_EQ(http_query_find("qq=long&q=short", "q", out, sizeof(out)), 1);
	CHECK_STR(out, "short");
	CHECK_EQ(http_query_find("q=short&qq=long", "qq", out, sizeof(out)), 1);
	CHECK_STR(out, "long");
	CHECK_EQ(http_query_find("qq=long", "q", out, sizeof(out)), 0);
	CHECK_EQ(http_query_find("q=short", "qq", out, sizeof(out)), 0);
	CHECK_EQ(http_query_find("limitx=5", "limit", out, sizeof(out)), 0);
	return NULL;
}

static const char *
t_query_empty_values(void)
{
	char out[32];

	out[0] = 'x';
	CHECK_EQ(http_query_find("a=&b=2", "a", out, sizeof(out)), 1);
	CHECK_STR(out, "");
	out[0] = 'x';
	CHECK_EQ(http_query_find("b=2&a", "a", out, sizeof(out)), 1);
	CHECK_STR(out, "");
	out[0] = 'x';
	CHECK_EQ(http_query_find("a&b=2", "a", out, sizeof(out)), 1);
	CHECK_STR(out, "");
	return NULL;
}

static const char *
t_query_encoded(void)
{
	char out[64];

	CHECK_EQ(http_query_find("q=hello+world", "q", out, sizeof(out)), 1);
	CHECK_STR(out, "hello world");
	CHECK_EQ(http_query_find("q=a%26b%3Dc", "q", out, sizeof(out)), 1);
	CHECK_STR(out, "a&b=c");
	CHECK_EQ(http_query_find("q=%E2%82%AC&x=1", "q", out, sizeof(out)), 1);
	CHECK_STR(out, "\xe2\x82\xac");
	/* Only the first '=' splits: the rest belongs to the value. */
	CHECK_EQ(http_query_find("q=a=b", "q", out, sizeof(out)), 1);
	CHECK_STR(out, "a=b");
	return NULL;
}

static const char *
t_query_invalid(void)
{
	char out[32];

	CHECK_EQ(http_query_find("q=%G1", "q", out, sizeof(out)), -1);
	CHECK_EQ(http_query_find("q=%00", "q", out, sizeof(out)), -1);
	CHECK_EQ(http_query_find("q=%FF&x=1", "q", out, sizeof(out)), -1);
	CHECK_EQ(http_query_find("q=abc%", "q", out, sizeof(out)), -1);
	/* A bad value elsewhere does not spoil the key asked for. */
	CHECK_EQ(http_query_find("x=%G1&q=ok", "q", out, sizeof(out)), 1);
	CHECK_STR(out, "ok");
	return NULL;
}

static const char *
t_query_out_size(void)
{
	char out[4];

	CHECK_EQ(http_query_find("q=abc", "q", out, sizeof(out)), 1);
	CHECK_STR(out, "abc");
	CHECK_EQ(http_query_find("q=abcd", "q", out, sizeof(out)), -1);
	CHECK_EQ(http_query_find("q", "q", out, 0), -1);
	return NULL;
}

static const char *
t_cookie_find(void)
{
	const char *h = "a=1; parley_session=xyz; b=2";
	char	    out[64];

	CHECK_EQ(http_cookie_find(h, "parley_session", out, sizeof(out)), 1);
	CHECK_STR(out, "xyz");
	CHECK_EQ(http_cookie_find(h, "a", out, sizeof(out)), 1);
	CHECK_STR(out, "1");
	CHECK_EQ(http_cookie_find(h, "b", out, sizeof(out)), 1);
	CHECK_STR(out, "2");
	CHECK_EQ(http_cookie_find(h, "parley", out, sizeof(out)), 0);
	CHECK_EQ(http_cookie_find(h, "session", out, sizeof(out)), 0);
	CHECK_EQ(http_cookie_find("", "a", out, sizeof(out)), 0);
	/* No spaces after ';' works too. */
	CHECK_EQ(http_cookie_find("a=1;b=2", "b", out, sizeof(out)), 1);
	CHECK_STR(out, "2");
	/* Cookies do not use '+' for a space. */
	CHECK_EQ(http_cookie_find("t=a+b", "t", out, sizeof(out)), 1);
	CHECK_STR(out, "a+b");
	CHECK_EQ(http_cookie_find("t=%00", "t", out, sizeof(out)), -1);
	/* The query separator is an ordinary byte in a cookie. */
	CHECK_EQ(http_cookie_find("t=a&b=c", "t", out, sizeof(out)), 1);
	CHECK_STR(out, "a&b=c");
	return NULL;
}

void
test_http(void)
{
	unit_run("http_decode/plain", t_decode_plain);
	unit_run("http_decode/escapes", t_decode_escapes);
	unit_run("http_decode/plus", t_decode_plus);
	unit_run("http_decode/bad_escapes", t_decode_bad_escapes);
	unit_run("http_decode/nul", t_decode_nul);
	unit_run("http_decode/utf8", t_decode_utf8);
	unit_run("http_decode/out_size", t_decode_out_size);
	unit_run("http_query_find/positions", t_query_positions);
	unit_run("http_query_find/missing", t_query_missing);
	unit_run("http_query_find/prefix_keys", t_query_prefix_keys);
	unit_run("http_query_find/empty_values", t_query_empty_values);
	unit_run("http_query_find/encoded", t_query_encoded);
	unit_run("http_query_find/invalid", t_query_invalid);
	unit_run("http_query_find/out_size", t_query_out_size);
	unit_run("http_cookie_find", t_cookie_find);
}
