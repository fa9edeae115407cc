/* fcgi_records: reads records as nginx does (FastCGI 1.0, section 3.3):
 * an 8-byte header, contentLength bytes, paddingLength bytes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi_records.h"

const char *
fcgi_records_parse(const unsigned char *buf, size_t len, struct fcgi_reply *r)
{
	size_t off = 0, clen, pad;
	int    type, id, ended = 0, empty = 0;

	memset(r, 0, sizeof(*r));
	r->id = -1;
	if ((r->out = malloc(len + 1)) == NULL)
		abort();
	while (off < len) {
		if (ended)
			return "bytes after END_REQUEST";
		if (len - off < 8)
			return "a truncated record header";
		if (buf[off] != 1)
			return "version is not 1";
		type = buf[off + 1];
		id = buf[off + 2] << 8 | buf[off + 3];
		clen = (size_t)(buf[off + 4] << 8 | buf[off + 5]);
		pad = buf[off + 6];
		if (r->id == -1)
			r->id = id;
		else if (id != r->id)
			return "records of two request ids";
		off += 8;
		if (len - off < clen + pad)
			return "a truncated record";
		if (type == 6) {
			if (empty)
				return "STDOUT after the empty STDOUT";
			if (clen == 0)
				empty = 1;
			else {
				memcpy(r->out + r->outlen, buf + off, clen);
				r->outlen += clen;
				r->nstdout++;
				if (clen > r->maxrec)
					r->maxrec = clen;
			}
		} else if (type == 3) {
			if (!empty)
				return "END_REQUEST before the empty STDOUT";
			if (clen != 8)
				return "END_REQUEST body is not 8 bytes";
			memcpy(r->end, buf + off, 8);
			ended = 1;
		} else
			return "a record that is neither STDOUT nor "
			       "END_REQUEST";
		off += clen + pad;
	}
	r->out[r->outlen] = '\0';
	return ended ? NULL : "no END_REQUEST";
}

unsigned char *
fcgi_records_slurp(int fd, size_t *len)
{
	unsigned char *buf = NULL, *nb;
	size_t	       cap = 0, n = 0;
	ssize_t	       k;

	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL)
				abort();
			buf = nb;
		}
		k = read(fd, buf + n, cap - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	*len = n;
	return buf;
}
