/* user: the public shape of a user and the username rules, shared by every
 * service that shows or looks up users. */
#ifndef PARLEY_USER_H
#define PARLEY_USER_H

#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

#define USER_NAME_MIN 3
#define USER_NAME_MAX 32

/* {"id","username","display_name"} from columns col, col+1, col+2. */
json_t *user_json(const PGresult *, int row, int col);

/* Case-folds name[0..len) in place; 0 if it then is 3-32 characters of
 * [a-z0-9_.-], -1 otherwise (then name may be partly folded). */
int user_name_fold(char *name, size_t len);

#endif
