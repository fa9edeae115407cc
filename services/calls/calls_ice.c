/* calls_ice: the STUN and TURN servers a browser gives RTCPeerConnection,
 * for GET /ice-servers and for each call and room join. TURN credentials
 * follow coturn's TURN REST scheme (use-auth-secret): a username that
 * starts with the expiry, "<expiry unix time>:<user id>" for the plain
 * route and "<expiry>:<user id>:c<call id>" (or ":r<room id>") for one
 * call, and the credential base64(HMAC-SHA1(secret, username)). coturn
 * checks them itself with the same secret, so Parley and coturn share
 * nothing but that secret. coturn checks the expiry only when a relay is
 * allocated; refreshing a running allocation keeps working, so a call's
 * short-lived credential does not cut the call. */
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
	json_t	   *list;
	const char *p = csv, *end;
	size_t	    n;

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

json_t *
ice_json(int64_t user, char scope, int64_t id, long ttl)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int  maclen = 0;
	char	      name[80], cred[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	const char   *secret = calls_config.turn_secret;
	json_t	     *servers = json_array(), *uris;
	int	      n;

	if ((uris = uri_list(calls_config.stun_uris)) != NULL)
		json_array_append_new(servers,
		    json_pack("{s:o}", "urls", uris));
	if (secret != NULL &&
	    (uris = uri_list(calls_config.turn_uris)) != NULL) {
		n = scope != 0 ?
		    snprintf(name, sizeof(name), "%lld:%lld:%c%lld",
			(long long)time(NULL) + ttl, (long long)user, scope,
			(long long)id) :
		    snprintf(name, sizeof(name), "%lld:%lld",
			(long long)time(NULL) + ttl, (long long)user);
		if (n < 0 || (size_t)n >= sizeof(name))
			log_fatal("TURN username does not fit");
		if (HMAC(EVP_sha1(), secret, (int)strlen(secret),
			(const unsigned char *)name, (size_t)n, mac,
			&maclen) == NULL)
			log_fatal("HMAC-SHA1 failed");
		EVP_EncodeBlock((unsigned char *)cred, mac, (int)maclen);
		json_array_append_new(servers,
		    json_pack("{s:o,s:s,s:s}", "urls", uris, "username", name,
			"credential", cred));
	}
	return json_pack("{s:o,s:I}", "ice_servers", servers, "ttl",
	    (json_int_t)ttl);
}

char *
ice_text(int64_t user, char scope, int64_t id, long ttl)
{
	json_t *ice = ice_json(user, scope, id, ttl);
	char   *text = json_dumps(ice, JSON_COMPACT);

	json_decref(ice);
	if (text == NULL)
		log_fatal("json_dumps: out of memory");
	return text;
}

void
ice_servers(struct http_req *r)
{
	http_reply(r, 200, ice_json(r->user_id, 0, 0, calls_config.turn_ttl));
}
