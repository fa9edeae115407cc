// The poll service out of file descriptors: restarted with
// PARLEY_MAX_FILES=256, it gets more long polls than it has descriptors
// (many users, so the per-user caps do not hide it). While they are held,
// accept() fails with EMFILE; once the flood is gone the service must
// answer again. Before, every worker thread ended on its first failed
// accept and the service answered nobody until restarted.
//
// Restarts the poll service (twice), so scripts/test.sh runs it after the
// other files (zz_*), one file at a time.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { register, befriend, stack, BASE } = require('../lib.js');
const { sendText, poll, head } = require('../chat.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LIMIT = 256;
const USERS = 48;
const PER_USER = 7; // under both caps: 48 x 7 = 336 polls > 256 descriptors

// A long poll that can be dropped: the client hangs up, as a browser tab
// that closes does.
function heldPoll(u, since) {
  const req = http.request({
    host: BASE.hostname, port: BASE.port, method: 'GET', agent: false,
    path: `/api/v1/events?since=${since}&timeout=55`,
    headers: { Authorization: 'Bearer ' + u.token },
  });
  const h = { req, status: null };
  req.on('response', (res) => { h.status = res.statusCode; res.resume(); });
  req.on('error', () => {});
  req.end();
  return h;
}

function logOf(service) {
  return path.join(process.env.PARLEY_VAR, 'log', service + '.log');
}

// The log lines written after `offset` bytes.
function logSince(service, offset) {
  const buf = fs.readFileSync(logOf(service));
  return buf.subarray(offset).toString('utf8');
}

function pollPid() {
  const m = /^poll: running \(pid (\d+)\)/m.exec(stack('status'));
  assert.ok(m, 'the poll service is running');
  return Number(m[1]);
}

// Descriptors the process holds now (we run beside it, as the same user).
function openFiles(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

function restartPoll(env) {
  const saved = process.env.PARLEY_MAX_FILES;
  if (env.PARLEY_MAX_FILES !== undefined) process.env.PARLEY_MAX_FILES = env.PARLEY_MAX_FILES;
  else delete process.env.PARLEY_MAX_FILES;
  try {
    stack('restart-service', 'poll');
  } finally {
    if (saved !== undefined) process.env.PARLEY_MAX_FILES = saved;
    else delete process.env.PARLEY_MAX_FILES;
  }
}

test('out of descriptors, the poll service stalls but keeps its workers, and answers again once the flood is gone', {
  skip: !process.env.PARLEY_URL || !process.env.PARLEY_VAR ? 'needs PARLEY_URL and PARLEY_VAR of the test stack' : false,
  timeout: 180000,
}, async (t) => {
  const users = [];
  for (let i = 0; i < USERS; i += 12) {
    users.push(...await Promise.all(Array.from({ length: Math.min(12, USERS - i) }, () => register('fd'))));
  }
  const [c, f] = await Promise.all([register('fdc'), register('fdf')]);
  await befriend(c, f);
  const heads = await Promise.all(users.map((u) => head(u)));
  const sc = await head(c);

  const offset = fs.statSync(logOf('poll')).size;
  restartPoll({ PARLEY_MAX_FILES: String(LIMIT) });
  const held = [];
  try {
    assert.match(logSince('poll', offset), new RegExp(`open files: ${LIMIT}\\b`));
    // The flood: more held polls than the service has descriptors.
    for (let k = 0; k < PER_USER; k++) {
      users.forEach((u, i) => held.push(heldPoll(u, heads[i])));
      await sleep(100);
    }
    // Wait until the service holds every descriptor it may have.
    const pid = pollPid();
    const end = Date.now() + 30000;
    let fds = 0;
    while (Date.now() < end && (fds = openFiles(pid)) < LIMIT) await sleep(200);
    assert.equal(fds, LIMIT, 'the poll service ran out of descriptors');
    await sleep(1000); // every worker has met EMFILE by now
    const answeredEarly = held.filter((h) => h.status !== null).length;

    // Release: every flood client hangs up.
    for (const h of held) h.req.destroy();
    await sleep(500);

    // The service answers again: a short poll, then a long one that a
    // message wakes.
    const t0 = Date.now();
    let r;
    for (;;) {
      r = await poll(c, { since: sc, timeout: 0 }, { timeout: 10000 }).catch((e) => ({ status: 0, text: e.message }));
      if (r.status === 200 || Date.now() - t0 > 15000) break;
      await sleep(250);
    }
    assert.equal(r.status, 200, `the poll service answers after the flood: ${r.status} ${r.text}`);
    const waiting = poll(c, { since: sc, timeout: 20 }, { timeout: 30000 });
    await sleep(300);
    const m = await sendText(f, c, 'after the flood');
    const woke = await waiting;
    assert.equal(woke.status, 200, woke.text);
    assert.equal(woke.json.events.find((e) => e.type === 'message').data.message.id, m.id);
    const log = logSince('poll', offset);
    assert.ok(!/fatal|AddressSanitizer|runtime error/.test(log), 'no fatal line or sanitizer report');
    // Logged, but not once per failed attempt.
    const warned = log.split('\n').filter((l) => /accept failed: Too many open files/.test(l)).length;
    assert.ok(warned >= 1 && warned <= 3, `${warned} accept warnings`);
    t.diagnostic(`${held.length} polls held against ${LIMIT} descriptors (${answeredEarly} answered before the release); answering again ${Date.now() - t0} ms after it`);
  } finally {
    for (const h of held) h.req.destroy();
    restartPoll({});
  }
});

test('bad values for the descriptor and cap settings stop the poll service at start, with a message', {
  skip: !process.env.PARLEY_URL || !process.env.PARLEY_VAR ? 'needs PARLEY_URL and PARLEY_VAR of the test stack' : false,
  timeout: 60000,
}, async () => {
  const bad = [
    ['PARLEY_MAX_FILES', '12', /PARLEY_MAX_FILES=12: expected an integer in \[64, /],
    ['PARLEY_POLL_MAX_PER_SESSION', '0', /PARLEY_POLL_MAX_PER_SESSION=0: expected an integer in \[1, 1000\]/],
    ['PARLEY_POLL_MAX_PER_USER', 'many', /PARLEY_POLL_MAX_PER_USER=many: expected an integer in \[1, 100000\]/],
  ];
  try {
    for (const [name, value, message] of bad) {
      const offset = fs.statSync(logOf('poll')).size;
      const saved = process.env[name];
      process.env[name] = value;
      try {
        assert.throws(() => stack('restart-service', 'poll'), /exited at start/, `${name}=${value} is refused`);
      } finally {
        if (saved !== undefined) process.env[name] = saved;
        else delete process.env[name];
      }
      assert.match(logSince('poll', offset), message);
    }
  } finally {
    restartPoll({});
  }
  const u = await register('fdok');
  const r = await poll(u, {});
  assert.equal(r.status, 200, r.text);
});
