/* text: a strict UTF-8 validator (RFC 3629 table 3-7 ranges). */
#include <string.h>

#include "text.h"

static size_t	seqlen(const unsigned char *, size_t);

/* Length of the well-formed sequence at s[0..avail), or 0 when there is
 * none there (NUL, a bad lead byte, a bad or missing continuation). */
static size_t
seqlen(const unsigned char *s, size_t avail)
{
	unsigned char	c = s[0], lo = 0x80, hi = 0xbf;
	size_t		n, k;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
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

int
text_utf8_valid(const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i, n;

	for (i = 0; i < len; i += n)
		if ((n = seqlen(s + i, len - i)) == 0)
			return 0;
	return 1;
}

void
text_utf8_scrub(char *str)
{
	unsigned char	*s = (unsigned char *)str;
	size_t		 len = strlen(str), i, n;

	for (i = 0; i < len; i += n)
		if ((n = seqlen(s + i, len - i)) == 0) {
			s[i] = '?';
			n = 1;
		}
}

size_t
text_utf8_chars(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n = 0;

	for (; *s != '\0'; s++)
		if ((*s & 0xc0) != 0x80)
			n++;
	return n;
}

int
text_has_controls(const char *str, int multiline)
{
	const unsigned char	*s = (const unsigned char *)str;

	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s == 0x7f) {
			if (multiline && (*s == '\n' || *s == '\t' ||
			    *s == '\r'))
				continue;
			return 1;
		}
		/* C1 controls are U+0080..U+009F: 0xc2 0x80..0x9f. */
		if (*s == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
			return 1;
	}
	return 0;
}
