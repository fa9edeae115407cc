/* text: a strict UTF-8 validator (RFC 3629 table 3-7 ranges). */
#include <stdbool.h>
#include <string.h>

#include "text.h"

static size_t seqlen(const unsigned char *, size_t);
static size_t bidilen(const unsigned char *);

/* Length of the well-formed sequence at s[0..avail), or 0 when there is
 * none there (NUL, a bad lead byte, a bad or missing continuation). */
static size_t
seqlen(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t	      n, k;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return 0;
	if (avail <= n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k <= n; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return n + 1;
}

bool
text_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t		     i, n;

	for (i = 0; i < len; i += n)
		if ((n = seqlen(s + i, len - i)) == 0)
			return 0;
	return 1;
}

void
text_utf8_scrub(char *str)
{
	unsigned char *s = (unsigned char *)str;
	size_t	       len = strlen(str), i, n;

	for (i = 0; i < len; i += n)
		if ((n = seqlen(s + i, len - i)) == 0) {
			s[i] = '?';
			n = 1;
		}
}

size_t
text_utf8_chars(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t		     n = 0;

	for (; *s != '\0'; s++)
		if ((*s & 0xc0) != 0x80)
			n++;
	return n;
}

bool
text_has_controls(const char *str, int multiline)
{
	const unsigned char *s = (const unsigned char *)str;

	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s == 0x7f) {
			if (multiline &&
			    (*s == '\n' || *s == '\t' || *s == '\r'))
				continue;
			return 1;
		}
		/* C1 controls are U+0080..U+009F: 0xc2 0x80..0x9f. */
		if (*s == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
			return 1;
	}
	return 0;
}

/* Length of the bidi control at s (2 or 3 bytes), or 0 if there is none:
 * U+061C is d8 9c; U+200E, U+200F, U+202A..U+202E are e2 80 8e, 8f,
 * aa..ae; U+2066..U+2069 are e2 81 a6..a9. */
static size_t
bidilen(const unsigned char *s)
{
	if (s[0] == 0xd8 && s[1] == 0x9c)
		return 2;
	if (s[0] != 0xe2)
		return 0;
	if (s[1] == 0x80 &&
	    (s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xaa && s[2] <= 0xae)))
		return 3;
	if (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
		return 3;
	return 0;
}

bool
text_has_bidi(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	for (; *s != '\0'; s++)
		if (bidilen(s) > 0)
			return 1;
	return 0;
}

size_t
text_strip_bidi(char *str)
{
	unsigned char *s = (unsigned char *)str, *out = s;
	size_t	       n;

	/* bidilen() reads at most 3 bytes and stops at a NUL: a lead byte
	 * that does not match ends the comparison before the terminator. */
	while (*s != '\0') {
		if ((n = bidilen(s)) > 0)
			s += n;
		else
			*out++ = *s++;
	}
	*out = '\0';
	return (size_t)(s - out);
}
