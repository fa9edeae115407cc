/* webhooks_addr: with PARLEY_WEBHOOK_PRIVATE=deny, deliveries may not
 * connect to loopback, private, link-local or otherwise internal
 * addresses, so a site cannot point its webhook at services inside
 * Parley's network. The check runs on the address libcurl is about to
 * connect to (after DNS), so a name resolving to 127.0.0.1 is refused too. */
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "webhooks.h"

static int	v4_internal(uint32_t);

/* a.b.c.d (host order) in one of the ranges no webhook should reach. */
static int
v4_internal(uint32_t a)
{
	return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
	    (a >> 16) == 0xa9fe ||			/* 169.254/16 */
	    (a >> 20) == 0xac1 ||			/* 172.16/12 */
	    (a >> 16) == 0xc0a8 ||			/* 192.168/16 */
	    (a >> 22) == (0x64400000u >> 22) ||		/* 100.64/10 */
	    (a >> 28) >= 0xe;				/* multicast, reserved */
}

int
webhooks_addr_internal(const struct sockaddr *sa)
{
	const struct sockaddr_in6	*s6;
	const unsigned char		*b;
	static const unsigned char	 v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
					    0, 0, 0xff, 0xff };

	if (sa->sa_family == AF_INET)
		return v4_internal(ntohl(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
	if (sa->sa_family != AF_INET6)
		return 1;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	b = s6->sin6_addr.s6_addr;
	if (memcmp(b, v4mapped, 12) == 0)
		return v4_internal((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
		    (uint32_t)b[14] << 8 | b[15]);
	return IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
	    IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	    (b[0] & 0xfe) == 0xfc ||			/* fc00::/7 */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||	/* fe80::/10 */
	    b[0] == 0xff;				/* multicast */
}

/* CURLOPT_OPENSOCKETFUNCTION: refuses internal addresses (libcurl then
 * reports "Couldn't connect"; the delivery records why). */
curl_socket_t
webhooks_open_socket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	int	*refused = arg;

	(void)purpose;
	if (webhooks_config.deny_private &&
	    webhooks_addr_internal(&addr->addr)) {
		*refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}
