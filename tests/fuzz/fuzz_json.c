/* fuzz_json: the request-body path as a service runs it. The input is the
 * body of a memory FastCGI request (tests/unit/fcgi_mem.c fills libfcgi's
 * public FCGX_Stream hooks, so http.c reads and writes it unchanged):
 * http_body_json parses it (json_loadb with JSON_REJECT_DUPLICATES, object
 * check), then the valid_* getters read the fields the services read.
 * Every refusal must be a well-formed {"error":...} reply, and every value
 * a getter accepts must obey its contract. */
#include <string.h>

#include "config.h"
#include "fcgi_mem.h"
#include "fuzz.h"
#include "http.h"
#include "log.h"
#include "text.h"
#include "valid.h"

static void after(int);
static void check_string(json_t *, const char *, int, size_t, size_t);
static void check_numbers(json_t *);

static struct http_req req;
static struct fcgi_mem mem;

/* A getter returned rc: -1 must come with a 400 error reply, 0 with none.
 * Clears the reply for the next getter. */
static void
after(int rc)
{
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == -1)
		FUZZ_OK(fcgi_mem_check(&mem, 400));
	else
		FUZZ_ASSERT(req.status == 0);
	fcgi_mem_rewind(&mem, &req);
}

static void
check_string(json_t *o, const char *field, int flags, size_t minc, size_t maxc)
{
	const char *s = NULL;
	size_t	    chars;

	after(valid_string(&req, o, field, flags, minc, maxc, &s));
	if (s == NULL)
		return;
	FUZZ_ASSERT(json_is_string(json_object_get(o, field)));
	FUZZ_ASSERT(text_utf8_valid(s, strlen(s)));
	chars = text_utf8_chars(s);
	FUZZ_ASSERT(chars >= minc && chars <= maxc);
	if (!(flags & VALID_RAW))
		FUZZ_ASSERT(!text_has_controls(s, flags & VALID_MULTILINE));
}

static void
check_numbers(json_t *o)
{
	int64_t	  id = 0, *ids = NULL;
	long long v = 0;
	size_t	  n = 0, i, j;

	after(valid_id(&req, o, "user_id", 0, &id));
	FUZZ_ASSERT(id == 0 || (id >= 1 && id <= 9007199254740991LL));
	after(valid_int(&req, o, "limit", 0, 1, 50, &v));
	FUZZ_ASSERT(v == 0 || (v >= 1 && v <= 50));
	after(valid_id_array(&req, o, "ids", 0, 16, &ids, &n));
	FUZZ_ASSERT(n <= 16 && (n == 0 || ids != NULL));
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(ids[i] >= 1 && ids[i] <= 9007199254740991LL);
		for (j = 0; j < i; j++)
			FUZZ_ASSERT(ids[i] != ids[j]);
	}
	free(ids);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_json");
	config.body_limit = 64 * 1024; /* the default of config_load */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	len[32];
	json_t *o;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	fcgi_mem_init(&mem, &req, data, size);
	snprintf(len, sizeof(len), "%zu", size);
	fcgi_mem_setenv(&mem, "CONTENT_LENGTH", len);
	fcgi_mem_setenv(&mem, "CONTENT_TYPE", "application/json");
	if ((o = http_body_json(&req)) == NULL) {
		FUZZ_ASSERT(req.status == 400 || req.status == 413);
		FUZZ_OK(fcgi_mem_check(&mem, req.status));
		fcgi_mem_cleanup(&mem);
		return 0;
	}
	FUZZ_ASSERT(json_is_object(o) && req.status == 0);
	/* The fields and limits of accounts and friends. */
	check_string(o, "username", VALID_REQUIRED, 1, 64);
	check_string(o, "password", VALID_REQUIRED | VALID_RAW, 8, 1024);
	check_string(o, "display_name", 0, 1, 64);
	check_string(o, "memo", VALID_MULTILINE, 0, 200);
	check_numbers(o);
	json_decref(o);
	fcgi_mem_cleanup(&mem);
	return 0;
}
