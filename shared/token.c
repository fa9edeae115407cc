/* token: the stored form of a token, BLAKE2b-256 as bytea hex. Its own file
 * because the gateway (services/gateway, a Kore module) links it without
 * the FastCGI request code in auth.c. */
#include <string.h>

#include <sodium.h>

#include "auth.h"

void
auth_token_hash(const char *token, char hash[AUTH_HASH_HEX])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token,
	    strlen(token), NULL, 0);
	hash[0] = '\\';
	hash[1] = 'x';
	sodium_bin2hex(hash + 2, AUTH_HASH_HEX - 2, h, sizeof(h));
}
