// Friends service, black box: blocks (list, block, unblock) and what they do
// to friendships and requests in both directions, also when they race.
// Helpers in tests/friends.js. Every test uses fresh users.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, assertError } = require('../lib.js');
const {
  BIG_ID, ISO, accept, ask, assertFriends, assertNoPending,
  assertNotFriends, assertUser, block, blocks, cancel, ids, reject,
  requests, sent, unblock, unfriend,
} = require('../friends.js');

// --- blocks ----------------------------------------------------------------

test('block: 201 then 200; listed; self/unknown/bad input refused', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  const r = await block(a, b.user.id);
  assert.equal(r.status, 201, r.text);
  assertUser(r.json.block.user, b);
  assert.match(r.json.block.created_at, ISO);
  assert.deepEqual(Object.keys(r.json.block).sort(), ['created_at', 'user']);

  const again = await block(a, b.user.id);
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.json.block, r.json.block);

  const list = await blocks(a);
  assert.deepEqual(list, [r.json.block]);
  // Only the blocker's list shows it.
  assert.deepEqual(await blocks(b), []);

  assertError(assert, await block(a, a.user.id), 400, 'cannot_block_self');
  assertError(assert, await block(a, BIG_ID), 404, 'user_not_found');
  assertError(assert, await block(a, '5'), 400);
  assertError(assert, await block(a, 0), 400);
  assertError(assert, await block(a, -2), 400);
  assertError(assert, await api.post('/api/v1/blocks', { token: a.token, json: {} }), 400);
  assertError(assert, await api.post('/api/v1/blocks', { token: a.token, body: 'nope' }), 400);
  assert.deepEqual(await blocks(a), [r.json.block]);
});

test('blocking a friend ends the friendship for both', async () => {
  const [a, b, c] = await Promise.all([register('fa'), register('fb'), register('fc')]);
  await befriend(a, b);
  await befriend(b, c);
  assert.equal((await block(a, b.user.id)).status, 201);
  await assertNotFriends(a, b);
  // B's other friendships are untouched.
  await assertFriends(b, c);
  // The blocked user cannot remove what is no longer there.
  assertError(assert, await unfriend(b, a.user.id), 404, 'not_friends');
});

test('blocking cancels pending requests in both directions', async () => {
  const [a, b, c] = await Promise.all([register('fa'), register('fb'), register('fc')]);
  const toB = await sent(a, b); // A -> B
  const fromC = await sent(c, a); // C -> A
  assert.equal((await block(a, b.user.id)).status, 201);
  assert.equal((await block(a, c.user.id)).status, 201);
  assert.deepEqual(await requests(a), { incoming: [], outgoing: [] });
  assert.deepEqual(await requests(b), { incoming: [], outgoing: [] });
  assert.deepEqual(await requests(c), { incoming: [], outgoing: [] });
  // The old requests cannot be acted on any more.
  assertError(assert, await accept(b, toB.id), 409, 'request_not_pending');
  assertError(assert, await accept(a, fromC.id), 409, 'request_not_pending');
  assertError(assert, await cancel(c, fromC.id), 409, 'request_not_pending');
  await assertNotFriends(a, b);
  await assertNotFriends(a, c);
});

test('the blocker cannot send to the blocked user (403 blocked)', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  assert.equal((await block(a, b.user.id)).status, 201);
  assertError(assert, await ask(a, { user_id: b.user.id }), 403, 'blocked');
  assertError(assert, await ask(a, { username: b.user.username }), 403, 'blocked');
  assert.deepEqual(await requests(a), { incoming: [], outgoing: [] });
  assert.deepEqual(await requests(b), { incoming: [], outgoing: [] });
});

test('a blocked user\'s request looks sent but never reaches the blocker', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  assert.equal((await block(a, b.user.id)).status, 201);

  const r = await ask(b, { user_id: a.user.id, memo: 'please' });
  assert.equal(r.status, 201, r.text);
  const q = r.json.request;
  assert.equal(q.state, 'pending');
  assert.equal(q.from, b.user.id);
  assert.equal(q.to, a.user.id);
  assertUser(q.user, a);
  // From the sender's side it is an ordinary pending request.
  assert.deepEqual((await requests(b)).outgoing, [q]);
  assertError(assert, await ask(b, { user_id: a.user.id }), 409, 'request_pending');

  // The blocker never sees it and cannot act on it.
  assert.deepEqual(await requests(a), { incoming: [], outgoing: [] });
  assertError(assert, await accept(a, q.id), 404, 'request_not_found');
  assertError(assert, await reject(a, q.id), 404, 'request_not_found');
  assertError(assert, await cancel(a, q.id), 404, 'request_not_found');
  await assertNotFriends(a, b);
  // Still pending for the sender, who may cancel it.
  assert.deepEqual(ids((await requests(b)).outgoing), [q.id]);
  assert.equal((await cancel(b, q.id)).status, 204);
  assert.deepEqual(await requests(b), { incoming: [], outgoing: [] });
});

test('unblock: 204 then 404; afterwards requests work normally both ways', async () => {
  const [a, b, c] = await Promise.all([register('fa'), register('fb'), register('fc')]);
  assert.equal((await block(a, b.user.id)).status, 201);
  assert.equal((await block(a, c.user.id)).status, 201);

  const r = await unblock(a, b.user.id);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  assertError(assert, await unblock(a, b.user.id), 404, 'not_blocked');
  assertError(assert, await unblock(b, a.user.id), 404, 'not_blocked');
  assertError(assert, await unblock(a, BIG_ID), 404, 'not_blocked');
  assert.deepEqual(ids((await blocks(a)).map((x) => x.user)), [c.user.id]);

  // The former blocker asks, the other accepts.
  const q = await sent(a, b);
  assert.deepEqual(ids((await requests(b)).incoming), [q.id]);
  assert.equal((await accept(b, q.id)).status, 200);
  await assertFriends(a, b);

  // The other direction: the formerly blocked user asks and is seen.
  assert.equal((await unblock(a, c.user.id)).status, 204);
  const q2 = await sent(c, a);
  assert.deepEqual(ids((await requests(a)).incoming), [q2.id]);
  assert.equal((await accept(a, q2.id)).status, 200);
  await assertFriends(a, c);
  assert.deepEqual(await blocks(a), []);
});

// A request sent while blocked is silent. Unblocking ends it: the former
// blocker never sees it, the sender sees it go like a declined request,
// and nothing stale is left pending next to a new request or a friendship.
test('a request sent while blocked ends on unblock; the sender may ask again', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  assert.equal((await block(a, b.user.id)).status, 201);
  const silent = await sent(b, a);
  assert.deepEqual(ids((await requests(b)).outgoing), [silent.id]);
  assert.equal((await unblock(a, b.user.id)).status, 204);

  assert.deepEqual(await requests(a), { incoming: [], outgoing: [] });
  assert.deepEqual(await requests(b), { incoming: [], outgoing: [] });
  assertError(assert, await accept(a, silent.id), 404, 'request_not_found');

  const q = await sent(b, a, 'hello again');
  assert.deepEqual(ids((await requests(a)).incoming), [q.id]);
  assert.equal((await accept(a, q.id)).status, 200);
  await assertFriends(a, b);
  await assertNoPending(a, b);
});

test('after unblocking, the former blocker\'s request leaves nothing stale pending', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  assert.equal((await block(a, b.user.id)).status, 201);
  await sent(b, a); // silent
  assert.equal((await unblock(a, b.user.id)).status, 204);

  const q = await sent(a, b);
  const rb = await requests(b);
  assert.deepEqual(ids(rb.incoming), [q.id]);
  assert.deepEqual(rb.outgoing, []);
  assert.equal((await accept(b, q.id)).status, 200);
  await assertFriends(a, b);
  await assertNoPending(a, b);
  // Removing the friendship leaves nothing behind either; B can ask anew.
  assert.equal((await unfriend(a, b.user.id)).status, 204);
  await assertNoPending(a, b);
  const again = await sent(b, a);
  assert.deepEqual(ids((await requests(a)).incoming), [again.id]);
});

test('unblocking while the blocked user sends: no request stays hidden', async () => {
  const pairs = await Promise.all(Array.from({ length: 10 }, async () =>
    [await register('ua'), await register('ub')]));
  await Promise.all(pairs.map(async ([a, b]) => {
    assert.equal((await block(a, b.user.id)).status, 201);
    const [u, r] = await Promise.all([
      unblock(a, b.user.id),
      ask(b, { user_id: a.user.id }),
    ]);
    assert.equal(u.status, 204, u.text);
    assert.equal(r.status, 201, r.text);
  }));
  for (const [a, b] of pairs) {
    // Whatever B still sees as pending, A sees too (A blocks nobody now).
    const out = ids((await requests(b)).outgoing);
    const inc = ids((await requests(a)).incoming);
    assert.deepEqual(out, inc);
    // And B can always get through: either the request is live, or a new
    // one is accepted.
    let id = out[0];
    if (id === undefined) id = (await sent(b, a)).id;
    assert.equal((await accept(a, id)).status, 200);
    await assertFriends(a, b);
    await assertNoPending(a, b);
  }
});
