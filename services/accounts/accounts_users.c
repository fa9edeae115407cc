/* accounts_users: user JSON, username rules and search by prefix. */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "http.h"

#define SEARCH_MAX	50

json_t *
accounts_user_json(const PGresult *res, int row, int col)
{
	return json_pack("{s:I,s:s,s:s}",
	    "id", (json_int_t)db_get_i64(res, row, col),
	    "username", PQgetvalue(res, row, col + 1),
	    "display_name", PQgetvalue(res, row, col + 2));
}

int
accounts_username_fold(char *s, size_t len)
{
	size_t	i;

	if (len < 3 || len > 32)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return -1;
	}
	return 0;
}

void
accounts_users_search(struct http_req *r)
{
	char		 q[64], me[24], lim[24];
	long long	 limit = 20;
	PGresult	*res;
	json_t		*list;
	size_t		 i, len;
	int		 row, rc;

	rc = http_query_find(r->query, "q", q, sizeof(q));
	len = rc == 1 ? strlen(q) : 0;
	for (i = 0; i < len; i++)
		if (q[i] >= 'A' && q[i] <= 'Z')
			q[i] = (char)(q[i] - 'A' + 'a');
	if (rc != 1 || len < 1 || len > 32 ||
	    strspn(q, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != len) {
		http_error(r, 400, "invalid_parameter", "Query parameter 'q' "
		    "must be 1 to 32 characters of a-z, 0-9, '_', '.', '-'.");
		return;
	}
	if (http_query_long(r, "limit", 1, SEARCH_MAX, &limit) == -1)
		return;
	res = DB_EXEC(r->db, &sql_user_search, q, db_i64(me, r->user_id),
	    db_i64(lim, limit));
	if (res == NULL) {
		http_db_error(r);
		return;
	}
	list = json_array();
	for (row = 0; row < PQntuples(res); row++)
		json_array_append_new(list, accounts_user_json(res, row, 0));
	PQclear(res);
	http_reply(r, 200, json_pack("{s:o}", "users", list));
}
