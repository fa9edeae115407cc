/* uploads_get: GET /api/v1/uploads/{id} and its thumbnail. The service
 * decides (upload_fetch: the uploader, or a member of a conversation the
 * file was sent to; anything else is the same 404 as a missing id) and
 * nginx sends the bytes from an internal location (X-Accel-Redirect),
 * with Range, conditional requests, nosniff and a sandboxing CSP there.
 * Only image, audio and video types are ever named as Content-Type; every
 * other file is application/octet-stream, and only images are inline. */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "uploads.h"

static void fetch(struct http_req *, int);
static void disposition(struct http_req *, const char *, int);

/* Content-Disposition with an ASCII fallback name and the real one as
 * RFC 5987 filename*. */
static void
disposition(struct http_req *r, const char *name, int inline_)
{
	char	      ascii[256], ext[256 * 3 + 1];
	size_t	      i, a = 0, e = 0;
	unsigned char c;

	for (i = 0; name[i] != '\0' && a + 1 < sizeof(ascii); i++) {
		c = (unsigned char)name[i];
		ascii[a++] =
		    c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' ?
		    (char)c :
		    '_';
	}
	ascii[a] = '\0';
	for (i = 0; name[i] != '\0' && e + 4 < sizeof(ext); i++) {
		c = (unsigned char)name[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c) != NULL)
			ext[e++] = (char)c;
		else
			e += (size_t)snprintf(ext + e, 4, "%%%02X", c);
	}
	ext[e] = '\0';
	http_header(r,
	    "Content-Disposition: %s; filename=\"%s\"; "
	    "filename*=UTF-8''%s",
	    inline_ ? "inline" : "attachment", ascii, ext);
}

static void
fetch(struct http_req *r, int thumb)
{
	char	    me[24], id_s[24];
	const char *sha, *mime, *kind;
	PGresult   *res;
	int64_t	    id;
	int	    media;

	if (http_param_id(r, 0, &id) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_fetch, db_i64(me, r->user_id),
		 db_i64(id_s, id), thumb ? "true" : "false")) == NULL) {
		http_db_error(r);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		http_error(r, 404, "upload_not_found", "No such upload.");
		return;
	}
	sha = PQgetvalue(res, 0, 0);
	mime = PQgetvalue(res, 0, 2);
	kind = PQgetvalue(res, 0, 3);
	media = thumb || strcmp(kind, "file") != 0;
	http_header(r, "X-Accel-Redirect: /_parley_uploads/%.2s/%s", sha, sha);
	http_header(r, "Content-Type: %s",
	    media ? mime : "application/octet-stream");
	disposition(r, PQgetvalue(res, 0, 1),
	    thumb || strcmp(kind, "image") == 0);
	PQclear(res);
	http_reply_raw(r, 200, NULL, NULL, 0);
}

void
uploads_get(struct http_req *r)
{
	fetch(r, 0);
}

void
uploads_thumbnail(struct http_req *r)
{
	fetch(r, 1);
}
