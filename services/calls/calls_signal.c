/* calls_signal: checks a WebRTC signal before it is relayed. The other
 * party's browser hands it to RTCPeerConnection, so only the fields WebRTC
 * defines go through, each within its limit: an offer or answer is
 * {"type","sdp"} (RTCSessionDescriptionInit), a candidate is
 * {"candidate","sdpMid","sdpMLineIndex","usernameFragment"}
 * (RTCIceCandidateInit). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "calls.h"

static int opt_string(json_t *, const char *, size_t, json_t *, char *, size_t);
static bool no_controls(const char *, size_t);

static bool
no_controls(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Copies an optional string-or-null field of at most max bytes. */
static int
opt_string(json_t *data, const char *field, size_t max, json_t *out, char *err,
    size_t errlen)
{
	json_t *v = json_object_get(data, field);

	if (v == NULL || json_is_null(v)) {
		if (v != NULL)
			json_object_set_new(out, field, json_null());
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) > max ||
	    !no_controls(json_string_value(v), json_string_length(v))) {
		snprintf(err, errlen,
		    "The field 'data.%s' must be a string of "
		    "at most %zu bytes without control characters.",
		    field, max);
		return -1;
	}
	json_object_set(out, field, v);
	return 0;
}

json_t *
signal_clean(const char *kind, json_t *data, char *err, size_t errlen)
{
	json_t	   *out, *v;
	const char *type;
	size_t	    len;
	json_int_t  idx;

	if (!json_is_object(data)) {
		snprintf(err, errlen, "The field 'data' must be an object.");
		return NULL;
	}
	if (strcmp(kind, "offer") == 0 || strcmp(kind, "answer") == 0) {
		v = json_object_get(data, "type");
		type = json_string_value(v);
		if (v != NULL && (type == NULL || strcmp(type, kind) != 0)) {
			snprintf(err, errlen,
			    "The field 'data.type' must be "
			    "'%s' for this kind.",
			    kind);
			return NULL;
		}
		v = json_object_get(data, "sdp");
		len = json_string_length(v);
		/* SDP lines end in CRLF; no other control characters. */
		if (!json_is_string(v) || len == 0 || len > SDP_MAX_BYTES ||
		    strlen(json_string_value(v)) != len) {
			snprintf(err, errlen,
			    "The field 'data.sdp' must be a "
			    "session description of 1 to %d bytes.",
			    SDP_MAX_BYTES);
			return NULL;
		}
		return json_pack("{s:s,s:O}", "type", kind, "sdp", v);
	}
	if (strcmp(kind, "candidate") != 0) {
		snprintf(err, errlen,
		    "The field 'kind' must be offer, answer "
		    "or candidate.");
		return NULL;
	}
	out = json_object();
	v = json_object_get(data, "candidate");
	if (!json_is_string(v)) {
		snprintf(err, errlen,
		    "The field 'data.candidate' must be a "
		    "string (empty for the end of candidates).");
		goto fail;
	}
	if (opt_string(data, "candidate", CANDIDATE_MAX_BYTES, out, err,
		errlen) == -1 ||
	    opt_string(data, "sdpMid", 64, out, err, errlen) == -1 ||
	    opt_string(data, "usernameFragment", 256, out, err, errlen) == -1)
		goto fail;
	v = json_object_get(data, "sdpMLineIndex");
	if (v != NULL && !json_is_null(v)) {
		idx = json_integer_value(v);
		if (!json_is_integer(v) || idx < 0 || idx > 65535) {
			snprintf(err, errlen,
			    "The field 'data.sdpMLineIndex' "
			    "must be an integer from 0 to 65535.");
			goto fail;
		}
	}
	if (v != NULL)
		json_object_set(out, "sdpMLineIndex", v);
	if ((len = json_dumpb(out, NULL, 0, JSON_COMPACT)) >
	    CANDIDATE_MAX_BYTES) {
		snprintf(err, errlen,
		    "A candidate must be at most %d bytes as "
		    "JSON.",
		    CANDIDATE_MAX_BYTES);
		goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}
