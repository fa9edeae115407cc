/* test_valid: the JSON field getters, with a memory FastCGI request so the
 * 400 replies they send are checked against the error convention too. */
#include <stdlib.h>

#include "fcgi_mem.h"
#include "unit.h"
#include "valid.h"

static const char *t_string_lengths(void);
static const char *t_string_presence(void);
static const char *t_string_controls(void);
static const char *t_string_name(void);
static const char *t_id(void);
static const char *t_int(void);
static const char *t_id_array(void);
static void	   run(const char *, const char *, unit_fn);

static struct http_req req;
static struct fcgi_mem mem;
static json_t	      *obj;

/* The getter just called replied 400 as the convention says; the reply is
 * then cleared for the next call. */
#define CHECK_REFUSED()                                                        \
	do {                                                                   \
		const char *why_ = fcgi_mem_check(&mem, 400);                  \
		if (why_ != NULL)                                              \
			return unit_fail(__FILE__, __LINE__, "%s", why_);      \
		fcgi_mem_rewind(&mem, &req);                                   \
	} while (0)

#define CHECK_SILENT() CHECK(req.status == 0)

static const char *
t_string_lengths(void)
{
	const char *s = NULL;

	CHECK_EQ(valid_string(&req, obj, "a", VALID_REQUIRED, 3, 3, &s), 0);
	CHECK_STR(s, "abc");
	CHECK_SILENT();
	/* Code points, not bytes: two euro signs are 6 bytes. */
	CHECK_EQ(valid_string(&req, obj, "e", 0, 2, 2, &s), 0);
	CHECK_STR(s, "\xe2\x82\xac\xe2\x82\xac");
	CHECK_EQ(valid_string(&req, obj, "a", 0, 4, 10, &s), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_string(&req, obj, "a", 0, 1, 2, &s), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_string(&req, obj, "z", 0, 0, 5, &s), 0);
	CHECK_STR(s, "");
	CHECK_EQ(valid_string(&req, obj, "z", 0, 1, 5, &s), -1);
	CHECK_REFUSED();
	/* Far too many bytes is refused before counting. */
	CHECK_EQ(valid_string(&req, obj, "long", 0, 1, 2, &s), -1);
	CHECK_REFUSED();
	return NULL;
}

static const char *
t_string_presence(void)
{
	const char *s = "unchanged";

	CHECK_EQ(valid_string(&req, obj, "absent", 0, 1, 5, &s), 0);
	CHECK_STR(s, "unchanged");
	CHECK_SILENT();
	CHECK_EQ(valid_string(&req, obj, "n", 0, 1, 5, &s), 0);
	CHECK_STR(s, "unchanged");
	CHECK_SILENT();
	CHECK_EQ(valid_string(&req, obj, "absent", VALID_REQUIRED, 1, 5, &s),
	    -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_string(&req, obj, "n", VALID_REQUIRED, 1, 5, &s), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_string(&req, obj, "i", 0, 1, 5, &s), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_string(&req, obj, "arr", 0, 1, 5, &s), -1);
	CHECK_REFUSED();
	return NULL;
}

static const char *
t_string_controls(void)
{
	const char *s;

	CHECK_EQ(valid_string(&req, obj, "nl", 0, 1, 9, &s), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_string(&req, obj, "nl", VALID_MULTILINE, 1, 9, &s), 0);
	CHECK_EQ(valid_string(&req, obj, "tab", VALID_MULTILINE, 1, 9, &s), 0);
	CHECK_EQ(valid_string(&req, obj, "esc", VALID_MULTILINE, 1, 9, &s), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_string(&req, obj, "c1", 0, 1, 9, &s), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_string(&req, obj, "esc", VALID_RAW, 1, 9, &s), 0);
	CHECK_SILENT();
	return NULL;
}

/* VALID_NAME strips bidi controls in the object, then checks lengths. */
static const char *
t_string_name(void)
{
	const char *s = NULL;

	/* Without the flag the string is kept as sent. */
	CHECK_EQ(valid_string(&req, obj, "rlo", 0, 1, 9, &s), 0);
	CHECK_STR(s,
	    "\xe2\x80\xae"
	    "live");
	CHECK_EQ(valid_string(&req, obj, "rlo", VALID_NAME, 1, 9, &s), 0);
	CHECK_STR(s, "live");
	CHECK_SILENT();
	/* The object holds the cleaned string: what gets stored. */
	CHECK_STR(json_string_value(json_object_get(obj, "rlo")), "live");
	/* 5 code points with the controls, 3 without: fits 1..3. */
	CHECK_EQ(valid_string(&req, obj, "wrapped", VALID_NAME, 1, 3, &s), 0);
	CHECK_STR(s, "Bob");
	/* Nothing left: too short, as an empty name is. */
	CHECK_EQ(valid_string(&req, obj, "only", VALID_NAME | VALID_REQUIRED, 1,
		     9, &s),
	    -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_string(&req, obj, "plain", VALID_NAME, 1, 9, &s), 0);
	CHECK_STR(s, "Al");
	/* Controls are still refused in names. */
	CHECK_EQ(valid_string(&req, obj, "esc", VALID_NAME, 1, 9, &s), -1);
	CHECK_REFUSED();
	return NULL;
}

static const char *
t_id(void)
{
	int64_t id = -7;

	CHECK_EQ(valid_id(&req, obj, "ok", VALID_REQUIRED, &id), 0);
	CHECK_EQ(id, 42);
	CHECK_EQ(valid_id(&req, obj, "max", 0, &id), 0);
	CHECK_EQ(id, 9007199254740991LL);
	CHECK_EQ(valid_id(&req, obj, "absent", 0, &id), 0);
	CHECK_EQ(id, 9007199254740991LL);
	CHECK_SILENT();
	CHECK_EQ(valid_id(&req, obj, "absent", VALID_REQUIRED, &id), -1);
	CHECK_REFUSED();
	/* 2^53 would not survive a JavaScript client. */
	CHECK_EQ(valid_id(&req, obj, "big", 0, &id), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_id(&req, obj, "zero", 0, &id), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_id(&req, obj, "neg", 0, &id), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_id(&req, obj, "str", 0, &id), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_id(&req, obj, "real", 0, &id), -1);
	CHECK_REFUSED();
	CHECK_EQ(id, 9007199254740991LL);
	return NULL;
}

static const char *
t_int(void)
{
	long long v = 0;

	CHECK_EQ(valid_int(&req, obj, "lo", 0, -5, 5, &v), 0);
	CHECK_EQ(v, -5);
	CHECK_EQ(valid_int(&req, obj, "hi", 0, -5, 5, &v), 0);
	CHECK_EQ(v, 5);
	CHECK_EQ(valid_int(&req, obj, "out", 0, -5, 5, &v), -1);
	CHECK_REFUSED();
	CHECK_EQ(v, 5);
	return NULL;
}

static const char *
t_id_array(void)
{
	int64_t *ids;
	size_t	 n;

	CHECK_EQ(valid_id_array(&req, obj, "ok", 0, 3, &ids, &n), 0);
	CHECK_EQ(n, 3);
	CHECK(ids[0] == 3 && ids[1] == 1 && ids[2] == 2);
	free(ids);
	CHECK_EQ(valid_id_array(&req, obj, "empty", 0, 3, &ids, &n), 0);
	CHECK_EQ(n, 0);
	free(ids);
	CHECK_EQ(valid_id_array(&req, obj, "absent", 0, 3, &ids, &n), 0);
	CHECK(ids == NULL && n == 0);
	CHECK_SILENT();
	CHECK_EQ(valid_id_array(&req, obj, "ok", 0, 2, &ids, &n), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_id_array(&req, obj, "dup", 0, 5, &ids, &n), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_id_array(&req, obj, "zero", 0, 5, &ids, &n), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_id_array(&req, obj, "str", 0, 5, &ids, &n), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_id_array(&req, obj, "obj", 0, 5, &ids, &n), -1);
	CHECK_REFUSED();
	CHECK_EQ(valid_id_array(&req, obj, "absent", VALID_REQUIRED, 5, &ids,
		     &n),
	    -1);
	CHECK_REFUSED();
	CHECK(ids == NULL && n == 0);
	return NULL;
}

/* Runs `fn` with `obj` parsed from `json` and an empty memory request. */
static void
run(const char *name, const char *json, unit_fn fn)
{
	memset(&req, 0, sizeof(req));
	fcgi_mem_init(&mem, &req, NULL, 0);
	if ((obj = json_loads(json, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		unit_result(name, "the test's JSON does not parse");
	else
		unit_run(name, fn);
	json_decref(obj);
	fcgi_mem_cleanup(&mem);
}

void
test_valid(void)
{
	run("valid_string/lengths",
	    "{\"a\":\"abc\",\"e\":\"\\u20ac\\u20ac\","
	    "\"z\":\"\",\"long\":\"123456789\"}",
	    t_string_lengths);
	run("valid_string/presence", "{\"n\":null,\"i\":5,\"arr\":[\"x\"]}",
	    t_string_presence);
	run("valid_string/controls",
	    "{\"nl\":\"a\\nb\",\"esc\":\"a\\u001bb\","
	    "\"c1\":\"a\\u0085b\",\"tab\":\"a\\tb\"}",
	    t_string_controls);
	run("valid_string/name",
	    "{\"rlo\":\"\\u202elive\",\"wrapped\":"
	    "\"\\u2066Bob\\u2069\",\"only\":\"\\u200f\\u061c\",\"plain\":"
	    "\"Al\","
	    "\"esc\":\"\\u202ea\\u001b\"}",
	    t_string_name);
	run("valid_id",
	    "{\"ok\":42,\"max\":9007199254740991,"
	    "\"big\":9007199254740992,\"zero\":0,\"neg\":-1,\"str\":\"42\","
	    "\"real\":42.0}",
	    t_id);
	run("valid_int", "{\"lo\":-5,\"hi\":5,\"out\":6}", t_int);
	run("valid_id_array",
	    "{\"ok\":[3,1,2],\"empty\":[],\"dup\":[1,2,1],"
	    "\"zero\":[1,0],\"str\":[\"1\"],\"obj\":{}}",
	    t_id_array);
}
