/* friends_pair: the target user of a request body, and the pair lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "friends.h"
#include "http.h"
#include "user.h"
#include "valid.h"

int
pair_lock(struct db *db, int64_t a, int64_t b)
{
	char	  sa[24], sb[24];
	PGresult *res;

	if ((res = DB_EXEC(db, &sql_pair_lock, db_i64(sa, a), db_i64(sb, b))) ==
	    NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
pair_target(struct http_req *r, json_t *body, int64_t *target, json_t **user)
{
	const char *name = NULL;
	char	    folded[USER_NAME_MAX + 1], buf[24];
	int64_t	    id = 0;
	PGresult   *res;
	size_t	    len;

	*user = NULL;
	if (valid_id(r, body, "user_id", 0, &id) == -1 ||
	    valid_string(r, body, "username", 0, 1, 64, &name) == -1)
		return -1;
	if ((id == 0) == (name == NULL)) {
		http_error(r, 400, "invalid_field",
		    "Give exactly one of "
		    "'user_id' and 'username'.");
		return -1;
	}
	if (name != NULL) {
		len = strlen(name);
		if (len > USER_NAME_MAX ||
		    (snprintf(folded, sizeof(folded), "%s", name),
			user_name_fold(folded, len) == -1)) {
			http_error(r, 404, "user_not_found",
			    "No user is named "
			    "'%s'.",
			    name);
			return -1;
		}
		res = DB_EXEC(r->db, &sql_user_by_name, folded);
	} else
		res = DB_EXEC(r->db, &sql_user_by_id, db_i64(buf, id));
	if (res == NULL) {
		http_db_error(r);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		http_error(r, 404, "user_not_found", "No such user.");
		return -1;
	}
	*target = db_get_i64(res, 0, 0);
	*user = user_json(res, 0, 0);
	PQclear(res);
	return 0;
}

int
pair_request_event(struct db *db, const int64_t *users, size_t n,
    const char *type, int64_t id, char **woken)
{
	char	 *arr, rid[24];
	PGresult *res;

	arr = db_i64_array(users, n);
	res = DB_EXEC(db, &sql_request_event, arr, type, db_i64(rid, id));
	free(arr);
	if (res == NULL) {
		*woken = NULL;
		return -1;
	}
	/* No row: the request is gone (a user was deleted); nobody to wake. */
	*woken = PQntuples(res) == 1 ? strdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	return 0;
}
