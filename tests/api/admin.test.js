// The operator console's API (services/admin, /api/v1/admin/): refused to
// everyone but admins exactly as a path no service has (status, headers
// and body); the role granted and revoked only by `scripts/parley admin`;
// who is online and by which transport; kick, suspend and restore; groups
// and members; deleting a message for everyone; service health; an audit
// row for every action, in the action's own transaction.
// This file: the refusals, the role, health and the audit log; who is
// online, kick, suspend and restore are in admin_users.test.js, groups and
// messages in admin_content.test.js; helpers in tests/admin.js.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { api, request, register, stack, ROOT } = require('../lib.js');
const {
  ADMIN_ROUTES, inTurn, newAdmin, psql, cookie, pair, MISSING, urlOf,
  missingPath, assertAsMissing, auditRows,
} = require('../admin.js');

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
