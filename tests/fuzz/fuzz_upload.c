/* fuzz_upload: what the uploads service decides from client bytes besides
 * the form: the sniffed type (libmagic on the bytes) and whether it is
 * allowed, the file name it stores and shows, and the page an iframe
 * reads. Invariants: only listed types pass, each with its kind and a
 * type/subtype; a cleaned name is 1-255 bytes of valid UTF-8 without
 * '/', '\', control or bidi characters; the iframe page holds no '<' or
 * '>' between its tags, and un-escaping gives the JSON back.
 * Input: byte 0 picks the check; the rest is the bytes.
 * fuzz-sources: services/uploads/uploads_sniff.c
 * fuzz-libs: -lmagic
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http.h"
#include "text.h"
#include "uploads/uploads.h"

static void *magic;

static void check_type(const uint8_t *, size_t, const char *);
static void check_name(const char *);
static void check_iframe(const char *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	magic = upload_sniff_new();
	return 0;
}

static void
check_type(const uint8_t *data, size_t size, const char *hint)
{
	struct upload_type t;
	char		   sniffed[128];

	upload_sniff(magic, data, size, sniffed, sizeof(sniffed));
	FUZZ_ASSERT(strlen(sniffed) < sizeof(sniffed));
	if (upload_classify(sniffed, hint, &t) == -1)
		return;
	FUZZ_ASSERT(t.kind >= KIND_IMAGE && t.kind < KIND_N);
	FUZZ_ASSERT(strchr(t.mime, '/') != NULL);
	FUZZ_ASSERT(strncmp(t.mime, "text/html", 9) != 0);
	FUZZ_ASSERT(strstr(t.mime, "svg") == NULL);
	FUZZ_ASSERT(strstr(t.mime, "executable") == NULL);
	if (t.kind == KIND_IMAGE)
		FUZZ_ASSERT(strncmp(t.mime, "image/", 6) == 0);
	if (t.kind == KIND_AUDIO)
		FUZZ_ASSERT(strncmp(t.mime, "audio/", 6) == 0);
	if (t.kind == KIND_VIDEO)
		FUZZ_ASSERT(strncmp(t.mime, "video/", 6) == 0);
}

static void
check_name(const char *in)
{
	char   out[256];
	size_t n;

	upload_clean_name(in, "file", out, sizeof(out));
	n = strlen(out);
	FUZZ_ASSERT(n >= 1 && n <= 255);
	FUZZ_ASSERT(text_utf8_valid(out, n));
	FUZZ_ASSERT(strpbrk(out, "/\\") == NULL);
	FUZZ_ASSERT(!text_has_controls(out, 0));
	FUZZ_ASSERT(!text_has_bidi(out));
	FUZZ_ASSERT(strspn(out, ". ") < n);
}

static void
check_iframe(const char *json, size_t len)
{
	static const char open[] = "<textarea id=\"parley-reply\">";
	static const char close[] = "</textarea></body></html>\n";
	char		 *page, *s, *e, *back;
	size_t		  plen, o = 0;

	page = http_iframe_wrap(json, len, &plen);
	FUZZ_ASSERT(plen == strlen(page) || memchr(json, '\0', len) != NULL);
	FUZZ_ASSERT((s = strstr(page, open)) != NULL);
	s += sizeof(open) - 1;
	e = page + plen - (sizeof(close) - 1);
	FUZZ_ASSERT(e >= s && memcmp(e, close, sizeof(close) - 1) == 0);
	FUZZ_ASSERT(memchr(s, '<', (size_t)(e - s)) == NULL);
	FUZZ_ASSERT(memchr(s, '>', (size_t)(e - s)) == NULL);
	if ((back = malloc(len + 1)) == NULL)
		abort();
	while (s < e) {
		if (strncmp(s, "&amp;", 5) == 0) {
			back[o++] = '&';
			s += 5;
		} else if (strncmp(s, "&lt;", 4) == 0) {
			back[o++] = '<';
			s += 4;
		} else if (strncmp(s, "&gt;", 4) == 0) {
			back[o++] = '>';
			s += 4;
		} else {
			FUZZ_ASSERT(*s != '&');
			back[o++] = *s++;
		}
	}
	FUZZ_ASSERT(o == len && memcmp(back, json, len) == 0);
	free(back);
	free(page);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hints[] = { NULL, "audio/webm", "video/ogg",
		"audio/", "text/plain" };
	char			*s;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		check_type(data + 1, size - 1, hints[data[0] / 3 % 5]);
		break;
	case 1:
		if ((s = malloc(size)) == NULL)
			abort();
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		check_name(s);
		free(s);
		break;
	case 2:
		check_iframe((const char *)data + 1, size - 1);
		break;
	}
	return 0;
}
