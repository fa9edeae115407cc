/* events: a thin wrapper over emit(users, type, data). */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "events.h"
#include "log.h"

static const struct db_stmt st_emit = { "events_emit",
	"SELECT emit($1::bigint[], $2, $3::jsonb)::text" };

int
events_emit(struct db *db, const int64_t *users, size_t n, const char *type,
    json_t *data, char **woken)
{
	char	 *arr, *json;
	PGresult *res;

	*woken = NULL;
	arr = db_i64_array(users, n);
	if ((json = json_dumps(data, JSON_COMPACT)) == NULL)
		log_fatal("json_dumps: out of memory");
	json_decref(data);
	res = DB_EXEC(db, &st_emit, arr, type, json);
	free(arr);
	free(json);
	if (res == NULL)
		return -1;
	if ((*woken = strdup(PQgetvalue(res, 0, 0))) == NULL)
		log_fatal("strdup: out of memory");
	PQclear(res);
	return 0;
}
