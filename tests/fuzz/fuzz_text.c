/* fuzz_text: the UTF-8 checks every client string goes through, against a
 * reference that decodes code points the long way (value, then shortest
 * form and range) instead of walking byte ranges; text_utf8_scrub, which
 * must turn any bytes into valid UTF-8 and keep valid text as is; and
 * text_strip_bidi, which must drop exactly the Bidi_Control code points
 * and keep valid text valid. */
#include <string.h>

#include "fuzz.h"
#include "text.h"

static size_t ref_next(const unsigned char *, size_t, uint32_t *);
static int    ref_scan(const unsigned char *, size_t, size_t *, int *, int *);
static int    ref_is_bidi(uint32_t);
static size_t ref_strip_bidi(const unsigned char *, size_t, char *);

/* Decodes the code point at s[0..len): its byte count, or 0 if the
 * bytes are not the shortest encoding of a scalar value other than NUL. */
static size_t
ref_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t v, min;
	size_t	 n, k;

	if (s[0] < 0x80) {
		n = 1;
		v = s[0];
		min = 0;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		v = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		v = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		v = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n > len)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[k] & 0x3f);
	}
	if (v == 0 || v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Validity, code points, and whether any is a control (C0, DEL, C1;
 * tab, CR, LF excepted when multiline). */
static int
ref_scan(const unsigned char *s, size_t len, size_t *chars, int *ctl,
    int *ctl_ml)
{
	uint32_t cp;
	size_t	 i, n;

	*chars = 0;
	*ctl = *ctl_ml = 0;
	for (i = 0; i < len; i += n) {
		if ((n = ref_next(s + i, len - i, &cp)) == 0)
			return 0;
		(*chars)++;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			*ctl = 1;
			if (cp != '\t' && cp != '\n' && cp != '\r')
				*ctl_ml = 1;
		}
	}
	return 1;
}

/* Unicode's Bidi_Control property, from the list, not from byte ranges. */
static int
ref_is_bidi(uint32_t cp)
{
	static const uint32_t set[] = { 0x061c, 0x200e, 0x200f, 0x202a, 0x202b,
		0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069 };
	size_t		      i;

	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (cp == set[i])
			return 1;
	return 0;
}

/* Valid UTF-8 s[0..len) without its bidi controls, into out (len + 1
 * bytes); returns the bytes removed. */
static size_t
ref_strip_bidi(const unsigned char *s, size_t len, char *out)
{
	uint32_t cp = 0;
	size_t	 i, n, o = 0;

	for (i = 0; i < len; i += n) {
		n = ref_next(s + i, len - i, &cp);
		if (!ref_is_bidi(cp)) {
			memcpy(out + o, s + i, n);
			o += n;
		}
	}
	out[o] = '\0';
	return len - o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char  *s, *scrubbed, *want;
	size_t chars, i, removed, len;
	int    valid, ctl, ctl_ml;

	/* libFuzzer's buffer is exactly `size` bytes on the heap, so ASan
	 * sees a read the length should have stopped. */
	valid = ref_scan(data, size, &chars, &ctl, &ctl_ml);
	FUZZ_ASSERT(text_utf8_valid((const char *)data, size) == valid);
	if ((s = malloc(size + 1)) == NULL ||
	    (scrubbed = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (valid) {
		FUZZ_ASSERT(text_utf8_chars(s) == chars);
		FUZZ_ASSERT(text_has_controls(s, 0) == ctl);
		FUZZ_ASSERT(text_has_controls(s, 1) == ctl_ml);
	}

	/* Up to the first NUL, as a C string; bytes kept are unchanged. */
	memcpy(scrubbed, s, size + 1);
	text_utf8_scrub(scrubbed);
	FUZZ_ASSERT(strlen(scrubbed) == strlen(s));
	FUZZ_ASSERT(text_utf8_valid(scrubbed, strlen(scrubbed)));
	for (i = 0; scrubbed[i] != '\0'; i++)
		FUZZ_ASSERT(scrubbed[i] == s[i] || scrubbed[i] == '?');
	if (text_utf8_valid(s, strlen(s)))
		FUZZ_ASSERT(strcmp(scrubbed, s) == 0);

	/* Bidi controls: for any bytes, found iff something is removed, and
	 * nothing but removal happens; for valid text, exactly the reference
	 * code points go and the rest stays valid with none left. */
	len = strlen(s);
	memcpy(scrubbed, s, len + 1);
	i = (size_t)text_has_bidi(scrubbed);
	removed = text_strip_bidi(scrubbed);
	FUZZ_ASSERT((removed > 0) == (i == 1));
	FUZZ_ASSERT(strlen(scrubbed) + removed == len);
	if (valid && len == size) {
		if ((want = malloc(size + 1)) == NULL)
			abort();
		FUZZ_ASSERT(ref_strip_bidi(data, size, want) == removed);
		FUZZ_ASSERT(strcmp(scrubbed, want) == 0);
		FUZZ_ASSERT(text_utf8_valid(scrubbed, strlen(scrubbed)));
		FUZZ_ASSERT(!text_has_bidi(scrubbed));
		free(want);
	}
	free(s);
	free(scrubbed);
	return 0;
}
