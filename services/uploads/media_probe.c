/* media_probe: the duration of an audio or video upload, read from its
 * container without decoding anything: MP4's movie header (mvhd), WebM's
 * Segment Info Duration or, when a recorder wrote none (MediaRecorder
 * streams), the time of its last block, and Ogg's last granule position
 * (Opus and Vorbis). Bounded walks over a buffer, no allocation; a
 * container it cannot read has no duration (-1). Pure (fuzzed). */
#include <string.h>

#include "media_probe.h"

#define MAX_ELEMENTS 1000000 /* a bound on any walk */

static double	mp4(const uint8_t *, size_t);
static double	webm(const uint8_t *, size_t);
static double	ogg(const uint8_t *, size_t);
static uint64_t be(const uint8_t *, size_t);
static uint64_t le(const uint8_t *, size_t);
static int	vint(const uint8_t *, size_t, int, uint64_t *, size_t *, int *);

static uint64_t
be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t	 i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t
le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t	 i;

	for (i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

/* MP4: top-level boxes, into moov, to mvhd. */
static double
mp4(const uint8_t *b, size_t len)
{
	size_t	 off = 0, end = len, n = 0;
	uint64_t size, ts, dur;
	size_t	 hdr;

	while (off + 8 <= end && n++ < MAX_ELEMENTS) {
		size = be(b + off, 4);
		hdr = 8;
		if (size == 1) {
			if (off + 16 > end)
				return -1;
			size = be(b + off + 8, 8);
			hdr = 16;
		} else if (size == 0)
			size = end - off;
		if (size < hdr || size > end - off)
			return -1;
		if (memcmp(b + off + 4, "moov", 4) == 0) {
			end = off + (size_t)size; /* only inside moov now */
			off += hdr;
			continue;
		}
		if (memcmp(b + off + 4, "mvhd", 4) == 0) {
			const uint8_t *m = b + off + hdr;
			size_t	       ml = (size_t)size - hdr;

			if (ml >= 20 && m[0] == 0) {
				ts = be(m + 12, 4);
				dur = be(m + 16, 4);
			} else if (ml >= 32 && m[0] == 1) {
				ts = be(m + 20, 4);
				dur = be(m + 24, 8);
			} else
				return -1;
			if (ts == 0 || dur == UINT64_MAX || dur == 0xffffffffu)
				return -1;
			return (double)dur / (double)ts;
		}
		off += (size_t)size;
	}
	return -1;
}

/* An EBML variable-length integer at b[0..len): its length in *n, the
 * value with the length marker removed (`strip`) or kept (ids). */
static int
vint(const uint8_t *b, size_t len, int strip, uint64_t *v, size_t *n,
    int *unknown)
{
	size_t	 l, i;
	uint64_t x;

	if (len == 0 || b[0] == 0)
		return -1;
	for (l = 1; !(b[0] & (0x80 >> (l - 1))); l++)
		;
	if (l > 8 || l > len)
		return -1;
	x = strip ? (uint64_t)(b[0] & (0xff >> l)) : b[0];
	for (i = 1; i < l; i++)
		x = x << 8 | b[i];
	*n = l;
	*v = x;
	if (unknown != NULL)
		*unknown = strip && x == ((uint64_t)1 << (7 * l)) - 1;
	return 0;
}

#define EBML_SEGMENT	 0x18538067
#define EBML_INFO	 0x1549A966
#define EBML_SCALE	 0x2AD7B1
#define EBML_DURATION	 0x4489
#define EBML_CLUSTER	 0x1F43B675
#define EBML_TIMECODE	 0xE7
#define EBML_SIMPLEBLOCK 0xA3
#define EBML_BLOCKGROUP	 0xA0
#define EBML_BLOCK	 0xA1

/* WebM: elements in order; the masters that matter are entered whatever
 * their size says (a recorder writes Segment and Cluster with an unknown
 * size), everything else is skipped by its size. */
static double
webm(const uint8_t *b, size_t len)
{
	size_t	 off = 0, n, count = 0;
	uint64_t id, size, scale = 1000000, cluster = 0, last = 0;
	double	 duration = -1;
	int	 unknown, blocks = 0, in_info = 0, in_cluster = 0;
	union {
		uint64_t u;
		double	 d;
	} u8;
	union {
		uint32_t u;
		float	 f;
	} u4;

	while (off < len && count++ < MAX_ELEMENTS) {
		if (vint(b + off, len - off, 0, &id, &n, NULL) == -1)
			break;
		off += n;
		if (vint(b + off, len - off, 1, &size, &n, &unknown) == -1)
			break;
		off += n;
		/* Enter these; what is read only counts where it belongs
		 * (Info's fields in Info, blocks in a Cluster). */
		if (id == EBML_INFO) {
			in_info = 1;
			in_cluster = 0;
			continue;
		}
		if (id == EBML_CLUSTER) {
			in_cluster = 1;
			in_info = 0;
			continue;
		}
		if (id == EBML_SEGMENT || id == EBML_BLOCKGROUP)
			continue;
		if (unknown || size > len - off)
			break;
		if (in_info && id == EBML_SCALE && size >= 1 && size <= 8)
			scale = be(b + off, (size_t)size);
		else if (in_info && id == EBML_DURATION && size == 8) {
			u8.u = be(b + off, 8);
			duration = u8.d;
		} else if (in_info && id == EBML_DURATION && size == 4) {
			u4.u = (uint32_t)be(b + off, 4);
			duration = u4.f;
		} else if (in_cluster && id == EBML_TIMECODE && size >= 1 &&
		    size <= 8)
			cluster = be(b + off, (size_t)size);
		else if (in_cluster &&
		    (id == EBML_SIMPLEBLOCK || id == EBML_BLOCK) && size >= 4) {
			uint64_t track;
			size_t	 tn;
			int16_t	 rel;

			if (vint(b + off, (size_t)size, 1, &track, &tn, NULL) ==
				0 &&
			    tn + 2 <= size) {
				rel = (int16_t)be(b + off + tn, 2);
				if (rel >= 0 || cluster >= (uint64_t)-rel) {
					if (cluster + (uint64_t)(int64_t)rel >
					    last)
						last = cluster +
						    (uint64_t)(int64_t)rel;
					blocks = 1;
				}
			}
		}
		off += (size_t)size;
	}
	if (scale == 0 || scale > 1000000000)
		return -1;
	if (duration >= 0 && duration < 1e15)
		return duration * (double)scale / 1e9;
	return blocks ? (double)last * (double)scale / 1e9 : -1;
}

/* Ogg: the codec from the first page's packet, the end from the last
 * page's granule position. */
static double
ogg(const uint8_t *b, size_t len)
{
	const uint8_t *p;
	size_t	       segs, i;
	uint64_t       granule = 0, rate = 0, skip = 0;
	int	       found = 0;

	if (len < 27 + 1 || memcmp(b, "OggS", 4) != 0)
		return -1;
	segs = b[26];
	if (27 + segs + 19 > len)
		return -1;
	p = b + 27 + segs;
	if (memcmp(p, "OpusHead", 8) == 0) {
		rate = 48000;
		skip = le(p + 10, 2);
	} else if (p[0] == 1 && memcmp(p + 1, "vorbis", 6) == 0 &&
	    27 + segs + 16 <= len)
		rate = le(p + 12, 4);
	if (rate == 0)
		return -1;
	/* The last page: scan back for its capture pattern. */
	for (i = len - 27 + 1; i > 0; i--) {
		if (memcmp(b + i - 1, "OggS", 4) == 0 && b[i - 1 + 4] == 0) {
			granule = le(b + i - 1 + 6, 8);
			found = 1;
			break;
		}
		if (len - i > (1 << 17))
			break; /* pages are at most 64 KiB */
	}
	if (!found || granule == UINT64_MAX || granule < skip)
		return -1;
	return (double)(granule - skip) / (double)rate;
}

double
media_duration(const char *mime, const uint8_t *buf, size_t len)
{
	double d = -1;

	if (strcmp(mime, "audio/mp4") == 0 || strcmp(mime, "video/mp4") == 0)
		d = mp4(buf, len);
	else if (strcmp(mime, "audio/webm") == 0 ||
	    strcmp(mime, "video/webm") == 0)
		d = webm(buf, len);
	else if (strcmp(mime, "audio/ogg") == 0 ||
	    strcmp(mime, "video/ogg") == 0)
		d = ogg(buf, len);
	/* NaN fails both comparisons. */
	if (!(d >= 0 && d < 100.0 * 86400))
		return -1;
	return d;
}
