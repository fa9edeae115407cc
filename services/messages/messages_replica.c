/* messages_replica: history pages from a streaming replica
 * (PARLEY_READ_DATABASE_URL) when it is at least as current as the
 * primary for that conversation.
 *
 * The primary decides who may read (membership is checked there) and, in
 * the same statement, tells the conversation's head and how many of its
 * messages are recalled. The replica answers only when, in the snapshot
 * of the page it read, it has both: so a reader never sees less than the
 * primary had when the request came in. The sender sees the message the
 * 201 answered (read-your-writes), and a recall is never undone, however
 * far the replica lags. Otherwise, and when the replica is down or
 * cancels the query (a conflict with recovery), the primary answers:
 * a replica can only take load away, never change an answer. */
#include <stdlib.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "messages.h"

/* Like sql_history, plus whether this snapshot holds head $4 and $5
 * recalled messages of the conversation. */
static const struct db_stmt sql_history_replica = {
	"history_replica",
	"SELECT coalesce(jsonb_agg(message_json(m) ORDER BY m.seq), "
	"'[]')::text,"
	" coalesce(min(m.seq), 0),"
	" coalesce((SELECT c.head >= $4 FROM conversations c WHERE c.id = $1),"
	"  false) AND (SELECT count(*) FROM messages r WHERE r.conversation_id "
	"= $1"
	"  AND r.recalled_at IS NOT NULL) >= $5"
	" FROM (SELECT * FROM messages"
	" WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3) m"
};

static struct log_limit replica_log = LOG_LIMIT(10);

void *
replica_thread_init(void)
{
	if (config.read_database_url == NULL)
		return NULL;
	return db_new_at(config.read_database_url, "messages-replica");
}

void
replica_thread_free(void *db)
{
	db_free(db);
}

PGresult *
replica_history(struct http_req *r, const char *const params[3], long long head,
    long long recalled)
{
	struct db    *rdb = r->ctx;
	PGresult     *res;
	char	      h[24], n[24];
	unsigned long quiet;

	if (rdb != NULL) {
		res = DB_EXEC(rdb, &sql_history_replica, params[0], params[1],
		    params[2], db_i64(h, head), db_i64(n, recalled));
		if (res != NULL && db_get_bool(res, 0, 2))
			return res;
		if (res != NULL)
			PQclear(res);
		else if (log_limit_ok(&replica_log, &quiet))
			log_warn("history from the replica failed (%lu more "
				 "not logged); the primary answers",
			    quiet);
	}
	return DB_EXEC(r->db, &sql_history, params[0], params[1], params[2]);
}
