/* accounts_tickets: POST /auth/ticket, single sign-on for a site's user.
 * The site's backend got a one-time ticket (services/sites); the browser
 * trades it here for a normal session, so the site's pages never carry a
 * long-lived token. */
#include <string.h>

#include <sodium.h>

#include "accounts.h"
#include "auth.h"
#include "http.h"
#include "user.h"
#include "valid.h"

static const struct http_outcome redeem_outcomes[] = {
	{ "ok", 200, NULL, NULL },
	{ "invalid", 401, "invalid_ticket", "This is not a login ticket." },
	{ "used", 401, "ticket_used",
	    "This login ticket was already used; ask the site for a new one." },
	{ "expired", 401, "ticket_expired",
	    "This login ticket expired; ask the site for a new one." },
	{ NULL, 0, NULL, NULL },
};

void
accounts_ticket(struct http_req *r)
{
	char	    hash[AUTH_HASH_HEX];
	const char *ticket;
	json_t	   *body, *reply = NULL;
	PGresult   *res = NULL, *user = NULL;

	if ((body = http_body_json(r)) == NULL)
		return;
	if (valid_string(r, body, "ticket", VALID_REQUIRED, 1, 128, &ticket) ==
	    -1)
		goto out;
	auth_token_hash(ticket, hash);
	/* The ticket is used up only if the session is made as well. */
	if (db_begin(r->db) == -1) {
		http_db_error(r);
		goto out;
	}
	if ((res = DB_EXEC(r->db, &sql_ticket_redeem, hash)) == NULL) {
		db_rollback(r->db);
		http_db_error(r);
		goto out;
	}
	if (http_outcome(r, redeem_outcomes, PQgetvalue(res, 0, 0)) < 0) {
		db_rollback(r->db);
		goto out;
	}
	if ((user = DB_EXEC(r->db, &sql_user_by_id, PQgetvalue(res, 0, 1))) ==
	    NULL) {
		db_rollback(r->db);
		http_db_error(r);
		goto out;
	}
	/* The user was deleted: to the browser this is no ticket at all
	 * (nothing about the account is revealed); rolled back unused. */
	if (PQntuples(user) != 1) {
		db_rollback(r->db);
		http_outcome(r, redeem_outcomes, "invalid");
		goto out;
	}
	reply = json_pack("{s:o}", "user", user_json(user, 0, 0));
	if (auth_session_start(r, db_get_i64(user, 0, 0), reply) == -1) {
		db_rollback(r->db);
		goto out;
	}
	if (db_commit(r->db) == -1) {
		http_db_error(r);
		goto out;
	}
	(void)auth_session_cookies(r, reply);
	http_reply(r, 200, reply);
	reply = NULL;
out:
	sodium_memzero(hash, sizeof(hash));
	PQclear(res);
	PQclear(user);
	json_decref(reply);
	json_decref(body);
}
