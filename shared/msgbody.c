/* msgbody: validation of message bodies by type. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "http.h"
#include "msgbody.h"
#include "valid.h"

#define TEXT_MAX_BYTES MSGBODY_TEXT_MAX
#define URL_MAX	       MSGBODY_URL_MAX

static bool url_ok(const char *);
static bool mime_ok(const char *);

bool
msgbody_type_ok(const char *type)
{
	static const char *const types[] = { "text", "image", "file", "audio",
		"video", NULL };
	int			 i;

	for (i = 0; types[i] != NULL && strcmp(types[i], type) != 0; i++)
		;
	return types[i] != NULL;
}

static bool
url_ok(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static bool
mime_ok(const char *s)
{
	const char *tchar = "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&^_.+-";
	size_t	    n = strspn(s, tchar);

	return n > 0 && s[n] == '/' && strspn(s + n + 1, tchar) > 0 &&
	    s[n + 1 + strspn(s + n + 1, tchar)] == '\0';
}

/* A body of exactly the fields its type allows, or NULL after a 400. */
json_t *
msgbody_clean(struct http_req *r, const char *type, json_t *body)
{
	const char *text, *url, *name, *mime;
	long long   size;

	if (!json_is_object(body)) {
		http_error(r, 400, "invalid_field",
		    "The field 'body' must be "
		    "an object.");
		return NULL;
	}
	if (strcmp(type, "text") == 0) {
		if (valid_string(r, body, "text",
			VALID_REQUIRED | VALID_MULTILINE, 1, TEXT_MAX_BYTES,
			&text) == -1)
			return NULL;
		if (strlen(text) > TEXT_MAX_BYTES) {
			http_error(r, 400, "invalid_field",
			    "The field "
			    "'body.text' must be at most %d bytes.",
			    TEXT_MAX_BYTES);
			return NULL;
		}
		return json_pack("{s:s}", "text", text);
	}
	/* An upload: its id only; send_message() checks that it is the
	 * sender's and writes the rest from the uploads row. */
	if (json_object_get(body, "upload_id") != NULL) {
		int64_t id;

		if (valid_id(r, body, "upload_id", VALID_REQUIRED, &id) == -1)
			return NULL;
		if (json_object_size(body) != 1) {
			http_error(r, 400, "invalid_field",
			    "A body with "
			    "'upload_id' takes no other field: name, size and "
			    "type come from the upload.");
			return NULL;
		}
		return json_pack("{s:I}", "upload_id", (json_int_t)id);
	}
	if (valid_string(r, body, "url", VALID_REQUIRED, 1, URL_MAX, &url) ==
		-1 ||
	    valid_string(r, body, "name", VALID_REQUIRED, 1, 255, &name) ==
		-1 ||
	    valid_int(r, body, "size", VALID_REQUIRED, 0, 9007199254740991LL,
		&size) == -1 ||
	    valid_string(r, body, "mime", VALID_REQUIRED, 3, 127, &mime) == -1)
		return NULL;
	if (!url_ok(url) || strpbrk(url, " \"<>\\^`{|}") != NULL) {
		http_error(r, 400, "invalid_field",
		    "The field 'body.url' must "
		    "be an http or https URL.");
		return NULL;
	}
	if (!mime_ok(mime)) {
		http_error(r, 400, "invalid_field",
		    "The field 'body.mime' must "
		    "be a media type like image/png.");
		return NULL;
	}
	return json_pack("{s:s,s:s,s:I,s:s}", "url", url, "name", name, "size",
	    (json_int_t)size, "mime", mime);
}
