// docs/openapi.json against the running stack and against the code: nginx
// serves the file unchanged, and its paths are exactly the routes in the
// services' route tables (services/*/main.c).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, ROOT } = require('../lib.js');

const SPEC_FILE = path.join(ROOT, 'docs', 'openapi.json');
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
// Routes that nginx answers itself: documented, but in no route table.
const NGINX_ROUTES = new Set(['GET /api/v1/openapi.json']);

// Drops C comments, keeping string literals (a route pattern could hold
// "/*" in theory) and line structure.
function stripComments(src) {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const j = end < 0 ? src.length : end + 2;
      out += src.slice(i, j).replace(/[^\n]/g, ' ');
      i = j - 1;
    } else if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      i = (end < 0 ? src.length : end) - 1;
    } else {
      out += c;
    }
  }
  return out;
}

// Index just past the '}' closing the '{' at `open`, skipping string
// literals (route patterns contain "{id}"); -1 if unbalanced.
function closingBrace(src, open) {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      i = j;
    } else if (c === '{') {
      depth++;
    } else if (c === '}' && --depth === 0) {
      return i + 1;
    }
  }
  return -1;
}

// Every route of every `struct route NAME[] = { ... };` table in a C
// source: [{ method, path, handler, auth, file }]. Throws on an entry
// inside a table that does not have the expected shape, so a new style of
// entry cannot silently drop out of the comparison.
function parseRouteTables(src, file = '<source>') {
  const code = stripComments(src);
  const head = /\bstruct\s+route\s+\w+\s*\[[^\]]*\]\s*=\s*\{/g;
  const entry = /^\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*([A-Za-z_]\w*)\s*,\s*([A-Za-z_]\w*)\s*\}$/;
  const routes = [];
  let m;
  while ((m = head.exec(code)) !== null) {
    const open = m.index + m[0].length - 1;
    const close = closingBrace(code, open);
    if (close < 0) throw new Error(`${file}: unterminated route table`);
    const body = code.slice(open + 1, close - 1);
    // Top-level { ... } groups of the table body.
    for (let i = 0; i < body.length; i++) {
      if (body[i] === '"') throw new Error(`${file}: string outside a route entry`);
      if (body[i] !== '{') continue;
      const end = closingBrace(body, i);
      if (end < 0) throw new Error(`${file}: unterminated route entry`);
      const text = body.slice(i, end).replace(/\s+/g, ' ');
      const e = entry.exec(text);
      if (!e) throw new Error(`${file}: cannot read route entry ${text}`);
      routes.push({ method: e[1], path: e[2], handler: e[3], auth: e[4], file });
      i = end - 1;
    }
    head.lastIndex = close;
  }
  return routes;
}

// Routes of every service: services/*/main.c under `root`.
function codeRoutes(root = ROOT) {
  const dir = path.join(root, 'services');
  const routes = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const main = path.join(dir, name, 'main.c');
    if (!fs.existsSync(main)) continue;
    routes.push(...parseRouteTables(fs.readFileSync(main, 'utf8'),
      path.relative(root, main)));
  }
  routes.push(...koreRoutes(root));
  return routes;
}

// The gateway's routes: `route PATH HANDLER` in its Kore configuration.
// Kore routes name no method; the handler upgrades GET only. A client may
// upgrade without a credential and send it in the first frame, so the
// route is public at the HTTP level.
function koreRoutes(root = ROOT) {
  const file = path.join(root, 'services', 'gateway', 'gateway.conf.in');
  const text = fs.readFileSync(file, 'utf8').replace(/#.*$/gm, '');
  // Only the API: /metrics is the operator's, reached through nginx's
  // loopback metrics server (README "Metrics"), never the public one.
  return [...text.matchAll(/^\s*route\s+(\S+)\s+(\w+)\s*$/gm)].map((m) => ({
    method: 'GET', path: m[1], handler: m[2], auth: 'ROUTE_PUBLIC',
    file: path.relative(root, file),
  })).filter((r) => r.path.startsWith('/api/'));
}

// Operations of an OpenAPI document: [{ method, path, op, public }].
// `public` is true when the operation's effective security is empty.
function specOperations(spec) {
  const ops = [];
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of HTTP_METHODS) {
      if (!item[m]) continue;
      const op = item[m];
      const security = op.security !== undefined ? op.security : spec.security;
      const pub = !security || security.length === 0 ||
        security.some((req) => Object.keys(req).length === 0);
      ops.push({ method: m.toUpperCase(), path: p, op, public: pub });
    }
  }
  return ops;
}

const key = (r) => `${r.method} ${r.path}`;

function loadSpec() {
  const text = fs.readFileSync(SPEC_FILE, 'utf8');
  return { text, spec: JSON.parse(text) };
}

test('GET /api/v1/openapi.json serves docs/openapi.json unchanged', async () => {
  const { text, spec } = loadSpec();
  const r = await api.get('/api/v1/openapi.json');
  assert.equal(r.status, 200, r.text.slice(0, 200));
  assert.match(r.headers['content-type'] || '', /^application\/json/);
  assert.ok(r.json && typeof r.json === 'object', 'body is JSON');
  assert.match(String(r.json.openapi), /^3\.\d+\.\d+$/);
  assert.deepEqual(r.json, spec);
  assert.equal(r.text, text, 'served bytes differ from docs/openapi.json');
});

test('route table parser reads entries, comments and {params}', () => {
  const src = `
    /* { "GET", "/commented/out", h, ROUTE_USER }, */
    static const struct route routes[] = {
    \t{ "GET",    "/api/v1/a",\t\t a_get, ROUTE_PUBLIC },
    \t// { "PUT", "/api/v1/nope", h, ROUTE_USER },
    \t{ "DELETE", "/api/v1/a/{id}/b/{x}", a_del,
    \t    ROUTE_USER },
    };
    static const struct service s = { "a", routes, 2, NULL, NULL };`;
  assert.deepEqual(parseRouteTables(src, 'x.c').map(key),
    ['GET /api/v1/a', 'DELETE /api/v1/a/{id}/b/{x}']);
  assert.throws(() => parseRouteTables(
    'static const struct route routes[] = { { "GET", "/x", h }, };'), /cannot read/);
});

test('OpenAPI paths are exactly the routes in services/*/main.c and the gateway', () => {
  const { spec } = loadSpec();
  const routes = codeRoutes();
  assert.ok(routes.some((r) => key(r) === 'GET /api/v1/health'),
    'route parsing found no GET /api/v1/health in services/accounts/main.c');
  assert.ok(routes.some((r) => key(r) === 'GET /api/v1/stream'),
    'route parsing found no GET /api/v1/stream in services/gateway/gateway.conf.in');
  const inCode = new Map();
  for (const r of routes) {
    assert.ok(!inCode.has(key(r)), `${key(r)} is routed twice (${inCode.get(key(r))?.file}, ${r.file})`);
    inCode.set(key(r), r);
  }
  const inSpec = new Map(specOperations(spec).map((o) => [key(o), o]));
  for (const k of NGINX_ROUTES)
    assert.ok(inSpec.has(k), `${k} (served by nginx) is not documented`);

  const undocumented = [...inCode.keys()].filter((k) => !inSpec.has(k)).sort();
  const unrouted = [...inSpec.keys()]
    .filter((k) => !inCode.has(k) && !NGINX_ROUTES.has(k)).sort();
  assert.ok(undocumented.length === 0 && unrouted.length === 0,
    'routes and docs/openapi.json disagree:\n' +
    `  in code, missing from docs/openapi.json (${undocumented.length}):\n` +
    undocumented.map((k) => `    ${k} (${inCode.get(k).file})`).join('\n') +
    `\n  in docs/openapi.json, missing from the route tables (${unrouted.length}):\n` +
    unrouted.map((k) => `    ${k}`).join('\n'));

  // Public in code <=> security: [] in the document; admin-only in code
  // (ROUTE_ADMIN) <=> x-parley-admin: true.
  const wrong = [];
  for (const [k, r] of inCode) {
    const pub = r.auth === 'ROUTE_PUBLIC';
    if (pub !== inSpec.get(k).public)
      wrong.push(`${k}: ${r.auth} in ${r.file}, but the document says ` +
        (inSpec.get(k).public ? 'security: []' : 'authentication required'));
    if ((r.auth === 'ROUTE_ADMIN') !== (inSpec.get(k).op['x-parley-admin'] === true))
      wrong.push(`${k}: ${r.auth} in ${r.file}, but x-parley-admin is ${inSpec.get(k).op['x-parley-admin']}`);
  }
  assert.deepEqual(wrong, [], wrong.join('\n'));
});

test('every operation has a unique operationId; protected ones document 401 (admin ones their 404)', () => {
  const { spec } = loadSpec();
  const seen = new Map();
  const problems = [];
  for (const o of specOperations(spec)) {
    const id = o.op.operationId;
    if (typeof id !== 'string' || id === '')
      problems.push(`${key(o)}: no operationId`);
    else if (seen.has(id))
      problems.push(`${key(o)}: operationId '${id}' also used by ${seen.get(id)}`);
    else
      seen.set(id, key(o));
    // An admin operation refuses everyone else as a missing path: 404.
    if (o.op['x-parley-admin'] === true) {
      if (!(o.op.responses && o.op.responses['404'] &&
          o.op.responses['404'].$ref === '#/components/responses/AdminNotFound'))
        problems.push(`${key(o)}: admin only, but its 404 is not AdminNotFound`);
      if (o.op.responses && o.op.responses['401'])
        problems.push(`${key(o)}: admin only, so it never answers 401`);
    } else if (!o.public && !(o.op.responses && o.op.responses['401']))
      problems.push(`${key(o)}: requires authentication but documents no 401`);
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});

module.exports = { stripComments, parseRouteTables, codeRoutes, specOperations };
