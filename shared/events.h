/* events: appending to users' event streams from C (the emit() database
 * function does the ordering; see sql/functions/10_events.sql). */
#ifndef PARLEY_EVENTS_H
#define PARLEY_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct db;

/* Appends event `type` with `data` (reference stolen) to each user's
 * stream, inside the caller's transaction. Returns 0 and sets *woken to a
 * string for notify_users() after the commit (caller frees), or -1 on a
 * database error (db_error() tells which). */
int events_emit(struct db *, const int64_t *users, size_t n, const char *type,
    json_t *data, char **woken);

#endif
