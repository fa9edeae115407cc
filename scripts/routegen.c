/* routegen: the services' route tables, generated from docs/openapi.json,
 * the one place a route is written. Each operation names the service and
 * the C handler that answer it (x-parley-service, x-parley-handler); the
 * auth a route needs follows from what the document already says (see
 * route_auth()). Built and run by the Makefile before the services:
 *
 *   routegen [-e SERVICE]... SPEC OUTDIR SERVICE...
 *	writes OUTDIR/routes_<service>.h (the handlers' prototypes and the
 *	table's declaration) and OUTDIR/routes_<service>.c (the table) for
 *	each SERVICE; -e names one answered elsewhere (the Kore gateway,
 *	nginx itself), whose operations are checked but get no table.
 *   routegen -l [-e SERVICE]... SPEC SERVICE...
 *	prints every route (`make routes`).
 *
 * It refuses (exit 1, one line per problem on stderr) an operation without
 * a service or handler, an unknown service, a service without routes, two
 * operations one request could match, and a handler used twice. A file is
 * rewritten only when its text changes, so a documentation edit rebuilds
 * nothing. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#define MAX_SERVICES 32
#define MAX_ROUTES   512
#define PATH_CHARS                                                             \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"                 \
	"0123456789._~{}/-"

struct op {
	const char *method; /* "GET" */
	const char *path;   /* "/api/v1/friends/{id}" */
	const char *id;	    /* operationId, for messages */
	const char *service;
	const char *handler;
	const char *auth; /* "ROUTE_USER", ... */
};

/* What each security scheme of the document means to the server. A new
 * scheme must be added here, or the generator refuses it. */
enum scheme_kind { SCHEME_SESSION, SCHEME_STREAM_QUERY, SCHEME_SITE };
static const struct {
	const char	*name;
	enum scheme_kind kind;
} schemes[] = {
	{ "bearerAuth", SCHEME_SESSION },
	{ "cookieAuth", SCHEME_SESSION },
	{ "websocketProtocolToken", SCHEME_SESSION },
	{ "accessTokenQuery", SCHEME_STREAM_QUERY }, /* JSONP clients */
	{ "siteSignature", SCHEME_SITE },
};

static const char *const methods[] = { "get", "put", "post", "delete", "patch",
	"head", "options", "trace" };

static struct op   ops[MAX_ROUTES];
static size_t	   nops;
static const char *services[MAX_SERVICES]; /* with a table */
static size_t	   nservices;
static const char *elsewhere[MAX_SERVICES]; /* -e */
static size_t	   nelsewhere;
static int	   problems;

static void problem(const char *, ...) __attribute__((format(printf, 1, 2)));
static int  is_ident(const char *);
static int  known(const char *const *, size_t, const char *);
static const char *route_auth(json_t *, json_t *, const char *);
static void	   read_ops(json_t *);
static int	   overlap(const char *, const char *);
static void	   check_ops(void);
static char	  *upper(const char *);
static void	   emit(const char *, const char *);
static void	   write_if_changed(const char *, const char *);
static void	   usage(void) __attribute__((noreturn));

static void
problem(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "routegen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	problems++;
}

/* A C identifier: the handler becomes a function name. */
static int
is_ident(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int
known(const char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* The route_auth (shared/router.h) of an operation, from its effective
 * security (the operation's, else the document's): an empty requirement
 * is public; the site signature is ROUTE_SITE; x-parley-admin: true is
 * ROUTE_ADMIN; a stream token in the query is ROUTE_USER_JSONP; a session
 * is ROUTE_USER, or ROUTE_USER_FORM with x-parley-auth: "user-form" (a
 * form whose CSRF token comes in the body: no scheme says that). NULL
 * after a problem. */
static const char *
route_auth(json_t *spec, json_t *op, const char *where)
{
	json_t	   *sec, *req, *v;
	const char *name, *xauth = NULL;
	size_t	    i, j;
	int	    pub = 0, session = 0, stream = 0, site = 0, admin = 0;
	int	    found;

	if ((sec = json_object_get(op, "security")) == NULL)
		sec = json_object_get(spec, "security");
	if (sec != NULL && !json_is_array(sec)) {
		problem("%s: security is not an array", where);
		return NULL;
	}
	if (sec == NULL || json_array_size(sec) == 0)
		pub = 1;
	json_array_foreach(sec, i, req)
	{
		if (!json_is_object(req)) {
			problem("%s: a security requirement is not an object",
			    where);
			return NULL;
		}
		if (json_object_size(req) == 0)
			pub = 1;
		json_object_foreach(req, name, v)
		{
			found = 0;
			for (j = 0; j < sizeof(schemes) / sizeof(schemes[0]);
			     j++) {
				if (strcmp(schemes[j].name, name) != 0)
					continue;
				found = 1;
				session += schemes[j].kind == SCHEME_SESSION;
				stream +=
				    schemes[j].kind == SCHEME_STREAM_QUERY;
				site += schemes[j].kind == SCHEME_SITE;
			}
			if (!found) {
				problem("%s: security scheme '%s' is unknown "
					"to scripts/routegen.c (schemes[] says "
					"what each one means)",
				    where, name);
				return NULL;
			}
		}
	}
	if ((v = json_object_get(op, "x-parley-admin")) != NULL) {
		if (!json_is_true(v)) {
			problem("%s: x-parley-admin is only ever true", where);
			return NULL;
		}
		admin = 1;
	}
	if ((v = json_object_get(op, "x-parley-auth")) != NULL &&
	    (!json_is_string(v) ||
		strcmp((xauth = json_string_value(v)), "user-form") != 0)) {
		problem("%s: x-parley-auth can only be \"user-form\"; the "
			"security schemes say the rest",
		    where);
		return NULL;
	}
	if (pub) {
		if (admin || xauth != NULL)
			problem("%s: public (an empty security requirement) "
				"but x-parley-admin or x-parley-auth",
			    where);
		return admin || xauth != NULL ? NULL : "ROUTE_PUBLIC";
	}
	if (site) {
		if (session || stream || admin || xauth != NULL) {
			problem("%s: a site's signature is the only "
				"credential of its routes",
			    where);
			return NULL;
		}
		return "ROUTE_SITE";
	}
	if (admin + (stream > 0) + (xauth != NULL) > 1) {
		problem("%s: x-parley-admin, a query stream token and "
			"x-parley-auth exclude each other",
		    where);
		return NULL;
	}
	if (admin)
		return "ROUTE_ADMIN";
	if (stream)
		return "ROUTE_USER_JSONP";
	return xauth != NULL ? "ROUTE_USER_FORM" : "ROUTE_USER";
}

static void
read_ops(json_t *spec)
{
	json_t	   *paths, *item, *op, *v;
	const char *path, *svc, *handler;
	char	    where[1200], *method;
	size_t	    i;

	if (!json_is_object(paths = json_object_get(spec, "paths"))) {
		problem("the document has no paths");
		return;
	}
	json_object_foreach(paths, path, item)
	{
		for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
			if ((op = json_object_get(item, methods[i])) == NULL)
				continue;
			method = upper(methods[i]);
			snprintf(where, sizeof(where), "%s %s", method, path);
			v = json_object_get(op, "x-parley-service");
			svc = json_string_value(v);
			v = json_object_get(op, "x-parley-handler");
			handler = json_string_value(v);
			if (svc == NULL || handler == NULL) {
				problem("%s: no x-parley-service or "
					"x-parley-handler (who answers it?)",
				    where);
				continue;
			}
			if (!known(services, nservices, svc) &&
			    !known(elsewhere, nelsewhere, svc)) {
				problem("%s: unknown service '%s' (the "
					"Makefile's ROUTED, ROUTES_ELSEWHERE)",
				    where, svc);
				continue;
			}
			if (known(services, nservices, svc) &&
			    !is_ident(handler)) {
				problem("%s: handler '%s' is not a C "
					"identifier",
				    where, handler);
				continue;
			}
			/* It becomes a C string literal: no quote, no
			 * backslash, nothing a path segment does not need. */
			if (path[0] != '/' || strstr(path, "//") != NULL ||
			    path[strspn(path, PATH_CHARS)] != '\0') {
				problem("%s: not an absolute path of "
					"[A-Za-z0-9._~{}/-]",
				    where);
				continue;
			}
			if (nops == MAX_ROUTES) {
				problem("more than %d operations", MAX_ROUTES);
				return;
			}
			ops[nops].method = method;
			ops[nops].path = path;
			ops[nops].id = json_string_value(
			    json_object_get(op, "operationId"));
			if (ops[nops].id == NULL)
				ops[nops].id = "no operationId";
			ops[nops].service = svc;
			ops[nops].handler = handler;
			if ((ops[nops].auth = route_auth(spec, op, where)) ==
			    NULL)
				continue;
			nops++;
		}
	}
}

/* 1 if one path could match both patterns ({x} = any one segment): the
 * router would answer with whichever comes first. */
static int
overlap(const char *a, const char *b)
{
	size_t la, lb;

	for (;;) {
		if (*a == '\0' || *b == '\0')
			return *a == '\0' && *b == '\0';
		a++; /* past '/' */
		b++;
		la = strcspn(a, "/");
		lb = strcspn(b, "/");
		if (*a != '{' && *b != '{' &&
		    (la != lb || memcmp(a, b, la) != 0))
			return 0;
		a += la;
		b += lb;
	}
}

static void
check_ops(void)
{
	size_t i, j, n;

	for (i = 0; i < nops; i++)
		for (j = i + 1; j < nops; j++) {
			if (strcmp(ops[i].method, ops[j].method) == 0 &&
			    overlap(ops[i].path, ops[j].path))
				problem("%s %s and %s %s: one request could "
					"match both",
				    ops[i].method, ops[i].path, ops[j].method,
				    ops[j].path);
			if (strcmp(ops[i].service, ops[j].service) == 0 &&
			    strcmp(ops[i].handler, ops[j].handler) == 0)
				problem("%s %s and %s %s: both handled by "
					"%s",
				    ops[i].method, ops[i].path, ops[j].method,
				    ops[j].path, ops[i].handler);
		}
	for (i = 0; i < nservices; i++) {
		for (n = 0, j = 0; j < nops; j++)
			n += strcmp(ops[j].service, services[i]) == 0;
		if (n == 0)
			problem("service '%s' has no operation in the document",
			    services[i]);
	}
}

static char *
upper(const char *s)
{
	char *u, *c;

	if ((u = strdup(s)) == NULL) {
		perror("routegen: strdup");
		exit(1);
	}
	for (c = u; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	return u;
}

static void
write_if_changed(const char *file, const char *text)
{
	FILE  *f;
	char   tmp[4200], old[1 << 16];
	size_t n = 0;

	if ((f = fopen(file, "r")) != NULL) {
		n = fread(old, 1, sizeof(old) - 1, f);
		fclose(f);
		old[n] = '\0';
		if (strcmp(old, text) == 0)
			return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	if ((f = fopen(tmp, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0 || rename(tmp, file) != 0) {
		fprintf(stderr, "routegen: %s: %s\n", file, strerror(errno));
		exit(1);
	}
}

/* Appends to a growing buffer; exits when out of memory. */
static void put(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
put(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (*buf = realloc(*buf, *len + (size_t)n + 1)) == NULL) {
		perror("routegen");
		exit(1);
	}
	va_start(ap, fmt);
	vsnprintf(*buf + *len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
}

static void
emit(const char *outdir, const char *svc)
{
	char  *h = NULL, *c = NULL, *guard, file[4096];
	size_t hl = 0, cl = 0, i, n = 0;

	guard = upper(svc);
	put(&h, &hl,
	    "/* Generated by scripts/routegen from docs/openapi.json: "
	    "edit the document,\n * not this file. The handlers and the "
	    "route table (shared/router.h) of\n * x-parley-service \"%s\". */\n"
	    "#ifndef PARLEY_ROUTES_%s_H\n#define PARLEY_ROUTES_%s_H\n\n"
	    "#include \"router.h\"\n\n"
	    "struct http_req;\n\n",
	    svc, guard, guard);
	put(&c, &cl,
	    "/* Generated by scripts/routegen from docs/openapi.json: "
	    "edit the document,\n * not this file. */\n#include "
	    "\"routes_%s.h\"\n\nconst struct route %s_routes[%s_NROUTES] = {\n",
	    svc, svc, guard);
	for (i = 0; i < nops; i++) {
		if (strcmp(ops[i].service, svc) != 0)
			continue;
		n++;
		put(&h, &hl, "/* %s %s (%s) */\nvoid\t%s(struct http_req *);\n",
		    ops[i].method, ops[i].path, ops[i].id, ops[i].handler);
		put(&c, &cl, "\t{ \"%s\", \"%s\", %s, %s },\n", ops[i].method,
		    ops[i].path, ops[i].handler, ops[i].auth);
	}
	/* A constant, for the service's static struct service. */
	put(&h, &hl,
	    "\n#define %s_NROUTES\t%zu\nextern const struct route "
	    "%s_routes[%s_NROUTES];\n\n#endif\n",
	    guard, n, svc, guard);
	put(&c, &cl, "};\n");
	snprintf(file, sizeof(file), "%s/routes_%s.h", outdir, svc);
	write_if_changed(file, h);
	snprintf(file, sizeof(file), "%s/routes_%s.c", outdir, svc);
	write_if_changed(file, c);
	free(guard);
	free(h);
	free(c);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: routegen [-e service]... spec outdir "
	    "service...\n       routegen -l [-e service]... spec "
	    "service...\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	json_t	    *spec;
	json_error_t err;
	const char  *outdir = NULL;
	size_t	     i;
	int	     ch, list = 0;

	while ((ch = getopt(argc, argv, "e:l")) != -1) {
		switch (ch) {
		case 'e':
			if (nelsewhere == MAX_SERVICES)
				usage();
			elsewhere[nelsewhere++] = optarg;
			break;
		case 'l':
			list = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < (list ? 1 : 2))
		usage();
	/* Duplicate keys (two "/api/v1/x" paths, two "get"s) are refused
	 * rather than the last one silently winning. */
	if ((spec = json_load_file(argv[0], JSON_REJECT_DUPLICATES, &err)) ==
	    NULL) {
		fprintf(stderr, "routegen: %s:%d: %s\n", argv[0], err.line,
		    err.text);
		return 1;
	}
	if (!list)
		outdir = argv[1];
	for (i = list ? 1 : 2; i < (size_t)argc; i++) {
		if (nservices == MAX_SERVICES || !is_ident(argv[i]))
			usage();
		services[nservices++] = argv[i];
	}
	read_ops(spec);
	check_ops();
	if (problems > 0) {
		fprintf(stderr,
		    "routegen: %s: %d problem%s, nothing "
		    "generated\n",
		    argv[0], problems, problems == 1 ? "" : "s");
		return 1;
	}
	if (list) {
		for (i = 0; i < nops; i++)
			printf("%-7s %-50s %-9s %-26s %s\n", ops[i].method,
			    ops[i].path, ops[i].service, ops[i].handler,
			    ops[i].auth);
		return 0;
	}
	for (i = 0; i < nservices; i++)
		emit(outdir, services[i]);
	/* The document stays loaded: ops[] points into it until exit. */
	return 0;
}
