/* gw_frame: client frames and handshake headers -> plain values. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "gw_frame.h"

#define PROTOCOL     "parley"
#define TOKEN_PREFIX "token."

static bool only_keys(json_t *, const char *, const char *);
static int  cursor(json_t *, int null_ok, int64_t *);

/* True when every key of `o` is one of the (up to two) names given. */
static bool
only_keys(json_t *o, const char *a, const char *b)
{
	const char *k;
	json_t	   *v;

	json_object_foreach(o, k, v)
	{
		(void)v;
		if (strcmp(k, a) != 0 && (b == NULL || strcmp(k, b) != 0))
			return 0;
	}
	return 1;
}

/* A seq: a non-negative integer (or null, as -1, when allowed). */
static int
cursor(json_t *v, int null_ok, int64_t *out)
{
	if (null_ok && json_is_null(v)) {
		*out = -1;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

int
gw_frame_parse(const void *data, size_t len, size_t max, enum gw_expect want,
    struct gw_frame *f, int *close_code, const char **code,
    const char **message)
{
	json_t	    *o, *t, *s;
	json_error_t err;
	int	     rc = -1;

	memset(f, 0, sizeof(*f));
	f->since = f->ack = -1;
	*close_code = 4400;
	*code = "bad_frame";
	if (len > max) {
		*close_code = 1009;
		*code = "frame_too_large";
		*message =
		    "Frames are limited in size (PARLEY_GATEWAY_MAX_FRAME).";
		return -1;
	}
	/* No NUL inside: jansson would refuse it anyway, say so plainly. */
	o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
	if (o == NULL || !json_is_object(o)) {
		*message = "A frame is one JSON object.";
		goto out;
	}
	t = json_object_get(o, "token");
	s = json_object_get(o, "since");
	switch (want) {
	case GW_EXPECT_TOKEN:
		if (!only_keys(o, "token", "since") || !json_is_string(t) ||
		    json_string_length(t) > GW_TOKEN_MAX) {
			*message =
			    "The first frame is {\"token\": …, \"since\": N}.";
			goto out;
		}
		snprintf(f->token, sizeof(f->token), "%s",
		    json_string_value(t));
		if (s != NULL) {
			if (cursor(s, 1, &f->since) == -1) {
				*message =
				    "since is a non-negative integer or null.";
				goto out;
			}
			f->has_since = 1;
		}
		break;
	case GW_EXPECT_SINCE:
		if (!only_keys(o, "since", NULL) || s == NULL) {
			*message =
			    "Subscribe first: {\"since\": N} (or null for "
			    "the head).";
			goto out;
		}
		if (cursor(s, 1, &f->since) == -1) {
			*message = "since is a non-negative integer or null.";
			goto out;
		}
		f->has_since = 1;
		break;
	case GW_EXPECT_ACK:
		if (!only_keys(o, "ack", NULL) ||
		    cursor(json_object_get(o, "ack"), 0, &f->ack) == -1) {
			*message = "After subscribing a client sends only "
				   "{\"ack\": seq}.";
			goto out;
		}
		break;
	}
	rc = 0;
	*close_code = 0;
	*code = NULL;
	*message = NULL;
out:
	json_decref(o);
	return rc;
}

int
gw_protocol_parse(const char *header, char *token, size_t size)
{
	const char *p, *end;
	size_t	    n, plen = sizeof(TOKEN_PREFIX) - 1;
	int	    offered = 0, found = 0;

	token[0] = '\0';
	for (p = header; *p != '\0'; p = *end ? end + 1 : end) {
		p += strspn(p, " \t");
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == sizeof(PROTOCOL) - 1 && memcmp(p, PROTOCOL, n) == 0)
			offered = 1;
		else if (n >= plen && memcmp(p, TOKEN_PREFIX, plen) == 0) {
			/* Too long (or empty) is no token of ours, but still a
			 * credential offered: "" is refused, as a wrong one. */
			token[0] = '\0';
			if (n - plen < size && n - plen <= GW_TOKEN_MAX) {
				memcpy(token, p + plen, n - plen);
				token[n - plen] = '\0';
			}
			found = 1;
		}
	}
	if (!offered) {
		token[0] = '\0';
		return -1;
	}
	return found;
}

bool
gw_origin_listed(const char *list, const char *origin)
{
	const char *p, *end;
	size_t	    n = strlen(origin);

	if (n == 0)
		return 0;
	for (p = list; *p != '\0'; p = end) {
		p += strspn(p, " ,");
		end = p + strcspn(p, " ,");
		if ((size_t)(end - p) == n && strncasecmp(p, origin, n) == 0)
			return 1;
	}
	return 0;
}
