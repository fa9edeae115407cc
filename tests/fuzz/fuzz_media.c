/* fuzz_media: the container walks that read an audio or video upload's
 * duration (MP4, WebM, Ogg) on arbitrary bytes. Invariants: every read
 * stays inside the buffer (ASan: the input is copied to a buffer of its
 * exact size), the answer is -1 or a finite number of seconds from 0 to
 * 100 days, and the same bytes give the same answer.
 * Input: byte 0 picks the container; the rest is the file.
 * fuzz-sources: services/uploads/media_probe.c
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "uploads/media_probe.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const mimes[] = { "audio/mp4", "video/mp4",
		"audio/webm", "video/webm", "audio/ogg", "video/ogg",
		"audio/mpeg" };
	const char		*mime;
	uint8_t			*buf;
	double			 d, again;

	if (size < 1)
		return 0;
	mime = mimes[data[0] % (sizeof(mimes) / sizeof(mimes[0]))];
	if ((buf = malloc(size - 1 > 0 ? size - 1 : 1)) == NULL)
		abort();
	memcpy(buf, data + 1, size - 1);
	d = media_duration(mime, buf, size - 1);
	FUZZ_ASSERT(d == -1 || (isfinite(d) && d >= 0 && d < 100.0 * 86400));
	again = media_duration(mime, buf, size - 1);
	FUZZ_ASSERT(memcmp(&d, &again, sizeof(d)) == 0);
	free(buf);
	return 0;
}
