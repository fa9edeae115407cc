/* test_webhooks_addr: which addresses a webhook may reach
 * (services/webhooks/webhooks_addr.c) and what a site is told about a
 * failed attempt (webhooks_error.c), both compiled into this file whole:
 * the unit tests link shared/ only, and neither calls into libcurl.
 *
 * Cases: every internal range and spelling of one (as the resolver turns
 * 2130706433 or 0x7f.1 into 127.0.0.1) is internal, public addresses are
 * not, including public IPv4 inside NAT64 and 6to4; the open-socket
 * callback refuses by default and only then; the error texts are the few
 * coarse ones. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "../../services/webhooks/webhooks_addr.c"
#include "../../services/webhooks/webhooks_error.c"
#include "unit.h"

struct webhooks_config webhooks_config;

static int	   classify(const char *, int *);
static const char *t_internal(void);
static const char *t_public(void);
static const char *t_hosts(void);
static const char *t_open_socket(void);
static const char *t_error_texts(void);

/* Addresses (as inet_pton reads them) no webhook may reach. */
static const char *const internal[] = { "0.0.0.0", "0.1.2.3", "127.0.0.1",
	"127.255.255.254", "10.0.0.1", "10.255.255.255", "172.16.0.1",
	"172.31.255.255", "192.168.0.1", "192.168.255.255", "169.254.169.254",
	"169.254.0.1", "100.64.0.1", "100.127.255.255", "192.0.0.1",
	"198.18.0.1", "198.19.255.255", "224.0.0.1", "239.255.255.250",
	"240.0.0.1", "255.255.255.255", "::", "::1", "::127.0.0.1",
	"::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:0:127.0.0.1",
	"::ffff:169.254.169.254", "64:ff9b::7f00:1", "64:ff9b::10.0.0.1",
	"64:ff9b::169.254.169.254", "64:ff9b:1::8.8.8.8",
	"2002:7f00:1::", "2002:7f00:1::1", "2002:a00:1::", "2002:c0a8:101::",
	"2002:a9fe:a9fe::", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "100::1",
	"fc00::1", "fd12:3456:789a::1", "fdff:ffff::1", "fe80::1", "febf::1",
	"fec0::1", "ff02::1", "ff05::1:3", NULL };

/* Public addresses a webhook may reach. */
static const char *const public[] = { "8.8.8.8", "1.1.1.1", "93.184.215.14",
	"203.0.113.7", "9.255.255.255", "11.0.0.1", "100.63.255.255",
	"100.128.0.1", "126.255.255.255", "128.0.0.1", "169.253.255.255",
	"172.15.255.255", "172.32.0.1", "192.0.1.1", "192.167.255.255",
	"192.169.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.255",
	"2001:4860:4860::8888", "2606:4700:4700::1111",
	"2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "64:ff9b::808:808",
	"64:ff9b::93.184.215.14", "2002:808:808::", "2002:5db8:d70e::1",
	"2001:1::1", "fbff::1", "fe7f::1", NULL };

/* 1 internal, 0 public, -1 when `text` is no address; *family is set. */
static int
classify(const char *text, int *family)
{
	struct sockaddr_in  s4;
	struct sockaddr_in6 s6;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, text, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		*family = AF_INET;
		return webhooks_addr_internal((struct sockaddr *)&s4);
	}
	if (inet_pton(AF_INET6, text, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		*family = AF_INET6;
		return webhooks_addr_internal((struct sockaddr *)&s6);
	}
	return -1;
}

static const char *
t_internal(void)
{
	int i, family;

	for (i = 0; internal[i] != NULL; i++)
		if (classify(internal[i], &family) != 1)
			return unit_fail(__FILE__, __LINE__,
			    "%s is not "
			    "internal",
			    internal[i]);
	return NULL;
}

static const char *
t_public(void)
{
	struct sockaddr sa;
	int		i, family;

	for (i = 0; public[i] != NULL; i++)
		if (classify(public[i], &family) != 0)
			return unit_fail(__FILE__, __LINE__,
			    "%s is not "
			    "public",
			    public[i]);
	/* Neither IPv4 nor IPv6 (AF_UNIX, say): never connected to. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	CHECK_EQ(webhooks_addr_internal(&sa), 1);
	return NULL;
}

/* Host names and the spellings the resolver accepts, as the proxy check
 * resolves them (all numeric, or /etc/hosts: no DNS needed). */
static const char *
t_hosts(void)
{
	static const char *const in[] = { "127.0.0.1", "0.0.0.0", "2130706433",
		"0x7f.1", "0x7f000001", "017700000001", "127.1", "0177.0.0.1",
		"localhost", "[::1]", "::1", "[::ffff:127.0.0.1]",
		"[::ffff:7f00:1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]",
		"[fe80::1%25eth0]", "0xa9.0xfe.0xa9.0xfe", "10.1", NULL };
	static const char *const out[] = { "8.8.8.8", "[2001:4860:4860::8888]",
		"134744072", "0x8080808", "[64:ff9b::808:808]", NULL };
	int			 i;

	for (i = 0; in[i] != NULL; i++)
		if (webhooks_host_internal(in[i]) != 1)
			return unit_fail(__FILE__, __LINE__,
			    "host %s is not "
			    "internal",
			    in[i]);
	for (i = 0; out[i] != NULL; i++)
		if (webhooks_host_internal(out[i]) != 0)
			return unit_fail(__FILE__, __LINE__,
			    "host %s is not "
			    "public",
			    out[i]);
	CHECK_EQ(webhooks_host_internal(""), -1);
	CHECK_EQ(webhooks_host_internal("[]"), -1);
	return NULL;
}

/* The callback libcurl calls just before connecting: refuses an internal
 * address (and says so) when internal addresses are denied, unless a
 * proxy (the operator's choice) is the only thing connected to. */
static const char *
t_open_socket(void)
{
	struct curl_sockaddr a;
	struct sockaddr_in  *s4 = (struct sockaddr_in *)(void *)&a.addr;
	curl_socket_t	     s;
	int		     refused = 0;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.socktype = SOCK_STREAM;
	a.protocol = IPPROTO_TCP;
	a.addrlen = sizeof(*s4);
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(0x7f000001);

	webhooks_config.deny_private = 1;
	webhooks_config.proxy = NULL;
	CHECK_EQ(webhooks_open_socket(&refused, CURLSOCKTYPE_IPCXN, &a),
	    CURL_SOCKET_BAD);
	CHECK_EQ(refused, 1);

	refused = 0;
	s4->sin_addr.s_addr = htonl(0x08080808);
	s = webhooks_open_socket(&refused, CURLSOCKTYPE_IPCXN, &a);
	CHECK(s != CURL_SOCKET_BAD);
	close(s);
	CHECK_EQ(refused, 0);

	webhooks_config.deny_private = 0;
	s4->sin_addr.s_addr = htonl(0x7f000001);
	s = webhooks_open_socket(&refused, CURLSOCKTYPE_IPCXN, &a);
	CHECK(s != CURL_SOCKET_BAD);
	close(s);
	CHECK_EQ(refused, 0);

	webhooks_config.deny_private = 1;
	webhooks_config.proxy = "http://127.0.0.1:3128";
	s = webhooks_open_socket(&refused, CURLSOCKTYPE_IPCXN, &a);
	CHECK(s != CURL_SOCKET_BAD);
	close(s);
	CHECK_EQ(refused, 0);
	webhooks_config.proxy = NULL;
	return NULL;
}

/* Whatever libcurl reports, the site reads one of four coarse texts. */
static const char *
t_error_texts(void)
{
	const char *s;
	int	    rc;

	CHECK_STR(webhooks_error_text(CURLE_OPERATION_TIMEDOUT, 0), "timeout");
	CHECK_STR(webhooks_error_text(CURLE_COULDNT_CONNECT, 0),
	    "connection failed");
	CHECK_STR(webhooks_error_text(CURLE_COULDNT_RESOLVE_HOST, 0),
	    "connection failed");
	CHECK_STR(webhooks_error_text(CURLE_GOT_NOTHING, 0),
	    "connection failed");
	CHECK_STR(webhooks_error_text(CURLE_RECV_ERROR, 0),
	    "connection failed");
	CHECK_STR(webhooks_error_text(CURLE_PEER_FAILED_VERIFICATION, 0),
	    "TLS failed");
	CHECK_STR(webhooks_error_text(CURLE_COULDNT_CONNECT, 1),
	    "refused: internal address");
	CHECK_STR(webhooks_error_text(CURLE_OPERATION_TIMEDOUT, 1),
	    "refused: internal address");
	for (rc = 0; rc < CURL_LAST; rc++) {
		s = webhooks_error_text((CURLcode)rc, 0);
		if (strcmp(s, "timeout") != 0 &&
		    strcmp(s, "connection failed") != 0 &&
		    strcmp(s, "TLS failed") != 0)
			return unit_fail(__FILE__, __LINE__, "code %d: \"%s\"",
			    rc, s);
	}
	return NULL;
}

void
test_webhooks_addr(void)
{
	unit_run("webhooks_addr internal ranges and spellings", t_internal);
	unit_run("webhooks_addr public addresses", t_public);
	unit_run("webhooks_addr hosts as resolved", t_hosts);
	unit_run("webhooks_addr open-socket refuses internal", t_open_socket);
	unit_run("webhooks_error coarse texts", t_error_texts);
}
