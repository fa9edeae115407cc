/* calls_ice: GET /ice-servers, the STUN and TURN servers a browser gives
 * RTCPeerConnection. TURN credentials follow coturn's TURN REST scheme
 * (use-auth-secret): username "<expiry unix time>:<user id>", credential
 * base64(HMAC-SHA1(secret, username)). coturn checks them itself with the
 * same secret, so Parley and coturn share nothing but that secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "calls.h"
#include "config.h"
#include "http.h"
#include "log.h"

/* "a, b,c" -> ["a","b","c"]; NULL when the list is empty. */
static json_t *
uri_list(const char *csv)
{
	json_t		*list;
	const char	*p = csv, *end;
	size_t		 n;

	if (csv == NULL)
		return NULL;
	list = json_array();
	while (*p != '\0') {
		p += strspn(p, " ,");
		end = p + strcspn(p, ",");
		for (n = (size_t)(end - p); n > 0 && p[n - 1] == ' '; n--)
			;
		if (n > 0)
			json_array_append_new(list, json_stringn(p, n));
		p = end;
	}
	if (json_array_size(list) == 0) {
		json_decref(list);
		return NULL;
	}
	return list;
}

void
ice_servers(struct http_req *r)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	char		 user[48], cred[64];
	const char	*secret = calls_config.turn_secret;
	json_t		*servers = json_array(), *uris;

	if ((uris = uri_list(calls_config.stun_uris)) != NULL)
		json_array_append_new(servers, json_pack("{s:o}", "urls", uris));
	if (secret != NULL && (uris = uri_list(calls_config.turn_uris)) !=
	    NULL) {
		snprintf(user, sizeof(user), "%lld:%lld",
		    (long long)time(NULL) + calls_config.turn_ttl,
		    (long long)r->user_id);
		if (HMAC(EVP_sha1(), secret, (int)strlen(secret),
		    (const unsigned char *)user, strlen(user), mac,
		    &maclen) == NULL)
			log_fatal("HMAC-SHA1 failed");
		EVP_EncodeBlock((unsigned char *)cred, mac, (int)maclen);
		json_array_append_new(servers, json_pack("{s:o,s:s,s:s}",
		    "urls", uris, "username", user, "credential", cred));
	}
	http_reply(r, 200, json_pack("{s:o,s:I}", "ice_servers", servers,
	    "ttl", (json_int_t)calls_config.turn_ttl));
}
