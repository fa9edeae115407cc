/* admin_audit: the audit log, newest first (written by the action
 * functions of sql/functions/90_admin.sql and by `scripts/parley admin`). */
#include <stdint.h>
#include <string.h>

#include "admin.h"
#include "http.h"

#define LIST_MAX 500

void
admin_audit(struct http_req *r)
{
	char	  type[16], bef[24], lim[24], tid[24];
	long long limit = 100, before = 0, target = 0;
	PGresult *res;
	int	  rc;

	rc = http_query_find(r->query, "target_type", type, sizeof(type));
	if (rc == -1 ||
	    (rc == 1 && strcmp(type, "user") != 0 &&
		strcmp(type, "group") != 0 && strcmp(type, "message") != 0)) {
		http_error(r, 400, "invalid_parameter",
		    "Query parameter "
		    "'target_type' must be user, group or message.");
		return;
	}
	if (rc == 0)
		type[0] = '\0';
	if (http_query_long(r, "before", 1, INT64_MAX, &before) == -1 ||
	    http_query_long(r, "limit", 1, LIST_MAX, &limit) == -1 ||
	    http_query_long(r, "target_id", 1, INT64_MAX, &target) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_audit, db_i64(bef, before),
		 db_i64(lim, limit), type, db_i64(tid, target))) == NULL) {
		http_db_error(r);
		return;
	}
	http_reply_wrap(r, 200, "entries", PQgetvalue(res, 0, 0));
	PQclear(res);
}
