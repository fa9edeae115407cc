// Supervision: whatever dies is started again, a crash loop gives up with
// a clear line, restart-service waits for the new process, and a stale pid
// file never gets another process signalled.
//
// This kills and restarts services of the test stack: scripts/test.sh runs
// tests/api/zz_*.test.js after the others, one file at a time.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { api, register, stack, ROOT } = require('../lib.js');

const VAR = process.env.PARLEY_VAR || path.join(ROOT, 'var');
const RUN = path.join(VAR, 'run');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const skip = !process.env.PARLEY_URL || !process.env.PARLEY_VAR ?
  'needs PARLEY_URL and PARLEY_VAR of the test stack' : false;

function pidOf(s) {
  try { return Number(fs.readFileSync(path.join(RUN, s + '.pid'), 'utf8').split(/\s+/)[0]); } catch (e) { return 0; }
}
function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return false; }
}
function statusLine(s) {
  return new RegExp(`^${s}: .*$`, 'm').exec(stack('status'))[0];
}
async function until(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(100);
  }
}

// A route of each service, answered 2xx when the service is up.
const probe = {
  accounts: (u) => api.get('/api/v1/auth/me', { token: u.token }),
  friends: (u) => api.get('/api/v1/friends', { token: u.token }),
  messages: (u) => api.get('/api/v1/conversations', { token: u.token }),
  poll: (u) => api.get('/api/v1/events?timeout=0', { token: u.token }),
  calls: (u) => api.get('/api/v1/calls', { token: u.token }),
  sites: () => api.get('/api/v1/server/webhook'), // 401 from the service itself
};

test('kill -9 of any service or the dispatcher: it comes back, status counts the restart', { skip, timeout: 120000 }, async () => {
  const u = await register('sup');
  for (const s of ['accounts', 'friends', 'messages', 'poll', 'calls', 'sites', 'webhooks']) {
    const before = pidOf(s);
    const restarts = Number(/restarts=(\d+)/.exec(statusLine(s))[1]);
    assert.ok(before > 0 && alive(before), `${s} runs`);
    process.kill(before, 'SIGKILL');
    const after = await until(`${s} to come back`, () => {
      const p = pidOf(s);
      return p && p !== before && alive(p) ? p : 0;
    });
    assert.notEqual(after, before);
    const line = statusLine(s);
    assert.match(line, new RegExp(`^${s}: running \\(pid ${after}\\) restarts=${restarts + 1}$`), line);
    const log = fs.readFileSync(path.join(VAR, 'log', s + '.log'), 'utf8');
    assert.match(log, new RegExp(`parley: ${s} exited unexpectedly \\(killed by signal 9\\); restart ${restarts + 1}`));
    if (probe[s]) {
      const r = await until(`${s} to answer`, async () => {
        const x = await probe[s](u);
        return x.status < 500 ? x : null;
      });
      assert.ok(r.status < 500, `${s} answers after the restart: ${r.status} ${r.text}`);
    }
  }
});

test('restart-service returns only once the new process listens', { skip, timeout: 60000 }, async () => {
  const u = await register('supr');
  for (let i = 0; i < 3; i++) {
    const before = pidOf('accounts');
    stack('restart-service', 'accounts');
    const after = pidOf('accounts');
    assert.notEqual(after, before, 'a new process');
    // No grace period: the very next request must reach it.
    const r = await api.get('/api/v1/auth/me', { token: u.token });
    assert.equal(r.status, 200, `right after restart-service: ${r.status} ${r.text}`);
  }
});

test('a crash loop gives up with a clear log line; restart-service fails and brings it back later', { skip, timeout: 90000 }, async () => {
  // calls refuses to start with a TURN secret but no TURN URIs.
  const bad = Object.assign({}, process.env, { PARLEY_TURN_SECRET: 'x', PARLEY_TURN_URIS: '' });
  const r = spawnSync(path.join(ROOT, 'scripts/parley'), ['restart-service', 'calls'], { env: bad, encoding: 'utf8' });
  assert.notEqual(r.status, 0, 'restart-service reports the failed start');
  assert.match(r.stderr, /calls exited at start/);
  try {
    // Back-off 0.2 + 1 + 2 + 4 s, then the fifth quick exit ends it.
    const line = await until('the supervisor to give up', () => {
      const l = statusLine('calls');
      return /gave up/.test(l) ? l : null;
    }, 30000);
    assert.match(line, /^calls: gave up \(exit status \d+\)/);
    const log = fs.readFileSync(path.join(VAR, 'log', 'calls.log'), 'utf8');
    assert.match(log, /parley: calls exited \(exit status \d+\) 5 times in a row, each within \d+ s of starting; giving up/);
    assert.ok(!fs.existsSync(path.join(RUN, 'calls.super')), 'no supervisor left');
  } finally {
    stack('restart-service', 'calls');
  }
  assert.match(statusLine('calls'), /^calls: running \(pid \d+\) restarts=0$/);
  const u = await register('supc');
  assert.equal((await api.get('/api/v1/calls', { token: u.token })).status, 200);
});

test('a stale pid file never gets another process signalled', { skip, timeout: 60000 }, async () => {
  // An innocent process, and pid files that name it: one in the old
  // format (pid only), one with a wrong start time.
  const victim = spawn('sleep', ['300'], { stdio: 'ignore' });
  try {
    const sup = path.join(RUN, 'webhooks.super');
    const real = fs.readFileSync(sup, 'utf8');
    // The real supervisor dies without cleaning up; its file is stale.
    process.kill(Number(real.split(/\s+/)[0]), 'SIGKILL');
    fs.writeFileSync(sup, `${victim.pid}\n`);
    fs.writeFileSync(path.join(RUN, 'webhooks.pid'), `${victim.pid} 1\n`);
    stack('restart-service', 'webhooks');
    await sleep(200);
    assert.ok(alive(victim.pid), 'the unrelated process was not signalled');
    assert.match(statusLine('webhooks'), /^webhooks: running \(pid \d+\)/);
    assert.notEqual(pidOf('webhooks'), victim.pid);
  } finally {
    victim.kill('SIGKILL');
  }
  // The orphaned dispatcher of the killed supervisor keeps running; one
  // more is harmless (deliveries are claimed with SKIP LOCKED), but clean up:
  const orphans = spawnSync('pgrep', ['-f', path.join(process.env.PARLEY_BIN || '', 'parley-webhooks')], { encoding: 'utf8' })
    .stdout.split('\n').filter(Boolean).map(Number).filter((p) => p !== pidOf('webhooks'));
  for (const p of orphans) { try { process.kill(p, 'SIGTERM'); } catch (e) { /* gone */ } }
});

test('a supervisor whose script is changed under it (git pull) still ends cleanly', { skip, timeout: 60000 }, async () => {
  // bash reads a script as it runs it: a supervisor started from this copy
  // would, once the copy changes, resume at its old byte offset in the new
  // text (it once ran the `run` branch's log tail forever after `stop`).
  const copy = path.join(ROOT, 'scripts', `.parley-edit-${process.pid}`);
  const sentinel = path.join(RUN, `edit-sentinel-${process.pid}`);
  fs.copyFileSync(path.join(ROOT, 'scripts/parley'), copy);
  fs.chmodSync(copy, 0o755);
  try {
    spawnSync(copy, ['restart-service', 'webhooks'], { env: process.env, encoding: 'utf8' });
    const sup = Number(fs.readFileSync(path.join(RUN, 'webhooks.super'), 'utf8').split(/\s+/)[0]);
    assert.match(fs.readFileSync(`/proc/${sup}/cmdline`, 'utf8'), /\.parley-edit-/);
    // An update that adds a command at the end: what a supervisor that
    // reads on after its old offset would run next.
    fs.appendFileSync(copy, `\ntouch '${sentinel}'\nsleep 300\n`);
    stack('stop-service', 'webhooks');
    await until('the old supervisor to end', () => !alive(sup), 10000);
    await sleep(300);
    assert.ok(!fs.existsSync(sentinel), 'the supervisor ran text added to its script after it started');
  } finally {
    fs.rmSync(copy, { force: true });
    fs.rmSync(sentinel, { force: true });
    stack('restart-service', 'webhooks');
  }
  assert.match(statusLine('webhooks'), /^webhooks: running \(pid \d+\)/);
});

test('make start fails, and leaves nothing running, when a service exits at start', { skip, timeout: 120000 }, async () => {
  // A stack of its own (var dir, port): calls refuses a TURN secret
  // without TURN URIs, so `start` must fail instead of reporting it up.
  const VAR2 = fs.mkdtempSync(path.join(path.dirname(VAR), 'startfail-'));
  fs.chmodSync(VAR2, 0o755);
  const env = Object.assign({}, process.env, {
    PARLEY_VAR: VAR2, PORT: String(Number(new URL(process.env.PARLEY_URL).port) + 19),
    PARLEY_TURN_SECRET: 'x', PARLEY_TURN_URIS: '',
  });
  try {
    const r = spawnSync(path.join(ROOT, 'scripts/parley'), ['start'], { env, encoding: 'utf8' });
    assert.notEqual(r.status, 0, 'start reported success');
    assert.match(r.stderr, /calls exited at start/);
    assert.match(r.stderr, /start failed/);
    const st = spawnSync(path.join(ROOT, 'scripts/parley'), ['status'], { env, encoding: 'utf8' }).stdout;
    for (const s of ['accounts', 'poll', 'calls', 'webhooks', 'nginx'])
      assert.match(st, new RegExp(`^${s}: stopped$`, 'm'), st);
    const left = spawnSync('pgrep', ['-f', VAR2], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'processes of the failed stack are left: ' + left);
  } finally {
    spawnSync(path.join(ROOT, 'scripts/parley'), ['stop'], { env });
    fs.rmSync(VAR2, { recursive: true, force: true });
  }
});
