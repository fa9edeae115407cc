/* http_body: reading a request's body once (Content-Length checked against
 * PARLEY_BODY_LIMIT) and parsing it as the JSON object handlers expect.
 * Apart from http.c because it is the one part that reads the FastCGI
 * input stream; every failure replies 400, 413 or 415 here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "http.h"
#include "log.h"

void
http_body_free(struct http_req *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
	r->body_read = 0;
}

int
http_body_read(struct http_req *r, const char **bufp, size_t *lenp)
{
	const char	  *cl;
	char		  *buf, *end;
	unsigned long long n;
	int		   got, off;

	if (r->body_read) {
		*bufp = r->body;
		*lenp = r->body_len;
		return 0;
	}
	cl = http_env(r, "CONTENT_LENGTH");
	errno = 0;
	n = cl != NULL && *cl != '\0' ? strtoull(cl, &end, 10) : 0;
	if (cl != NULL && *cl != '\0' && (errno != 0 || *end != '\0')) {
		http_error(r, 400, "bad_request", "Content-Length is invalid.");
		return -1;
	}
	if (n > config.body_limit) {
		http_error(r, 413, "body_too_large",
		    "The request body is larger than %zu bytes.",
		    config.body_limit);
		return -1;
	}
	if ((buf = malloc(n + 1)) == NULL)
		log_fatal("malloc: out of memory");
	for (off = 0; (unsigned long long)off < n; off += got) {
		got = FCGX_GetStr(buf + off, (int)(n - (unsigned long long)off),
		    r->fcgi.in);
		if (got <= 0)
			break;
	}
	if ((unsigned long long)off != n) {
		free(buf);
		http_error(r, 400, "bad_request", "The body ended early.");
		return -1;
	}
	buf[n] = '\0';
	r->body = buf;
	r->body_len = n;
	r->body_read = 1;
	*bufp = buf;
	*lenp = n;
	return 0;
}

json_t *
http_body_json(struct http_req *r)
{
	const char  *ct, *buf;
	size_t	     n;
	json_t	    *root;
	json_error_t jerr;

	if (http_body_read(r, &buf, &n) == -1)
		return NULL;
	if (n == 0) {
		http_error(r, 400, "body_required",
		    "This request needs a JSON object body.");
		return NULL;
	}
	ct = http_env(r, "CONTENT_TYPE");
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
		http_error(r, 415, "unsupported_media_type",
		    "The body must be JSON (Content-Type: application/json).");
		return NULL;
	}
	/* jansson rejects invalid UTF-8 and, without JSON_ALLOW_NUL, \u0000. */
	root = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		http_error(r, 400, "invalid_json",
		    "The body is not valid JSON: %s (at byte %d).", jerr.text,
		    jerr.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		http_error(r, 400, "invalid_json",
		    "The body must be a JSON object.");
		return NULL;
	}
	return root;
}
