/* webhooks_addr: unless PARLEY_WEBHOOK_PRIVATE=allow, deliveries may not
 * connect to loopback, private, link-local or otherwise internal
 * addresses, so a site cannot point its webhook at services inside
 * Parley's network. The check runs on the address libcurl is about to
 * connect to (after DNS), so a name resolving to 127.0.0.1 is refused too,
 * and so is every spelling of it (2130706433, 0x7f.1, ::ffff:127.0.0.1,
 * 64:ff9b::7f00:1). Through a proxy (PARLEY_WEBHOOK_PROXY) that address is
 * the proxy's: the target host is then resolved and checked before each
 * attempt instead (webhooks_host_internal). */
#include <netdb.h>
#include <stdbool.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "webhooks.h"

static bool	v4_internal(uint32_t);
static uint32_t v4_at(const unsigned char *);

/* a.b.c.d (host order) in one of the ranges no webhook should reach. */
static bool
v4_internal(uint32_t a)
{
	return (a >> 24) == 0 ||		/* 0/8, "this network" */
	    (a >> 24) == 10 ||			/* 10/8 */
	    (a >> 24) == 127 ||			/* 127/8 loopback */
	    (a >> 22) == (0x64400000u >> 22) || /* 100.64/10 CGNAT */
	    (a >> 16) == 0xa9fe ||		/* 169.254/16 link-local */
	    (a >> 20) == (0xac100000u >> 20) || /* 172.16/12 */
	    (a >> 8) == (0xc0000000u >> 8) ||	/* 192.0.0/24 */
	    (a >> 16) == 0xc0a8 ||		/* 192.168/16 */
	    (a >> 17) == (0xc6120000u >> 17) || /* 198.18/15 */
	    (a >> 28) >= 0xe; /* 224/4 multicast, 240/4 reserved */
}

/* The IPv4 address in the 4 bytes at b (network order), in host order. */
static uint32_t
v4_at(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

bool
webhooks_addr_internal(const struct sockaddr *sa)
{
	const unsigned char	  *b;
	static const unsigned char zero[12];
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };

	if (sa->sa_family == AF_INET)
		return v4_internal(
		    ntohl(((const struct sockaddr_in *)(const void *)sa)
			      ->sin_addr.s_addr));
	if (sa->sa_family != AF_INET6)
		return 1;
	b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	/* IPv4 inside IPv6: the IPv4 address decides. */
	if (memcmp(b, v4mapped, 12) == 0 || /* ::ffff:0:0/96 */
	    memcmp(b, nat64, 12) == 0)	    /* 64:ff9b::/96 */
		return v4_internal(v4_at(b + 12));
	if (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16 6to4 */
		return v4_internal(v4_at(b + 2));
	return memcmp(b, zero, 12) == 0 || /* ::, ::1, ::a.b.c.d */
	    (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 0 &&
		b[5] == 0 && b[6] == 0 && b[7] == 0 && b[8] == 0xff &&
		b[9] == 0xff && b[10] == 0 &&
		b[11] == 0) || /* ::ffff:0:0:0/96 */
	    (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
		b[4] == 0 && b[5] == 1) || /* 64:ff9b:1::/48 */
	    (b[0] == 0x01 && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 0 &&
		b[5] == 0 && b[6] == 0 && b[7] == 0) || /* 100::/64 */
	    (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) ||
	    /* 2001::/32 Teredo */
	    (b[0] & 0xfe) == 0xfc || /* fc00::/7 */
	    (b[0] == 0xfe &&
		(b[1] & 0x80) == 0x80) || /* fe80::/10, fec0::/10 */
	    b[0] == 0xff;		  /* ff00::/8 multicast */
}

int
webhooks_host_internal(const char *host)
{
	struct addrinfo hints, *res, *ai;
	char		name[256];
	size_t		n;
	int		internal = 0;

	/* "[::1]" as libcurl gives an IPv6 host; a zone id goes too. */
	if (host[0] == '[') {
		host++;
		n = strcspn(host, "]%");
	} else
		n = strlen(host);
	if (n == 0 || n >= sizeof(name))
		return -1;
	memcpy(name, host, n);
	name[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (webhooks_addr_internal(ai->ai_addr))
			internal = 1;
	freeaddrinfo(res);
	return internal;
}

/* CURLOPT_OPENSOCKETFUNCTION: refuses internal addresses (libcurl then
 * reports "Couldn't connect"; the delivery records why). Through a proxy
 * the only connection made is to the proxy, which the operator chose. */
curl_socket_t
webhooks_open_socket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	int *refused = arg;

	(void)purpose;
	if (webhooks_config.deny_private && webhooks_config.proxy == NULL &&
	    webhooks_addr_internal(&addr->addr)) {
		*refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}
