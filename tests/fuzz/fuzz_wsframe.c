/* fuzz_wsframe: the WebSocket gateway's parsers of client input: frames
 * (gw_frame_parse), the Sec-WebSocket-Protocol header and the Origin
 * list. The first byte picks the parser and, for frames, what the socket
 * expects; the rest is the input.
 * fuzz-sources: services/gateway/gw_frame.c
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gateway/gw_frame.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_frame f;
	const char     *code, *message;
	char		token[GW_TOKEN_MAX + 1], *s;
	int		rc;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
	case 1:
	case 2:
		if (gw_frame_parse(data + 1, size - 1, 4096,
			(enum gw_expect)(data[0] % 5), &f, &rc, &code,
			&message) == -1) {
			FUZZ_ASSERT(rc == 4400 || rc == 1009);
			FUZZ_ASSERT(code != NULL && message != NULL);
			break;
		}
		FUZZ_ASSERT(size - 1 <= 4096);
		FUZZ_ASSERT(strlen(f.token) <= GW_TOKEN_MAX);
		FUZZ_ASSERT(f.since >= -1 && f.ack >= -1);
		if (data[0] % 5 == GW_EXPECT_ACK)
			FUZZ_ASSERT(f.ack >= 0 && !f.has_since);
		else
			FUZZ_ASSERT(f.ack == -1);
		if (data[0] % 5 == GW_EXPECT_SINCE)
			FUZZ_ASSERT(f.has_since && f.token[0] == '\0');
		break;
	case 3:
		if ((s = malloc(size)) == NULL)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		rc = gw_protocol_parse(s, token, sizeof(token));
		FUZZ_ASSERT(rc >= -1 && rc <= 1);
		FUZZ_ASSERT(strlen(token) <= GW_TOKEN_MAX);
		FUZZ_ASSERT(rc == 1 || token[0] == '\0');
		FUZZ_ASSERT(rc != 1 || strstr(s, token) != NULL);
		free(s);
		break;
	case 4:
		if ((s = malloc(size)) == NULL)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		/* The list against itself and against its first entry. */
		(void)gw_origin_listed(s, s);
		FUZZ_ASSERT(!gw_origin_listed(s, ""));
		free(s);
		break;
	}
	return 0;
}
