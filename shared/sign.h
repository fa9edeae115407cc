/* sign: version 1 of the request signature shared by a site and Parley
 * (README "Request signing"): HMAC-SHA256, keyed with the site's secret,
 * over "v1\n<timestamp>\n<nonce>\n<METHOD>\n<path?query>\n<sha256(body)>".
 * Pure functions: the sites service checks signatures with them, the
 * webhooks dispatcher signs deliveries, the fuzz driver feeds them. */
#ifndef PARLEY_SIGN_H
#define PARLEY_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#define SIGN_HEX       65  /* 64 lowercase hex digits + NUL */
#define SIGN_WINDOW    300 /* seconds a timestamp may be off, either way */
#define SIGN_NONCE_MIN 16
#define SIGN_NONCE_MAX 64
#define SIGN_NAME_MAX  32 /* site names: [a-z0-9][a-z0-9_-]{0,31} */

/* Lowercase hex SHA-256 of body[0..len) into out. */
void sign_body_hash(const void *body, size_t len, char out[SIGN_HEX]);

/* The v1 signature (lowercase hex) of one request into out. `bodyhash` is
 * sign_body_hash() of the body. */
void sign_compute(const char *secret, const char *timestamp, const char *nonce,
    const char *method, const char *uri, const char *bodyhash,
    char out[SIGN_HEX]);

/* Parses an X-Parley-Signature value "v1=<64 hex>" (hex case-folded into
 * out). Returns 0, or -1 when malformed. */
int sign_parse(const char *header, char out[SIGN_HEX]);

/* 1 when `s` is a decimal Unix time (1..12 digits) within SIGN_WINDOW of
 * `now`, 0 when well-formed but outside it, -1 when malformed. */
int sign_timestamp_check(const char *s, long long now);

/* True when `s` is a usable nonce: SIGN_NONCE_MIN..MAX of [A-Za-z0-9_-]. */
bool sign_nonce_ok(const char *s);

/* True when `s` is a site name. */
bool sign_site_ok(const char *s);

/* Compares two signatures in constant time: true when equal. */
bool sign_equal(const char a[SIGN_HEX], const char b[SIGN_HEX]);

/* A fresh nonce (32 hex digits) into out. */
void sign_nonce_new(char out[SIGN_NONCE_MAX + 1]);

#endif
