// Coalesced delivery receipts (sql/021, services/poll/poll_receipts.c): an
// acknowledgement queues what it owes in receipt_pending, and the poll
// service's flusher emits it, one transaction per flush.
//
// The tests hold the flusher's advisory lock from a psql session while
// members acknowledge, so the flush that follows its release sees all of
// them at once: deterministic counts, no timing. Holding it stalls every
// receipt of the stack (and one test restarts the poll service), so this
// is a zz_* file: scripts/test.sh runs those one at a time.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { api, register, befriend, stack, stackAsync, ROOT } = require('../lib.js');
const { sendText, sendGroup, poll, head, drain, waitEvent, ofType } = require('../chat.js');

const skip = !process.env.PARLEY_URL || !process.env.PARLEY_VAR ? 'needs PARLEY_URL and PARLEY_VAR of the test stack' : false;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const KEY = "hashtextextended('parley receipts_flush', 21)";

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

// A psql session holding the flusher's lock until release().
async function holdFlusher() {
  const p = spawn(path.join(ROOT, 'scripts/parley'), ['psql', '-qAtX', '-v', 'ON_ERROR_STOP=1'], { env: process.env });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const ended = new Promise((r) => p.on('exit', r));
  p.stdin.write(`SELECT pg_advisory_lock(${KEY}); SELECT 'held';\n`);
  for (let i = 0; !out.includes('held'); i++) {
    assert.ok(i < 200, 'the flusher lock was not taken: ' + err);
    await sleep(50);
  }
  return { async release() { p.stdin.end(); await ended; } };
}

function pending(convId) {
  return Number(psql(`SELECT count(*) FROM receipt_pending WHERE conversation_id = ${Number(convId)}`));
}

// Acknowledges everything u has: reads past `since`, then polls from the
// end (the acknowledgement). Returns the new cursor.
async function ackAll(u, since) {
  const d = await drain(u, since);
  const r = await poll(u, { since: d.next, timeout: 0 });
  assert.equal(r.status, 200, r.text);
  return d.next;
}

// The delivery receipts in u's stream after `since`, once the flush has
// run: waits for the first, then for anything a second flush might add.
async function receiptsAfterFlush(u, since, convId) {
  const w = await waitEvent(u, since, ofType('message.delivered', (d) => d.conversation_id === convId));
  await sleep(300);
  const rest = await drain(u, w.next);
  return w.events.concat(rest.events)
    .filter((e) => e.type === 'message.delivered' && e.data.conversation_id === convId)
    .map((e) => e.data);
}

async function group(owner, members) {
  await Promise.all(members.map((m) => befriend(owner, m)));
  const r = await api.post('/api/v1/groups', {
    token: owner.token,
    json: { name: 'receipts', members: members.map((m) => m.user.id) },
  });
  assert.equal(r.status, 201, r.text);
  return r.json.group.id;
}

test('a group message: the sender gets one message.delivered naming every member, not one per member', { skip, timeout: 60000 }, async () => {
  const N = 24;
  const owner = await register('rg');
  const members = await Promise.all(Array.from({ length: N }, (_, i) => register('rg' + i)));
  const gid = await group(owner, members);
  const heads = await Promise.all(members.map(head));
  const hOwner = await head(owner);
  const m = await sendGroup(owner, gid, 'to everyone');
  const lock = await holdFlusher();
  try {
    await Promise.all(members.map((u, i) => ackAll(u, heads[i])));
    // Owed, kept in the database, not yet told.
    assert.equal(pending(gid), N);
    const early = await drain(owner, hOwner);
    assert.deepEqual(early.events.filter((e) => e.type === 'message.delivered'), []);
  } finally {
    await lock.release();
  }
  const got = await receiptsAfterFlush(owner, hOwner, gid);
  const ids = members.map((u) => u.user.id).sort((a, b) => a - b);
  assert.deepEqual(got, [{ conversation_id: gid, user_id: ids[0], user_ids: ids, seq: m.seq }]);
  assert.equal(pending(gid), 0);
  // The marks themselves were written at the acknowledgement.
  const marks = psql(`SELECT count(*) FROM conversation_members WHERE conversation_id = ${gid} AND delivered_seq = ${m.seq}`);
  assert.equal(Number(marks), N);
});

test('a direct message: the receipt keeps its shape {conversation_id, user_id, seq}', { skip, timeout: 30000 }, async () => {
  const [a, b] = await Promise.all([register('rd'), register('rd')]);
  await befriend(a, b);
  const hb = await head(b);
  const ha = await head(a);
  const m = await sendText(a, b, 'hi');
  const lock = await holdFlusher();
  try {
    await ackAll(b, hb);
    assert.equal(pending(m.conversation_id), 1);
    assert.deepEqual((await drain(a, ha)).events.filter((e) => e.type === 'message.delivered'), []);
  } finally {
    await lock.release();
  }
  const got = await receiptsAfterFlush(a, ha, m.conversation_id);
  assert.deepEqual(got, [{ conversation_id: m.conversation_id, user_id: b.user.id, seq: m.seq }]);
});

test('nobody is told about their own messages; each sender hears of the members who got theirs', { skip, timeout: 30000 }, async () => {
  const [a, b, c] = await Promise.all([register('ro'), register('ro'), register('ro')]);
  const gid = await group(a, [b, c]);
  const h = await Promise.all([a, b, c].map(head));
  const mb = await sendGroup(b, gid, 'from b');
  const ma = await sendGroup(a, gid, 'from a');
  const lock = await holdFlusher();
  try {
    await Promise.all([a, b, c].map((u, i) => ackAll(u, h[i])));
    assert.equal(pending(gid), 3);
  } finally {
    await lock.release();
  }
  const byId = (x, y) => x.user_id - y.user_id || x.seq - y.seq;
  // a: b and c have a's message (the newest).
  const bc = [b.user.id, c.user.id].sort((x, y) => x - y);
  assert.deepEqual(await receiptsAfterFlush(a, h[0], gid),
    [{ conversation_id: gid, user_id: bc[0], user_ids: bc, seq: ma.seq }]);
  // b: a has b's message (a's own later one does not count for a), and c
  // has everything; separate seqs, separate events.
  assert.deepEqual((await receiptsAfterFlush(b, h[1], gid)).sort(byId), [
    { conversation_id: gid, user_id: a.user.id, user_ids: [a.user.id], seq: mb.seq },
    { conversation_id: gid, user_id: c.user.id, user_ids: [c.user.id], seq: ma.seq },
  ].sort(byId));
  // c sent nothing: no receipt at all.
  const cr = (await drain(c, h[2])).events.filter((e) => e.type === 'message.delivered');
  assert.deepEqual(cr, []);
});

test('receipts owed when the poll service restarts before the flush are sent by the next one', { skip, timeout: 90000 }, async () => {
  const [a, b] = await Promise.all([register('rr'), register('rr')]);
  await befriend(a, b);
  const hb = await head(b);
  const ha = await head(a);
  const m = await sendText(a, b, 'across a restart');
  const lock = await holdFlusher();
  try {
    await ackAll(b, hb);
    assert.equal(pending(m.conversation_id), 1);
    // The stopping flusher cannot flush (the lock), so the owed receipt
    // lives only in the database while no poll service runs.
    await stackAsync('restart-service', 'poll');
    assert.equal(pending(m.conversation_id), 1);
  } finally {
    await lock.release();
  }
  let got;
  for (let i = 0; ; i++) {
    try {
      got = await receiptsAfterFlush(a, ha, m.conversation_id);
      break;
    } catch (e) {
      if (i >= 20) throw e;
      await sleep(250); // the new poll service is still coming up
    }
  }
  assert.deepEqual(got, [{ conversation_id: m.conversation_id, user_id: b.user.id, seq: m.seq }]);
  assert.equal(pending(m.conversation_id), 0);
});
