/* addr: client addresses as throttling buckets. An IPv4 address is one
 * bucket; an IPv6 address counts as its /64, the block one subscriber is
 * given, so cycling through a /64 buys no fresh counts. */
#ifndef PARLEY_ADDR_H
#define PARLEY_ADDR_H

#include <stddef.h>

/* Longest bucket plus NUL: "ffff:ffff:ffff:ffff::/64". */
#define ADDR_BUCKET_MAX 25

/* Writes the bucket of `addr` (REMOTE_ADDR text) into `out`: an IPv4
 * address (also an IPv4-mapped IPv6 one) in dotted form; any other IPv6
 * address as its /64 in canonical form ("2001:db8:1:2::/64"; a zone such as
 * "%eth0" is dropped). Returns 0, or -1 when `addr` is not an address, and
 * `out` is then "?", one bucket shared by all such clients. */
int addr_bucket(const char *addr, char out[ADDR_BUCKET_MAX]);

#endif
