/* unit_main: runs every module's cases in one process and exits non-zero
 * when any failed. Cases share no state, so order only affects output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "unit.h"

static int npassed, nfailed;

void
unit_result(const char *name, const char *why)
{
	if (why == NULL) {
		printf("ok %s\n", name);
		npassed++;
	} else {
		printf("FAIL %s: %s\n", name, why);
		nfailed++;
	}
	/* A crash in the next case must not swallow this line. */
	fflush(stdout);
}

void
unit_run(const char *name, unit_fn fn)
{
	unit_result(name, fn());
}

const char *
unit_fail(const char *file, int line, const char *fmt, ...)
{
	static char buf[1024];
	va_list	    ap;
	int	    n;

	n = snprintf(buf, sizeof(buf), "%s:%d: ", file, line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return "unit_fail: location does not fit";
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	return buf;
}

int
main(void)
{
	log_init("unit");
	if (sodium_init() < 0) {
		printf("FAIL sodium_init: libsodium cannot start\n");
		return 1;
	}
	/* Cheap argon2id parameters: the round trip is what is tested. */
	config.pwhash_fast = 1;
	config.body_limit = 64 * 1024;
	auth_init();

	test_text();
	test_http();
	test_router();
	test_user();
	test_auth();
	test_pwhash();
	test_addr();
	test_valid();
	test_reply();
	test_ticker();
	test_sign();
	test_log();
	test_nofile();
	test_db();
	test_poll_hub();
	test_fcgi_out();
	test_poll_reply();
	test_webhooks_addr();
	test_gw_frame();
	test_send();

	printf("# %d passed, %d failed\n", npassed, nfailed);
	return nfailed == 0 ? 0 : 1;
}
