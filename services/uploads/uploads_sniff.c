/* uploads_sniff: what a file is, from its bytes (libmagic), and whether
 * Parley takes it. The client's Content-Type is only a hint: it decides
 * between the audio and the video reading of a container that holds
 * either (WebM, MP4, Ogg), never what the bytes are. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <magic.h>

#include "log.h"
#include "text.h"
#include "uploads.h"

/* Sniffed type -> stored type and kind. Everything not listed is
 * refused: executables and scripts, HTML, SVG, XML and anything else a
 * browser might run, and bytes libmagic cannot name. Files ("file") are
 * always served as application/octet-stream attachments. */
static const struct allowed {
	const char	*sniffed;
	enum upload_kind kind;
	const char	*mime;	/* NULL: the sniffed type */
	const char	*audio; /* with an audio/ hint: this instead */
} allowed[] = {
	{ "image/jpeg", KIND_IMAGE, NULL, NULL },
	{ "image/png", KIND_IMAGE, NULL, NULL },
	{ "image/gif", KIND_IMAGE, NULL, NULL },
	{ "image/webp", KIND_IMAGE, NULL, NULL },
	{ "audio/ogg", KIND_AUDIO, NULL, NULL },
	{ "audio/x-vorbis+ogg", KIND_AUDIO, "audio/ogg", NULL },
	{ "audio/x-opus+ogg", KIND_AUDIO, "audio/ogg", NULL },
	{ "application/ogg", KIND_AUDIO, "audio/ogg", NULL },
	{ "audio/webm", KIND_AUDIO, NULL, NULL },
	{ "video/webm", KIND_VIDEO, NULL, "audio/webm" },
	{ "audio/mp4", KIND_AUDIO, NULL, NULL },
	{ "audio/x-m4a", KIND_AUDIO, "audio/mp4", NULL },
	{ "video/mp4", KIND_VIDEO, NULL, "audio/mp4" },
	{ "audio/mpeg", KIND_AUDIO, NULL, NULL },
	{ "text/plain", KIND_FILE, NULL, NULL },
	{ "text/csv", KIND_FILE, NULL, NULL },
	{ "application/pdf", KIND_FILE, NULL, NULL },
	{ "application/zip", KIND_FILE, NULL, NULL },
	{ "application/gzip", KIND_FILE, NULL, NULL },
	{ "application/x-gzip", KIND_FILE, "application/gzip", NULL },
	{ "application/x-7z-compressed", KIND_FILE, NULL, NULL },
	{ "application/x-tar", KIND_FILE, NULL, NULL },
	{ "application/x-xz", KIND_FILE, NULL, NULL },
	{ "application/x-bzip2", KIND_FILE, NULL, NULL },
	{ "application/rtf", KIND_FILE, NULL, NULL },
	{ "text/rtf", KIND_FILE, "application/rtf", NULL },
	{ "application/msword", KIND_FILE, NULL, NULL },
	{ "application/vnd.ms-excel", KIND_FILE, NULL, NULL },
	{ "application/vnd.ms-powerpoint", KIND_FILE, NULL, NULL },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml."
	  "document",
	    KIND_FILE, NULL, NULL },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	    KIND_FILE, NULL, NULL },
	{ "application/vnd.openxmlformats-officedocument.presentationml."
	  "presentation",
	    KIND_FILE, NULL, NULL },
	{ "application/vnd.oasis.opendocument.text", KIND_FILE, NULL, NULL },
	{ "application/vnd.oasis.opendocument.spreadsheet", KIND_FILE, NULL,
	    NULL },
	{ "application/vnd.oasis.opendocument.presentation", KIND_FILE, NULL,
	    NULL },
	{ NULL, KIND_FILE, NULL, NULL },
};

void *
upload_sniff_new(void)
{
	magic_t m;

	/* No decompression (a gzip bomb), no ELF section walk: only the
	 * type of the outer bytes. */
	if ((m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS |
		 MAGIC_NO_CHECK_ELF)) == NULL)
		log_fatal("magic_open failed");
	if (magic_load(m, NULL) == -1)
		log_fatal("magic_load: %s", magic_error(m));
	return m;
}

void
upload_sniff_free(void *m)
{
	if (m != NULL)
		magic_close(m);
}

void
upload_sniff(void *m, const void *buf, size_t len, char *out, size_t outlen)
{
	const char *t = magic_buffer(m, buf, len);

	if (t == NULL) {
		log_warn("magic_buffer: %s", magic_error(m));
		t = "application/octet-stream";
	}
	snprintf(out, outlen, "%s", t);
}

int
upload_classify(const char *sniffed, const char *hint, struct upload_type *t)
{
	const struct allowed *a;
	const char	     *mime;

	for (a = allowed; a->sniffed != NULL; a++)
		if (strcmp(a->sniffed, sniffed) == 0)
			break;
	if (a->sniffed == NULL)
		return -1;
	t->kind = a->kind;
	mime = a->mime != NULL ? a->mime : a->sniffed;
	if (a->audio != NULL && hint != NULL &&
	    strncasecmp(hint, "audio/", 6) == 0) {
		mime = a->audio;
		t->kind = KIND_AUDIO;
	}
	/* Ogg is audio unless the client says it holds video. */
	if (strcmp(mime, "audio/ogg") == 0 && hint != NULL &&
	    strncasecmp(hint, "video/ogg", 9) == 0) {
		mime = "video/ogg";
		t->kind = KIND_VIDEO;
	}
	snprintf(t->mime, sizeof(t->mime), "%s", mime);
	return 0;
}

void
upload_clean_name(const char *in, const char *fallback, char *out,
    size_t outlen)
{
	const char *base = in, *p;
	size_t	    o = 0, i, n;

	/* The last component of a path (IE sends C:\Users\...\photo.jpg). */
	for (p = in; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	for (i = 0; base[i] != '\0' && o + 1 < outlen && o < 255;) {
		unsigned char c = (unsigned char)base[i];

		n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (strnlen(base + i, n) < n || !text_utf8_valid(base + i, n)) {
			i++; /* a byte that is not UTF-8: dropped */
			continue;
		}
		if (o + n >= outlen || o + n > 255)
			break;
		memcpy(out + o, base + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	/* Control characters (C0, DEL, C1) become '_'; bidi controls go. */
	for (i = 0; i < o; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '_';
	if (text_has_controls(out, 0)) {
		/* C1 controls: U+0080..U+009F, C2 80..C2 9F. */
		for (i = 0; i + 1 < o; i++)
			if ((unsigned char)out[i] == 0xc2 &&
			    (unsigned char)out[i + 1] >= 0x80 &&
			    (unsigned char)out[i + 1] <= 0x9f)
				out[i] = out[i + 1] = '_';
	}
	text_strip_bidi(out);
	/* No name of dots or spaces only (".", "..", "   "). */
	for (p = out; *p == '.' || *p == ' '; p++)
		;
	if (*p == '\0')
		snprintf(out, outlen, "%s", fallback);
}
