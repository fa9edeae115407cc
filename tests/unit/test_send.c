/* test_send: send_message()'s outcomes as HTTP, in both voices (shared/
 * send.c): what the messages and sites services answered before they
 * shared the table. */
#include "send.h"
#include "unit.h"

static const char *t_success(void);
static const char *t_refusals(void);
static const char *t_voices_differ(void);
static const char *t_unknown(void);

static const char *
t_success(void)
{
	const struct send_outcome *o;

	CHECK((o = send_outcome_find("created")) != NULL);
	CHECK_EQ(o->http, 201);
	CHECK(o->voice[SEND_USER].code == NULL);
	CHECK(o->voice[SEND_SITE].code == NULL);
	CHECK((o = send_outcome_find("duplicate")) != NULL);
	CHECK_EQ(o->http, 200);
	CHECK(o->voice[SEND_USER].code == NULL);
	return NULL;
}

/* Every refusal has a code and a message in both voices. */
static const char *
t_refusals(void)
{
	static const struct {
		const char *status;
		int	    http;
		const char *code;
	} want[] = {
		{ "not_friends", 403, "not_friends" },
		{ "blocked", 403, "blocked" },
		{ "no_such_group", 404, "group_not_found" },
		{ "not_member", 404, "group_not_found" },
		{ "no_such_upload", 404, "upload_not_found" },
		{ "upload_kind", 400, "invalid_field" },
	};
	const struct send_outcome *o;
	size_t			   i;
	int			   v;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK((o = send_outcome_find(want[i].status)) != NULL);
		CHECK_EQ(o->http, want[i].http);
		for (v = SEND_USER; v <= SEND_SITE; v++) {
			CHECK_STR(o->voice[v].code, want[i].code);
			CHECK(o->voice[v].message != NULL &&
			    o->voice[v].message[0] != '\0');
		}
	}
	CHECK((o = send_outcome_find("no_such_user")) != NULL);
	CHECK_EQ(o->http, 404);
	return NULL;
}

/* The user hears "you", the site "the sender"; an unknown user is
 * user_not_found to a user, unknown_user to a site (its external ids). */
static const char *
t_voices_differ(void)
{
	const struct send_outcome *o;

	CHECK((o = send_outcome_find("no_such_user")) != NULL);
	CHECK_STR(o->voice[SEND_USER].code, "user_not_found");
	CHECK_STR(o->voice[SEND_SITE].code, "unknown_user");
	CHECK((o = send_outcome_find("blocked")) != NULL);
	CHECK(strncmp(o->voice[SEND_USER].message, "You ", 4) == 0);
	CHECK(strncmp(o->voice[SEND_SITE].message, "The sender ", 11) == 0);
	return NULL;
}

static const char *
t_unknown(void)
{
	CHECK(send_outcome_find("ok") == NULL);
	CHECK(send_outcome_find("") == NULL);
	return NULL;
}

void
test_send(void)
{
	unit_run("send_success", t_success);
	unit_run("send_refusals", t_refusals);
	unit_run("send_voices_differ", t_voices_differ);
	unit_run("send_unknown", t_unknown);
}
