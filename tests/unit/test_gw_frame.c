/* test_gw_frame: the gateway's parsers of client input
 * (services/gateway/gw_frame.c, compiled into this file whole: it needs
 * only jansson). Cases: each expected frame and what is refused with
 * which close code; the subprotocol header with and without a token; the
 * Origin list. */
#include <string.h>

#include "../../services/gateway/gw_frame.c"
#include "unit.h"

static int
parse(const char *s, enum gw_expect e, struct gw_frame *f, const char **code)
{
	const char *message;
	int	    close_code;

	/* The close code of a refusal, 0 when accepted. */
	return gw_frame_parse(s, strlen(s), 4096, e, f, &close_code, code,
		   &message) == -1 ?
	    close_code :
	    0;
}

static const char *
t_frames(void)
{
	struct gw_frame f;
	const char     *code;
	char		big[5000];

	CHECK_EQ(parse("{\"since\":17}", GW_EXPECT_SINCE, &f, &code), 0);
	CHECK(f.has_since && f.since == 17 && f.ack == -1);
	CHECK_EQ(parse("{\"since\":null}", GW_EXPECT_SINCE, &f, &code), 0);
	CHECK(f.has_since && f.since == -1);
	CHECK_EQ(parse("{\"ack\":3}", GW_EXPECT_ACK, &f, &code), 0);
	CHECK(f.ack == 3);
	CHECK_EQ(parse("{\"token\":\"abc\",\"since\":5}", GW_EXPECT_TOKEN, &f,
		     &code),
	    0);
	CHECK_STR(f.token, "abc");
	CHECK(f.has_since && f.since == 5);
	CHECK_EQ(parse("{\"token\":\"abc\"}", GW_EXPECT_TOKEN, &f, &code), 0);
	CHECK(!f.has_since);

	/* Refused: 4400 bad_frame. */
	CHECK_EQ(parse("not json", GW_EXPECT_SINCE, &f, &code), 4400);
	CHECK_STR(code, "bad_frame");
	CHECK_EQ(parse("[1]", GW_EXPECT_SINCE, &f, &code), 4400);
	CHECK_EQ(parse("{}", GW_EXPECT_SINCE, &f, &code), 4400);
	CHECK_EQ(parse("{\"since\":-1}", GW_EXPECT_SINCE, &f, &code), 4400);
	CHECK_EQ(parse("{\"since\":\"1\"}", GW_EXPECT_SINCE, &f, &code), 4400);
	CHECK_EQ(parse("{\"since\":1,\"x\":1}", GW_EXPECT_SINCE, &f, &code),
	    4400);
	CHECK_EQ(parse("{\"since\":1,\"since\":2}", GW_EXPECT_SINCE, &f, &code),
	    4400);
	CHECK_EQ(parse("{\"ack\":null}", GW_EXPECT_ACK, &f, &code), 4400);
	CHECK_EQ(parse("{\"since\":1}", GW_EXPECT_ACK, &f, &code), 4400);
	CHECK_EQ(parse("{\"ack\":1}", GW_EXPECT_SINCE, &f, &code), 4400);
	CHECK_EQ(parse("{\"since\":1}", GW_EXPECT_TOKEN, &f, &code), 4400);
	CHECK_EQ(parse("{\"token\":1}", GW_EXPECT_TOKEN, &f, &code), 4400);
	memset(big, 'a', 200);
	memcpy(big, "{\"token\":\"", 10);
	memcpy(big + 200, "\"}", 3);
	CHECK_EQ(parse(big, GW_EXPECT_TOKEN, &f, &code), 4400);

	/* Over the size limit: 1009, before any parsing. */
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(parse(big, GW_EXPECT_SINCE, &f, &code), 1009);
	CHECK_STR(code, "frame_too_large");
	return NULL;
}

static const char *
t_protocol(void)
{
	char tok[GW_TOKEN_MAX + 1];

	CHECK_EQ(gw_protocol_parse("parley", tok, sizeof(tok)), 0);
	CHECK_STR(tok, "");
	CHECK_EQ(gw_protocol_parse("parley, token.abc_-9", tok, sizeof(tok)),
	    1);
	CHECK_STR(tok, "abc_-9");
	CHECK_EQ(gw_protocol_parse(" token.xyz ,parley ", tok, sizeof(tok)), 1);
	CHECK_STR(tok, "xyz");
	CHECK_EQ(gw_protocol_parse("token.xyz", tok, sizeof(tok)), -1);
	CHECK_STR(tok, "");
	CHECK_EQ(gw_protocol_parse("parleyx, chat", tok, sizeof(tok)), -1);
	CHECK_EQ(gw_protocol_parse("", tok, sizeof(tok)), -1);
	/* Offered but empty or too long: a credential no session has. */
	CHECK_EQ(gw_protocol_parse("parley, token.", tok, sizeof(tok)), 1);
	CHECK_STR(tok, "");
	{
		char h[300];

		memset(h, 'y', sizeof(h) - 1);
		h[sizeof(h) - 1] = '\0';
		memcpy(h, "parley, token.", 14);
		CHECK_EQ(gw_protocol_parse(h, tok, sizeof(tok)), 1);
		CHECK_STR(tok, "");
	}
	return NULL;
}

static const char *
t_origins(void)
{
	const char *list = "https://a.example.com, http://localhost:8080";

	CHECK_EQ(gw_origin_listed(list, "https://a.example.com"), 1);
	CHECK_EQ(gw_origin_listed(list, "HTTPS://A.example.com"), 1);
	CHECK_EQ(gw_origin_listed(list, "http://localhost:8080"), 1);
	CHECK_EQ(gw_origin_listed(list, "http://localhost:808"), 0);
	CHECK_EQ(gw_origin_listed(list, "https://a.example.com.evil"), 0);
	CHECK_EQ(gw_origin_listed(list, ""), 0);
	CHECK_EQ(gw_origin_listed("", "https://a.example.com"), 0);
	return NULL;
}

void
test_gw_frame(void)
{
	unit_run("gw_frame frames and close codes", t_frames);
	unit_run("gw_frame Sec-WebSocket-Protocol", t_protocol);
	unit_run("gw_frame origin list", t_origins);
}
