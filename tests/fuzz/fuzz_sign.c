/* fuzz_sign: the parsers of a site's signing headers (X-Parley-Signature,
 * -Timestamp, -Nonce, -Site) against reference checks written the long
 * way, and the v1 signature against OpenSSL's HMAC (an independent
 * implementation) over the string-to-sign built by hand.
 * fuzz-libs: -lcrypto
 * Input: fields separated by '\n': signature header, timestamp, nonce,
 * site, secret, method, uri, body (the rest). */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "fuzz.h"
#include "sign.h"

#define NOW 1700000000LL

static int ref_ts(const char *);
static int ref_charset(const char *, const char *, size_t, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_ASSERT(sodium_init() >= 0);
	return 0;
}

static int
ref_ts(const char *s)
{
	long long v;
	size_t	  n = strlen(s), i;

	if (n == 0 || n > 12)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	v = strtoll(s, NULL, 10);
	return v >= NOW - 300 && v <= NOW + 300;
}

static int
ref_charset(const char *s, const char *set, size_t min, size_t max)
{
	size_t i, n = strlen(s);

	if (n < min || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	     *buf, *f[8], *p, *end;
	char	      out[SIGN_HEX], again[SIGN_HEX], hdr[SIGN_HEX + 3];
	char	      bodyhash[SIGN_HEX], sig[SIGN_HEX], ref[SIGN_HEX];
	char	     *text;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int  maclen = 0, k;
	size_t	      i, bodylen, tlen;
	int	      n;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = buf + size;
	/* Fields stop at NUL too, as C strings from FastCGI would. */
	p = buf;
	for (n = 0; n < 8; n++) {
		f[n] = p;
		if (n == 7)
			break;
		while (p < end && *p != '\n')
			p++;
		if (p < end)
			*p++ = '\0';
	}
	bodylen = (size_t)(end - f[7]);

	/* The signature header. */
	if (sign_parse(f[0], out) == 0) {
		FUZZ_ASSERT(strlen(out) == SIGN_HEX - 1);
		FUZZ_ASSERT(strspn(out, "0123456789abcdef") == SIGN_HEX - 1);
		FUZZ_ASSERT(strncmp(f[0], "v1=", 3) == 0);
		for (i = 0; i < SIGN_HEX - 1; i++)
			FUZZ_ASSERT(out[i] == (char)(f[0][3 + i] | 0x20) ||
			    out[i] == f[0][3 + i]);
		snprintf(hdr, sizeof(hdr), "v1=%s", out);
		FUZZ_ASSERT(sign_parse(hdr, again) == 0);
		FUZZ_ASSERT(sign_equal(out, again));
	} else
		FUZZ_ASSERT(strncmp(f[0], "v1=", 3) != 0 ||
		    strlen(f[0]) != SIGN_HEX + 2 ||
		    strspn(f[0] + 3, "0123456789abcdefABCDEF") != SIGN_HEX - 1);

	FUZZ_ASSERT(sign_timestamp_check(f[1], NOW) == ref_ts(f[1]));
	FUZZ_ASSERT(sign_nonce_ok(f[2]) ==
	    ref_charset(f[2],
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		"_-",
		16, 64));
	FUZZ_ASSERT(sign_site_ok(f[3]) ==
	    (ref_charset(f[3], "abcdefghijklmnopqrstuvwxyz0123456789_-", 1,
		 32) &&
		f[3][0] != '_' && f[3][0] != '-'));

	/* The signature: libsodium (the server) against OpenSSL. */
	sign_body_hash(f[7], bodylen, bodyhash);
	sign_compute(f[4], f[1], f[2], f[5], f[6], bodyhash, sig);
	tlen =
	    strlen(f[1]) + strlen(f[2]) + strlen(f[5]) + strlen(f[6]) + 64 + 8;
	if ((text = malloc(tlen)) != NULL) {
		n = snprintf(text, tlen, "v1\n%s\n%s\n%s\n%s\n%s", f[1], f[2],
		    f[5], f[6], bodyhash);
		FUZZ_ASSERT(HMAC(EVP_sha256(), f[4], (int)strlen(f[4]),
				(unsigned char *)text, (size_t)n, mac,
				&maclen) != NULL);
		FUZZ_ASSERT(maclen == 32);
		for (k = 0; k < maclen; k++)
			snprintf(ref + 2 * k, 3, "%02x", mac[k]);
		FUZZ_ASSERT(strcmp(sig, ref) == 0);
		FUZZ_ASSERT(sign_equal(sig, ref));
		free(text);
	}
	free(buf);
	return 0;
}
