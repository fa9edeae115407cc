/* multipart: a streaming multipart/form-data parser (RFC 7578) for the
 * form an old browser posts into a hidden iframe. Bytes go in as they
 * arrive, in pieces of any size; parts come out as callbacks. Every size
 * is bounded; nothing is kept but one part's header block. Pure (no I/O),
 * fuzzed by tests/fuzz/fuzz_multipart.c. */
#ifndef PARLEY_MULTIPART_H
#define PARLEY_MULTIPART_H

#include <stddef.h>

#define MP_BOUNDARY_MAX 70   /* RFC 2046 */
#define MP_HEADERS_MAX	2048 /* one part's header block */
#define MP_PARTS_MAX	16
#define MP_NAME_MAX	64   /* form field name */
#define MP_FILENAME_MAX 1024 /* raw filename (IE sends a full path) */
#define MP_CTYPE_MAX	128

enum mp_error {
	MP_OK = 0,
	MP_BAD_TYPE,   /* not multipart/form-data with a boundary */
	MP_BAD_SYNTAX, /* a delimiter or header block is malformed */
	MP_TOO_BIG,    /* a header block, or too many parts */
	MP_TRUNCATED,  /* ended before the closing delimiter */
	MP_STOPPED,    /* a callback returned -1 */
};

struct mp_part {
	char name[MP_NAME_MAX];		/* Content-Disposition name= */
	char filename[MP_FILENAME_MAX]; /* filename=, "" without one */
	int  has_filename;
	char ctype[MP_CTYPE_MAX]; /* Content-Type, "" without one */
};

struct mp_callbacks {
	/* A part begins (its headers are read). 0 goes on, -1 stops (as any
	 * value but 0 does: a slip can only stop the parse, never go on). */
	int (*part)(void *arg, const struct mp_part *);
	/* Bytes of the current part's content. 0 goes on, -1 stops. */
	int (*data)(void *arg, const char *buf, size_t len);
	/* The current part ended. 0 goes on, -1 stops. */
	int (*end)(void *arg);
};

struct mp_parser {
	char	       delim[4 + MP_BOUNDARY_MAX]; /* "\r\n--" boundary */
	size_t	       dlen;
	unsigned char  fail[4 + MP_BOUNDARY_MAX]; /* KMP table of delim */
	int	       state;
	size_t	       match; /* bytes of delim matched */
	char	       hdr[MP_HEADERS_MAX];
	size_t	       hlen;
	int	       after; /* bytes seen after a delimiter */
	char	       after_buf[2];
	int	       nparts;
	struct mp_part part;
	enum mp_error  error;
};

/* Reads the boundary from a Content-Type value. MP_OK or MP_BAD_TYPE. */
enum mp_error mp_init(struct mp_parser *, const char *content_type);
/* Feeds len bytes. MP_OK, or the error that stopped it (then stays). */
enum mp_error mp_feed(struct mp_parser *, const char *buf, size_t len,
    const struct mp_callbacks *, void *arg);
/* After the last byte: MP_OK when the closing delimiter was seen. */
enum mp_error mp_finish(const struct mp_parser *);
/* A short English text for an error. */
const char *mp_strerror(enum mp_error);

#endif
