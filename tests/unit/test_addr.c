/* test_addr: client addresses to throttling buckets. IPv4 stays itself,
 * IPv4-mapped IPv6 is IPv4, any other IPv6 address is its /64 (so one
 * subscriber's whole block is one bucket), and what is not an address
 * lands in the shared "?" bucket. */
#include <stdio.h>

#include "addr.h"
#include "unit.h"

static const struct {
	const char *in;
	int	    rc;
	const char *bucket;
} cases[] = {
	{ "127.0.0.1", 0, "127.0.0.1" },
	{ "203.0.113.250", 0, "203.0.113.250" },
	{ "2001:db8:1:2:3:4:5:6", 0, "2001:db8:1:2::/64" },
	{ "2001:db8:1:2::ffff", 0, "2001:db8:1:2::/64" },
	{ "2001:DB8:1:2:aaaa:bbbb:cccc:dddd", 0, "2001:db8:1:2::/64" },
	{ "2001:0db8:0001:0002:0000:0000:0000:0001", 0, "2001:db8:1:2::/64" },
	{ "2001:db8:1:3::1", 0, "2001:db8:1:3::/64" },
	{ "2001:db8::1", 0, "2001:db8::/64" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0,
	    "ffff:ffff:ffff:ffff::/64" },
	{ "::1", 0, "::/64" },
	{ "fe80::1%eth0", 0, "fe80::/64" },
	{ "::ffff:192.0.2.1", 0, "192.0.2.1" },
	{ "::ffff:c000:201", 0, "192.0.2.1" },
	{ "", -1, "?" },
	{ "-", -1, "?" },
	{ "unix:", -1, "?" },
	{ "1.2.3", -1, "?" },
	{ "01.2.3.4", -1, "?" },
	{ "1.2.3.4%eth0", -1, "?" },
	{ "1.2.3.4 ", -1, "?" },
	{ "2001:db8::1::2", -1, "?" },
	{ "%eth0", -1, "?" },
	{ "2001:db8:1:2:3:4:5:6:7:8:9:a:b:c:d:e:f:0:1:2:3:4:5:6", -1, "?" },
};

void
test_addr(void)
{
	char   out[ADDR_BUCKET_MAX], name[96], why[160];
	size_t i;
	int    rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = addr_bucket(cases[i].in, out);
		snprintf(name, sizeof(name), "addr_bucket: '%s'", cases[i].in);
		snprintf(why, sizeof(why), "got %d '%s', want %d '%s'", rc, out,
		    cases[i].rc, cases[i].bucket);
		unit_result(name,
		    rc == cases[i].rc && strcmp(out, cases[i].bucket) == 0 ?
			NULL :
			why);
	}
	rc = addr_bucket(NULL, out);
	unit_result("addr_bucket: NULL",
	    rc == -1 && strcmp(out, "?") == 0 ? NULL : "NULL is not '?'");
}
