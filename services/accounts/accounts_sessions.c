/* accounts_sessions: a user's devices (sessions): list and revoke. */
#include "accounts.h"
#include "http.h"

void
accounts_sessions_list(struct http_req *r)
{
	char	  uid[24];
	PGresult *res;
	json_t	 *list;
	int	  i;

	if ((res = DB_EXEC(r->db, &sql_session_list,
		 db_i64(uid, r->user_id))) == NULL) {
		http_db_error(r);
		return;
	}
	list = json_array();
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(list,
		    json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:b}", "id",
			(json_int_t)db_get_i64(res, i, 0), "created_at",
			PQgetvalue(res, i, 1), "last_seen_at",
			PQgetvalue(res, i, 2), "expires_at",
			PQgetvalue(res, i, 3), "user_agent",
			PQgetvalue(res, i, 4), "ip", PQgetvalue(res, i, 5),
			"current", db_get_i64(res, i, 0) == r->session_id));
	PQclear(res);
	http_reply(r, 200, json_pack("{s:o}", "sessions", list));
}

void
accounts_sessions_revoke(struct http_req *r)
{
	char	  sid[24], uid[24];
	int64_t	  id;
	PGresult *res;

	if (http_param_id(r, 0, &id) == -1)
		return;
	/* Scoped to the caller: another user's session id is just unknown. */
	if ((res = DB_EXEC(r->db, &sql_session_revoke_own, db_i64(sid, id),
		 db_i64(uid, r->user_id))) == NULL) {
		http_db_error(r);
		return;
	}
	if (PQcmdTuples(res)[0] == '0')
		http_error(r, 404, "not_found",
		    "You have no active session "
		    "with id %lld.",
		    (long long)id);
	else
		http_reply(r, 204, NULL);
	PQclear(res);
}
