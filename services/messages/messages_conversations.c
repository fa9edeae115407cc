/* messages_conversations: the conversation list, history pages and read
 * marks. JSON for lists is built by PostgreSQL and passed through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "messages.h"
#include "notify.h"
#include "valid.h"

#define HISTORY_MAX 200

static int member_or_404(struct http_req *, int64_t, long long *, long long *);

/* Replies 404 (not 403: a stranger must not learn the id exists) unless
 * the caller is a member of the conversation; tells its head and number
 * of recalled messages. */
static int
member_or_404(struct http_req *r, int64_t conv, long long *head,
    long long *recalled)
{
	char	  c[24], me[24];
	PGresult *res;
	int	  ok;

	if ((res = DB_EXEC(r->db, &sql_is_member, db_i64(c, conv),
		 db_i64(me, r->user_id))) == NULL) {
		http_db_error(r);
		return -1;
	}
	if ((ok = PQntuples(res) == 1)) {
		*head = db_get_i64(res, 0, 0);
		*recalled = db_get_i64(res, 0, 1);
	}
	PQclear(res);
	if (!ok) {
		http_error(r, 404, "conversation_not_found",
		    "You have no "
		    "conversation with id %lld.",
		    (long long)conv);
		return -1;
	}
	return 0;
}

void
conversations_list(struct http_req *r)
{
	char	  me[24], lim[24];
	long long limit = 100;
	PGresult *res;

	if (http_query_long(r, "limit", 1, 500, &limit) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_conversations, db_i64(me, r->user_id),
		 db_i64(lim, limit))) == NULL) {
		http_db_error(r);
		return;
	}
	http_reply_wrap(r, 200, "conversations", PQgetvalue(res, 0, 0));
	PQclear(res);
}

void
conversations_history(struct http_req *r)
{
	char	  c[24], before_s[24], lim[24], *s;
	long long before = INT64_MAX, limit = 50, first, head, recalled;
	int64_t	  conv;
	PGresult *res;
	size_t	  len;

	if (http_param_id(r, 0, &conv) == -1 ||
	    http_query_long(r, "before", 1, INT64_MAX, &before) == -1 ||
	    http_query_long(r, "limit", 1, HISTORY_MAX, &limit) == -1 ||
	    member_or_404(r, conv, &head, &recalled) == -1)
		return;
	if ((res = replica_history(r,
		 (const char *const[]){ db_i64(c, conv),
		     db_i64(before_s, before), db_i64(lim, limit) },
		 head, recalled)) == NULL) {
		http_db_error(r);
		return;
	}
	first = db_get_i64(res, 0, 1);
	len = strlen(PQgetvalue(res, 0, 0));
	if ((s = malloc(len + 96)) == NULL)
		log_fatal("malloc: out of memory");
	/* has_more: seqs start at 1 and have no gaps. */
	len = (size_t)snprintf(s, len + 96,
	    "{\"messages\":%s,\"has_more\":%s,"
	    "\"next_before\":%lld}",
	    PQgetvalue(res, 0, 0), first > 1 ? "true" : "false", first);
	PQclear(res);
	http_reply_raw(r, 200, "application/json; charset=utf-8", s, len);
	free(s);
}

void
conversations_read(struct http_req *r)
{
	static const struct http_outcome outcomes[] = {
		{ "ok", 204, NULL, NULL },
		{ "not_member", 404, "conversation_not_found",
		    "You have no such conversation." },
		{ NULL, 0, NULL, NULL },
	};
	char	  me[24], c[24], seq_s[24];
	long long seq;
	int64_t	  conv;
	json_t	 *body;
	PGresult *res;

	if (http_param_id(r, 0, &conv) == -1 ||
	    (body = http_body_json(r)) == NULL)
		return;
	if (valid_int(r, body, "seq", VALID_REQUIRED, 0, INT64_MAX, &seq) ==
	    -1) {
		json_decref(body);
		return;
	}
	json_decref(body);
	if ((res = DB_EXEC(r->db, &sql_read, db_i64(me, r->user_id),
		 db_i64(c, conv), db_i64(seq_s, seq))) == NULL) {
		http_db_error(r);
		return;
	}
	if (http_outcome(r, outcomes, PQgetvalue(res, 0, 0)) > 0) {
		notify_users(db_get_str(res, 0, 1));
		http_reply(r, 204, NULL);
	}
	PQclear(res);
}
