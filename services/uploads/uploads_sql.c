/* uploads_sql: every statement the uploads service runs (the functions
 * are in sql/functions/85_uploads.sql). */
#include "uploads.h"

const struct db_stmt sql_usage = { "up_usage",
	"SELECT coalesce(sum(size + thumb_size), 0) FROM uploads"
	" WHERE owner_id = $1" };
const struct db_stmt sql_create = { "up_create",
	"SELECT status, upload::text, used FROM upload_create($1, $2, $3, $4,"
	" $5, $6, $7, $8, $9, $10, $11, $12)" };
const struct db_stmt sql_fetch = { "up_fetch",
	"SELECT sha256, name, mime, kind FROM upload_fetch($1, $2, $3)" };
const struct db_stmt sql_collect = { "up_collect",
	"SELECT cardinality(ids), blobs FROM"
	" upload_collect(make_interval(secs => $1), $2, $3)" };
const struct db_stmt sql_orphans = { "up_orphans",
	"SELECT b FROM unnest(upload_orphans($1::text[])) b" };
const struct db_stmt sql_blob_lock = { "up_blob_lock",
	"SELECT pg_advisory_xact_lock(upload_blob_key($1))" };
