/* user: usernames are ASCII and case-folded, so "Alice" and "alice" are
 * one account and lookups are plain equality. */
#include "db.h"
#include "user.h"

json_t *
user_json(const PGresult *res, int row, int col)
{
	return json_pack("{s:I,s:s,s:s}", "id",
	    (json_int_t)db_get_i64(res, row, col), "username",
	    PQgetvalue(res, row, col + 1), "display_name",
	    PQgetvalue(res, row, col + 2));
}

int
user_name_fold(char *s, size_t len)
{
	size_t i;

	if (len < USER_NAME_MIN || len > USER_NAME_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '.' || s[i] == '-'))
			return -1;
	}
	return 0;
}
