/* addr: client address -> throttling bucket (IPv4 as is, IPv6 by /64). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

int
addr_bucket(const char *addr, char out[ADDR_BUCKET_MAX])
{
	char		buf[INET6_ADDRSTRLEN + 1];
	struct in_addr	v4;
	struct in6_addr v6;
	size_t		len;

	len = addr != NULL ? strcspn(addr, "%") : 0;
	if (len == 0 || len >= sizeof(buf))
		goto bad;
	memcpy(buf, addr, len);
	buf[len] = '\0';
	/* A zone only belongs on an IPv6 address. */
	if (addr[len] != '\0' && strchr(buf, ':') == NULL)
		goto bad;
	if (inet_pton(AF_INET, buf, &v4) == 1) {
		if (inet_ntop(AF_INET, &v4, out, ADDR_BUCKET_MAX) == NULL)
			goto bad;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &v6) != 1)
		goto bad;
	if (IN6_IS_ADDR_V4MAPPED(&v6)) {
		memcpy(&v4, &v6.s6_addr[12], sizeof(v4));
		if (inet_ntop(AF_INET, &v4, out, ADDR_BUCKET_MAX) == NULL)
			goto bad;
		return 0;
	}
	memset(&v6.s6_addr[8], 0, 8);
	if (inet_ntop(AF_INET6, &v6, buf, sizeof(buf)) == NULL ||
	    snprintf(out, ADDR_BUCKET_MAX, "%s/64", buf) >= ADDR_BUCKET_MAX)
		goto bad;
	return 0;
bad:
	snprintf(out, ADDR_BUCKET_MAX, "?");
	return -1;
}
