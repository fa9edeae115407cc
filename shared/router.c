/* router: segment-by-segment matching; "{name}" in a pattern matches one
 * non-empty segment, which is percent-decoded into the params array. */
#include <string.h>

#include "http.h"
#include "router.h"

static int match(const char *, const char *, char[][256], int, int *);

/* Returns 1 on match, 0 on mismatch, -1 on an undecodable segment. */
static int
match(const char *pat, const char *path, char params[][256], int maxp, int *np)
{
	const char *pe, *se;

	*np = 0;
	for (;;) {
		if (*pat == '\0' || *path == '\0')
			return *pat == '\0' && *path == '\0';
		if (*pat != '/' || *path != '/')
			return 0;
		pat++;
		path++;
		pe = strchr(pat, '/');
		se = strchr(path, '/');
		if (pe == NULL)
			pe = pat + strlen(pat);
		if (se == NULL)
			se = path + strlen(path);
		if (*pat == '{') {
			if (se == path || *np >= maxp)
				return 0;
			if (http_decode(path, (size_t)(se - path), 0,
				params[*np], 256) <= 0 ||
			    strchr(params[*np], '/') != NULL)
				return -1;
			(*np)++;
		} else if (pe - pat != se - path ||
		    memcmp(pat, path, (size_t)(pe - pat)) != 0)
			return 0;
		pat = pe;
		path = se;
	}
}

enum router_result
router_match(const struct route *routes, size_t n, const char *method,
    const char *path, char params[][256], int maxp, int *nparams,
    const struct route **found)
{
	enum router_result res = ROUTER_NOT_FOUND;
	size_t		   i;
	int		   m;

	*found = NULL;
	for (i = 0; i < n; i++) {
		m = match(routes[i].pattern, path, params, maxp, nparams);
		if (m < 0 && res == ROUTER_NOT_FOUND)
			res = ROUTER_BAD_PARAM;
		if (m <= 0)
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			*found = &routes[i];
			return ROUTER_FOUND;
		}
		res = ROUTER_BAD_METHOD;
	}
	return res;
}
