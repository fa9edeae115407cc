// The operator console's API (services/admin, /api/v1/admin/): refused to
// everyone but admins exactly as a path no service has (status, headers
// and body); the role granted and revoked only by `scripts/parley admin`;
// who is online and by which transport; kick, suspend and restore; groups
// and members; deleting a message for everyone; service health; an audit
// row for every action, in the action's own transaction.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { api, request, register, befriend, stack, stackAsync, BASE, ROOT } = require('../lib.js');
const { sendText, history, head, poll, waitEvent, ofType } = require('../chat.js');
const { newSite, siteUser, login: siteLogin } = require('../sites.js');

const MISSING = 9007199254740991;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cookie = (u) => `parley_session=${u.token}`;

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

// The admin routes, read from docs/openapi.json, which the admin service's
// route table is generated from (a new route is covered without editing
// this file; tests/api/routes.test.js checks the generated table).
const ADMIN_ROUTES = Object.entries(JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8')).paths)
  .flatMap(([p, item]) => Object.entries(item)
    .filter(([, op]) => op && op['x-parley-service'] === 'admin')
    .map(([m]) => ({ method: m.toUpperCase(), path: p })));

function urlOf(route, id = MISSING) {
  return route.path.replace(/\{[^}]+\}/g, String(id));
}

async function login(u, password = u.password) {
  return api.post('/api/v1/auth/login', { json: { username: u.user.username, password } });
}

// One after the other: registrations share a small password-hashing
// pool with every other test file running beside this one.
async function inTurn(...makers) {
  const out = [];
  for (const make of makers) out.push(await make());
  return out;
}

// A user made admin through the command line, as an operator would.
async function newAdmin(prefix = 'adm') {
  const a = await register(prefix);
  stack('admin', 'grant', a.user.username);
  return a;
}

// Where an unknown path goes: nginx's own 404 for /api/.
function missingPath(route) {
  return '/api/v1/zz-' + crypto.randomBytes(4).toString('hex') + urlOf(route).slice('/api/v1/admin'.length);
}

// Headers a client sees, but the date.
function headerList(res) {
  return Object.entries(res.headers).filter(([k]) => k !== 'date').map(([k, v]) => `${k}: ${v}`).sort();
}

// `res` is answered exactly as `ref`, a request to a path no service has.
function assertAsMissing(res, ref, what) {
  const why = `${what}\n  got ${res.status} ${JSON.stringify(res.headers)} ${res.text}\n  ref ${ref.status} ${JSON.stringify(ref.headers)} ${ref.text}`;
  assert.equal(ref.status, 404, 'the reference is nginx\'s 404' + why);
  assert.equal(res.status, ref.status, why);
  assert.equal(res.text, ref.text, why);
  assert.deepEqual(headerList(res), headerList(ref), why);
}

// The same request to the admin route and to a missing path.
async function pair(method, route, opts, id) {
  const o = () => Object.assign({}, opts, { headers: Object.assign({}, opts.headers || {}) });
  const [res, ref] = await Promise.all([
    request(method, urlOf(route, id), o()),
    request(method, missingPath(route), o()),
  ]);
  return { res, ref };
}

// Audit rows about a target, oldest first.
function auditRows(type, id) {
  const out = psql(`SELECT coalesce(json_agg(json_build_object('admin_id', admin_id, 'actor', actor, 'action', action,
    'detail', detail) ORDER BY id), '[]') FROM admin_audit WHERE target_type = '${type}' AND target_id = ${Number(id)}`);
  return JSON.parse(out);
}

// --- refusals --------------------------------------------------------------

test('every admin route is refused to non-admins exactly as a path no service has', async (t) => {
  assert.ok(ADMIN_ROUTES.length >= 12, `admin routes found: ${ADMIN_ROUTES.map((r) => r.path).join(', ')}`);
  const [admin, plain, susp, gone] = await inTurn(() => newAdmin('adr'), () => register('adn'), () => newAdmin('ads'), () => newAdmin('adg'));
  // An admin suspended behind the service's back (no session revoked):
  // the session lookup itself refuses suspended users.
  psql(`UPDATE users SET suspended_at = now() WHERE id = ${susp.user.id}`);
  // A revoked session of an admin.
  assert.equal((await api.post('/api/v1/auth/logout', { token: gone.token })).status, 204);
  const st = (await api.post('/api/v1/auth/stream-token', { token: plain.token })).json.stream_token;
  assert.ok(st, 'a stream token');

  const creds = [
    ['no credentials', {}],
    ['a garbage bearer token', { headers: { Authorization: 'Bearer ' + crypto.randomBytes(32).toString('base64url') } }],
    ['a malformed bearer token', { headers: { Authorization: 'Bearer abc' } }],
    ['a normal user', { token: plain.token }],
    ['a normal user by cookie with CSRF', { headers: { Cookie: cookie(plain), 'X-CSRF-Token': plain.csrf } }],
    ['a normal user\'s stream token', { headers: { Authorization: 'Bearer ' + st } }],
    ['a normal user\'s token in access_token', { query: plain.token }],
    ['a suspended admin', { token: susp.token }],
    ['a revoked admin session', { token: gone.token }],
    ['an admin\'s cookie without X-CSRF-Token', { headers: { Cookie: cookie(admin) }, unsafeOnly: true }],
    ['an admin\'s cookie with a wrong X-CSRF-Token', { headers: { Cookie: cookie(admin), 'X-CSRF-Token': plain.csrf }, unsafeOnly: true }],
  ];
  let checks = 0;
  const fails = [];
  for (const route of ADMIN_ROUTES) {
    const body = route.method === 'POST' ? { json: { reason: 'matrix' } } : {};
    for (const [name, c] of creds) {
      const methods = c.unsafeOnly ? (route.method === 'GET' ? [] : [route.method]) : [route.method, 'PUT', 'PATCH', 'HEAD'];
      for (const m of methods) {
        const opts = Object.assign({}, m === 'POST' || m === 'PUT' ? body : {}, c.token ? { token: c.token } : {},
          c.headers ? { headers: c.headers } : {});
        const { res, ref } = await pair(m, route, opts, c.query ? MISSING : admin.user.id);
        if (c.query) {
          // The same, with the token in the URL.
          const q = `?access_token=${encodeURIComponent(c.query)}`;
          const [r2, f2] = await Promise.all([request(m, urlOf(route) + q, {}), request(m, missingPath(route) + q, {})]);
          try { assertAsMissing(r2, f2, `${m} ${route.path}?access_token: ${name}`); } catch (e) { fails.push(e.message); }
        }
        checks++;
        try { assertAsMissing(res, ref, `${m} ${route.path}: ${name}`); } catch (e) { fails.push(e.message); }
      }
    }
  }
  // Paths under /api/v1/admin/ that no route has, bad ids, bad encodings.
  for (const p of ['/api/v1/admin/', '/api/v1/admin/nope', '/api/v1/admin/users/1/zap', '/api/v1/admin/users/x/kick',
    '/api/v1/admin/groups/%ff', '/api/v1/admin/' + 'a'.repeat(1500)]) {
    const tail = p.slice('/api/v1/admin'.length);
    for (const opts of [{}, { token: plain.token }]) {
      const [res, ref] = await Promise.all([api.get(p, opts), api.get('/api/v1/zz-nothing' + tail, opts)]);
      checks++;
      try { assertAsMissing(res, ref, `GET ${p.slice(0, 60)}`); } catch (e) { fails.push(e.message); }
    }
  }
  t.diagnostic(`${checks} refusals compared with a missing path`);
  assert.deepEqual(fails, [], `${fails.length} of ${checks} differ:\n${fails.slice(0, 20).join('\n\n')}`);

  // The same credentials of the admin itself get in.
  assert.equal((await api.get('/api/v1/admin/online', { token: admin.token })).status, 200);
  assert.equal((await api.get('/api/v1/admin/online', { headers: { Cookie: cookie(admin) } })).status, 200, 'cookie GET');
  const k = await api.post(`/api/v1/admin/users/${MISSING}/kick`, { headers: { Cookie: cookie(admin), 'X-CSRF-Token': admin.csrf } });
  assert.equal(k.status, 404, k.text);
  assert.equal(k.json.error.code, 'user_not_found', 'cookie + CSRF POST reaches the route');
  // And an admin sees the service's own answers: 405, an unknown route.
  const bad = await request('PUT', '/api/v1/admin/online', { token: admin.token });
  assert.equal(bad.status, 405, bad.text);
  const none = await api.get('/api/v1/admin/nope', { token: admin.token });
  assert.equal(none.status, 404);
  assert.equal(none.json.error.message, 'No such endpoint: /api/v1/admin/nope.');
});

test('the admin role is granted and revoked only on the command line, and the services\' role cannot write it', async () => {
  const u = await register('adc');
  const probe = () => api.get('/api/v1/admin/online', { token: u.token });
  assert.equal((await probe()).status, 404);
  const out = spawnSync(path.join(ROOT, 'scripts/parley'), ['admin', 'grant', u.user.username.toUpperCase()], { encoding: 'utf8', env: process.env });
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stderr, /granted admin to/);
  assert.equal((await probe()).status, 200, 'granted');
  assert.match(stack('admin', 'grant', u.user.username), /^$/);	// says so on stderr, exit 0
  assert.match(stack('admin', 'list'), new RegExp(`\\b${u.user.username}\\b`));
  const nobody = spawnSync(path.join(ROOT, 'scripts/parley'), ['admin', 'grant', 'no_such_user_zz'], { encoding: 'utf8', env: process.env });
  assert.notEqual(nobody.status, 0);
  assert.match(nobody.stderr, /no user 'no_such_user_zz'/);
  const bad = spawnSync(path.join(ROOT, 'scripts/parley'), ['admin', 'grant', "x'; DROP TABLE users; --"], { encoding: 'utf8', env: process.env });
  assert.notEqual(bad.status, 0);
  stack('admin', 'revoke', u.user.username);
  assert.equal((await probe()).status, 404, 'revoked');
  const rows = auditRows('user', u.user.id);
  assert.deepEqual(rows.map((r) => r.action), ['admin.grant', 'admin.revoke']);
  for (const r of rows) {
    assert.equal(r.admin_id, null);
    assert.match(r.actor, /^cli:\S+$/);
  }

  // The services connect as this role; it reads admins, never writes them.
  const SOCK = path.join(process.env.PARLEY_VAR, 'pg', 'sock');
  const url = `postgresql://parley@/parley?host=${SOCK}`;
  const as = (sql) => spawnSync('psql', [url, '-XAtv', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
  assert.equal(as('SELECT count(*) >= 0 FROM admins').stdout.trim(), 't');
  for (const sql of [`INSERT INTO admins (user_id, granted_by) VALUES (${u.user.id}, 'x')`,
    'DELETE FROM admins', "UPDATE admins SET granted_by = 'x'", 'TRUNCATE admins',
    'UPDATE admin_audit SET actor = \'x\'', 'DELETE FROM admin_audit']) {
    const r = as(sql);
    assert.notEqual(r.status, 0, `the services' role ran: ${sql}`);
    assert.match(r.stderr, /permission denied/, sql);
  }
  assert.equal((await probe()).status, 404);
});

// --- who is online ------------------------------------------------------------

// A minimal WebSocket client for GET /api/v1/stream: the upgrade with the
// token in Sec-WebSocket-Protocol, one {"since"} frame; resolves
// { frames, closed: Promise<code> }.
function openSocket(token) {
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(BASE.port), BASE.hostname);
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const frames = [];
    let closeCode;
    const closed = new Promise((res) => {
      s.on('close', () => res(closeCode === undefined ? 1006 : closeCode));
    });
    s.on('error', reject);
    s.write(`GET /api/v1/stream HTTP/1.1\r\nHost: ${BASE.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: parley, token.${token}\r\n\r\n`);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headText = buf.slice(0, end).toString();
        if (!/^HTTP\/1\.1 101/.test(headText)) { reject(new Error('no upgrade: ' + headText)); s.destroy(); return; }
        upgraded = true;
        buf = buf.slice(end + 4);
        const payload = Buffer.from(JSON.stringify({ since: null }));
        const mask = crypto.randomBytes(4);
        const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
        s.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
        resolve({ frames, closed, end: () => s.destroy() });
      }
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const op = buf[0] & 0x0f;
        const data = buf.slice(off, off + len);
        buf = buf.slice(off + len);
        if (op === 0x8) closeCode = data.length >= 2 ? data.readUInt16BE(0) : 1005;
        else if (op === 0x1) frames.push(JSON.parse(data.toString()));
        else if (op === 0x9) {
          const mask = crypto.randomBytes(4);
          s.write(Buffer.concat([Buffer.from([0x8a, 0x80 | data.length]), mask, Buffer.from(data.map((b, i) => b ^ mask[i % 4]))]));
        }
      }
    });
  });
}

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function onlineEntry(admin, userId) {
  const r = await api.get('/api/v1/admin/online?limit=500', { token: admin.token });
  assert.equal(r.status, 200, r.text);
  assert.equal(typeof r.json.online, 'number');
  assert.equal(typeof r.json.window, 'number');
  return r.json.users.find((x) => x.id === userId);
}

test('the online list shows users with live sessions, their last poll and transport, and drops them when kicked', async (t) => {
  const [admin, p, w] = await inTurn(() => newAdmin('ado'), () => register('adp'), () => register('adw'));
  assert.equal(await onlineEntry(admin, p.user.id), undefined, 'not online before polling');
  // p long-polls; w holds a WebSocket.
  const since = await head(p);
  const parked = poll(p, { since, timeout: 20 });
  const sock = await openSocket(w.token);
  // A failed assertion must not leave the socket holding the file open.
  t.after(() => sock.end());
  const pe = await until('the polling user online', () => onlineEntry(admin, p.user.id));
  assert.equal(pe.username, p.user.username);
  assert.equal(pe.sessions.length, 1);
  const s = pe.sessions[0];
  assert.equal(s.id, p.session);
  assert.equal(s.transport, 'poll');
  for (const k of ['last_poll_at', 'last_seen_at', 'created_at']) assert.match(s[k], /^\d{4}-\d\d-\d\dT/, k);
  assert.equal(typeof s.user_agent, 'string');
  assert.equal(typeof s.ip, 'string');
  const we = await until('the WebSocket user online', () => onlineEntry(admin, w.user.id));
  assert.equal(we.sessions[0].transport, 'websocket');

  // A kick takes both off the list at once.
  const k = await api.post(`/api/v1/admin/users/${p.user.id}/kick`, { token: admin.token });
  assert.equal(k.status, 200, k.text);
  assert.equal((await parked).status, 401);
  assert.equal(await onlineEntry(admin, p.user.id), undefined, 'kicked: not online');
  const kw = await api.post(`/api/v1/admin/users/${w.user.id}/kick`, { token: admin.token });
  assert.equal(kw.status, 200, kw.text);
  const code = await Promise.race([sock.closed, sleep(5000).then(() => 'still open')]);
  assert.equal(code, 4401, 'the gateway closes a kicked user\'s socket with 4401');
  assert.equal(await onlineEntry(admin, w.user.id), undefined);
});

// --- kick, suspend, restore ------------------------------------------------------

test('kick ends every session of the user at once: a parked poll answers 401, the friends see them offline', async () => {
  const [admin, v, f] = await inTurn(() => newAdmin('adk'), () => register('adv'), () => register('adf'));
  await befriend(v, f);
  const second = (await login(v)).json;
  const fSince = await head(f);
  const since = await head(v);
  const t0 = Date.now();
  const parked = [poll(v, { since, timeout: 25 }), poll({ token: second.token }, { since, timeout: 25 })];
  await sleep(600);
  const k0 = Date.now();
  const k = await api.post(`/api/v1/admin/users/${v.user.id}/kick`, { token: admin.token, json: { reason: 'spam' } });
  assert.equal(k.status, 200, k.text);
  assert.equal(k.json.user.id, v.user.id);
  assert.equal(k.json.sessions_ended, 2);
  assert.equal(k.json.user.sessions, 0);
  assert.equal(k.json.user.online, false);
  for (const p of parked) {
    const r = await p;
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error.code, 'invalid_token');
  }
  const ms = Date.now() - k0;
  assert.ok(ms < 3000, `the parked polls answered ${ms} ms after the kick (parked for ${k0 - t0} ms)`);
  assert.equal((await api.get('/api/v1/auth/me', { token: v.token })).status, 401);
  // The friend is told at once, not after the online window.
  const off = await waitEvent(f, fSince, ofType('presence', (d) => d.user_id === v.user.id && d.online === false), 4000);
  assert.ok(off.event);
  // A kicked user may log in again (a kick is not a suspension).
  assert.equal((await login(v)).status, 200);
  const rows = auditRows('user', v.user.id);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].action, 'user.kick');
  assert.equal(rows[0].admin_id, admin.user.id);
  assert.equal(rows[0].actor, admin.user.username);
  assert.deepEqual(rows[0].detail, { reason: 'spam', sessions: 2 });
  // A refused action writes nothing.
  const none = await api.post(`/api/v1/admin/users/${MISSING}/kick`, { token: admin.token });
  assert.equal(none.status, 404);
  assert.equal(none.json.error.code, 'user_not_found');
  assert.deepEqual(auditRows('user', MISSING), []);
  const badReason = await api.post(`/api/v1/admin/users/${v.user.id}/kick`, { token: admin.token, json: { reason: 'x'.repeat(501) } });
  assert.equal(badReason.status, 400, badReason.text);
  assert.equal(auditRows('user', v.user.id).length, 1, 'a refused kick is not logged');
});

test('a suspended user cannot log in (by password or ticket) and loses every session; their messages stay; restore lets them in', async () => {
  const [admin, s, f] = await inTurn(() => newAdmin('adx'), () => register('ads'), () => register('adt'));
  await befriend(s, f);
  const m = await sendText(s, f, 'a message that stays');
  const since = await head(s);
  const parked = poll(s, { since, timeout: 25 });
  await sleep(400);
  const r = await api.post(`/api/v1/admin/users/${s.user.id}/suspend`, { token: admin.token, json: { reason: 'abuse' } });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.user.suspended_at, /^\d{4}-/);
  assert.equal(r.json.sessions_ended, 1);
  assert.equal((await parked).status, 401);
  assert.equal((await api.get('/api/v1/auth/me', { token: s.token })).status, 401);
  const refused = await login(s);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json.error.code, 'account_suspended');
  assert.ok(!refused.headers['set-cookie'], 'no cookie for a refused login');
  // A wrong password says nothing about the account.
  const wrong = await login(s, 'not the password');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.error.code, 'invalid_credentials');
  assert.equal(psql(`SELECT count(*) FROM sessions WHERE user_id = ${s.user.id} AND revoked_at IS NULL`), '0');
  // Their message is still there for the friend.
  const h = await history(f, m.conversation_id);
  const kept = h.messages.find((x) => x.id === m.id);
  assert.equal(kept.body.text, 'a message that stays');
  assert.equal(kept.recalled, false);
  // Again: nothing changes, and it is logged as such.
  const again = await api.post(`/api/v1/admin/users/${s.user.id}/suspend`, { token: admin.token });
  assert.equal(again.status, 200);
  // An admin cannot suspend themselves.
  const self = await api.post(`/api/v1/admin/users/${admin.user.id}/suspend`, { token: admin.token });
  assert.equal(self.status, 409, self.text);
  assert.equal(self.json.error.code, 'cannot_suspend_self');
  // The list of suspended users has them.
  const list = await api.get(`/api/v1/admin/users?q=${s.user.username}&suspended=1`, { token: admin.token });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.users.map((u) => u.id), [s.user.id]);

  // Suspended behind the services' back (no session revoked): every
  // session lookup refuses the user anyway.
  const other = await register('adso');
  const ost = (await api.post('/api/v1/auth/stream-token', { token: other.token })).json.stream_token;
  psql(`UPDATE users SET suspended_at = now() WHERE id = ${other.user.id}`);
  assert.equal((await api.get('/api/v1/auth/me', { token: other.token })).status, 401);
  assert.equal((await poll(other, { timeout: 0 })).status, 401);
  assert.equal((await api.get(`/api/v1/events?timeout=0&access_token=${ost}`)).status, 401, 'their stream token');

  const back = await api.post(`/api/v1/admin/users/${s.user.id}/restore`, { token: admin.token, json: { reason: 'appeal' } });
  assert.equal(back.status, 200, back.text);
  assert.equal(back.json.user.suspended_at, null);
  const ok = await login(s);
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await api.get('/api/v1/auth/me', { token: ok.json.token })).status, 200);
  const rows = auditRows('user', s.user.id);
  assert.deepEqual(rows.map((x) => [x.action, x.detail]), [
    ['user.suspend', { reason: 'abuse', changed: true, sessions: 1 }],
    ['user.suspend', { changed: false, sessions: 0 }],
    ['user.restore', { reason: 'appeal', changed: true }],
  ]);
  assert.deepEqual(auditRows('user', admin.user.id).map((x) => x.action), ['admin.grant'], 'the refused self-suspension is not logged');
});

test('a suspended site user cannot trade a login ticket; the ticket stays unused', async () => {
  const admin = await newAdmin('adq');
  const site = newSite('adq');
  const u = await siteUser(site, 'adqu');
  const r = await api.post(`/api/v1/admin/users/${u.user.id}/suspend`, { token: admin.token });
  assert.equal(r.status, 200, r.text);
  const t = await site.req('POST', `/api/v1/server/users/${encodeURIComponent(u.ext)}/login-tickets`);
  assert.equal(t.status, 201, t.text);
  const s = await api.post('/api/v1/auth/ticket', { json: { ticket: t.json.ticket } });
  assert.equal(s.status, 403, s.text);
  assert.equal(s.json.error.code, 'account_suspended');
  assert.equal((await api.post(`/api/v1/admin/users/${u.user.id}/restore`, { token: admin.token })).status, 200);
  // Rolled back: the same ticket works now.
  const again = await api.post('/api/v1/auth/ticket', { json: { ticket: t.json.ticket } });
  assert.equal(again.status, 200, again.text);
  await siteLogin(site, u);
});

test('a login while a suspension is committing makes no session', async () => {
  const u = await register('adzr');
  // What admin_suspend() does, held open for 5 s: the users row, then the
  // sessions. A login in that time must wait for it and then see the
  // suspension; before the fix it made a session the suspension had
  // already missed.
  const mark = 'adzr-' + crypto.randomBytes(6).toString('hex');
  const suspending = stackAsync('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c',
    `BEGIN; UPDATE users SET suspended_at = now() WHERE id = ${u.user.id};
     UPDATE sessions SET revoked_at = now() WHERE user_id = ${u.user.id} AND revoked_at IS NULL;
     SELECT pg_sleep(5), '${mark}'; COMMIT;`);
  // Log in only once that transaction sleeps, its rows changed.
  await until('the suspension to hold its rows', () => psql(`SELECT count(*) FROM pg_stat_activity
    WHERE query LIKE '%${mark}%' AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()`) === '1', 15000);
  const t0 = Date.now();
  const r = await login(u);
  await suspending;
  assert.equal(r.status, 403, `${r.status} ${r.text} after ${Date.now() - t0} ms`);
  assert.equal(r.json.error.code, 'account_suspended');
  assert.equal(psql(`SELECT count(*) FROM sessions WHERE user_id = ${u.user.id} AND revoked_at IS NULL`), '0',
    'a session made while the suspension ran survived it');
});

// --- groups and messages -------------------------------------------------------------

async function group(owner, name, members) {
  const r = await api.post('/api/v1/groups', { token: owner.token, json: { name, members: members.map((m) => m.user.id) } });
  assert.equal(r.status, 201, r.text);
  return r.json.group.id;
}

test('groups: search by name, view, remove a member (members get group.member_removed), delete a group', async () => {
  const [admin, o, a, b] = await inTurn(() => newAdmin('adgr'), () => register('ado'), () => register('ada'), () => register('adb'));
  await Promise.all([befriend(o, a), befriend(o, b)]);
  const tag = crypto.randomBytes(4).toString('hex');
  const g = await group(o, `Knitting ${tag} Club`, [a, b]);
  await sendText(o, a, 'direct, unrelated');
  const found = await api.get(`/api/v1/admin/groups?q=${encodeURIComponent(tag.toUpperCase() + ' cl')}`, { token: admin.token });
  assert.equal(found.status, 200, found.text);
  assert.deepEqual(found.json.groups.map((x) => x.id), [g]);
  const row = found.json.groups[0];
  assert.equal(row.members, 3);
  assert.equal(row.owner.id, o.user.id);
  assert.equal(row.name, `Knitting ${tag} Club`);
  const byId = await api.get(`/api/v1/admin/groups?q=${g}`, { token: admin.token });
  assert.ok(byId.json.groups.some((x) => x.id === g), 'found by id');
  const page = await api.get(`/api/v1/admin/groups?limit=2&before=${g + 1}`, { token: admin.token });
  assert.equal(page.json.groups[0].id, g);
  assert.ok(page.json.groups.length <= 2);
  const view = await api.get(`/api/v1/admin/groups/${g}`, { token: admin.token });
  assert.equal(view.status, 200, view.text);
  assert.deepEqual(view.json.group.members.map((m) => m.id).sort(), [o.user.id, a.user.id, b.user.id].sort());
  assert.equal(view.json.group.messages, 0);
  assert.equal((await api.get(`/api/v1/admin/groups/${MISSING}`, { token: admin.token })).json.error.code, 'group_not_found');

  // Remove the owner: b and a are told, the group gets a new owner.
  const [so, sa, sb] = await Promise.all([head(o), head(a), head(b)]);
  const rm = await api.del(`/api/v1/admin/groups/${g}/members/${o.user.id}`, { token: admin.token });
  assert.equal(rm.status, 204, rm.text);
  for (const [u, s] of [[o, so], [a, sa], [b, sb]]) {
    const e = await waitEvent(u, s, ofType('group.member_removed', (d) => d.group_id === g), 5000);
    assert.equal(e.event.data.user_id, o.user.id);
    assert.equal(e.event.data.by, null, 'an operator did it');
    assert.ok([a.user.id, b.user.id].includes(e.event.data.new_owner));
  }
  assert.equal((await api.get(`/api/v1/groups/${g}`, { token: o.token })).status, 404, 'the removed owner lost the group');
  const again = await api.del(`/api/v1/admin/groups/${g}/members/${o.user.id}`, { token: admin.token });
  assert.equal(again.status, 404);
  assert.equal(again.json.error.code, 'not_member');

  // Delete it: each remaining member gets its own removal, deleted: true.
  const [sa2, sb2] = await Promise.all([head(a), head(b)]);
  const del = await api.del(`/api/v1/admin/groups/${g}`, { token: admin.token });
  assert.equal(del.status, 204, del.text);
  for (const [u, s] of [[a, sa2], [b, sb2]]) {
    const e = await waitEvent(u, s, ofType('group.member_removed', (d) => d.group_id === g), 5000);
    assert.deepEqual(e.event.data, { group_id: g, user_id: u.user.id, by: null, new_owner: null, deleted: true });
    assert.equal((await api.get(`/api/v1/groups/${g}`, { token: u.token })).status, 404);
    const convs = (await api.get('/api/v1/conversations', { token: u.token })).json.conversations;
    assert.ok(!convs.some((c) => c.id === g), 'the conversation is gone');
  }
  assert.equal((await api.del(`/api/v1/admin/groups/${g}`, { token: admin.token })).status, 404);
  assert.equal((await api.get(`/api/v1/admin/groups/${g}`, { token: admin.token })).status, 404);
  const rows = auditRows('group', g);
  assert.deepEqual(rows.map((x) => x.action), ['group.remove_member', 'group.delete']);
  assert.deepEqual(rows[0].detail, { user_id: o.user.id });
  assert.equal(rows[1].detail.name, `Knitting ${tag} Club`);
  assert.deepEqual(rows[1].detail.members.sort(), [a.user.id, b.user.id].sort());
  for (const x of rows) assert.equal(x.admin_id, admin.user.id);
});

test('a message deleted for everyone: members get message.recalled, the body is gone from replies and from the database', async () => {
  const [admin, a, b] = await inTurn(() => newAdmin('adm'), () => register('adma'), () => register('admb'));
  await befriend(a, b);
  const [sa, sb] = await Promise.all([head(a), head(b)]);
  const m = await sendText(a, b, 'something awful');
  const del = await api.del(`/api/v1/admin/messages/${m.id}`, { token: admin.token });
  assert.equal(del.status, 204, del.text);
  for (const [u, s] of [[a, sa], [b, sb]]) {
    const e = await waitEvent(u, s, ofType('message.recalled', (d) => d.message_id === m.id), 5000);
    assert.deepEqual(e.event.data, { message_id: m.id, conversation_id: m.conversation_id, seq: m.seq, by_operator: true });
    const got = (await history(u, m.conversation_id)).messages.find((x) => x.id === m.id);
    assert.equal(got.recalled, true);
    assert.equal(got.body, null);
  }
  assert.equal(psql(`SELECT body::text FROM messages WHERE id = ${m.id}`), '{}');
  // Even the event the message arrived with no longer matters: replies
  // carry no body, and the audit row keeps no content.
  const rows = auditRows('message', m.id);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].action, 'message.delete');
  assert.deepEqual(Object.keys(rows[0].detail).sort(), ['conversation_id', 'created_at', 'from', 'recalled_before', 'seq', 'type']);
  assert.equal(rows[0].detail.from, a.user.id);
  assert.ok(!JSON.stringify(rows[0]).includes('awful'));
  const missing = await api.del(`/api/v1/admin/messages/${MISSING}`, { token: admin.token });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, 'message_not_found');
});

// --- health and the log ------------------------------------------------------------

test('health: every process of the stack is up, checked through its socket or its supervisor; queue depths', async () => {
  const admin = await newAdmin('adh');
  const r = await api.get('/api/v1/admin/health', { token: admin.token });
  assert.equal(r.status, 200, r.text);
  const byName = Object.fromEntries(r.json.processes.map((p) => [p.name, p]));
  for (const name of ['accounts', 'friends', 'messages', 'poll', 'calls', 'sites', 'gateway', 'admin']) {
    const p = byName[name];
    assert.ok(p, `${name} is reported: ${r.text}`);
    assert.equal(p.up, true, `${name}: ${JSON.stringify(p)}`);
    assert.equal(p.checked_by, 'socket');
    assert.equal(p.socket, 'up');
    assert.equal(p.supervisor.state, 'running');
    assert.equal(typeof p.supervisor.restarts, 'number');
    assert.ok(p.supervisor.pid > 0);
  }
  assert.equal(byName.webhooks.checked_by, 'process', 'the dispatcher has no socket');
  assert.equal(byName.webhooks.up, true);
  assert.ok(byName.webhooks.db_connections >= 1);
  assert.ok(byName.admin.db_connections >= 1);
  assert.equal(r.json.status, 'ok');
  assert.equal(r.json.database.up, true);
  assert.ok(r.json.database.connections > 0);
  for (const k of ['pending', 'due', 'oldest_pending_s', 'failed_24h']) assert.equal(typeof r.json.webhooks[k], 'number', k);
  for (const k of ['users', 'sessions', 'window']) assert.equal(typeof r.json.online[k], 'number', k);
});

test('the audit log lists actions newest first, filtered by target', async () => {
  const [admin, u] = await inTurn(() => newAdmin('ada'), () => register('adl'));
  for (const p of ['kick', 'suspend', 'restore'])
    assert.equal((await api.post(`/api/v1/admin/users/${u.user.id}/${p}`, { token: admin.token })).status, 200);
  const r = await api.get(`/api/v1/admin/audit?target_type=user&target_id=${u.user.id}`, { token: admin.token });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.entries.map((e) => e.action), ['user.restore', 'user.suspend', 'user.kick']);
  for (const e of r.json.entries) {
    assert.equal(e.admin_id, admin.user.id);
    assert.equal(e.actor, admin.user.username);
    assert.equal(e.target_id, u.user.id);
    assert.match(e.at, /^\d{4}-/);
  }
  const older = await api.get(`/api/v1/admin/audit?target_type=user&target_id=${u.user.id}&before=${r.json.entries[0].id}&limit=1`, { token: admin.token });
  assert.deepEqual(older.json.entries.map((e) => e.action), ['user.suspend']);
  const bad = await api.get('/api/v1/admin/audit?target_type=session', { token: admin.token });
  assert.equal(bad.status, 400);
});
