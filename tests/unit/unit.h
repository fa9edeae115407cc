/* unit: the C unit test harness. Each case prints "ok <name>" or
 * "FAIL <name>: <why>" (scripts/test.sh counts those lines); the binary
 * exits 1 when any case failed. */
#ifndef PARLEY_UNIT_H
#define PARLEY_UNIT_H

#include <stddef.h>
#include <string.h>

/* A case returns NULL when it passed, or why it failed. */
typedef const char *(*unit_fn)(void);

/* Runs `fn` and prints its result line under `name`. */
void unit_run(const char *name, unit_fn fn);
/* Prints the result line of a case the caller checked itself (table rows);
 * `why` is NULL when it passed. */
void unit_result(const char *name, const char *why);
/* Formats a failure reason into a static buffer (cases run one at a time). */
const char *unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			return unit_fail(__FILE__, __LINE__, "%s", #cond);     \
	} while (0)

/* Integer comparison that shows both values. */
#define CHECK_EQ(got, want)                                                    \
	do {                                                                   \
		long long got_ = (long long)(got);                             \
		long long want_ = (long long)(want);                           \
		if (got_ != want_)                                             \
			return unit_fail(__FILE__, __LINE__,                   \
			    "%s is %lld, want %lld", #got, got_, want_);       \
	} while (0)

/* String comparison that shows both values (NULL is never equal). */
#define CHECK_STR(got, want)                                                   \
	do {                                                                   \
		const char *got_ = (got), *want_ = (want);                     \
		if (got_ == NULL || strcmp(got_, want_) != 0)                  \
			return unit_fail(__FILE__, __LINE__,                   \
			    "%s is \"%s\", want \"%s\"", #got,                 \
			    got_ != NULL ? got_ : "(null)", want_);            \
	} while (0)

/* One entry point per module file, called by unit_main.c in order. */
void test_text(void);
void test_http(void);
void test_router(void);
void test_user(void);
void test_auth(void);
void test_pwhash(void);
void test_addr(void);
void test_valid(void);
void test_sign(void);
void test_reply(void);
void test_ticker(void);
void test_log(void);
void test_nofile(void);
void test_db(void);
void test_poll_hub(void);
void test_fcgi_out(void);
void test_poll_reply(void);
void test_webhooks_addr(void);
void test_gw_frame(void);
void test_send(void);

#endif
