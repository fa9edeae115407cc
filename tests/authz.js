// The machinery of the authorization matrix (tests/api/authz_*.test.js):
// the operations docs/openapi.json describes and the check that the
// table (tests/authz_tables.js) matches them, requests built from a row,
// checks run in batches and reported, the documented refusal, the
// fixtures (users, sites and their things that others probe) and the
// comparison of an answer with its reference.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, request, register, befriend, stack, ROOT } = require('./lib.js');
const { head } = require('./chat.js');
const { newSite, signed, siteUser, login: siteLogin } = require('./sites.js');
const up = require('./uploads.js');
const { ROWS, MISSING, text } = require('./authz_tables.js');

const SPEC_FILE = path.join(ROOT, 'docs', 'openapi.json');
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const BATCH = 16;

// --- the description ------------------------------------------------------

const SPEC = JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8'));

// [{ key, method, path, op, schemes: [security scheme names], public }]
function specOperations(spec) {
  const ops = [];
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of HTTP_METHODS) {
      if (!item[m]) continue;
      const op = item[m];
      const sec = op.security !== undefined ? op.security : spec.security || [];
      ops.push({
        key: `${m.toUpperCase()} ${p}`, method: m.toUpperCase(), path: p, op,
        schemes: sec.flatMap((req) => Object.keys(req)), public: sec.length === 0 ||
          sec.some((req) => Object.keys(req).length === 0),
      });
    }
  }
  return ops;
}

const OPS = specOperations(SPEC);
const pathParams = (p) => [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);

// What the table must satisfy against the description; [] when it does.
function tableProblems(ops, rows) {
  const out = [];
  const keys = new Set(ops.map((o) => o.key));
  for (const o of ops) if (!rows[o.key]) out.push(`${o.key}: operation of docs/openapi.json has no row in the matrix`);
  for (const k of Object.keys(rows)) if (!keys.has(k)) out.push(`${k}: row names an operation docs/openapi.json lacks`);
  for (const o of ops) {
    const row = rows[o.key];
    if (!row) continue;
    const desc = o.op.description || '';
    const resp = o.op.responses || {};
    const want = o.public ? 'public' : o.schemes.includes('siteSignature') ? 'site'
      : o.schemes.includes('accessTokenQuery') ? 'stream' : o.op['x-parley-admin'] === true ? 'admin' : 'user';
    if (row.auth !== want) out.push(`${o.key}: row says ${row.auth}, the description's security says ${want}`);
    if ((want === 'site') !== o.path.startsWith('/api/v1/server/'))
      out.push(`${o.key}: site signing and /api/v1/server/ must go together`);
    if (want === 'user' || want === 'stream') {
      if (!resp['401'] || resp['401'].$ref !== '#/components/responses/Unauthorized')
        out.push(`${o.key}: 401 is not the documented Unauthorized response`);
      if ((o.method !== 'GET' || want === 'stream') && !(resp['403'] && /csrf_failed/.test(desc + JSON.stringify(resp['403']))))
        out.push(`${o.key}: 403 csrf_failed is not documented`);
    }
    if (want === 'site' && (!resp['401'] || resp['401'].$ref !== '#/components/responses/SiteUnauthorized'))
      out.push(`${o.key}: 401 is not the documented SiteUnauthorized response`);
    if (want === 'admin' && (!resp['404'] || resp['404'].$ref !== '#/components/responses/AdminNotFound'))
      out.push(`${o.key}: 404 is not the documented AdminNotFound response`);
    if ((want === 'admin') !== o.path.startsWith('/api/v1/admin/'))
      out.push(`${o.key}: admin only and /api/v1/admin/ must go together`);
    const probes = row.probes || [];
    // An admin may name anyone's ids: there is no other user's id to try.
    if (want !== 'admin') for (const p of pathParams(o.path))
      if (!probes.some((pr) => pr.param === p)) out.push(`${o.key}: no probe with another user's {${p}}`);
    for (const pr of probes.concat(row.refusals || [])) {
      const [status, code] = pr.want;
      if (!resp[String(status)]) out.push(`${o.key}: ${pr.what}: status ${status} is not documented`);
      if (code && !desc.includes('`' + code + '`')) out.push(`${o.key}: ${pr.what}: code ${code} is not in the description`);
      if (pr.param && !pathParams(o.path).includes(pr.param)) out.push(`${o.key}: ${pr.what}: no {${pr.param}} in the path`);
    }
  }
  return out;
}

// --- requests ---------------------------------------------------------------

function urlFor(p, params, query) {
  const u = p.replace(/\{([^}]+)\}/g, (_, name) => {
    if (params[name] === undefined) throw new Error(`no value for {${name}} in ${p}`);
    return encodeURIComponent(String(params[name]));
  });
  const qs = new URLSearchParams(query || {}).toString();
  return qs ? `${u}${u.includes('?') ? '&' : '?'}${qs}` : u;
}

// A request as `spec` says: { method, path, params, query, body, token,
// headers, site (signs it), signOpts }.
function send(spec) {
  const url = urlFor(spec.path, spec.params || {}, spec.query);
  if (spec.site) return signed(spec.site, spec.method, url, spec.body, spec.signOpts || {});
  const opts = { headers: Object.assign({}, spec.headers || {}) };
  if (spec.token) opts.token = spec.token;
  if (spec.body !== undefined) opts.json = spec.body;
  return request(spec.method, url, opts);
}

async function inBatches(items, fn) {
  const out = [];
  for (let i = 0; i < items.length; i += BATCH)
    out.push(...await Promise.all(items.slice(i, i + BATCH).map(fn)));
  return out;
}

// Runs checks ({what, run}) in batches; resolves the failures' messages.
async function runChecks(checks) {
  const fails = [];
  await inBatches(checks, async (c) => {
    try { await c.run(); } catch (e) { fails.push(`${c.what}: ${e.message}`); }
  });
  return fails;
}

// Checks run, by kind, for the summary.
const TALLY = {};

function report(t, name, checks, fails) {
  TALLY[name] = checks.length;
  t.diagnostic(`${name}: ${checks.length} checks, ${fails.length} failed`);
  assert.deepEqual(fails, [], `${fails.length} of ${checks.length} checks failed:\n` + fails.slice(0, 60).join('\n\n'));
}

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

// A JSONP reply (callback `cb`) as the object the callback gets.
function unwrap(res) {
  const m = /^\/\*\*\/cb\(([\s\S]*)\);$/.exec(res.text);
  if (!m) throw new Error(`not a JSONP reply to cb: ${res.status} ${res.text}`);
  return JSON.parse(m[1]);
}

// The documented refusal: status, code, a JSON error body; for JSONP the
// wrapped error with the real status inside.
function assertRefusal(res, status, code, { jsonp = false, authenticate } = {}) {
  const got = `${res.status} ${res.headers['content-type']} ${res.text}`;
  let err;
  if (jsonp) {
    assert.equal(res.status, 200, `JSONP replies are 200: ${got}`);
    assert.match(res.headers['content-type'] || '', /^application\/javascript/, got);
    const v = unwrap(res);
    assert.equal(v.status, status, got);
    err = v.error;
  } else {
    assert.equal(res.status, status, `want ${status} ${code}, got ${got}`);
    assert.match(res.headers['content-type'] || '', /^application\/json/, got);
    assert.ok(res.json && res.json.error, `a JSON error body: ${got}`);
    err = res.json.error;
  }
  assert.ok(err && typeof err.message === 'string' && err.message.length > 0, `error with a message: ${got}`);
  assert.equal(err.code, code, `want ${status} ${code}, got ${got}`);
  if (authenticate) assert.match(res.headers['www-authenticate'] || '', authenticate, `WWW-Authenticate: ${got}`);
}

// --- fixtures -----------------------------------------------------------------

// A 503 busy is retried after its Retry-After, as register() does: the
// four authz_* files each make their fixtures, and their logins meet the
// other files' in the password-hashing pool's queue.
async function login(u) {
  let r;
  for (let i = 0; ; i++) {
    r = await api.post('/api/v1/auth/login', { json: { username: u.user.username, password: u.password } });
    if (r.status !== 503 || !r.json || !r.json.error || r.json.error.code !== 'busy' || i === 5) break;
    await new Promise((res) => setTimeout(res, 1000 * Number(r.headers['retry-after'] || 1)));
  }
  assert.equal(r.status, 200, r.text);
  return { token: r.json.token, csrf: r.json.csrf_token, session: r.json.session_id };
}

async function streamToken(token) {
  const r = await api.post('/api/v1/auth/stream-token', { token });
  assert.equal(r.status, 201, r.text);
  return r.json.stream_token;
}

async function ok(res, status, what) {
  const r = await res;
  assert.equal(r.status, status, `${what}: ${r.text}`);
  return r.json;
}

let fixtures;
function fx() {
  if (!fixtures) fixtures = makeFixtures();
  return fixtures;
}

// A: owns the things others probe; B: A's friend; C: has A's pending
// request; S: the stranger who probes; K blocked Bd (they were friends);
// N: a plain non-friend of Bd; F: Bd's friend; L: A's friend who left A's
// group. Sites A and B with users.
async function makeFixtures() {
  const names = ['A', 'B', 'C', 'S', 'K', 'Bd', 'N', 'F', 'L'];
  const users = await Promise.all(names.map((n) => register('mx' + n.toLowerCase())));
  const f = Object.fromEntries(names.map((n, i) => [n, users[i]]));
  await Promise.all([befriend(f.A, f.B), befriend(f.A, f.L), befriend(f.K, f.Bd), befriend(f.Bd, f.F)]);
  await ok(api.post('/api/v1/blocks', { token: f.K.token, json: { user_id: f.Bd.user.id } }), 201, 'block');

  const m = (await ok(api.post('/api/v1/messages', { token: f.A.token, json: Object.assign({ to: f.B.user.id }, text('hi B')) }), 201, 'message')).message;
  f.msg = m.id;
  f.conv = m.conversation_id;
  const groups = await Promise.all([
    api.post('/api/v1/groups', { token: f.A.token, json: { name: 'A group', members: [f.B.user.id, f.L.user.id] } }),
    api.post('/api/v1/groups', { token: f.S.token, json: { name: 'S alone', members: [] } }),
    api.post('/api/v1/groups', { token: f.Bd.token, json: { name: 'Bd group', members: [f.F.user.id] } }),
  ]);
  for (const g of groups) assert.equal(g.status, 201, g.text);
  [f.group, f.sGroup, f.bdGroup] = groups.map((g) => g.json.group.id);
  // L wrote to A's group, then left it.
  f.lMsg = (await ok(api.post('/api/v1/messages', { token: f.L.token, json: Object.assign({ group_id: f.group }, text('bye')) }), 201, 'group message')).message.id;
  assert.equal((await api.post(`/api/v1/groups/${f.group}/leave`, { token: f.L.token })).status, 204);
  // A's uploads: one never sent, two sent to A's group after L left it.
  const img = (seed) => up.upload(up.png(16, 16, { seed }), { token: f.A.token, type: 'image/png' });
  f.upload = (await ok(img(1), 201, 'upload')).upload.id;
  f.groupUpload = (await ok(img(2), 201, 'upload')).upload.id;
  await ok(api.post('/api/v1/messages', { token: f.A.token, json: { group_id: f.group, type: 'image', body: { upload_id: f.groupUpload } } }), 201, 'group upload');
  f.sentUpload = (await ok(img(3), 201, 'upload')).upload.id;
  await ok(api.post('/api/v1/messages', { token: f.A.token, json: { group_id: f.group, type: 'file', body: { upload_id: f.sentUpload } } }), 201, 'sent upload');
  f.req = (await ok(api.post('/api/v1/friends/requests', { token: f.A.token, json: { user_id: f.C.user.id } }), 201, 'request')).request.id;
  f.room = (await ok(api.post('/api/v1/rooms', { token: f.A.token, json: { invite: [f.B.user.id] } }), 201, 'room')).room.id;
  await head(f.B);
  f.call = (await ok(api.post('/api/v1/calls', { token: f.A.token, json: { to: f.B.user.id } }), 201, 'call')).call.id;

  // A's other sessions: one revoked, one expired, one whose stream token
  // expired; each worked before.
  const [rev, exp, stx] = await Promise.all([login(f.A), login(f.A), login(f.A)]);
  for (const s of [rev, exp, stx]) await ok(api.get('/api/v1/auth/me', { token: s.token }), 200, 'fresh session');
  f.st = await streamToken(f.A.token);
  rev.st = await streamToken(rev.token);
  exp.st = await streamToken(exp.token);
  stx.st = await streamToken(stx.token);
  for (const st of [f.st, rev.st, exp.st, stx.st])
    await ok(api.get(`/api/v1/events?timeout=0&access_token=${st}`), 200, 'fresh stream token');
  assert.equal((await api.del(`/api/v1/auth/sessions/${rev.session}`, { token: f.A.token })).status, 204);
  psql(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ${Number(exp.session)}`);
  psql(`UPDATE stream_tokens SET expires_at = now() - interval '1 second' WHERE session_id = ${Number(stx.session)}`);
  Object.assign(f, { rev, exp, stx });

  // Sites: A with users a1, a2; B with b1, b2 and a group of b1's.
  f.siteA = newSite('mxa');
  f.siteB = newSite('mxb');
  [f.a1, f.a2, f.b1, f.b2] = await Promise.all([siteUser(f.siteA, 'mxa1'), siteUser(f.siteA, 'mxa2'),
    siteUser(f.siteB, 'mxb1'), siteUser(f.siteB, 'mxb2')]);
  await ok(f.siteB.req('POST', '/api/v1/server/friendships', { a: f.b1.ext, b: f.b2.ext }), 201, 'site friendship');
  await siteLogin(f.siteB, f.b1);
  f.bGroup = (await ok(api.post('/api/v1/groups', { token: f.b1.token, json: { name: 'B site group', members: [f.b2.user.id] } }), 201, 'site group')).group.id;
  return f;
}

const asker = (f, who) => f[who];

// Nothing the refused requests aimed at changed: A is signed in, its
// message, group, friendship and request are as they were.
async function assertUntouched(f) {
  const t = { token: f.A.token };
  const me = await ok(api.get('/api/v1/auth/me', t), 200, 'A still signed in');
  assert.equal(me.user.id, f.A.user.id);
  const sessions = await ok(api.get('/api/v1/auth/sessions', t), 200, "A's sessions");
  assert.ok(sessions.sessions.some((x) => x.id === f.A.session), "A's session is live");
  const hist = await ok(api.get(`/api/v1/conversations/${f.conv}/messages`, t), 200, "A's conversation");
  // (The call's record, type call, joins the conversation when it ends.)
  const texts = hist.messages.filter((m) => m.type !== 'call');
  assert.deepEqual(texts.map((m) => [m.id, m.recalled]), [[f.msg, false]], JSON.stringify(hist.messages));
  const g = await ok(api.get(`/api/v1/groups/${f.group}`, t), 200, "A's group");
  assert.equal(g.group.name, 'A group');
  assert.deepEqual(g.group.members.map((x) => x.id).sort(), [f.A.user.id, f.B.user.id].sort());
  assert.ok(g.group.members.some((x) => x.id === f.A.user.id && x.role === 'owner'), JSON.stringify(g.group));
  assert.ok(g.group.members.some((x) => x.id === f.B.user.id && x.role === 'member'), JSON.stringify(g.group));
  const friends = await ok(api.get('/api/v1/friends', t), 200, "A's friends");
  assert.ok(friends.friends.some((x) => x.id === f.B.user.id), 'A and B are friends');
  assert.deepEqual((await ok(api.get('/api/v1/blocks', t), 200, "A's blocks")).blocks, []);
  const reqs = await ok(api.get('/api/v1/friends/requests', { token: f.C.token }), 200, "C's requests");
  assert.ok(reqs.incoming.some((r) => r.id === f.req), "A's request is still pending");
}

function userRequest(row, key, f) {
  const [method, p] = key.split(' ');
  return { method, path: p, params: row.params ? row.params(f) : {}, query: row.query ? row.query(f) : {}, body: row.body ? row.body(f) : undefined };
}

// --- another user's ids ---------------------------------------------------------

// Headers a client sees, but the date (and the length when the masked ids
// differ in length).
function headerList(res, skipLength) {
  return Object.entries(res.headers)
    .filter(([k]) => k !== 'date' && !(skipLength && k === 'content-length'))
    .map(([k, v]) => `${k}: ${v}`).sort();
}

function mask(s, id) {
  const esc = String(id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return s.replace(new RegExp(`(?<![A-Za-z0-9_-])${esc}(?![A-Za-z0-9_-])`, 'g'), '<id>');
}

// Every leaf replaced by its type: the shape of a reply.
function shape(v) {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape(v[k])]));
  return v === null ? null : typeof v;
}

// `got` (the other user's id) answers as `ref` (the missing id, or the
// plain non-friend).
function assertSame(got, ref, ids, compare, f) {
  const why = `\n  got ${got.status} ${got.text}\n  ref ${ref.status} ${ref.text}`;
  assert.equal(got.status, ref.status, why);
  if (compare === 'shape') {
    assert.deepEqual(shape(got.json), shape(ref.json), why);
    if (got.json && got.json.request) assert.equal(got.json.request.state, ref.json.request.state, why);
    assert.deepEqual(Object.keys(got.headers).sort(), Object.keys(ref.headers).sort(), why);
    return;
  }
  if (compare === 'newUser') {
    assert.deepEqual(shape(got.json), shape(ref.json), why);
    assert.notEqual(got.json.user.id, f.b2.user.id, 'site A must not reach site B\'s user' + why);
    return;
  }
  let g = mask(got.text, ids[0]);
  let r = mask(ref.text, ids[1]);
  if (compare === 'users') {
    const [gu, ru] = [got.json.users[0], ref.json.users[0]];
    assert.ok(gu && ru, 'both are found' + why);
    g = mask(mask(g, gu.id), gu.username);
    r = mask(mask(r, ru.id), ru.username);
  }
  assert.equal(g, r, why);
  assert.deepEqual(headerList(got, g.length !== got.text.length || r.length !== ref.text.length), headerList(ref, g.length !== got.text.length || r.length !== ref.text.length), why);
}

function probeRequest(row, key, f, pr, id) {
  const [method, p] = key.split(' ');
  const params = Object.assign({}, row.params ? row.params(f) : {}, pr.params ? pr.params(f) : {});
  if (pr.param) params[pr.param] = id;
  const query = pr.query ? pr.query(f, id) : row.query ? row.query(f) : {};
  const body = pr.body ? pr.body(f, id) : row.body ? row.body(f) : undefined;
  const spec = { method, path: p, params, query, body };
  if (pr.as.startsWith('site')) spec.site = f[pr.as];
  else spec.token = asker(f, pr.as).token;
  return spec;
}

async function online(f, ...who) {
  await Promise.all(who.map((w) => head(f[w])));
}

module.exports = {
  OPS, tableProblems, urlFor, send, runChecks, TALLY, report, unwrap,
  assertRefusal, ok, fx, assertUntouched, userRequest, headerList,
  assertSame, probeRequest, online,
};
