/* test_sign: the v1 request signature against values computed with the
 * openssl command line (README "Request signing"), and the header
 * parsers' edges. */
#include "sign.h"
#include "unit.h"

static const char *t_vector(void);
static const char *t_parse(void);
static const char *t_timestamp(void);
static const char *t_nonce_site(void);

/* printf 'v1\n1700000000\nabcdef0123456789\nPOST\n/api/v1/server/push?x=1\n<sha>' |
 *     openssl dgst -sha256 -hmac test-secret-0123456789 */
static const char *
t_vector(void)
{
	char body[SIGN_HEX], sig[SIGN_HEX];

	sign_body_hash("", 0, body);
	CHECK_STR(body,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sign_body_hash("{\"all\":true,\"event\":1}", 22, body);
	CHECK_STR(body,
	    "44073b6b5632260b44454b7b5910212e35772cf46deaab1694174616b4f9bc2f");
	sign_compute("test-secret-0123456789", "1700000000", "abcdef0123456789",
	    "POST", "/api/v1/server/push?x=1", body, sig);
	CHECK_STR(sig,
	    "ed41887a7457a5cf00681ec1b0ff479e0a192c54907971a3558faddb945c5ad8");
	/* Any part changed changes the signature. */
	sign_compute("test-secret-0123456789", "1700000000", "abcdef0123456789",
	    "POST", "/api/v1/server/push?x=2", body, sig);
	CHECK(!sign_equal(sig,
	    "ed41887a7457a5cf00681ec1b0ff479e0a192c54907971a3558faddb945c5ad"
	    "8"));
	return NULL;
}

static const char *
t_parse(void)
{
	char out[SIGN_HEX];

	CHECK_EQ(sign_parse("v1="
			    "ED41887A7457A5CF00681EC1B0FF479E0A192C54907971A355"
			    "8FADDB945C5AD8",
		     out),
	    0);
	CHECK_STR(out,
	    "ed41887a7457a5cf00681ec1b0ff479e0a192c54907971a3558faddb945c5ad8");
	CHECK_EQ(sign_parse("v2="
			    "ed41887a7457a5cf00681ec1b0ff479e0a192c54907971a355"
			    "8faddb945c5ad8",
		     out),
	    -1);
	CHECK_EQ(sign_parse("v1="
			    "ed41887a7457a5cf00681ec1b0ff479e0a192c54907971a355"
			    "8faddb945c5ad",
		     out),
	    -1);
	CHECK_EQ(sign_parse("v1="
			    "ed41887a7457a5cf00681ec1b0ff479e0a192c54907971a355"
			    "8faddb945c5ad8a",
		     out),
	    -1);
	CHECK_EQ(sign_parse("v1="
			    "gd41887a7457a5cf00681ec1b0ff479e0a192c54907971a355"
			    "8faddb945c5ad8",
		     out),
	    -1);
	CHECK_EQ(sign_parse("", out), -1);
	CHECK_EQ(sign_parse(NULL, out), -1);
	return NULL;
}

static const char *
t_timestamp(void)
{
	CHECK_EQ(sign_timestamp_check("1700000000", 1700000000), 1);
	CHECK_EQ(sign_timestamp_check("1700000300", 1700000000), 1);
	CHECK_EQ(sign_timestamp_check("1699999700", 1700000000), 1);
	CHECK_EQ(sign_timestamp_check("1700000301", 1700000000), 0);
	CHECK_EQ(sign_timestamp_check("1699999699", 1700000000), 0);
	CHECK_EQ(sign_timestamp_check("0", 1700000000), 0);
	CHECK_EQ(sign_timestamp_check("-1700000000", 1700000000), -1);
	CHECK_EQ(sign_timestamp_check("1700000000.5", 1700000000), -1);
	CHECK_EQ(sign_timestamp_check(" 1700000000", 1700000000), -1);
	CHECK_EQ(sign_timestamp_check("9999999999999", 1700000000), -1);
	CHECK_EQ(sign_timestamp_check("", 1700000000), -1);
	return NULL;
}

static const char *
t_nonce_site(void)
{
	char n[SIGN_NONCE_MAX + 1];

	CHECK(sign_nonce_ok("abcdefgh-_ABCDEF"));
	CHECK(!sign_nonce_ok("abcdefgh-_ABCDE")); /* 15 */
	CHECK(!sign_nonce_ok("abcdefgh ABCDEFGH"));
	CHECK(!sign_nonce_ok("abcdefgh\nABCDEFGH"));
	CHECK(sign_nonce_ok("01234567890123456789012345678901234567890123456789"
			    "01234567890123"));
	CHECK(!sign_nonce_ok("0123456789012345678901234567890123456789012345678"
			     "9012345678901234"));
	sign_nonce_new(n);
	CHECK_EQ(strlen(n), 32);
	CHECK(sign_nonce_ok(n));
	CHECK(sign_site_ok("shop"));
	CHECK(sign_site_ok("0-shop_2"));
	CHECK(!sign_site_ok("-shop"));
	CHECK(!sign_site_ok("Shop"));
	CHECK(!sign_site_ok(""));
	CHECK(sign_site_ok("abcdefghijabcdefghijabcdefghijab")); /* 32 */
	CHECK(!sign_site_ok("abcdefghijabcdefghijabcdefghijabc"));
	return NULL;
}

void
test_sign(void)
{
	unit_run("sign: v1 signature matches openssl", t_vector);
	unit_run("sign: X-Parley-Signature parsing", t_parse);
	unit_run("sign: timestamp window and format", t_timestamp);
	unit_run("sign: nonces and site names", t_nonce_site);
}
