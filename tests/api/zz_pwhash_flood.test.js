// Password hashing cannot starve cheap routes (issue 12, item 5). The
// accounts service is restarted with real argon2id limits
// (PARLEY_PWHASH=interactive; the test stack uses cheap ones) and a small
// registration limit per address, and restored at the end; so this runs
// with the other zz_* files, one at a time.
//
// - Under a flood of concurrent registrations (fresh usernames, each from
//   its own loopback address) /auth/me and /health keep their p99 within
//   50 ms of what it is without the flood:
//   argon2id runs in a bounded pool (shared/pwhash.c) and the flood gets
//   503 busy with Retry-After once it is full. Before, every worker thread
//   sat in argon2id and /auth/me took seconds.
// - A taken username answers 409 without hashing (far faster than a
//   registration that hashes).
// - Registrations are counted per client address: over the limit 429
//   too_many_registrations with Retry-After; another address is not
//   affected.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { api, uniqueName, assertError, stack, ROOT } = require('../lib.js');

const skip = !process.env.PARLEY_URL || !process.env.PARLEY_VAR ? 'needs PARLEY_URL and PARLEY_VAR of the test stack' : false;
const REGISTER_LIMIT = 5;
const FLOOD = 64;
const FLOOD_MS = 4000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freshAddr() {
  const b = crypto.randomBytes(3);
  return `127.${1 + (b[0] % 254)}.${b[1]}.${1 + (b[2] % 254)}`;
}

// Restarts accounts with these settings on top of the test stack's (null
// removes one); restartAccounts({}) restores the stack's own.
function restartAccounts(env) {
  const saved = {};
  for (const k of Object.keys(env)) {
    saved[k] = process.env[k];
    if (env[k] === null) delete process.env[k];
    else process.env[k] = env[k];
  }
  try {
    stack('restart-service', 'accounts');
  } finally {
    for (const k of Object.keys(saved)) {
      if (saved[k] !== undefined) process.env[k] = saved[k];
      else delete process.env[k];
    }
  }
}

function p99(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)];
}

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return { r, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

// Runs tests/flood.js; resolves once it has started, with `done`, a
// promise of its status counts.
function startFlood(conc, ms, taken) {
  const args = [path.join(ROOT, 'tests/flood.js'), String(conc), String(ms)];
  if (taken) args.push(taken);
  const p = spawn(process.execPath, args, { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolveStart, rejectStart) => {
    const done = new Promise((resolve, reject) => {
      p.on('exit', (code) => {
        const last = out.trim().split('\n').pop();
        if (code !== 0) reject(new Error(`flood exited ${code}: ${err}`));
        else resolve(JSON.parse(last));
      });
    });
    p.stdout.on('data', (d) => {
      out += d;
      if (out.startsWith('started\n')) resolveStart({ done });
    });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', rejectStart);
  });
}

test.before(() => {
  if (skip) return;
  restartAccounts({ PARLEY_PWHASH: 'interactive', PARLEY_REGISTER_PER_IP: String(REGISTER_LIMIT) });
});

test.after(() => {
  if (skip) return;
  restartAccounts({});
});

// Samples /auth/me and /health one after the other for `ms`; every tenth
// round also registers the taken name from a fresh address.
async function sample(ms, token, taken) {
  const out = { me: [], health: [], taken: {} };
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    const m = await timed(() => api.get('/api/v1/auth/me', { token }));
    assert.equal(m.r.status, 200, m.r.text);
    out.me.push(m.ms);
    const h = await timed(() => api.get('/api/v1/health'));
    assert.equal(h.r.status, 200, h.r.text);
    out.health.push(h.ms);
    if (i % 10 === 0) {
      const d = await api.post('/api/v1/auth/register', {
        json: { username: taken, password: 'another password' }, localAddress: freshAddr(),
      });
      out.taken[d.status] = (out.taken[d.status] || 0) + 1;
    }
    await sleep(5);
  }
  return out;
}

function describe(xs) {
  return `${xs.length} requests, p99 ${p99(xs).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
}

// The 50 ms are on top of what this host answers without the flood (the
// same loop, just before): on a quiet host that is a few milliseconds,
// but the test machine may be busy with other work, and one scheduling
// hiccup there decides a p99 of a few hundred samples. So an attempt that
// misses is measured again, up to ATTEMPTS times: without the pool every
// attempt fails by seconds.
const ATTEMPTS = 3;

test('under a registration flood with real argon2id costs, /auth/me and /health p99 grow by under 50 ms', { skip, timeout: 180000 }, async (t) => {
  const me = await api.post('/api/v1/auth/register', {
    json: { username: uniqueName('calm'), password: 'correct horse 1' }, localAddress: freshAddr(),
  });
  assert.equal(me.status, 201, me.text);
  const taken = me.json.user.username;
  // Warm up: every worker's connection and prepared statements.
  for (let i = 0; i < 20; i++) assert.equal((await api.get('/api/v1/auth/me', { token: me.json.token })).status, 200);

  const misses = [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const quiet = await sample(FLOOD_MS - 800, me.json.token, taken);
    const flood = await startFlood(FLOOD, FLOOD_MS, taken);
    await sleep(300); // the flood is in full swing
    const busy = await sample(FLOOD_MS - 800, me.json.token, taken);
    const counts = await flood.done;
    t.diagnostic(`attempt ${attempt}: without the flood: /auth/me ${describe(quiet.me)}; /health ${describe(quiet.health)}`);
    t.diagnostic(`attempt ${attempt}: flood answers: ${JSON.stringify(counts)}`);
    t.diagnostic(`attempt ${attempt}: under the flood: /auth/me ${describe(busy.me)}; /health ${describe(busy.health)}`);
    t.diagnostic(`attempt ${attempt}: taken-name registrations under the flood: ${JSON.stringify(busy.taken)}`);
    // The flood really hashed, and the pool refused what it could not take.
    assert.ok((counts['201'] || 0) > 0, `some registrations of the flood succeeded: ${JSON.stringify(counts)}`);
    assert.ok((counts['503'] || 0) > 0, `the pool refused some: ${JSON.stringify(counts)}`);
    for (const k of Object.keys(counts)) {
      assert.ok(['201', '503', '409 taken', '503 taken'].includes(k), `unexpected flood answers: ${JSON.stringify(counts)}`);
    }
    for (const k of Object.keys(busy.taken)) assert.ok(['409', '503'].includes(k), JSON.stringify(busy.taken));
    assert.ok(busy.me.length >= 20, `${busy.me.length} samples`);
    const miss = [];
    if (!(p99(busy.me) < p99(quiet.me) + 50))
      miss.push(`/auth/me p99 ${p99(busy.me).toFixed(1)} ms under the flood, ${p99(quiet.me).toFixed(1)} ms without`);
    if (!(p99(busy.health) < p99(quiet.health) + 50))
      miss.push(`/health p99 ${p99(busy.health).toFixed(1)} ms under the flood, ${p99(quiet.health).toFixed(1)} ms without`);
    if (miss.length === 0) return;
    misses.push(`attempt ${attempt}: ${miss.join('; ')}`);
  }
  assert.fail(misses.join('\n'));
});

test('a taken username is refused without hashing: far faster than a registration', { skip, timeout: 60000 }, async (t) => {
  const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  const first = await api.post('/api/v1/auth/register', {
    json: { username: uniqueName('taken'), password: 'correct horse 1' }, localAddress: freshAddr(),
  });
  assert.equal(first.status, 201, first.text);
  const takenMs = [];
  const freshMs = [];
  // Interleaved, so machine noise hits both alike.
  for (let i = 0; i < 5; i++) {
    const d = await timed(() => api.post('/api/v1/auth/register', {
      json: { username: first.json.user.username, password: 'correct horse 2' }, localAddress: freshAddr(),
    }));
    assertError(assert, d.r, 409, 'username_taken');
    takenMs.push(d.ms);
    const f = await timed(() => api.post('/api/v1/auth/register', {
      json: { username: uniqueName('taken'), password: 'correct horse 1' }, localAddress: freshAddr(),
    }));
    assert.equal(f.r.status, 201, f.r.text);
    freshMs.push(f.ms);
  }
  t.diagnostic(`median: taken name ${median(takenMs).toFixed(1)} ms, new account ${median(freshMs).toFixed(1)} ms`);
  // An interactive argon2id hash alone is tens of milliseconds of CPU.
  assert.ok(median(takenMs) * 3 < median(freshMs),
    `taken name ${median(takenMs).toFixed(1)} ms vs new account ${median(freshMs).toFixed(1)} ms`);
});

test('registrations are limited per client address: 429 too_many_registrations with Retry-After', { skip, timeout: 60000 }, async () => {
  const addr = freshAddr();
  const first = await api.post('/api/v1/auth/register', {
    json: { username: uniqueName('regthr'), password: 'correct horse 1' }, localAddress: freshAddr(),
  });
  assert.equal(first.status, 201, first.text);
  const a = first.json;
  for (let i = 0; i < REGISTER_LIMIT; i++) {
    // A refusal for a taken name counts as well (it costs a lookup).
    const json = i === 0 ? { username: a.user.username, password: 'correct horse 1' }
      : { username: uniqueName('regthr'), password: 'correct horse 1' };
    let r;
    // The pool may be busy for a moment: 503 is not counted; try again.
    for (let k = 0; k < 20; k++) {
      r = await api.post('/api/v1/auth/register', { json, localAddress: addr });
      if (r.status !== 503) break;
      await sleep(200);
    }
    assert.equal(r.status, i === 0 ? 409 : 201, `registration ${i + 1}: ${r.text}`);
  }
  const over = await api.post('/api/v1/auth/register', {
    json: { username: uniqueName('regthr'), password: 'correct horse 1' }, localAddress: addr,
  });
  assertError(assert, over, 429, 'too_many_registrations');
  const retry = Number(over.headers['retry-after']);
  assert.ok(Number.isInteger(retry) && retry > 0, 'Retry-After: ' + over.headers['retry-after']);
  assert.equal(over.json.token, undefined);
  // Another address registers fine.
  const other = await api.post('/api/v1/auth/register', {
    json: { username: uniqueName('regthr'), password: 'correct horse 1' }, localAddress: freshAddr(),
  });
  assert.equal(other.status, 201, other.text);
});
