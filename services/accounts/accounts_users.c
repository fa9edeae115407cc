/* accounts_users: search users by username prefix (to add friends). */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "http.h"
#include "user.h"

#define SEARCH_MAX 50

void
accounts_users_search(struct http_req *r)
{
	char	  q[64], me[24], lim[24];
	long long limit = 20;
	PGresult *res;
	json_t	 *list;
	size_t	  i, len;
	int	  row, rc;

	rc = http_query_find(r->query, "q", q, sizeof(q));
	len = rc == 1 ? strlen(q) : 0;
	for (i = 0; i < len; i++)
		if (q[i] >= 'A' && q[i] <= 'Z')
			q[i] = (char)(q[i] - 'A' + 'a');
	if (rc != 1 || len < 1 || len > 32 ||
	    strspn(q, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != len) {
		http_error(r, 400, "invalid_parameter",
		    "Query parameter 'q' "
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
		json_array_append_new(list, user_json(res, row, 0));
	PQclear(res);
	http_reply(r, 200, json_pack("{s:o}", "users", list));
}
