/* test_text: the strict UTF-8 validator, code point counting and control
 * characters, on the byte sequences RFC 3629 singles out. */
#include <stdio.h>

#include "text.h"
#include "unit.h"

struct utf8_row {
	const char *name;
	const char *s;
	size_t	    len;
	int	    want;
};

/* Lengths are explicit so rows can hold NUL and cut sequences short. */
#define ROW(name, lit, want)                                                   \
	{                                                                      \
		name, lit, sizeof(lit) - 1, want                               \
	}

static const struct utf8_row utf8_rows[] = {
	ROW("empty", "", 1),
	ROW("ascii", "hello, world ~", 1),
	ROW("two_byte_min", "\xc2\x80", 1), /* U+0080 */
	ROW("two_byte_max", "\xdf\xbf", 1), /* U+07FF */
	ROW("two_byte_word", "caf\xc3\xa9", 1),
	ROW("three_byte_min", "\xe0\xa0\x80", 1), /* U+0800 */
	ROW("three_byte_euro", "\xe2\x82\xac", 1),
	ROW("three_byte_before_surrogates", "\xed\x9f\xbf", 1), /* U+D7FF */
	ROW("three_byte_after_surrogates", "\xee\x80\x80", 1),	/* U+E000 */
	ROW("three_byte_max", "\xef\xbf\xbf", 1),		/* U+FFFF */
	ROW("four_byte_min", "\xf0\x90\x80\x80", 1),		/* U+10000 */
	ROW("four_byte_emoji", "\xf0\x9f\x98\x80", 1),
	ROW("four_byte_max", "\xf4\x8f\xbf\xbf", 1), /* U+10FFFF */
	ROW("mixed", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 1),
	ROW("nul", "a\0b", 0),
	ROW("nul_alone", "\0", 0),
	ROW("overlong_c0_80", "\xc0\x80", 0),
	ROW("overlong_c1_bf", "\xc1\xbf", 0),
	ROW("overlong_e0_80_80", "\xe0\x80\x80", 0),
	ROW("overlong_e0_9f_bf", "\xe0\x9f\xbf", 0),
	ROW("overlong_f0_80_80_80", "\xf0\x80\x80\x80", 0),
	ROW("overlong_f0_8f_bf_bf", "\xf0\x8f\xbf\xbf", 0),
	ROW("surrogate_ed_a0_80", "\xed\xa0\x80", 0), /* U+D800 */
	ROW("surrogate_ed_bf_bf", "\xed\xbf\xbf", 0), /* U+DFFF */
	ROW("above_max_f4_90_80_80", "\xf4\x90\x80\x80", 0),
	ROW("lead_f5", "\xf5\x80\x80\x80", 0),
	ROW("lead_ff", "\xff", 0),
	ROW("lone_continuation", "\x80", 0),
	ROW("continuation_after_ascii", "a\xbf", 0),
	ROW("truncated_two", "\xc3", 0),
	ROW("truncated_three", "\xe2\x82", 0),
	ROW("truncated_four", "\xf0\x9f\x98", 0),
	ROW("truncated_at_end", "ok\xe2\x82", 0),
	ROW("ascii_inside_sequence", "\xe2\x41\xac", 0),
	ROW("bad_third_byte", "\xe2\x82\xc0", 0),
	ROW("bad_fourth_byte", "\xf0\x9f\x98\x41", 0),
};

static const char *t_utf8_len_limits(void);
static const char *t_utf8_chars(void);
static const char *t_controls_c0_del(void);
static const char *t_controls_c1(void);
static const char *t_controls_multiline(void);
static const char *t_scrub(void);
static const char *t_bidi(void);
static int	   scrubs_to(const char *, const char *);
static int	   strips_to(const char *, const char *, size_t);

/* The length bounds the check: bytes past it are never looked at. */
static const char *
t_utf8_len_limits(void)
{
	CHECK(text_utf8_valid("ab\xff", 2));
	CHECK(!text_utf8_valid("\xe2\x82\xac", 2));
	CHECK(text_utf8_valid("\xe2\x82\xac\0", 3));
	return NULL;
}

static const char *
t_utf8_chars(void)
{
	CHECK_EQ(text_utf8_chars(""), 0);
	CHECK_EQ(text_utf8_chars("abc"), 3);
	CHECK_EQ(text_utf8_chars("caf\xc3\xa9"), 4);
	CHECK_EQ(text_utf8_chars("\xe2\x82\xac\xe2\x82\xac"), 2);
	CHECK_EQ(text_utf8_chars("\xf0\x9f\x98\x80!"), 2);
	CHECK_EQ(text_utf8_chars("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"), 5);
	return NULL;
}

static const char *
t_controls_c0_del(void)
{
	CHECK(!text_has_controls("", 0));
	CHECK(!text_has_controls("plain text, caf\xc3\xa9 \xe2\x82\xac", 0));
	CHECK(text_has_controls("a\x01"
				"b",
	    0));
	CHECK(text_has_controls("\x1f", 0));
	CHECK(text_has_controls("\x1b[31m", 0));
	CHECK(text_has_controls("del\x7f", 0));
	CHECK(text_has_controls("del\x7f", 1));
	CHECK(text_has_controls("a\x01", 1));
	CHECK(!text_has_controls(" ~", 0));
	return NULL;
}

static const char *
t_controls_c1(void)
{
	CHECK(text_has_controls("\xc2\x80", 0));   /* U+0080 */
	CHECK(text_has_controls("x\xc2\x85y", 0)); /* NEL */
	CHECK(text_has_controls("\xc2\x9f", 0));   /* U+009F */
	CHECK(text_has_controls("\xc2\x9b", 1));   /* CSI, even multiline */
	CHECK(!text_has_controls("\xc2\xa0", 0));  /* NBSP is printable */
	CHECK(!text_has_controls("\xc3\x80", 0));  /* A grave */
	CHECK(!text_has_controls("\xe2\x80\x8b", 0));
	return NULL;
}

static const char *
t_controls_multiline(void)
{
	CHECK(text_has_controls("a\nb", 0));
	CHECK(text_has_controls("a\tb", 0));
	CHECK(text_has_controls("a\r\nb", 0));
	CHECK(!text_has_controls("a\nb", 1));
	CHECK(!text_has_controls("a\tb", 1));
	CHECK(!text_has_controls("a\r\nb", 1));
	CHECK(text_has_controls("a\n\x0b", 1));
	return NULL;
}

/* Scrubs a copy of `in` and compares with `want`. */
static int
scrubs_to(const char *in, const char *want)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", in);
	text_utf8_scrub(buf);
	return strcmp(buf, want) == 0;
}

static const char *
t_scrub(void)
{
	CHECK(scrubs_to("", ""));
	CHECK(scrubs_to("plain", "plain"));
	CHECK(scrubs_to("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
	CHECK(scrubs_to("a\xff"
			"b",
	    "a?b"));
	/* A sequence cut short at the end, as by a truncating snprintf. */
	CHECK(scrubs_to("end \xe2\x82", "end ??"));
	CHECK(scrubs_to("\xc0\x80", "??"));
	CHECK(scrubs_to("\xed\xa0\x80x", "???x"));
	CHECK(scrubs_to("\xf4\x90\x80\x80", "????"));
	/* A bad byte does not swallow the good character after it. */
	CHECK(scrubs_to("\xe2\xc3\xa9", "?\xc3\xa9"));
	return NULL;
}

/* Strips a copy of `in`: the result is `want`, `removed` bytes fewer. */
static int
strips_to(const char *in, const char *want, size_t removed)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", in);
	if (text_has_bidi(buf) != (removed > 0))
		return 0;
	return text_strip_bidi(buf) == removed && strcmp(buf, want) == 0 &&
	    !text_has_bidi(buf);
}

/* Each of the 12 Bidi_Control characters goes; their neighbours in the
 * same blocks, and text that merely looks alike, stay. */
static const char *
t_bidi(void)
{
	CHECK(strips_to("", "", 0));
	CHECK(strips_to("plain caf\xc3\xa9", "plain caf\xc3\xa9", 0));
	/* "evil" written as U+202E "live": shown as "evil" reversed. */
	CHECK(strips_to("\xe2\x80\xae"
			"live",
	    "live", 3));
	CHECK(strips_to("a\xd8\x9c"
			"b",
	    "ab", 2));					     /* U+061C */
	CHECK(strips_to("\xe2\x80\x8e\xe2\x80\x8f", "", 6)); /* LRM RLM */
	CHECK(strips_to("\xe2\x80\xaa"
			"1\xe2\x80\xab"
			"2\xe2\x80\xac"
			"3\xe2\x80\xad"
			"4\xe2\x80\xae",
	    "1234", 15)); /* 202A-E */
	CHECK(strips_to("\xe2\x81\xa6"
			"x\xe2\x81\xa7\xe2\x81\xa8"
			"y\xe2\x81\xa9",
	    "xy", 12)); /* 2066-9 */
	/* Neighbours: U+200D ZWJ (emoji), U+2029, U+202F, U+2065 and
	 * U+206A, U+061B (Arabic semicolon), U+061D. */
	CHECK(strips_to("\xe2\x80\x8d\xe2\x80\xa9\xe2\x80\xaf",
	    "\xe2\x80\x8d\xe2\x80\xa9\xe2\x80\xaf", 0));
	CHECK(strips_to("\xe2\x81\xa5\xe2\x81\xaa\xd8\x9b\xd8\x9d",
	    "\xe2\x81\xa5\xe2\x81\xaa\xd8\x9b\xd8\x9d", 0));
	/* Arabic and Hebrew letters themselves are text, not controls. */
	CHECK(strips_to("\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85 \xd7\xa9",
	    "\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85 \xd7\xa9", 0));
	/* A lead byte cut short at the end is left alone, not overrun. */
	CHECK(strips_to("x\xe2\x80", "x\xe2\x80", 0));
	CHECK(strips_to("x\xe2", "x\xe2", 0));
	CHECK(strips_to("x\xd8", "x\xd8", 0));
	return NULL;
}

void
test_text(void)
{
	char   name[96];
	size_t i;
	int    got;

	for (i = 0; i < sizeof(utf8_rows) / sizeof(utf8_rows[0]); i++) {
		const struct utf8_row *row = &utf8_rows[i];

		snprintf(name, sizeof(name), "text_utf8_valid/%s", row->name);
		got = text_utf8_valid(row->s, row->len);
		unit_result(name,
		    got == row->want ? NULL :
			got	     ? "accepted, want refused" :
				       "refused, want accepted");
	}
	unit_run("text_utf8_valid/length_bounds", t_utf8_len_limits);
	unit_run("text_utf8_chars", t_utf8_chars);
	unit_run("text_has_controls/c0_and_del", t_controls_c0_del);
	unit_run("text_has_controls/c1", t_controls_c1);
	unit_run("text_has_controls/multiline", t_controls_multiline);
	unit_run("text_utf8_scrub", t_scrub);
	unit_run("text_strip_bidi", t_bidi);
}
