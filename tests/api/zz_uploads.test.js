// Uploads with small settings (the service is restarted with them, and
// with its defaults at the end): the per-type size limit, the per-user
// quota, garbage collection of an upload nobody sent (and of a file no row
// names), and a kill -9 in the middle of storing an upload, which must
// leave neither a row nor a file, and no temporary file behind.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { api, register, befriend, assertError, stack, ROOT } = require('../lib.js');
const up = require('../uploads.js');

const RUN = path.join(process.env.PARLEY_VAR || path.join(ROOT, 'var'), 'run');
const SMALL = {
  PARLEY_UPLOAD_MAX_FILE: '3000', PARLEY_UPLOAD_MAX_IMAGE: '200000', PARLEY_UPLOAD_QUOTA: '10000',
  PARLEY_UPLOAD_GRACE: '3', PARLEY_UPLOAD_GC_INTERVAL: '1',
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

// restart-service with extra settings (none: the defaults again).
function restart(env = {}) {
  const saved = {};
  for (const k of Object.keys(SMALL)) { saved[k] = process.env[k]; delete process.env[k]; }
  Object.assign(process.env, env);
  try {
    stack('restart-service', 'uploads');
  } finally {
    for (const k of Object.keys(SMALL)) {
      if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
  }
}

function pidOf(s) {
  try { return Number(fs.readFileSync(path.join(RUN, s + '.pid'), 'utf8').split(/\s+/)[0]); } catch (e) { return 0; }
}

async function until(what, fn, ms = 15000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for ' + what);
    await sleep(100);
  }
}

// A psql session kept open: run(sql) resolves with its output lines.
function psqlSession() {
  const p = spawn(path.join(ROOT, 'scripts/parley'), ['psql', '-qAtX', '-v', 'ON_ERROR_STOP=1'], { env: process.env });
  let out = '';
  let n = 0;
  p.stdout.on('data', (d) => { out += d; });
  return {
    async run(sql) {
      const marker = `__done_${++n}__`;
      p.stdin.write(`${sql};\nSELECT '${marker}';\n`);
      await until('psql: ' + sql, () => out.includes(marker), 10000);
    },
    end() { p.stdin.end(); return new Promise((r) => p.on('exit', r)); },
  };
}

test.before(() => restart(SMALL));
test.after(() => restart());

test('the per-type size limit and the per-user quota', async () => {
  const a = await register('uzl');
  const text = (n, c = 'a') => Buffer.from(c.repeat(n - 1) + '\n');
  const ok = await up.upload(text(3000), { token: a.token, name: 'max.txt' });
  assert.equal(ok.status, 201, ok.text);
  const over = await up.upload(text(3001), { token: a.token, name: 'over.txt' });
  assertError(assert, over, 413, 'too_large');
  assert.match(over.json.error.message, /file files may be at most 3000 bytes/);
  // An image may be larger than a file (its own limit).
  const img = await up.upload(up.png(20, 20), { token: a.token });
  assert.equal(img.status, 201, img.text);
  // Quota: 10000 bytes in all (sent or not, thumbnails counted).
  let used = Number(psql(`SELECT sum(size + thumb_size) FROM uploads WHERE owner_id = ${Number(a.user.id)}`));
  let i = 0;
  for (;;) {
    const r = await up.upload(text(2500, String.fromCharCode(98 + i++)), { token: a.token });
    if (r.status === 413) {
      assertError(assert, r, 413, 'quota_exceeded');
      break;
    }
    assert.equal(r.status, 201, r.text);
    used += 2500;
    assert.ok(used <= 10000, `stored past the quota: ${used}`);
  }
  assert.ok(used + 2500 > 10000, `refused only when full (${used} used)`);
  // A body larger than the room left is refused before it is read.
  const big = await up.upload(up.png(200, 200), { token: a.token });
  assertError(assert, big, 413, 'quota_exceeded');
  // Another user has their own quota.
  const b = await register('uzl');
  assert.equal((await up.upload(text(2500), { token: b.token })).status, 201);
});

test('an upload nobody sent is collected after the grace period, with its file; a sent one stays', async () => {
  const [a, b] = await Promise.all([register('uzg'), register('uzg')]);
  await befriend(a, b);
  const stamp = Date.now();
  const lone = Buffer.from(`nobody will send this ${stamp}\n`);
  const kept = Buffer.from(`this one is sent ${stamp}\n`);
  const u1 = (await up.upload(lone, { token: a.token })).json.upload;
  const u2 = (await up.upload(kept, { token: a.token })).json.upload;
  // The same bytes, also unsent, by b: b's row goes, the file stays (a's
  // sent upload names it).
  const u3 = (await up.upload(kept, { token: b.token })).json.upload;
  const img = (await up.upload(up.png(30, 20, { seed: stamp % 200 }), { token: a.token })).json.upload;
  const m = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'file', body: { upload_id: u2.id } } });
  assert.equal(m.status, 201, m.text);
  const thumb = psql(`SELECT thumb_sha256 FROM uploads WHERE id = ${Number(img.id)}`);
  assert.ok(fs.existsSync(up.blobPath(up.sha256(lone))));
  assert.ok(fs.existsSync(up.blobPath(thumb)));
  await until('the janitor', () => psql(`SELECT count(*) FROM uploads WHERE id IN (${u1.id}, ${u3.id}, ${img.id})`) === '0', 20000);
  assert.equal(fs.existsSync(up.blobPath(up.sha256(lone))), false, 'the unsent file is gone');
  assert.equal(fs.existsSync(up.blobPath(thumb)), false, 'its thumbnail too');
  assert.equal((await up.download(u1.id, a.token)).status, 404);
  assert.equal(psql(`SELECT count(*) FROM uploads WHERE id = ${u2.id}`), '1');
  assert.ok(fs.readFileSync(up.blobPath(up.sha256(kept))).equals(kept), 'the sent file stays');
  assert.equal((await up.download(u2.id, b.token)).status, 200);
});

test('the hourly sweep (also at start): a file no row names (a crash between link and commit), and an upload whose message was recalled', async () => {
  const [a, b] = await Promise.all([register('uzo'), register('uzo')]);
  await befriend(a, b);
  const said = Buffer.from(`said and taken back ${Date.now()}\n`);
  const r = (await up.upload(said, { token: a.token })).json.upload;
  const m = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'file', body: { upload_id: r.id } } });
  assert.equal(m.status, 201, m.text);
  assert.equal((await api.post(`/api/v1/messages/${m.json.message.id}/recall`, { token: a.token })).status, 200);
  const bytes = Buffer.from(`an orphan ${Date.now()}\n`);
  const hex = up.sha256(bytes);
  // Made by the service (as its user), then its row forgotten, as if the
  // process had died after naming the file and before committing.
  const u = (await up.upload(bytes, { token: a.token })).json.upload;
  psql(`DELETE FROM uploads WHERE id = ${Number(u.id)}`);
  assert.ok(fs.existsSync(up.blobPath(hex)));
  await sleep(3500);	// older than the grace period
  restart(SMALL);	// the sweep runs on the first tick
  await until('the orphan sweep', () => !fs.existsSync(up.blobPath(hex)), 10000);
  await until('the recalled upload to go', () => psql(`SELECT count(*) FROM uploads WHERE id = ${Number(r.id)}`) === '0', 10000);
  assert.equal(fs.existsSync(up.blobPath(up.sha256(said))), false);
});

test('kill -9 while an upload is being stored leaves no row, no file and no temporary file', async () => {
  const a = await register('uzk');
  const bytes = Buffer.from(`stored when the service died ${Date.now()}\n`);
  const hex = up.sha256(bytes);
  // Hold the uploader's quota lock: the upload stops inside its
  // transaction, with the file received and not yet named.
  const s = psqlSession();
  await s.run(`SELECT pg_advisory_lock(hashtextextended('upload-quota:' || ${Number(a.user.id)}, 17))`);
  const pending = up.upload(bytes, { token: a.token, name: 'doomed.txt' });
  await until('the upload to wait for the lock', () =>
    psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") !== '0');
  const pid = pidOf('uploads');
  assert.ok(pid > 0);
  process.kill(pid, 'SIGKILL');
  const r = await pending;
  assert.ok(r.status >= 500, `the request failed: ${r.status} ${r.text}`);
  await s.run('SELECT pg_advisory_unlock_all()');
  await s.end();
  assert.equal(psql(`SELECT count(*) FROM uploads WHERE owner_id = ${Number(a.user.id)}`), '0');
  assert.equal(fs.existsSync(up.blobPath(hex)), false, 'no file under its name');
  assert.deepEqual(fs.readdirSync(path.join(up.uploadDir(), 'tmp')), [], 'nothing left in tmp/');
  // The supervisor brings it back; the same upload then works.
  await until('the restart', () => pidOf('uploads') > 0 && pidOf('uploads') !== pid, 20000);
  const again = await until('the new process', async () => {
    const x = await up.upload(bytes, { token: a.token, name: 'doomed.txt' });
    return x.status === 201 ? x : null;
  }, 20000);
  assert.equal(again.json.upload.size, bytes.length);
  assert.ok(fs.readFileSync(up.blobPath(hex)).equals(bytes));
  assert.deepEqual(fs.readdirSync(path.join(up.uploadDir(), 'tmp')), []);
});
