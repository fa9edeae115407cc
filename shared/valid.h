/* valid: typed getters for JSON body fields. Each returns 0 with the value
 * set, or replies 400 naming the field and returns -1. An absent (or
 * null) optional field returns 0 and leaves *out unchanged, except where
 * said otherwise; a required one is 400 missing_field. */
#ifndef PARLEY_VALID_H
#define PARLEY_VALID_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct http_req;

#define VALID_REQUIRED	0x01
#define VALID_MULTILINE 0x02 /* allow \n \r \t in the string */
#define VALID_RAW	0x04 /* skip the control-character check */
/* A name other people see (display name, group name): bidirectional
 * formatting characters are stripped first (text_strip_bidi()), in the
 * object itself, so *out and the stored value are the cleaned string and
 * the length limits apply to it. */
#define VALID_NAME 0x08

/* A string of minc..maxc code points; one longer than 4 x maxc bytes is
 * refused without counting (no maxc code points take more). *out points
 * into obj and lives as long as it. */
int valid_string(struct http_req *, json_t *obj, const char *field, int flags,
    size_t minc, size_t maxc, const char **out);
/* A positive integer id (JSON number, not a string), at most 2^53 - 1 so
 * JavaScript clients' doubles hold it exactly. */
int valid_id(struct http_req *, json_t *obj, const char *field, int flags,
    int64_t *out);
/* An integer in [min, max]. */
int valid_int(struct http_req *, json_t *obj, const char *field, int flags,
    long long min, long long max, long long *out);
/* An array of distinct positive ids, at most `max` of them; caller frees
 * *out (NULL when the field is absent). */
int valid_id_array(struct http_req *, json_t *obj, const char *field, int flags,
    size_t max, int64_t **out, size_t *n);

#endif
