// The poll service restarted in the middle of traffic loses nothing.
//
// This restarts the test stack's poll service (scripts/parley
// restart-service poll), so every other test's long polls fail for about a
// second: scripts/test.sh runs tests/api/zz_*.test.js after the others, one
// file at a time.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { register, befriend, stack, stackAsync } = require('../lib.js');
const { send, poll, head, drain } = require('../chat.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pollPid() {
  const m = /^poll: running \(pid (\d+)\)/m.exec(stack('status'));
  assert.ok(m, 'the poll service is running');
  return Number(m[1]);
}

test('restarting the poll service mid-load: every message exactly once, in order', {
  // Restarting a service of a stack this run did not name would hit
  // someone else's.
  skip: !process.env.PARLEY_URL || !process.env.PARLEY_VAR ? 'needs PARLEY_URL and PARLEY_VAR of the test stack' : false,
  timeout: 120000,
}, async (t) => {
  const SENDERS = 4;
  const r = await register('rr');
  const senders = await Promise.all(Array.from({ length: SENDERS }, (_, i) => register('rs' + i)));
  for (const s of senders) await befriend(s, r);
  const since = await head(r);
  const pidBefore = pollPid();

  // The recipient: polls in a loop from `next`; any failure (nginx's 503
  // while the socket is gone, a reset connection) is retried from the same
  // cursor after a short back-off, as a client would.
  const seen = [];
  const failures = [];
  let next = since;
  let total = Infinity; // known once the senders stop
  const poller = (async () => {
    const end = Date.now() + 90000;
    while (seen.filter((e) => e.type === 'message').length < total) {
      assert.ok(Date.now() < end, `poller gave up with ${seen.length} events`);
      let res;
      try {
        res = await poll(r, { since: next, timeout: 2, limit: 40 }, { timeout: 10000 });
      } catch (e) {
        failures.push(e.message);
        await sleep(100);
        continue;
      }
      if (res.status !== 200) {
        assert.ok([502, 503, 504].includes(res.status), `unexpected ${res.status}: ${res.text}`);
        failures.push(res.status);
        await sleep(100);
        continue;
      }
      if (res.json.events.length > 0) {
        assert.equal(res.json.next, res.json.events[res.json.events.length - 1].seq);
        seen.push(...res.json.events);
      } else {
        assert.equal(res.json.next, next);
      }
      next = res.json.next;
    }
  })();

  // Senders: each sends one message after another until told to stop.
  const sentBy = new Map(senders.map((s) => [s.user.id, []]));
  let stop = false;
  const sending = Promise.all(senders.map(async (s) => {
    for (let i = 0; !stop; i++) {
      const res = await send(s, { to: r.user.id, client_id: 'r-' + i, type: 'text', body: { text: `${s.user.id}:${i}` } });
      assert.equal(res.status, 201, res.text);
      sentBy.get(s.user.id).push(res.json.message);
      await sleep(10);
    }
  }));

  const count = () => [...sentBy.values()].reduce((n, l) => n + l.length, 0);
  // Restart once traffic flows: the poller has received messages. (Right
  // after zz_db_outage the poll service may still be re-establishing its
  // LISTEN connection, so the first wake-ups can take a second.)
  const flowing = Date.now() + 15000;
  while (!seen.some((e) => e.type === 'message')) {
    assert.ok(Date.now() < flowing, 'no message reached the poller within 15 s');
    await sleep(50);
  }
  await sleep(200);
  const before = seen.length;
  const sentBefore = count();
  await stackAsync('restart-service', 'poll');
  const sentDuring = count() - sentBefore;
  await sleep(600);
  stop = true;
  await sending;
  total = count();
  await poller;

  const pidAfter = pollPid();
  assert.notEqual(pidAfter, pidBefore, 'the poll service was restarted');
  assert.ok(before > 0, 'events arrived before the restart');
  assert.ok(sentDuring > 0, 'messages were sent while the poll service restarted');

  // Nothing more arrives afterwards.
  const after = await drain(r, next);
  assert.deepEqual(after.events.filter((e) => e.type === 'message'), []);

  // Every event once, seqs consecutive from the starting cursor.
  seen.forEach((e, i) => assert.equal(e.seq, since + 1 + i, `event #${i} has seq ${e.seq}`));
  const msgs = seen.filter((e) => e.type === 'message').map((e) => e.data.message);
  const all = [].concat(...sentBy.values());
  const ids = msgs.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, 'no message arrives twice');
  assert.deepEqual([...ids].sort((x, y) => x - y), all.map((m) => m.id).sort((x, y) => x - y), 'every message arrives');
  for (const [from, list] of sentBy) {
    assert.deepEqual(msgs.filter((m) => m.from === from).map((m) => m.id), list.map((m) => m.id), `sender ${from}'s order`);
  }
  // The restarted service serves long polls again: a fresh one wakes.
  const waiting = poll(r, { since: next, timeout: 10 });
  await sleep(300);
  const m = await send(senders[0], { to: r.user.id, type: 'text', body: { text: 'after the restart' } });
  assert.equal(m.status, 201, m.text);
  const woke = await waiting;
  assert.equal(woke.status, 200, woke.text);
  assert.deepEqual(woke.json.events.find((e) => e.type === 'message').data.message, m.json.message);
  t.diagnostic(`${total} messages, ${failures.length} failed polls, ${sentDuring} messages sent during the restart: ${failures.slice(0, 5).join(', ')}`);
});
