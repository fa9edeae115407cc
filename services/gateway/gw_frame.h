/* gw_frame: the parsers of what a WebSocket client sends (its frames, the
 * Sec-WebSocket-Protocol header, its Origin), kept free of Kore so unit
 * tests and fuzz drivers can run them alone. */
#ifndef PARLEY_GW_FRAME_H
#define PARLEY_GW_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_TOKEN_MAX 128 /* longer is no token of ours */

/* What the socket accepts now (gw_state): */
enum gw_expect {
	GW_EXPECT_TOKEN, /* {"token": s, "since"?: N|null} */
	GW_EXPECT_SINCE, /* {"since": N|null} */
	GW_EXPECT_ACK,	 /* {"ack": N} */
};

struct gw_frame {
	char	token[GW_TOKEN_MAX + 1]; /* "" when absent */
	int	has_since;
	int64_t since; /* -1 for null: from the head */
	int64_t ack;   /* -1 when absent */
};

/* Parses one text frame of at most `max` bytes. Returns 0 and fills `f`,
 * or -1 with the close code (1009, 4400) in *close_code and *code and
 * *message for the client. */
int gw_frame_parse(const void *data, size_t len, size_t max, enum gw_expect,
    struct gw_frame *f, int *close_code, const char **code,
    const char **message);

/* Reads "parley, token.<token>". Returns -1 when protocols are offered
 * but not "parley", 1 with the token copied into `token` (`size` bytes,
 * at least GW_TOKEN_MAX + 1; "" when it was empty or too long, which no
 * session has), 0 when there is none. */
int gw_protocol_parse(const char *header, char *token, size_t size);

/* True when `origin` is one of the space- or comma-separated origins in
 * `list` (compared without case), else 0. */
bool gw_origin_listed(const char *list, const char *origin);

#endif
