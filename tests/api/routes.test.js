// Routes have one source: docs/openapi.json. Each operation names its
// service and C handler (x-parley-service, x-parley-handler), and
// scripts/routegen.c generates every service's route table from it at
// build time. This file checks what is derived or must agree: the
// generated tables (and that the generator refuses a document it cannot
// trust), the gateway's Kore route, nginx's locations (every path reaches
// its service's upstream), and the README's resource table. No stack is
// needed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT } = require('../lib.js');

const SPEC_FILE = path.join(ROOT, 'docs', 'openapi.json');
const ROUTEGEN = path.join(ROOT, 'build', 'tools', 'routegen');
// The build the stack runs (PARLEY_BIN=build/asan/bin): its generated
// tables are the ones compiled into the services under test.
const GEN_DIR = path.join(process.env.PARLEY_BIN || path.join(ROOT, 'build', 'asan', 'bin'),
  '..', 'gen');
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
// Answered without a route table: by the Kore gateway, by nginx itself.
const ELSEWHERE = ['gateway', 'nginx'];

function makefileRouted() {
  const mk = fs.readFileSync(path.join(ROOT, 'Makefile'), 'utf8');
  const m = /^ROUTED\s*:=\s*(.+)$/m.exec(mk);
  assert.ok(m, 'Makefile has no ROUTED := ... line');
  return m[1].trim().split(/\s+/);
}

// Drops C comments, keeping string literals and line structure.
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

// Every route of every `struct route NAME[...] = { ... };` table in a C
// source: [{ method, path, handler, auth, file }]. Throws on an entry of
// another shape, so nothing silently drops out of a comparison.
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

// The gateway's routes: `route PATH HANDLER` in its Kore configuration
// (the API ones: /metrics is reached only through nginx's loopback
// metrics server).
function koreRoutes(root = ROOT) {
  const file = path.join(root, 'services', 'gateway', 'gateway.conf.in');
  const text = fs.readFileSync(file, 'utf8').replace(/#.*$/gm, '');
  return [...text.matchAll(/^\s*route\s+(\S+)\s+(\w+)\s*$/gm)]
    .map((m) => ({ method: 'GET', path: m[1], handler: m[2] }))
    .filter((r) => r.path.startsWith('/api/'));
}

// The route_auth a service must give an operation, from what the document
// says (an implementation of its own, to check scripts/routegen.c's).
function expectedAuth(spec, op) {
  const sec = op.security !== undefined ? op.security : spec.security;
  if (!sec || sec.length === 0 || sec.some((r) => Object.keys(r).length === 0))
    return 'ROUTE_PUBLIC';
  const schemes = sec.flatMap((r) => Object.keys(r));
  if (schemes.includes('siteSignature')) return 'ROUTE_SITE';
  if (op['x-parley-admin'] === true) return 'ROUTE_ADMIN';
  if (schemes.includes('accessTokenQuery')) return 'ROUTE_USER_JSONP';
  if (op['x-parley-auth'] === 'user-form') return 'ROUTE_USER_FORM';
  return 'ROUTE_USER';
}

function specOperations(spec) {
  const ops = [];
  for (const [p, item] of Object.entries(spec.paths || {}))
    for (const m of HTTP_METHODS)
      if (item[m]) ops.push({ method: m.toUpperCase(), path: p, op: item[m] });
  return ops;
}

const key = (r) => `${r.method} ${r.path}`;
const loadSpec = () => JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8'));

function routegen(args) {
  assert.ok(fs.existsSync(ROUTEGEN), `${ROUTEGEN} is missing: make build makes it`);
  return spawnSync(ROUTEGEN, args, { encoding: 'utf8' });
}

// Runs the generator on a document; { status, stderr, tables: {svc: text} }.
function generate(spec, services) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'routegen-'));
  try {
    const file = path.join(dir, 'spec.json');
    fs.writeFileSync(file, typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2));
    const r = routegen([...ELSEWHERE.flatMap((s) => ['-e', s]), file, dir, ...services]);
    const tables = {};
    for (const f of fs.readdirSync(dir))
      if (f.startsWith('routes_')) tables[f] = fs.readFileSync(path.join(dir, f), 'utf8');
    return { status: r.status, stderr: r.stderr, tables };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('route table parser reads entries, comments and {params}', () => {
  const src = `
    /* { "GET", "/commented/out", h, ROUTE_USER }, */
    const struct route a_routes[A_NROUTES] = {
    \t{ "GET",    "/api/v1/a",\t\t a_get, ROUTE_PUBLIC },
    \t// { "PUT", "/api/v1/nope", h, ROUTE_USER },
    \t{ "DELETE", "/api/v1/a/{id}/b/{x}", a_del,
    \t    ROUTE_USER },
    };`;
  assert.deepEqual(parseRouteTables(src, 'x.c').map(key),
    ['GET /api/v1/a', 'DELETE /api/v1/a/{id}/b/{x}']);
  assert.throws(() => parseRouteTables(
    'static const struct route routes[] = { { "GET", "/x", h }, };'), /cannot read/);
});

test('the compiled route tables are generated from docs/openapi.json as it is now', () => {
  const routed = makefileRouted();
  const fresh = generate(fs.readFileSync(SPEC_FILE, 'utf8'), routed);
  assert.equal(fresh.status, 0, fresh.stderr);
  for (const svc of routed)
    for (const f of [`routes_${svc}.c`, `routes_${svc}.h`]) {
      const built = path.join(GEN_DIR, f);
      assert.ok(fs.existsSync(built), `${built} missing: make SAN=1 build`);
      assert.equal(fs.readFileSync(built, 'utf8'), fresh.tables[f],
        `${built} is older than docs/openapi.json: make SAN=1 build`);
    }
  // Nobody routes by hand: no service source holds a table of its own, and
  // each routed service's main.c uses its generated one.
  for (const svc of fs.readdirSync(path.join(ROOT, 'services')).sort()) {
    const dir = path.join(ROOT, 'services', svc);
    for (const f of fs.readdirSync(dir).filter((n) => /\.[ch]$/.test(n)))
      assert.deepEqual(parseRouteTables(fs.readFileSync(path.join(dir, f), 'utf8'), f), [],
        `services/${svc}/${f} has a route table of its own; routes are written in docs/openapi.json`);
    if (routed.includes(svc))
      assert.match(fs.readFileSync(path.join(dir, 'main.c'), 'utf8'),
        new RegExp(`\\.routes = ${svc}_routes,[^\\n]*\\n\\s*\\.nroutes = ${svc.toUpperCase()}_NROUTES,`),
        `services/${svc}/main.c does not serve its generated table`);
  }
});

test('every operation is in exactly its service\'s table, with its handler and auth', () => {
  const spec = loadSpec();
  const routed = makefileRouted();
  const gen = generate(spec, routed);
  assert.equal(gen.status, 0, gen.stderr);
  const inTables = new Map();
  for (const svc of routed)
    for (const r of parseRouteTables(gen.tables[`routes_${svc}.c`], `routes_${svc}.c`)) {
      assert.ok(!inTables.has(key(r)), `${key(r)} is in two tables`);
      inTables.set(key(r), { ...r, service: svc });
    }
  assert.ok(inTables.has('GET /api/v1/health'), 'no GET /api/v1/health in the tables');
  const wrong = [];
  const ops = specOperations(spec);
  for (const { method, path: p, op } of ops) {
    const k = `${method} ${p}`;
    const svc = op['x-parley-service'];
    if (ELSEWHERE.includes(svc)) {
      if (inTables.has(k)) wrong.push(`${k}: answered by ${svc}, but in a table`);
      continue;
    }
    const r = inTables.get(k);
    if (!r) { wrong.push(`${k}: in no table`); continue; }
    if (r.service !== svc) wrong.push(`${k}: in ${r.service}'s table, x-parley-service is ${svc}`);
    if (r.handler !== op['x-parley-handler']) wrong.push(`${k}: handler ${r.handler}`);
    if (r.auth !== expectedAuth(spec, op))
      wrong.push(`${k}: ${r.auth}, but the document says ${expectedAuth(spec, op)}`);
  }
  const documented = new Set(ops.map(key));
  for (const k of inTables.keys())
    if (!documented.has(k)) wrong.push(`${k}: in a table, not in the document`);
  assert.deepEqual(wrong, [], wrong.join('\n'));
  // Each kind of auth is exercised, so a wrong derivation shows.
  assert.deepEqual([...new Set([...inTables.values()].map((r) => r.auth))].sort(),
    ['ROUTE_ADMIN', 'ROUTE_PUBLIC', 'ROUTE_SITE', 'ROUTE_USER', 'ROUTE_USER_FORM', 'ROUTE_USER_JSONP']);
});

test('the gateway\'s Kore routes are the document\'s gateway operations', () => {
  const spec = loadSpec();
  const inSpec = specOperations(spec).filter((o) => o.op['x-parley-service'] === 'gateway')
    .map((o) => `${key(o)} ${o.op['x-parley-handler']}`).sort();
  const inKore = koreRoutes().map((r) => `${key(r)} ${r.handler}`).sort();
  assert.ok(inKore.includes('GET /api/v1/stream gw_stream'), inKore.join(', '));
  assert.deepEqual(inKore, inSpec);
});

// A minimal document for the generator's refusals.
function miniSpec(paths) {
  return {
    openapi: '3.0.3', info: { title: 't', version: '1' },
    security: [{ bearerAuth: [] }],
    components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
const op = (service, handler, extra = {}) => ({
  operationId: `${service}_${handler}`, 'x-parley-service': service,
  'x-parley-handler': handler, responses: { 200: { description: 'ok' } }, ...extra,
});

test('routegen writes a table for a good document', () => {
  const g = generate(miniSpec({
    '/api/v1/a': { get: op('a', 'a_list', { security: [] }), post: op('a', 'a_create') },
    '/api/v1/a/{id}': { delete: op('a', 'a_delete', { 'x-parley-admin': true }) },
    '/api/v1/s': { get: op('gateway', 'gw_x') },
  }), ['a']);
  assert.equal(g.status, 0, g.stderr);
  assert.deepEqual(parseRouteTables(g.tables['routes_a.c']).map((r) => `${key(r)} ${r.handler} ${r.auth}`), [
    'GET /api/v1/a a_list ROUTE_PUBLIC', 'POST /api/v1/a a_create ROUTE_USER',
    'DELETE /api/v1/a/{id} a_delete ROUTE_ADMIN']);
  assert.match(g.tables['routes_a.h'], /^void\ta_create\(struct http_req \*\);$/m);
  assert.match(g.tables['routes_a.h'], /^#define A_NROUTES\t3$/m);
});

test('routegen refuses a document it cannot trust, and says why', () => {
  const cases = [
    ['an operation without a handler',
      { '/api/v1/a': { get: { ...op('a', 'a_get'), 'x-parley-handler': undefined } } },
      /GET \/api\/v1\/a: no x-parley-service or x-parley-handler/],
    ['an operation without a service',
      { '/api/v1/a': { get: { ...op('a', 'a_get'), 'x-parley-service': undefined } } },
      /GET \/api\/v1\/a: no x-parley-service/],
    ['an unknown service',
      { '/api/v1/a': { get: op('a', 'a_get') }, '/api/v1/b': { get: op('nosuch', 'b_get') } },
      /GET \/api\/v1\/b: unknown service 'nosuch'/],
    ['a handler that is no C name',
      { '/api/v1/a': { get: op('a', 'a-get') } }, /handler 'a-get' is not a C identifier/],
    ['two patterns one request matches',
      { '/api/v1/a/{id}': { get: op('a', 'a_get') }, '/api/v1/a/{x}': { get: op('a', 'a_get2') } },
      /GET \/api\/v1\/a\/\{id\} and GET \/api\/v1\/a\/\{x\}: one request could match both/],
    ['a literal segment a parameter also matches',
      { '/api/v1/a/{id}': { get: op('a', 'a_get') }, '/api/v1/a/new': { get: op('a', 'a_new') } },
      /one request could match both/],
    ['a path that would break out of its C string',
      { '/api/v1/a"b': { get: op('a', 'a_get') } }, /not an absolute path/],
    ['one handler for two operations',
      { '/api/v1/a': { get: op('a', 'a_get'), post: op('a', 'a_get') } }, /both handled by a_get/],
    ['an unknown security scheme',
      { '/api/v1/a': { get: op('a', 'a_get', { security: [{ magic: [] }] }) } },
      /security scheme 'magic' is unknown/],
    ['x-parley-auth other than user-form',
      { '/api/v1/a': { get: op('a', 'a_get', { 'x-parley-auth': 'admin' }) } },
      /x-parley-auth can only be "user-form"/],
    ['an admin operation that is public',
      { '/api/v1/a': { get: op('a', 'a_get', { security: [], 'x-parley-admin': true }) } },
      /public .* but x-parley-admin/],
    ['a service with no operation',
      { '/api/v1/a': { get: op('gateway', 'gw_a') } }, /service 'a' has no operation/],
  ];
  for (const [what, paths, message] of cases) {
    const g = generate(miniSpec(JSON.parse(JSON.stringify(paths))), ['a']);
    assert.equal(g.status, 1, `${what}: exit ${g.status}\n${g.stderr}`);
    assert.match(g.stderr, message, what);
    assert.match(g.stderr, /nothing generated/, what);
    assert.deepEqual(Object.keys(g.tables), [], `${what}: files written`);
  }
  // The same path twice in the JSON text (a parser would keep the last).
  const text = '{"openapi":"3.0.3","paths":{"/api/v1/a":{"get":' + JSON.stringify(op('a', 'a_get')) +
    '},"/api/v1/a":{"post":' + JSON.stringify(op('a', 'a_post')) + '}}}';
  const g = generate(text, ['a']);
  assert.equal(g.status, 1, g.stderr);
  assert.match(g.stderr, /duplicate object key/);
});

// nginx/parley.conf.in, the public server: its locations (in order) with
// what each hands the request to: { fastcgi: upstream } | { proxy:
// upstream } | { alias: path } | { return: code }.
function nginxLocations(text) {
  const start = text.indexOf('server {');
  const end = text.indexOf('@metrics-begin');
  assert.ok(start >= 0 && end > start, 'cannot find the public server block');
  const server = text.slice(start, end).replace(/#.*$/gm, '');
  const locs = [];
  const re = /\blocation\s+(=|\^~|~\*?)?\s*(\S+)\s*\{/g;
  let m;
  while ((m = re.exec(server)) !== null) {
    const open = m.index + m[0].length - 1;
    let depth = 0, i = open;
    for (; i < server.length; i++) {
      if (server[i] === '{') depth++;
      else if (server[i] === '}' && --depth === 0) break;
    }
    const body = server.slice(open + 1, i);
    const to = {};
    let d;
    if ((d = /\bfastcgi_pass\s+(\w+)\s*;/.exec(body))) to.fastcgi = d[1];
    if ((d = /\bproxy_pass\s+https?:\/\/(\w+)[^;]*;/.exec(body))) to.proxy = d[1];
    if ((d = /\balias\s+@ROOT@\/(\S+)\s*;/.exec(body))) to.alias = d[1];
    if ((d = /\breturn\s+(\d+)/.exec(body))) to.return = Number(d[1]);
    locs.push({ mod: m[1] || '', uri: m[2], to });
    re.lastIndex = i;
  }
  return locs;
}

// nginx's choice for a URI: an exact match; else the longest prefix, at
// once if it is ^~; else the first matching regex; else that prefix.
function nginxLocate(locs, uri) {
  const exact = locs.find((l) => l.mod === '=' && l.uri === uri);
  if (exact) return exact;
  let best = null;
  for (const l of locs)
    if ((l.mod === '' || l.mod === '^~') && !l.uri.startsWith('@') && uri.startsWith(l.uri) &&
        (!best || l.uri.length > best.uri.length))
      best = l;
  if (best && best.mod === '^~') return best;
  const rx = locs.find((l) => (l.mod === '~' || l.mod === '~*') &&
    new RegExp(l.uri, l.mod === '~*' ? 'i' : '').test(uri));
  return rx || best;
}

test('the nginx location resolver follows nginx\'s order', () => {
  const locs = nginxLocations(`server {
    location = /a { fastcgi_pass exact; }
    location ^~ /a/ { fastcgi_pass stop; }
    location /a/b/ { fastcgi_pass longer; }
    location ~ ^/a/b/c { fastcgi_pass regex; }
    location / { return 404; }
  }
  # @metrics-begin`);
  const to = (u) => nginxLocate(locs, u).to;
  assert.deepEqual(to('/a'), { fastcgi: 'exact' });
  assert.deepEqual(to('/a/x'), { fastcgi: 'stop' });
  assert.deepEqual(to('/a/b/x'), { fastcgi: 'longer' });
  assert.deepEqual(to('/a/b/c'), { fastcgi: 'regex' });
  assert.deepEqual(to('/ab'), { return: 404 });
});

test('nginx routes every documented path to its service\'s upstream', () => {
  const spec = loadSpec();
  const text = fs.readFileSync(path.join(ROOT, 'nginx', 'parley.conf.in'), 'utf8');
  const locs = nginxLocations(text);
  const upstreams = new Set([...text.matchAll(/^\s*upstream\s+(\w+)\s*\{/gm)].map((m) => m[1]));
  const wrong = [];
  const paths = new Set();
  for (const { method, path: p, op } of specOperations(spec)) {
    paths.add(p);
    const svc = op['x-parley-service'];
    // A request's path: each {param} one segment, as a client sends it.
    const uri = p.replace(/\{[^}]+\}/g, '42');
    const loc = nginxLocate(locs, uri);
    const where = loc ? `location ${loc.mod} ${loc.uri} ${JSON.stringify(loc.to)}` : 'no location';
    let ok;
    if (svc === 'nginx') ok = loc && loc.to.alias === op['x-parley-handler'];
    else if (svc === 'gateway') ok = loc && loc.to.proxy === 'gateway';
    else ok = loc && loc.to.fastcgi === svc && upstreams.has(svc);
    if (!ok) wrong.push(`${method} ${p} (x-parley-service ${svc}): nginx sends ${uri} to ${where}`);
  }
  assert.ok(paths.size > 50, `only ${paths.size} paths`);
  assert.deepEqual(wrong, [], wrong.join('\n'));
  // And a path no operation has stays nginx's own 404.
  assert.deepEqual(nginxLocate(locs, '/api/v1/nosuch').to, { return: 404 });
});

// The README's "API overview" table: | `/a`, `/b` | service | what |.
function readmeResources() {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('## API overview');
  assert.ok(start >= 0, 'README has no "## API overview"');
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  const rows = new Map();
  for (const line of section.split('\n')) {
    const m = /^\|\s*([^|]*`\/[^|]*)\|\s*([\w ()]+?)\s*\|/.exec(line);
    if (!m) continue;
    for (const r of m[1].matchAll(/`(\/[^`]*)`/g)) {
      assert.ok(!rows.has(r[1]), `README lists ${r[1]} twice`);
      rows.set(r[1], m[2].replace(/\s*\(.*\)$/, ''));
    }
  }
  return rows;
}

test('README\'s resource table names each resource of the document and its service', () => {
  const spec = loadSpec();
  const inSpec = new Map();
  const wrong = [];
  for (const { path: p, op } of specOperations(spec)) {
    const m = /^\/api\/v1(\/[^/]+)/.exec(p);
    assert.ok(m, `${p} is not under /api/v1`);
    const svc = op['x-parley-service'];
    if (inSpec.has(m[1]) && inSpec.get(m[1]) !== svc)
      wrong.push(`${m[1]}: served by ${inSpec.get(m[1])} and ${svc}`);
    inSpec.set(m[1], svc);
  }
  const inReadme = readmeResources();
  for (const [res, svc] of inSpec)
    if (inReadme.get(res) !== svc)
      wrong.push(`${res} (${svc}): README says ${inReadme.get(res) || 'nothing'}`);
  for (const res of inReadme.keys())
    if (!inSpec.has(res)) wrong.push(`${res}: in README, not in docs/openapi.json`);
  assert.deepEqual(wrong, [], 'README "API overview" and docs/openapi.json disagree:\n' + wrong.join('\n'));
});

module.exports = { parseRouteTables, specOperations, nginxLocations, nginxLocate };
