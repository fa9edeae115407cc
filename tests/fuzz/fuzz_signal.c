/* fuzz_signal: signal_clean(), which checks the WebRTC offers, answers and
 * candidates clients relay through calls and rooms. The first byte picks
 * the kind, the rest is the JSON `data`. Whatever it lets through must be
 * within the documented limits and carry only WebRTC's own fields.
 * fuzz-sources: services/calls/calls_signal.c
 */
#include <string.h>

#include "calls/calls.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = { "offer", "answer", "candidate",
		"bogus" };
	const char		*kind, *key;
	char			 err[160];
	json_t			*in, *out, *v;
	size_t			 len;

	if (size < 1)
		return 0;
	kind = kinds[data[0] % 4];
	if ((in = json_loadb((const char *)data + 1, size - 1,
		 JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)) == NULL)
		return 0;
	err[0] = '\0';
	out = signal_clean(kind, in, err, sizeof(err));
	if (out == NULL) {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
	} else {
		FUZZ_ASSERT(json_is_object(out));
		FUZZ_ASSERT(strcmp(kind, "bogus") != 0);
		if (strcmp(kind, "candidate") == 0) {
			len = json_dumpb(out, NULL, 0, JSON_COMPACT);
			FUZZ_ASSERT(len <= CANDIDATE_MAX_BYTES);
			FUZZ_ASSERT(
			    json_is_string(json_object_get(out, "candidate")));
			json_object_foreach(out, key, v)
			    FUZZ_ASSERT(strcmp(key, "candidate") == 0 ||
				strcmp(key, "sdpMid") == 0 ||
				strcmp(key, "sdpMLineIndex") == 0 ||
				strcmp(key, "usernameFragment") == 0);
		} else {
			FUZZ_ASSERT(json_object_size(out) == 2);
			FUZZ_ASSERT(strcmp(json_string_value(
					       json_object_get(out, "type")),
					kind) == 0);
			v = json_object_get(out, "sdp");
			FUZZ_ASSERT(json_is_string(v));
			len = json_string_length(v);
			FUZZ_ASSERT(len >= 1 && len <= SDP_MAX_BYTES);
			FUZZ_ASSERT(strlen(json_string_value(v)) == len);
		}
		json_decref(out);
	}
	json_decref(in);
	return 0;
}
