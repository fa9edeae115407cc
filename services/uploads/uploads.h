/* uploads: files users send (photos, voice, video, documents). The
 * service takes one file per POST, checks its type from its bytes,
 * re-encodes images (no metadata survives), stores it content-addressed
 * under PARLEY_UPLOAD_DIR and describes it in the uploads table; nginx
 * sends the bytes of a download once the service allowed it. */
#ifndef PARLEY_UPLOADS_H
#define PARLEY_UPLOADS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "db.h"
/* The handlers: routes_uploads.h, generated from docs/openapi.json. */
#include "routes_uploads.h"

struct http_req;

enum upload_kind { KIND_IMAGE, KIND_AUDIO, KIND_VIDEO, KIND_FILE, KIND_N };

struct uploads_config {
	char dir[PATH_MAX - 128]; /* PARLEY_UPLOAD_DIR */
	long max_size[KIND_N];	  /* PARLEY_UPLOAD_MAX_<KIND> */
	long max_body;		  /* the largest of them */
	long quota;		  /* PARLEY_UPLOAD_QUOTA, 0 = none */
	long grace;		  /* PARLEY_UPLOAD_GRACE, s */
	long gc_interval;	  /* PARLEY_UPLOAD_GC_INTERVAL, s */
	long max_pixels;	  /* PARLEY_UPLOAD_MAX_PIXELS */
	int  thumb_px;		  /* PARLEY_UPLOAD_THUMB */
};

extern struct uploads_config uploads_config;

/* A file being received or made: an unnamed temporary file (O_TMPFILE)
 * in the upload directory, so a crash leaves nothing behind; it gets a
 * name only when linked into place (upload_file_link). */
struct upload_file {
	int			 fd; /* -1 when none */
	long			 size;
	crypto_hash_sha256_state sha;
	char			 hex[65]; /* SHA-256 once finished */
};

/* uploads_config.c */
void	    uploads_config_load(void);
const char *upload_kind_name(enum upload_kind);

/* uploads_store.c */
/* Makes the directory tree; log_fatal when it cannot, or when the file
 * system has no O_TMPFILE. */
void upload_store_init(void);
/* A new empty temporary file: 0, or -1 (logged). */
int upload_file_open(struct upload_file *);
/* Appends bytes and hashes them: 0 or -1 (logged). */
int upload_file_write(struct upload_file *, const void *, size_t);
/* Computes f->hex from what was written. */
void upload_file_finish(struct upload_file *);
/* Hashes the file's whole content again (after another writer, libvips,
 * filled it): sets size and hex. 0 or -1. */
int upload_file_rehash(struct upload_file *);
/* Gives the file its content address; an existing file of that name has
 * the same bytes and is kept. Call with the blob's lock held. 0 or -1. */
int  upload_file_link(struct upload_file *);
void upload_file_close(struct upload_file *);
/* The path of blob `hex` into buf: "<dir>/blobs/ab/<hex>". */
void upload_blob_path(const char *hex, char *buf, size_t len);
/* Removes a blob (missing is fine): 0, or -1 (logged). */
int upload_blob_unlink(const char *hex);

/* uploads_sniff.c */
struct upload_type {
	enum upload_kind kind;
	char		 mime[128]; /* the type stored and shown */
};
/* Per-thread libmagic handle. */
void *upload_sniff_new(void);
void  upload_sniff_free(void *);
/* The sniffed type of `buf` (libmagic's MIME type), into out. */
void upload_sniff(void *magic, const void *buf, size_t len, char *out,
    size_t outlen);
/* Decides what the sniffed type `sniffed` is allowed as, given the
 * client's hint (its Content-Type, may be NULL): 0 and *t, or -1 when the
 * type is not allowed. Pure (fuzzed). */
int
upload_classify(const char *sniffed, const char *hint, struct upload_type *t);
/* A file name fit to store and show: the last path component, control
 * characters and bidi controls dropped, at most 255 bytes of valid UTF-8;
 * `fallback` when nothing is left. Pure (fuzzed). */
void upload_clean_name(const char *in, const char *fallback, char *out,
    size_t outlen);

/* uploads_image.c */
enum image_result { IMAGE_OK, IMAGE_BAD, IMAGE_TOO_BIG, IMAGE_FAIL };
struct image_out {
	int  width, height;
	long pixels; /* of a refused bomb */
};
void upload_image_init(void);
void upload_image_shutdown(void);
/* Decodes `in` (sniffed as `mime`), writes it re-encoded without metadata
 * into `out` and a JPEG thumbnail into `thumb`. */
enum image_result upload_image(const char *mime, struct upload_file *in,
    struct upload_file *out, struct upload_file *thumb, struct image_out *);

/* uploads_janitor.c */
void uploads_janitor_start(void);
void uploads_janitor_stop(void);

/* uploads_sql.c */
extern const struct db_stmt sql_usage, sql_create, sql_fetch, sql_collect,
    sql_orphans, sql_blob_lock;

#endif
