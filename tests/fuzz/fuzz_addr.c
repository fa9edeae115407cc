/* fuzz_addr: client address -> throttling bucket. Whatever the input, the
 * bucket is a short string of [0-9a-f.:/] (safe inside a throttle key) or
 * "?"; a bucket is its own bucket (an IPv6 one without its "/64"); and
 * every address of an IPv6 /64 lands in the same bucket. */
#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		in[96], out[ADDR_BUCKET_MAX], again[ADDR_BUCKET_MAX];
	char		text[INET6_ADDRSTRLEN], *slash;
	struct in6_addr v6;
	size_t		len, i;
	int		rc;

	len = size < sizeof(in) - 1 ? size : sizeof(in) - 1;
	memcpy(in, data, len);
	in[len] = '\0';
	memset(out, 'x', sizeof(out));
	rc = addr_bucket(in, out);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	FUZZ_ASSERT(memchr(out, '\0', sizeof(out)) != NULL);
	if (rc == -1) {
		FUZZ_ASSERT(strcmp(out, "?") == 0);
		return 0;
	}
	FUZZ_ASSERT(out[0] != '\0');
	FUZZ_ASSERT(strspn(out, "0123456789abcdef.:/") == strlen(out));
	/* Idempotent: the bucket (less "/64") buckets to itself. */
	memcpy(again, out, sizeof(out));
	if ((slash = strchr(again, '/')) != NULL) {
		FUZZ_ASSERT(strcmp(slash, "/64") == 0);
		*slash = '\0';
	}
	{
		char twice[ADDR_BUCKET_MAX];

		FUZZ_ASSERT(addr_bucket(again, twice) == 0);
		FUZZ_ASSERT(strcmp(twice, out) == 0);
	}
	/* Any other interface id in the same /64: the same bucket. */
	if (slash != NULL && strcspn(in, "%") < sizeof(text) &&
	    inet_pton(AF_INET6, again, &v6) == 1) {
		for (i = 8; i < 16; i++)
			v6.s6_addr[i] = (uint8_t)(data[i % size] ^ i);
		if (!IN6_IS_ADDR_V4MAPPED(&v6) &&
		    inet_ntop(AF_INET6, &v6, text, sizeof(text)) != NULL) {
			FUZZ_ASSERT(addr_bucket(text, again) == 0);
			FUZZ_ASSERT(strcmp(again, out) == 0);
		}
	}
	return 0;
}
