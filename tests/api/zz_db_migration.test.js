// Database errors a migration causes must cost requests, never a process
// (shared/db.c):
// - a statement prepared while a migration holds a lock on its table fails
//   with lock_timeout (55P03): that request gets 503 busy with
//   Retry-After, and once the lock is gone the same request works. Before,
//   any prepare error but a lost connection ended the process.
// - a migration that changes what a prepared statement returns makes the
//   server refuse it on every connection that prepared it ("cached plan
//   must not change result type"): each such connection answers 503 once,
//   renews itself, and then works. Before, it answered 500 until restarted.
//
// Locks tables, alters one and restarts the accounts service, so it runs
// with the other zz_* files, one at a time.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { api, register, assertError, stack, ROOT } = require('../lib.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const skip = !process.env.PARLEY_URL || !process.env.PARLEY_VAR ? 'needs PARLEY_URL and PARLEY_VAR of the test stack' : false;

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

// A psql session kept open across steps (a transaction holding a lock).
function psqlSession() {
  const p = spawn(path.join(ROOT, 'scripts/parley'), ['psql', '-qAtX', '-v', 'ON_ERROR_STOP=1'], { env: process.env });
  let out = '';
  let err = '';
  let n = 0;
  const waiting = [];
  p.stdout.on('data', (d) => {
    out += d;
    for (const w of waiting.slice()) {
      if (out.includes(w.marker)) { waiting.splice(waiting.indexOf(w), 1); w.resolve(); }
    }
  });
  p.stderr.on('data', (d) => { err += d; });
  p.on('exit', () => waiting.forEach((w) => w.reject(new Error('psql ended: ' + err))));
  return {
    run(sql) {
      const marker = `step-${++n}-done`;
      return new Promise((resolve, reject) => {
        waiting.push({ marker, resolve, reject });
        p.stdin.write(`${sql}\nSELECT '${marker}';\n`);
      });
    },
    end() { p.stdin.end(); return new Promise((r) => p.on('exit', r)); },
  };
}

function setDatabase(setting) {
  psql(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I ${setting}', current_database()); END $$`);
}

test('a prepare that meets a migration\'s lock (lock_timeout) answers 503 busy; the service lives on', { skip, timeout: 60000 }, async () => {
  const u = await register('ml');
  // New connections of the accounts service wait at most 300 ms for a lock.
  setDatabase("SET lock_timeout = ''300ms''");
  stack('restart-service', 'accounts');
  const s = psqlSession();
  try {
    // The "migration": holds users, which GET /users is prepared against.
    await s.run("SET lock_timeout = 0; BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;");
    const r = await api.get('/api/v1/users?q=ml', { token: u.token });
    assertError(assert, r, 503, 'busy');
    assert.ok(r.headers['retry-after'], 'Retry-After');
    await s.run('COMMIT;');
    const ok = await api.get('/api/v1/users?q=ml', { token: u.token });
    assert.equal(ok.status, 200, ok.text);
    const health = await api.get('/api/v1/health');
    assert.equal(health.status, 200, health.text);
  } finally {
    await s.end();
    setDatabase('RESET lock_timeout');
    stack('restart-service', 'accounts');
  }
});

test('a migration that changes a prepared statement\'s result type costs each connection one 503, not a 500 forever', { skip, timeout: 60000 }, async (t) => {
  const u = await register('mt');
  const list = () => api.get('/api/v1/auth/sessions', { token: u.token });
  // Prepared on (very likely) every worker's connection.
  const warm = await Promise.all(Array.from({ length: 40 }, list));
  warm.forEach((r) => assert.equal(r.status, 200, r.text));
  // text -> varchar is binary compatible: no rewrite, but the statement's
  // result type changes.
  psql('ALTER TABLE sessions ALTER COLUMN ip TYPE varchar');
  const statuses = [];
  try {
    for (let i = 0; i < 40; i++) {
      const r = await list();
      statuses.push(r.status);
      if (r.status !== 200) {
        assertError(assert, r, 503, 'busy');
        assert.ok(r.headers['retry-after'], 'Retry-After');
      } else {
        assert.equal(r.json.sessions.length, 1, r.text);
      }
    }
  } finally {
    psql('ALTER TABLE sessions ALTER COLUMN ip TYPE text');
    // Fresh connections: nothing stays prepared against the varchar.
    stack('restart-service', 'accounts');
  }
  const failed = statuses.filter((s) => s !== 200).length;
  assert.ok(failed <= Number(process.env.PARLEY_THREADS || 8), `${failed} failures: ${statuses.join(' ')}`);
  assert.deepEqual(statuses.slice(-10), Array(10).fill(200), statuses.join(' '));
  t.diagnostic(`after the type change: ${statuses.join(' ')}`);
});
