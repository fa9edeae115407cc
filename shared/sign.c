/* sign: HMAC-SHA256 request signatures (see sign.h) with libsodium. */
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "sign.h"

static void hex(const unsigned char *, size_t, char *);

static void
hex(const unsigned char *bin, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t		  i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[bin[i] >> 4];
		out[2 * i + 1] = digits[bin[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void
sign_body_hash(const void *body, size_t len, char out[SIGN_HEX])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, body, len);
	hex(h, sizeof(h), out);
}

void
sign_compute(const char *secret, const char *timestamp, const char *nonce,
    const char *method, const char *uri, const char *bodyhash,
    char out[SIGN_HEX])
{
	crypto_auth_hmacsha256_state st;
	unsigned char		     mac[crypto_auth_hmacsha256_BYTES];
	const char *parts[] = { "v1", timestamp, nonce, method, uri, bodyhash };
	size_t	    i;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
	    strlen(secret));
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (i > 0)
			crypto_auth_hmacsha256_update(&st,
			    (const unsigned char *)"\n", 1);
		crypto_auth_hmacsha256_update(&st,
		    (const unsigned char *)parts[i], strlen(parts[i]));
	}
	crypto_auth_hmacsha256_final(&st, mac);
	hex(mac, sizeof(mac), out);
	sodium_memzero(&st, sizeof(st));
}

int
sign_parse(const char *header, char out[SIGN_HEX])
{
	size_t i;
	char   c;

	if (header == NULL || strncmp(header, "v1=", 3) != 0 ||
	    strlen(header + 3) != SIGN_HEX - 1)
		return -1;
	for (i = 0; i < SIGN_HEX - 1; i++) {
		c = header[3 + i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		out[i] = c;
	}
	out[SIGN_HEX - 1] = '\0';
	return 0;
}

int
sign_timestamp_check(const char *s, long long now)
{
	long long t = 0;
	size_t	  i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 12)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		t = t * 10 + (s[i] - '0');
	}
	return t >= now - SIGN_WINDOW && t <= now + SIGN_WINDOW;
}

bool
sign_nonce_ok(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strspn(s,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-");
	return s[n] == '\0' && n >= SIGN_NONCE_MIN && n <= SIGN_NONCE_MAX;
}

bool
sign_site_ok(const char *s)
{
	size_t n;

	if (s == NULL ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");
	return s[n] == '\0' && n <= SIGN_NAME_MAX;
}

bool
sign_equal(const char a[SIGN_HEX], const char b[SIGN_HEX])
{
	return sodium_memcmp(a, b, SIGN_HEX - 1) == 0;
}

void
sign_nonce_new(char out[SIGN_NONCE_MAX + 1])
{
	unsigned char r[16];

	randombytes_buf(r, sizeof(r));
	hex(r, sizeof(r), out);
}
