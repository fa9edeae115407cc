/* text: UTF-8 checks for client strings (JSON strings are already valid
 * UTF-8 after jansson; query and path values are checked here). */
#ifndef PARLEY_TEXT_H
#define PARLEY_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True if s[0..len) is well-formed UTF-8 without NUL, overlongs, surrogates. */
bool text_utf8_valid(const char *s, size_t len);
/* Replaces, in place, each byte that is not part of a well-formed
 * sequence with '?': any C string becomes valid UTF-8 of the same length
 * (for messages that quote client bytes or were cut short). */
void text_utf8_scrub(char *s);
/* Number of code points in a valid UTF-8 string. */
size_t text_utf8_chars(const char *s);
/* True if the string holds a control character (C0, DEL, C1); newline and tab
 * are allowed when `multiline` is set. */
bool text_has_controls(const char *s, int multiline);
/* True if the string holds a bidirectional formatting character (Unicode's
 * Bidi_Control set: U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069), which can make a name display reordered ("evil" shown
 * as "live"). */
bool text_has_bidi(const char *s);
/* Removes those characters from s in place; returns how many bytes were
 * removed. Other bytes are kept as they are, so valid UTF-8 stays valid. */
size_t text_strip_bidi(char *s);

#endif
