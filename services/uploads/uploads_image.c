/* uploads_image: images are decoded and encoded again with libvips, so
 * what Parley stores and serves is pixels it wrote itself: no EXIF, GPS,
 * XMP or comments survive ("strip"), nor any trailing bytes. The header
 * is read first and a picture of more than PARLEY_UPLOAD_MAX_PIXELS
 * pixels (all frames together) is refused before a pixel is decoded, so a
 * decompression bomb costs a header read. Decoding is sequential (one
 * strip at a time in memory) and fails on the first decoder error, so a
 * truncated or damaged file is an error, not a half-grey picture. */
#include <string.h>
#include <unistd.h>

#include <vips/vips.h>
#include <vips/vector.h>

#include "log.h"
#include "uploads.h"

enum fmt { F_JPEG, F_PNG, F_GIF, F_WEBP };

static int  load(enum fmt, VipsSource *, VipsAccess, VipsImage **);
static int  save(enum fmt, VipsImage *, int);
static int  thumbnail(struct upload_file *, struct upload_file *);
static void vips_failed(const char *);

void
upload_image_init(void)
{
	if (VIPS_INIT("parley-uploads") != 0)
		log_fatal("vips_init: %s", vips_error_buffer());
	/* No operation cache: it would hand out a cached load for a new
	 * file that reuses a descriptor, and keep pixels of old uploads. */
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	/* One worker thread per image: the service's threads are the
	 * parallelism, and memory stays proportional to them. */
	vips_concurrency_set(1);
	/* No run-time generated code (orc) in a process that parses
	 * untrusted bytes; and no loader marked untrusted (ImageMagick,
	 * PDF, SVG) even though only four loaders are called by name. */
	vips_vector_set_enabled(FALSE);
	vips_block_untrusted_set(TRUE);
}

void
upload_image_shutdown(void)
{
	vips_shutdown();
}

static void
vips_failed(const char *what)
{
	log_info("image refused (%s): %s", what, vips_error_buffer());
	vips_error_clear();
}

static int
load(enum fmt f, VipsSource *src, VipsAccess access, VipsImage **out)
{
	switch (f) {
	case F_JPEG:
		return vips_jpegload_source(src, out, "access", access,
		    "fail_on", VIPS_FAIL_ON_ERROR, NULL);
	case F_PNG:
		return vips_pngload_source(src, out, "access", access,
		    "fail_on", VIPS_FAIL_ON_ERROR, NULL);
	case F_GIF:
		return vips_gifload_source(src, out, "access", access,
		    "fail_on", VIPS_FAIL_ON_ERROR, "n", -1, NULL);
	case F_WEBP:
		return vips_webpload_source(src, out, "access", access,
		    "fail_on", VIPS_FAIL_ON_ERROR, "n", -1, NULL);
	}
	return -1;
}

/* The same format again, without metadata. 0 or -1. */
static int
save(enum fmt f, VipsImage *img, int fd)
{
	VipsTarget *t;
	int	    rc = -1;

	if ((t = vips_target_new_to_descriptor(fd)) == NULL)
		return -1;
	switch (f) {
	case F_JPEG:
		rc = vips_jpegsave_target(img, t, "Q", 85, "strip", TRUE,
		    "optimize_coding", TRUE, NULL);
		break;
	case F_PNG:
		rc = vips_pngsave_target(img, t, "strip", TRUE, "compression",
		    6, NULL);
		break;
	case F_GIF:
		rc = vips_gifsave_target(img, t, "strip", TRUE, NULL);
		break;
	case F_WEBP:
		rc = vips_webpsave_target(img, t, "Q", 85, "strip", TRUE, NULL);
		break;
	}
	g_object_unref(t);
	return rc;
}

/* A JPEG of at most thumb_px x thumb_px (never enlarged) of the first
 * frame of the image just written to `out`; transparency on white. */
static int
thumbnail(struct upload_file *out, struct upload_file *thumb)
{
	VipsSource	*src;
	VipsImage	*t = NULL, *x = NULL;
	VipsArrayDouble *white = NULL;
	VipsTarget	*tg = NULL;
	int		 rc = -1;

	if (lseek(out->fd, 0, SEEK_SET) == -1 ||
	    (src = vips_source_new_from_descriptor(out->fd)) == NULL)
		return -1;
	if (vips_thumbnail_source(src, &t, uploads_config.thumb_px, "height",
		uploads_config.thumb_px, "size", VIPS_SIZE_DOWN, NULL) != 0)
		goto out;
	if (vips_image_hasalpha(t)) {
		white = vips_array_double_newv(1, 255.0);
		if (vips_flatten(t, &x, "background", white, NULL) != 0)
			goto out;
		g_object_unref(t);
		t = x;
		x = NULL;
	}
	if (vips_image_get_format(t) != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(t, &x, NULL) != 0)
			goto out;
		g_object_unref(t);
		t = x;
		x = NULL;
	}
	if ((tg = vips_target_new_to_descriptor(thumb->fd)) == NULL)
		goto out;
	rc = vips_jpegsave_target(t, tg, "Q", 80, "strip", TRUE, NULL);
out:
	if (tg != NULL)
		g_object_unref(tg);
	if (white != NULL)
		vips_area_unref(VIPS_AREA(white));
	if (t != NULL)
		g_object_unref(t);
	g_object_unref(src);
	return rc;
}

enum image_result
upload_image(const char *mime, struct upload_file *in, struct upload_file *out,
    struct upload_file *thumb, struct image_out *info)
{
	VipsSource	 *src = NULL;
	VipsImage	 *img = NULL, *rot = NULL;
	enum image_result res = IMAGE_BAD;
	enum fmt	  f;
	long		  pixels;

	if (strcmp(mime, "image/jpeg") == 0)
		f = F_JPEG;
	else if (strcmp(mime, "image/png") == 0)
		f = F_PNG;
	else if (strcmp(mime, "image/gif") == 0)
		f = F_GIF;
	else if (strcmp(mime, "image/webp") == 0)
		f = F_WEBP;
	else
		return IMAGE_BAD;
	memset(info, 0, sizeof(*info));
	if (lseek(in->fd, 0, SEEK_SET) == -1 ||
	    (src = vips_source_new_from_descriptor(in->fd)) == NULL)
		return IMAGE_FAIL;
	/* Only the header is read here: pixels come when saving. */
	if (load(f, src, VIPS_ACCESS_SEQUENTIAL, &img) != 0) {
		vips_failed("header");
		goto out;
	}
	pixels =
	    (long)vips_image_get_width(img) * (long)vips_image_get_height(img);
	if (pixels > uploads_config.max_pixels) {
		info->pixels = pixels;
		res = IMAGE_TOO_BIG;
		goto out;
	}
	/* The orientation lives in EXIF, which goes: turn the pixels
	 * instead. Turning needs random access (bounded by max_pixels). */
	if (f == F_JPEG && vips_image_get_orientation(img) > 1) {
		g_object_unref(img);
		img = NULL;
		g_object_unref(src);
		if (lseek(in->fd, 0, SEEK_SET) == -1 ||
		    (src = vips_source_new_from_descriptor(in->fd)) == NULL) {
			res = IMAGE_FAIL;
			goto out;
		}
		if (load(f, src, VIPS_ACCESS_RANDOM, &img) != 0 ||
		    vips_autorot(img, &rot, NULL) != 0) {
			vips_failed("rotate");
			goto out;
		}
		g_object_unref(img);
		img = rot;
	}
	if (save(f, img, out->fd) != 0) {
		vips_failed("decode");
		goto out;
	}
	info->width = vips_image_get_width(img);
	info->height = vips_image_get_page_height(img);
	if (thumbnail(out, thumb) != 0) {
		vips_failed("thumbnail");
		goto out;
	}
	if (upload_file_rehash(out) == -1 || upload_file_rehash(thumb) == -1) {
		res = IMAGE_FAIL;
		goto out;
	}
	res = IMAGE_OK;
out:
	if (img != NULL)
		g_object_unref(img);
	if (src != NULL)
		g_object_unref(src);
	return res;
}
