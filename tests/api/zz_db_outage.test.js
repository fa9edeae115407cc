// PostgreSQL goes away and comes back while every service keeps running.
//
// This stops the test stack's embedded PostgreSQL, which breaks every other
// test running at the same time: scripts/test.sh runs tests/api/zz_*.test.js
// in a second pass, alone, after the others.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, register, befriend, uniqueName, assertError, stack, ROOT } = require('../lib.js');

const VAR = process.env.PARLEY_VAR || path.join(ROOT, 'var');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pids() {
  const out = {};
  for (const s of ['accounts', 'friends'])
    out[s] = fs.readFileSync(path.join(VAR, 'run', s + '.pid'), 'utf8').split(/\s+/)[0];
  return out;
}

function assertUnavailable(res, what) {
  assert.equal(res.status, 503, `${what}: expected 503, got ${res.status}: ${res.text}`);
  assertError(assert, res, 503, 'database_unavailable');
  const retry = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retry) && retry > 0, `${what}: Retry-After ${res.headers['retry-after']}`);
}

// Never leave the database down, whatever failed.
let stopped = false;
test.after(() => {
  if (stopped) stack('pg-start');
});

test('a database outage is 503 + Retry-After, and every service recovers without a restart', {
  // Stopping PostgreSQL of a stack this run did not name would hit
  // someone else's database.
  skip: !process.env.PARLEY_URL || !process.env.PARLEY_VAR ? 'needs PARLEY_URL and PARLEY_VAR of the test stack' : false,
}, async (t) => {
  const a = await register('outa');
  const b = await register('outb');
  await befriend(a, b);
  const before = pids();
  // Every worker thread of both services holds a connection now.
  await Promise.all(Array.from({ length: 24 }, () => api.get('/api/v1/health')));
  await Promise.all(Array.from({ length: 24 }, () => api.get('/api/v1/friends', { token: a.token })));

  stack('pg-stop');
  stopped = true;
  try {
    assertUnavailable(await api.get('/api/v1/health'), 'health');
    assertUnavailable(await api.post('/api/v1/auth/login',
      { json: { username: a.user.username, password: a.password } }), 'login');
    assertUnavailable(await api.post('/api/v1/auth/register',
      { json: { username: uniqueName('outc'), password: 'correct horse 1' } }), 'register');
    assertUnavailable(await api.get('/api/v1/auth/me', { token: a.token }), 'me');
    assertUnavailable(await api.get('/api/v1/friends', { token: a.token }), 'friends list');
    assertUnavailable(await api.post('/api/v1/friends/requests',
      { token: a.token, json: { user_id: b.user.id } }), 'friend request');
    // Still down: every thread keeps answering 503, none crashes.
    const again = await Promise.all(Array.from({ length: 16 }, () => api.get('/api/v1/health')));
    for (const r of again) assertUnavailable(r, 'health (repeated)');
  } finally {
    stack('pg-start');
    stopped = false;
  }

  // Back within a few seconds, with the same processes.
  let health = null;
  const t0 = Date.now();
  while (Date.now() - t0 < 10000) {
    health = await api.get('/api/v1/health');
    if (health.status === 200) break;
    await sleep(200);
  }
  assert.equal(health.status, 200, 'health after PostgreSQL restarted: ' + health.text);
  assert.deepEqual(health.json, { status: 'ok', database: 'ok' });
  t.diagnostic(`health is 200 again ${Date.now() - t0} ms after pg-start`);

  // Once health is back, no request fails: threads whose connection died
  // while idle must notice before using it (not answer one more 503).
  for (let i = 0; i < 24; i++) {
    const r = await api.get('/api/v1/health');
    assert.equal(r.status, 200, `health #${i} after recovery: ${r.status} ${r.text}`);
  }
  for (let i = 0; i < 24; i++) {
    const r = await api.get('/api/v1/friends', { token: a.token });
    assert.equal(r.status, 200, `friends #${i} after recovery (token from before the outage): ${r.status} ${r.text}`);
    assert.deepEqual(r.json.friends.map((f) => f.id), [b.user.id]);
  }
  const me = await api.get('/api/v1/auth/me', { token: a.token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.user.id, a.user.id);
  const login = await api.post('/api/v1/auth/login', { json: { username: a.user.username, password: a.password } });
  assert.equal(login.status, 200, login.text);
  const c = await register('outc');
  const req = await api.post('/api/v1/friends/requests', { token: c.token, json: { user_id: a.user.id } });
  assert.equal(req.status, 201, req.text);
  const acc = await api.post(`/api/v1/friends/requests/${req.json.request.id}/accept`, { token: login.json.token });
  assert.equal(acc.status, 200, acc.text);

  assert.deepEqual(pids(), before, 'no service was restarted');
  for (const [s, pid] of Object.entries(before))
    assert.doesNotThrow(() => process.kill(Number(pid), 0), `${s} (pid ${pid}) is still running`);
});
