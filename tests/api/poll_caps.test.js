// Caps on parked long polls (services/poll/poll_hub.c): a session holds at
// most PARLEY_POLL_MAX_PER_SESSION parked polls (8 by default), a user at
// most PARLEY_POLL_MAX_PER_USER (32). A poll beyond a cap displaces the
// oldest parked one there, which gets an ordinary empty answer at once;
// the newest stay parked and are woken as usual. One user flooding the
// service cannot hold more than that, nor slow another user's poll.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend } = require('../lib.js');
const { sendText, poll, head } = require('../chat.js');

const PER_SESSION = Number(process.env.PARLEY_POLL_MAX_PER_SESSION || 8);
const PER_USER = Number(process.env.PARLEY_POLL_MAX_PER_USER || 32);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A poll whose outcome can be looked at without awaiting it.
function tracked(u, query) {
  const p = { done: false, at: 0, res: null, err: null };
  p.promise = poll(u, query, { timeout: 60000 }).then(
    (res) => { p.res = res; p.done = true; p.at = Date.now(); },
    (err) => { p.err = err; p.done = true; p.at = Date.now(); });
  return p;
}

// Another session of the same user (a second device).
async function login(u) {
  const r = await api.post('/api/v1/auth/login', { json: { username: u.user.username, password: u.password } });
  assert.equal(r.status, 200, r.text);
  return Object.assign({}, u, { token: r.json.token, session: r.json.session_id });
}

function assertEmpty(p, since, what) {
  assert.ok(p.done, `${what} was answered`);
  assert.equal(p.err, null, `${what}: ${p.err}`);
  assert.equal(p.res.status, 200, p.res.text);
  assert.deepEqual(p.res.json, { events: [], next: since }, what);
}

async function assertWoken(polls, message, what) {
  await Promise.all(polls.map((p) => p.promise));
  polls.forEach((p, i) => {
    assert.equal(p.err, null, `${what} #${i}: ${p.err}`);
    assert.equal(p.res.status, 200, p.res.text);
    const m = p.res.json.events.find((e) => e.type === 'message');
    assert.ok(m, `${what} #${i} got the message: ${p.res.text}`);
    assert.equal(m.data.message.id, message.id);
  });
}

test('one session: polls past the cap displace the oldest, which answer empty at once', { timeout: 60000 }, async () => {
  const [a, b] = await Promise.all([register('pca'), register('pcb')]);
  await befriend(a, b);
  const since = await head(b);
  const EXTRA = 2;
  const polls = [];
  for (let i = 0; i < PER_SESSION + EXTRA; i++) {
    polls.push(tracked(b, { since, timeout: 30 }));
    await sleep(120); // parked in this order
  }
  await sleep(300);
  const t0 = Date.now();
  // The oldest EXTRA were displaced as the newest parked...
  polls.slice(0, EXTRA).forEach((p, i) => assertEmpty(p, since, `displaced poll #${i}`));
  // ...and the others still wait.
  polls.slice(EXTRA).forEach((p, i) => assert.ok(!p.done, `poll #${EXTRA + i} is still parked: ${p.res && p.res.text}`));
  const m = await sendText(a, b, 'to every parked poll');
  await assertWoken(polls.slice(EXTRA), m, 'parked poll');
  assert.ok(Date.now() - t0 < 5000, 'the parked polls woke promptly');
});

test('one user over several sessions: the user cap displaces the oldest of all', { timeout: 60000 }, async () => {
  const [a, b] = await Promise.all([register('pua'), register('pub')]);
  await befriend(a, b);
  // Enough sessions that the user's cap is reached while no session
  // reaches its own.
  const perSession = Math.max(1, PER_SESSION - 1);
  const nsessions = Math.floor(PER_USER / perSession) + 1;
  const sessions = [b];
  for (let i = 1; i < nsessions; i++) sessions.push(await login(b));
  const since = await head(b);
  const polls = [];
  for (const s of sessions) {
    for (let i = 0; i < perSession; i++) {
      polls.push(tracked(s, { since, timeout: 30 }));
      await sleep(40);
    }
  }
  await sleep(500);
  const extra = polls.length - PER_USER;
  assert.ok(extra > 0);
  polls.slice(0, extra).forEach((p, i) => assertEmpty(p, since, `displaced poll #${i}`));
  polls.slice(extra).forEach((p, i) => assert.ok(!p.done, `poll #${extra + i} is still parked: ${p.res && p.res.text}`));
  const m = await sendText(a, b, 'to the newest polls');
  await assertWoken(polls.slice(extra), m, 'parked poll');
});

test('a user parking 2,000 polls holds at most the cap, and another user\'s poll still wakes at once', { timeout: 180000 }, async (t) => {
  const [x, y] = await Promise.all([register('pfx'), register('pfy')]);
  await befriend(x, y);
  // Both online first: their presence events must not wake the polls.
  await Promise.all([head(x), head(y)]);
  await sleep(300);
  const [sx, sy] = await Promise.all([head(x), head(y)]);
  const victim = tracked(y, { since: sy, timeout: 50 });
  await sleep(200);

  const TOTAL = 2000;
  const BATCH = 100;
  const flood = [];
  const outstanding = () => flood.filter((p) => !p.done).length;
  let maxOutstanding = 0;
  for (let sent = 0; sent < TOTAL; sent += BATCH) {
    for (let i = 0; i < BATCH; i++) flood.push(tracked(x, { since: sx, timeout: 50 }));
    // Bounded: the batch is answered (all but the cap) before the next.
    const end = Date.now() + 20000;
    while (outstanding() > PER_SESSION && Date.now() < end) await sleep(50);
    maxOutstanding = Math.max(maxOutstanding, outstanding());
    assert.ok(outstanding() <= PER_SESSION, `after ${sent + BATCH} polls, ${outstanding()} are still held (cap ${PER_SESSION})`);
  }
  const answered = flood.filter((p) => p.done);
  for (const p of answered) {
    assert.equal(p.err, null, String(p.err));
    assert.equal(p.res.status, 200, p.res.text);
    assert.deepEqual(p.res.json, { events: [], next: sx });
  }
  assert.ok(!victim.done, `the other user's poll is still parked: ${victim.res && victim.res.text}`);
  // The flooder's last parked polls are woken like any others: by the
  // same message, which is in the sender's stream too. (Taken before the
  // send: one woken but not yet answered would otherwise pass for parked.)
  const last = flood.filter((p) => !p.done);
  const t0 = Date.now();
  const m = await sendText(x, y, 'through the flood');
  await assertWoken([victim], m, "the other user's poll");
  const ms = victim.at - t0;
  assert.ok(ms < 2000, `woken after ${ms} ms`);
  await assertWoken(last, m, 'flooder poll');
  t.diagnostic(`${TOTAL} polls, at most ${maxOutstanding} held after a batch; the other user's poll woke in ${ms} ms`);
});
