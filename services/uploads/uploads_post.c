/* uploads_post: POST /api/v1/uploads. One file per request, either as
 * the raw body (XHR2, fetch, curl: the name in ?name=, percent-encoded
 * UTF-8; Content-Type only a hint) or as multipart/form-data from a form
 * (an old browser posting into a hidden iframe: a "csrf_token" field
 * before a "file" field; ?iframe=1 makes every answer a page the frame
 * can read, see http_iframe_wrap). The bytes go to an unnamed temporary
 * file as they arrive; then the type is sniffed, limits checked, images
 * re-encoded, and the file linked into place inside the transaction that
 * records it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "auth.h"
#include "http.h"
#include "log.h"
#include "media_probe.h"
#include "multipart.h"
#include "uploads.h"

#define CHUNK	    65536
#define SNIFF_BYTES (256 * 1024) /* what libmagic looks at */
#define MP_SLACK    8192	 /* a form's bytes besides the file */
#define FIELD_MAX   1024	 /* a form field other than the file */

struct post {
	struct http_req	  *r;
	struct upload_file file;
	int		   in_file, got_file, in_csrf;
	char		   csrf[AUTH_TOKEN_LEN + 8];
	size_t		   csrf_len, field_len;
	char		   name[MP_FILENAME_MAX];
	char		   hint[MP_CTYPE_MAX];
};

static int    mp_part(void *, const struct mp_part *);
static int    mp_data(void *, const char *, size_t);
static int    mp_end(void *);
static int    add_bytes(struct post *, const char *, size_t);
static int    read_raw(struct post *, unsigned long long);
static int    read_form(struct post *, const char *, unsigned long long);
static void   store(struct post *);
static int    quota_check(struct http_req *, unsigned long long);
static double duration(struct upload_file *, const char *);

static const struct mp_callbacks form_cb = { mp_part, mp_data, mp_end };

static void
too_large(struct http_req *r)
{
	http_error(r, 413, "too_large",
	    "The file is larger than the largest "
	    "upload allowed (%ld bytes).",
	    uploads_config.max_body);
}

static void
quota_error(struct http_req *r)
{
	http_error(r, 413, "quota_exceeded",
	    "This upload would take you "
	    "over your storage quota of %ld bytes; files you never sent are "
	    "removed after %ld s.",
	    uploads_config.quota, uploads_config.grace);
}

/* The file's bytes so far: to the temporary file, within the limit. */
static int
add_bytes(struct post *p, const char *buf, size_t len)
{
	if (p->file.size + (long)len > uploads_config.max_body) {
		too_large(p->r);
		return -1;
	}
	if (upload_file_write(&p->file, buf, len) == -1) {
		http_error(p->r, 500, "internal_error",
		    "The file could not be "
		    "stored; it has been logged.");
		return -1;
	}
	return 0;
}

static int
mp_part(void *arg, const struct mp_part *part)
{
	struct post *p = arg;

	p->field_len = 0;
	if (strcmp(part->name, "csrf_token") == 0) {
		p->in_csrf = 1;
		p->csrf_len = 0;
		return 0;
	}
	if (strcmp(part->name, "file") != 0 || !part->has_filename)
		return 0; /* another field: read and ignored */
	if (p->got_file) {
		http_error(p->r, 400, "invalid_field",
		    "One file per upload: "
		    "the form has a second 'file'.");
		return -1;
	}
	/* The token must come first: nothing is stored without it. */
	if (auth_csrf_check(p->r, NULL) == -1)
		return -1;
	if (upload_file_open(&p->file) == -1) {
		http_error(p->r, 500, "internal_error",
		    "The file could not be "
		    "stored; it has been logged.");
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", part->filename);
	snprintf(p->hint, sizeof(p->hint), "%s", part->ctype);
	p->in_file = 1;
	return 0;
}

static int
mp_data(void *arg, const char *buf, size_t len)
{
	struct post *p = arg;

	if (p->in_file)
		return add_bytes(p, buf, len);
	if (p->field_len + len > FIELD_MAX) {
		http_error(p->r, 400, "invalid_field",
		    "A form field other "
		    "than 'file' is longer than %d bytes.",
		    FIELD_MAX);
		return -1;
	}
	p->field_len += len;
	if (p->in_csrf) {
		if (p->csrf_len + len < sizeof(p->csrf))
			memcpy(p->csrf + p->csrf_len, buf, len);
		p->csrf_len += len;
	}
	return 0;
}

static int
mp_end(void *arg)
{
	struct post *p = arg;

	if (p->in_csrf) {
		p->in_csrf = 0;
		if (p->csrf_len >= sizeof(p->csrf))
			p->csrf_len = 0; /* too long: never valid */
		p->csrf[p->csrf_len] = '\0';
		return auth_csrf_check(p->r, p->csrf);
	}
	if (p->in_file) {
		p->in_file = 0;
		p->got_file = 1;
	}
	return 0;
}

/* Reads the whole body: through the form parser `mp`, or (NULL) raw
 * into the file. */
static int
read_body(struct post *p, unsigned long long n, struct mp_parser *mp)
{
	char		  *buf;
	unsigned long long off;
	int		   got, rc = 0;

	if ((buf = malloc(CHUNK)) == NULL)
		log_fatal("malloc: out of memory");
	for (off = 0; off < n && rc == 0; off += (unsigned long long)got) {
		got = FCGX_GetStr(buf, (int)(n - off < CHUNK ? n - off : CHUNK),
		    p->r->fcgi.in);
		if (got <= 0)
			break;
		if (mp == NULL)
			rc = add_bytes(p, buf, (size_t)got);
		else if (mp_feed(mp, buf, (size_t)got, &form_cb, p) != MP_OK)
			rc = -1;
	}
	free(buf);
	if (rc == 0 && off != n) {
		http_error(p->r, 400, "bad_request", "The body ended early.");
		rc = -1;
	}
	if (rc == -1 && p->r->status == 0 && mp != NULL)
		http_error(p->r, 400, "invalid_multipart",
		    "The form could not "
		    "be read: %s.",
		    mp_strerror(mp->error));
	return rc;
}

static int
read_raw(struct post *p, unsigned long long n)
{
	char	    q[MP_FILENAME_MAX];
	const char *ct = http_env(p->r, "CONTENT_TYPE");
	int	    rc;

	/* A raw body has nowhere else for the token. */
	if (auth_csrf_check(p->r, NULL) == -1)
		return -1;
	if ((rc = http_query_find(p->r->query, "name", q, sizeof(q))) == -1) {
		http_error(p->r, 400, "invalid_parameter",
		    "Query parameter "
		    "'name' must be percent-encoded UTF-8 of at most %zu "
		    "bytes.",
		    sizeof(q) - 1);
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", rc == 1 ? q : "");
	snprintf(p->hint, sizeof(p->hint), "%s", ct != NULL ? ct : "");
	if (upload_file_open(&p->file) == -1) {
		http_error(p->r, 500, "internal_error",
		    "The file could not be "
		    "stored; it has been logged.");
		return -1;
	}
	return read_body(p, n, NULL);
}

static int
read_form(struct post *p, const char *ct, unsigned long long n)
{
	struct mp_parser mp;

	if (mp_init(&mp, ct) != MP_OK) {
		http_error(p->r, 400, "invalid_multipart",
		    "The form could not "
		    "be read: %s.",
		    mp_strerror(MP_BAD_TYPE));
		return -1;
	}
	if (read_body(p, n, &mp) == -1)
		return -1;
	if (mp_finish(&mp) != MP_OK) {
		http_error(p->r, 400, "invalid_multipart",
		    "The form could not "
		    "be read: %s.",
		    mp_strerror(mp_finish(&mp)));
		return -1;
	}
	/* No file part: a missing token is still the first thing wrong. */
	if (auth_csrf_check(p->r, NULL) == -1)
		return -1;
	if (!p->got_file) {
		http_error(p->r, 400, "missing_field",
		    "The form has no 'file' "
		    "field with a file in it.");
		return -1;
	}
	return 0;
}

/* 0 when the user's quota can hold n more bytes, else -1 after replying
 * 413 quota_exceeded (or the database error). */
static int
quota_check(struct http_req *r, unsigned long long n)
{
	char	  me[24];
	PGresult *res;
	long long used;

	if (uploads_config.quota == 0)
		return 0;
	if ((res = DB_EXEC(r->db, &sql_usage, db_i64(me, r->user_id))) ==
	    NULL) {
		http_db_error(r);
		return -1;
	}
	used = db_get_i64(res, 0, 0);
	PQclear(res);
	if ((unsigned long long)used + n >
	    (unsigned long long)uploads_config.quota) {
		quota_error(r);
		return -1;
	}
	return 0;
}

void
uploads_create(struct http_req *r)
{
	struct post	   p;
	const char	  *cl = http_env(r, "CONTENT_LENGTH");
	const char	  *ct = http_env(r, "CONTENT_TYPE");
	char		  *end;
	unsigned long long n;
	int		   form;

	memset(&p, 0, sizeof(p));
	p.r = r;
	p.file.fd = -1;
	form = ct != NULL && strncasecmp(ct, "multipart/form-data", 19) == 0;
	errno = 0;
	n = cl != NULL && *cl != '\0' ? strtoull(cl, &end, 10) : 0;
	if (cl != NULL && *cl != '\0' && (errno != 0 || *end != '\0')) {
		http_error(r, 400, "bad_request", "Content-Length is invalid.");
		return;
	}
	if (n == 0) {
		if (auth_csrf_check(r, NULL) == 0)
			http_error(r, 400, "body_required",
			    "The body must be "
			    "the file (or a multipart/form-data form with "
			    "it).");
		return;
	}
	if (n > (unsigned long long)uploads_config.max_body +
		(form ? MP_SLACK : 0)) {
		if (auth_csrf_check(r, NULL) == 0)
			too_large(r);
		return;
	}
	if ((!form && auth_csrf_check(r, NULL) == -1) ||
	    quota_check(r, form && n > MP_SLACK ? n - MP_SLACK : n) == -1)
		return;
	if ((form ? read_form(&p, ct, n) : read_raw(&p, n)) == 0)
		store(&p);
	upload_file_close(&p.file);
}

/* Seconds of an audio or video file, or -1 (media_probe.c). */
static double
duration(struct upload_file *f, const char *mime)
{
	void  *map;
	double d;

	map = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, f->fd, 0);
	if (map == MAP_FAILED) {
		log_warn("mmap upload: %s", strerror(errno));
		return -1;
	}
	d = media_duration(mime, map, (size_t)f->size);
	munmap(map, (size_t)f->size);
	return d;
}

/* The file is complete in p->file: sniff, check, convert, record. */
static void
store(struct post *p)
{
	struct http_req	   *r = p->r;
	struct upload_file  out = { .fd = -1 }, thumb = { .fd = -1 };
	struct upload_file *stored = &p->file;
	struct upload_type  t;
	struct image_out    img;
	char		   *head, sniffed[128], name[256], me[24], sz[24];
	char		    tsz[24], w[16], h[16], quota[24], dur[32];
	double		    secs = -1;
	ssize_t		    got;
	PGresult	   *res = NULL;
	const char	   *status;

	if (p->file.size == 0) {
		http_error(r, 400, "empty_file", "The file is empty.");
		return;
	}
	upload_file_finish(&p->file);
	if ((head = malloc(SNIFF_BYTES)) == NULL)
		log_fatal("malloc: out of memory");
	got = pread(p->file.fd, head, SNIFF_BYTES, 0);
	upload_sniff(r->ctx, head, got > 0 ? (size_t)got : 0, sniffed,
	    sizeof(sniffed));
	free(head);
	if (upload_classify(sniffed, p->hint, &t) == -1) {
		http_error(r, 415, "unsupported_type",
		    "Files of type %s are "
		    "not accepted (images: JPEG, PNG, GIF, WebP; audio: Ogg, "
		    "WebM, MP4, MP3; video: MP4, WebM; documents, archives and "
		    "plain text).",
		    sniffed);
		return;
	}
	if (p->file.size > uploads_config.max_size[t.kind]) {
		http_error(r, 413, "too_large",
		    "%s files may be at most %ld "
		    "bytes.",
		    upload_kind_name(t.kind), uploads_config.max_size[t.kind]);
		return;
	}
	memset(&img, 0, sizeof(img));
	if (t.kind == KIND_IMAGE) {
		if (upload_file_open(&out) == -1 ||
		    upload_file_open(&thumb) == -1) {
			http_error(r, 500, "internal_error",
			    "The file could "
			    "not be stored; it has been logged.");
			goto done;
		}
		switch (upload_image(t.mime, &p->file, &out, &thumb, &img)) {
		case IMAGE_OK:
			break;
		case IMAGE_TOO_BIG:
			http_error(r, 413, "image_too_large",
			    "The image has "
			    "%ld pixels; at most %ld are allowed.",
			    img.pixels, uploads_config.max_pixels);
			goto done;
		case IMAGE_BAD:
			http_error(r, 400, "invalid_image",
			    "The image could "
			    "not be decoded: it is damaged, truncated or not "
			    "really a %s.",
			    t.mime);
			goto done;
		case IMAGE_FAIL:
			http_error(r, 500, "internal_error",
			    "The image could "
			    "not be stored; it has been logged.");
			goto done;
		}
		stored = &out;
	}
	if (t.kind == KIND_AUDIO || t.kind == KIND_VIDEO)
		secs = duration(&p->file, t.mime);
	snprintf(dur, sizeof(dur), "%.3f", secs);
	upload_clean_name(p->name, upload_kind_name(t.kind), name,
	    sizeof(name));
	snprintf(w, sizeof(w), "%d", img.width);
	snprintf(h, sizeof(h), "%d", img.height);
	if (db_begin(r->db) == -1 ||
	    (res = DB_EXEC(r->db, &sql_create, db_i64(me, r->user_id),
		 stored->hex, thumb.fd >= 0 ? thumb.hex : NULL, name,
		 db_i64(sz, stored->size),
		 db_i64(tsz, thumb.fd >= 0 ? thumb.size : 0), t.mime,
		 upload_kind_name(t.kind), img.width > 0 ? w : NULL,
		 img.height > 0 ? h : NULL, secs >= 0 ? dur : NULL,
		 db_i64(quota, uploads_config.quota))) == NULL)
		goto dberr;
	status = PQgetvalue(res, 0, 0);
	if (strcmp(status, "over_quota") == 0) {
		db_rollback(r->db);
		quota_error(r);
		goto done;
	}
	/* Named while the blob locks are held, before the row commits: a
	 * crash here leaves at most a file no row names (the janitor's
	 * orphan sweep removes it), never a row without its file. */
	if (upload_file_link(stored) == -1 ||
	    (thumb.fd >= 0 && upload_file_link(&thumb) == -1)) {
		db_rollback(r->db);
		http_error(r, 500, "internal_error",
		    "The file could not be "
		    "stored; it has been logged.");
		goto done;
	}
	if (db_commit(r->db) == -1)
		goto dberr;
	http_reply_wrap(r, 201, "upload", PQgetvalue(res, 0, 1));
	goto done;
dberr:
	db_rollback(r->db);
	http_db_error(r);
done:
	PQclear(res);
	upload_file_close(&out);
	upload_file_close(&thumb);
}
