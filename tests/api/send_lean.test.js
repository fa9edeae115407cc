// The lean send path (sql/020, issue 14): the pair state it reads is kept
// by triggers, so friendships and blocks written by any writer (here plain
// SQL, as the bench and admin functions do) decide the next send; the
// client_id is made unique by the index (ON CONFLICT), also across
// conversations, without a gap in the losing conversation's seq; the
// events of a deleted user go with the user (no foreign key any more); the
// conversations rules hold without their CHECK constraints.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { register, befriend, assertError, stack } = require('../lib.js');
const { send, sendText, allMessages } = require('../chat.js');

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}
const text = (to, t, extra = {}) => Object.assign({ to: to.user.id, type: 'text', body: { text: t } }, extra);

test('friendships and blocks written in plain SQL decide the next send', async () => {
  const [a, b] = await Promise.all([register('sla'), register('slb')]);
  await befriend(a, b);
  await sendText(a, b, 'first'); // the conversation exists: the short path
  const A = a.user.id, B = b.user.id;

  psql(`INSERT INTO blocks (blocker_id, blocked_id) VALUES (${B}, ${A})`);
  assertError(assert, await send(a, text(b, 'x')), 403, 'not_friends');
  assertError(assert, await send(b, text(a, 'x')), 403, 'blocked');
  psql(`DELETE FROM blocks WHERE blocker_id = ${B} AND blocked_id = ${A}`);
  assert.equal((await send(a, text(b, 'unblocked'))).status, 201);

  psql(`INSERT INTO blocks (blocker_id, blocked_id) VALUES (${A}, ${B})`);
  assertError(assert, await send(a, text(b, 'x')), 403, 'blocked');
  assertError(assert, await send(b, text(a, 'x')), 403, 'not_friends');
  psql(`DELETE FROM blocks WHERE blocker_id = ${A}`);

  // One direction of a friendship is what the sender's side checks.
  psql(`DELETE FROM friendships WHERE user_id = ${A} AND friend_id = ${B}`);
  assertError(assert, await send(a, text(b, 'x')), 403, 'not_friends');
  assert.equal((await send(b, text(a, 'half'))).status, 201);
  psql(`DELETE FROM friendships WHERE user_id = ${B} AND friend_id = ${A}`);
  assertError(assert, await send(b, text(a, 'x')), 403, 'not_friends');
  psql(`INSERT INTO friendships (user_id, friend_id) VALUES (${A}, ${B}), (${B}, ${A})`);
  const m = await sendText(a, b, 'again');

  const all = await allMessages(a, m.conversation_id);
  assert.deepEqual(all.map((x) => x.body.text), ['first', 'unblocked', 'half', 'again']);
  assert.deepEqual(all.map((x) => x.seq), [1, 2, 3, 4]);
});

test('one client_id sent at once to two friends: one message, every answer the same, no seq gap', async () => {
  const [a, b, c] = await Promise.all([register('slc'), register('sld'), register('sle')]);
  await Promise.all([befriend(a, b), befriend(a, c)]);
  await Promise.all([sendText(a, b, 'b1'), sendText(a, c, 'c1')]);
  const burst = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    send(a, text(i % 2 ? b : c, 'burst-' + i, { client_id: 'twice' }))));
  assert.deepEqual(burst.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201],
    burst.map((r) => r.text).join('\n'));
  const ids = new Set(burst.map((r) => r.json.message.id));
  assert.equal(ids.size, 1);
  const won = burst.find((r) => r.status === 201).json.message;
  for (const r of burst) assert.deepEqual(r.json.message, won);

  // The losing conversation gave its seq back: its next message is 2.
  const [nb, nc] = await Promise.all([sendText(a, b, 'b-next'), sendText(a, c, 'c-next')]);
  const seqs = [nb, nc].map((x) => x.seq).sort();
  assert.deepEqual(seqs, [2, 3], 'the conversation that stored the message is at 3, the other at 2');
  for (const x of [nb, nc]) {
    const all = await allMessages(a, x.conversation_id);
    assert.deepEqual(all.map((y) => y.seq), all.map((_, i) => i + 1));
  }
});

test('a duplicate client_id still answers 200 after the pair was blocked', async () => {
  const [a, b] = await Promise.all([register('slf'), register('slg')]);
  await befriend(a, b);
  const first = await send(a, text(b, 'once', { client_id: 'k1' }));
  assert.equal(first.status, 201, first.text);
  psql(`INSERT INTO blocks (blocker_id, blocked_id) VALUES (${b.user.id}, ${a.user.id})`);
  const again = await send(a, text(b, 'once', { client_id: 'k1' }));
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.json.message, first.json.message);
});

test("a deleted user's events go with the user", async () => {
  const [a, b] = await Promise.all([register('slh'), register('sli')]);
  await befriend(a, b);
  await sendText(a, b, 'to be gone');
  const B = b.user.id;
  assert.ok(Number(psql(`SELECT count(*) FROM events WHERE user_id = ${B}`)) > 0);
  psql(`DELETE FROM users WHERE id = ${B}`);
  assert.equal(psql(`SELECT count(*) FROM events WHERE user_id = ${B}`), '0');
  assert.equal(psql(`SELECT count(*) FROM pairs WHERE ${B} IN (user_lo, user_hi)`), '0');
});

test('the conversations rules hold as before (now a trigger, not CHECK constraints)', async () => {
  const [a, b] = await Promise.all([register('slj'), register('slk')]);
  await befriend(a, b);
  const m = await sendText(a, b, 'hi');
  const C = m.conversation_id;
  assert.throws(() => psql(`UPDATE conversations SET name = 'x' WHERE id = ${C}`),
    /violates check constraint "conversations_check"/);
  assert.throws(() => psql(`UPDATE conversations SET kind = 'nope' WHERE id = ${C}`),
    /conversations_kind_check/);
  assert.throws(() => psql("INSERT INTO conversations (kind, name) VALUES ('group', '')"),
    /conversations_name_check/);
  assert.throws(() => psql("INSERT INTO conversations (kind) VALUES ('group')"),
    /conversations_check/);
  assert.equal(psql("SELECT count(*) FROM conversations WHERE kind = 'nope'"), '0');
});
