/* valid: JSON field validation. jansson has already checked UTF-8; this
 * checks presence, type, length in code points and control characters,
 * and strips bidi controls from names. */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "text.h"
#include "valid.h"

static json_t *field_get(struct http_req *, json_t *, const char *, int, int *);

/* Returns the value, or NULL with *failed set when a required one is
 * missing (a reply was sent) or clear when it is merely absent. */
static json_t *
field_get(struct http_req *r, json_t *obj, const char *field, int flags,
    int *failed)
{
	json_t *v = json_object_get(obj, field);

	*failed = 0;
	if (v != NULL && !json_is_null(v))
		return v;
	if (flags & VALID_REQUIRED) {
		http_error(r, 400, "missing_field",
		    "The field '%s' is required.", field);
		*failed = 1;
	}
	return NULL;
}

int
valid_string(struct http_req *r, json_t *obj, const char *field, int flags,
    size_t minc, size_t maxc, const char **out)
{
	json_t	   *v;
	const char *s;
	char	   *copy;
	size_t	    chars;
	int	    failed;

	if ((v = field_get(r, obj, field, flags, &failed)) == NULL)
		return failed ? -1 : 0;
	if (!json_is_string(v)) {
		http_error(r, 400, "invalid_field",
		    "The field '%s' must be a "
		    "string.",
		    field);
		return -1;
	}
	s = json_string_value(v);
	if ((flags & VALID_NAME) && text_has_bidi(s)) {
		if ((copy = strdup(s)) == NULL)
			log_fatal("strdup: out of memory");
		text_strip_bidi(copy);
		/* The object owns the cleaned string from now on (and drops
		 * the old one): the caller reads it for as long as obj. */
		/* Whole code points went: still the valid UTF-8 it was. */
		v = json_string_nocheck(copy);
		free(copy);
		if (v == NULL || json_object_set_new(obj, field, v) == -1)
			log_fatal("json_object_set_new: out of memory");
		s = json_string_value(v);
	}
	chars =
	    json_string_length(v) > maxc * 4 ? maxc + 1 : text_utf8_chars(s);
	if (chars < minc || chars > maxc) {
		http_error(r, 400, "invalid_field",
		    "The field '%s' must be "
		    "%zu to %zu characters long.",
		    field, minc, maxc);
		return -1;
	}
	if (!(flags & VALID_RAW) &&
	    text_has_controls(s, flags & VALID_MULTILINE)) {
		http_error(r, 400, "invalid_field",
		    "The field '%s' contains "
		    "control characters.",
		    field);
		return -1;
	}
	*out = s;
	return 0;
}

int
valid_int(struct http_req *r, json_t *obj, const char *field, int flags,
    long long min, long long max, long long *out)
{
	json_t	  *v;
	json_int_t n;
	int	   failed;

	if ((v = field_get(r, obj, field, flags, &failed)) == NULL)
		return failed ? -1 : 0;
	if (!json_is_integer(v) || (n = json_integer_value(v)) < min ||
	    n > max) {
		http_error(r, 400, "invalid_field",
		    "The field '%s' must be an "
		    "integer from %lld to %lld.",
		    field, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

int
valid_id(struct http_req *r, json_t *obj, const char *field, int flags,
    int64_t *out)
{
	long long v = 0;

	/* 2^53: ids must survive JavaScript clients' doubles. An absent
	 * optional field leaves v at 0, which no id is. */
	if (valid_int(r, obj, field, flags, 1, 9007199254740991LL, &v) == -1)
		return -1;
	if (v != 0)
		*out = v;
	return 0;
}

int
valid_id_array(struct http_req *r, json_t *obj, const char *field, int flags,
    size_t max, int64_t **out, size_t *n)
{
	json_t	*v, *e;
	int64_t *ids;
	size_t	 i, j;
	int	 failed;

	*out = NULL;
	*n = 0;
	if ((v = field_get(r, obj, field, flags, &failed)) == NULL)
		return failed ? -1 : 0;
	if (!json_is_array(v) || json_array_size(v) > max) {
		http_error(r, 400, "invalid_field",
		    "The field '%s' must be an "
		    "array of at most %zu user ids.",
		    field, max);
		return -1;
	}
	if ((ids = calloc(json_array_size(v) + 1, sizeof(*ids))) == NULL)
		log_fatal("calloc: out of memory");
	json_array_foreach(v, i, e)
	{
		if (!json_is_integer(e) || json_integer_value(e) < 1 ||
		    json_integer_value(e) > 9007199254740991LL) {
			free(ids);
			http_error(r, 400, "invalid_field",
			    "The field '%s' "
			    "must hold positive integer ids.",
			    field);
			return -1;
		}
		ids[i] = json_integer_value(e);
		for (j = 0; j < i; j++)
			if (ids[j] == ids[i]) {
				free(ids);
				http_error(r, 400, "invalid_field",
				    "The field "
				    "'%s' lists an id twice.",
				    field);
				return -1;
			}
	}
	*out = ids;
	*n = json_array_size(v);
	return 0;
}
