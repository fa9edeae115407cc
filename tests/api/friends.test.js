// Friends service, black box: friend requests (send, list, accept, reject,
// cancel), the friend list, and blocks. Every test uses fresh users.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, uniqueName, assertError } = require('../lib.js');

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const BIG_ID = 9007199254740991; // 2^53 - 1: valid, but nobody has it

// --- helpers ---------------------------------------------------------------

function ask(from, body) {
  return api.post('/api/v1/friends/requests', { token: from.token, json: body });
}
function accept(who, id) {
  return api.post(`/api/v1/friends/requests/${id}/accept`, { token: who.token });
}
function reject(who, id) {
  return api.post(`/api/v1/friends/requests/${id}/reject`, { token: who.token });
}
function cancel(who, id) {
  return api.del(`/api/v1/friends/requests/${id}`, { token: who.token });
}
function unfriend(who, id) {
  return api.del(`/api/v1/friends/${id}`, { token: who.token });
}
function block(who, id) {
  return api.post('/api/v1/blocks', { token: who.token, json: { user_id: id } });
}
function unblock(who, id) {
  return api.del(`/api/v1/blocks/${id}`, { token: who.token });
}

async function requests(u) {
  const r = await api.get('/api/v1/friends/requests', { token: u.token });
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json.incoming), r.text);
  assert.ok(Array.isArray(r.json.outgoing), r.text);
  return r.json;
}
async function friends(u) {
  const r = await api.get('/api/v1/friends', { token: u.token });
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json.friends), r.text);
  return r.json.friends;
}
async function friendIds(u) {
  return (await friends(u)).map((f) => f.id);
}
async function blocks(u) {
  const r = await api.get('/api/v1/blocks', { token: u.token });
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json.blocks), r.text);
  return r.json.blocks;
}
const ids = (list) => list.map((x) => x.id);

// Sends a request that must succeed; returns the request object.
async function sent(from, to, memo) {
  const body = { user_id: to.user.id };
  if (memo !== undefined) body.memo = memo;
  const r = await ask(from, body);
  assert.equal(r.status, 201, r.text);
  return r.json.request;
}

function assertUser(actual, u) {
  assert.deepEqual(actual, {
    id: u.user.id, username: u.user.username, display_name: u.user.display_name,
  });
}

// Neither side has any pending request involving the other, and the
// outsider lists nothing either.
async function assertNoPending(a, b) {
  const ra = await requests(a);
  const rb = await requests(b);
  for (const x of [...ra.incoming, ...ra.outgoing])
    assert.notEqual(x.user.id, b.user.id, 'pending request left: ' + JSON.stringify(x));
  for (const x of [...rb.incoming, ...rb.outgoing])
    assert.notEqual(x.user.id, a.user.id, 'pending request left: ' + JSON.stringify(x));
}

async function assertFriends(a, b) {
  assert.ok((await friendIds(a)).includes(b.user.id), `${a.user.username} lists ${b.user.username}`);
  assert.ok((await friendIds(b)).includes(a.user.id), `${b.user.username} lists ${a.user.username}`);
}
async function assertNotFriends(a, b) {
  assert.ok(!(await friendIds(a)).includes(b.user.id), `${a.user.username} does not list ${b.user.username}`);
  assert.ok(!(await friendIds(b)).includes(a.user.id), `${b.user.username} does not list ${a.user.username}`);
}

// --- sending ---------------------------------------------------------------

test('request by user_id with memo: 201, both parties see it from their side', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  const r = await ask(a, { user_id: b.user.id, memo: 'hi, it is me' });
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers['content-type'], /application\/json/);
  const q = r.json.request;
  assert.equal(typeof q.id, 'number');
  assert.ok(q.id > 0);
  assert.equal(q.from, a.user.id);
  assert.equal(q.to, b.user.id);
  assert.equal(q.memo, 'hi, it is me');
  assert.equal(q.state, 'pending');
  assert.match(q.created_at, ISO);
  assertUser(q.user, b); // the other party, seen by the sender
  assert.deepEqual(Object.keys(q).sort(), ['created_at', 'from', 'id', 'memo', 'state', 'to', 'user']);

  const rb = await requests(b);
  assert.equal(rb.outgoing.length, 0);
  assert.equal(rb.incoming.length, 1);
  assert.deepEqual(rb.incoming[0], Object.assign({}, q, {
    user: { id: a.user.id, username: a.user.username, display_name: a.user.display_name },
  }));

  const ra = await requests(a);
  assert.equal(ra.incoming.length, 0);
  assert.deepEqual(ra.outgoing, [q]);

  // Not friends yet.
  assert.deepEqual(await friends(a), []);
  assert.deepEqual(await friends(b), []);
});

test('request by username is case-insensitive; memo defaults to empty', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  const r = await ask(a, { username: b.user.username.toUpperCase() });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.request.to, b.user.id);
  assert.equal(r.json.request.memo, '');
  assertUser(r.json.request.user, b);
  assert.deepEqual(ids((await requests(b)).incoming), [r.json.request.id]);
});

test('memo: newline allowed, 200 characters allowed, 201 or a control character refused', async () => {
  const [a, b, c, d, e, f] = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((p) => register('m' + p)));
  // A newline (and tab) is fine and kept as given.
  const nl = await ask(a, { user_id: b.user.id, memo: 'line one\nline\ttwo' });
  assert.equal(nl.status, 201, nl.text);
  assert.equal(nl.json.request.memo, 'line one\nline\ttwo');
  assert.equal((await requests(b)).incoming[0].memo, 'line one\nline\ttwo');

  // 200 characters, counted as characters (2-byte and 4-byte UTF-8).
  const max = 'é'.repeat(100) + '😀'.repeat(100);
  const ok = await ask(c, { user_id: d.user.id, memo: max });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.request.memo, max);

  assertError(assert, await ask(e, { user_id: f.user.id, memo: 'x'.repeat(201) }), 400, 'invalid_field');
  assertError(assert, await ask(e, { user_id: f.user.id, memo: 'é'.repeat(201) }), 400, 'invalid_field');
  assertError(assert, await ask(e, { user_id: f.user.id, memo: 'bell\u0007' }), 400, 'invalid_field');
  assertError(assert, await ask(e, { user_id: f.user.id, memo: 'nul\u0000' }), 400);
  assertError(assert, await ask(e, { user_id: f.user.id, memo: 'c1\u0085' }), 400, 'invalid_field');
  assertError(assert, await ask(e, { user_id: f.user.id, memo: 42 }), 400, 'invalid_field');
  // None of the refused requests exists.
  assert.deepEqual(await requests(e), { incoming: [], outgoing: [] });
  assert.deepEqual(await requests(f), { incoming: [], outgoing: [] });
});

test('bad targets: self, both/neither fields, wrong types, unknown users', async () => {
  const a = await register('fa');
  const b = await register('fb');
  assertError(assert, await ask(a, { user_id: a.user.id }), 400, 'cannot_befriend_self');
  assertError(assert, await ask(a, { username: a.user.username.toUpperCase() }), 400, 'cannot_befriend_self');
  assertError(assert, await ask(a, { user_id: b.user.id, username: b.user.username }), 400);
  assertError(assert, await ask(a, {}), 400);
  assertError(assert, await ask(a, { memo: 'hello' }), 400);
  assertError(assert, await ask(a, { user_id: String(b.user.id) }), 400, 'invalid_field');
  assertError(assert, await ask(a, { user_id: '5' }), 400, 'invalid_field');
  assertError(assert, await ask(a, { user_id: 0 }), 400, 'invalid_field');
  assertError(assert, await ask(a, { user_id: -1 }), 400, 'invalid_field');
  assertError(assert, await ask(a, { user_id: -b.user.id }), 400, 'invalid_field');
  assertError(assert, await ask(a, { user_id: b.user.id + 0.5 }), 400, 'invalid_field');
  assertError(assert, await ask(a, { user_id: true }), 400, 'invalid_field');
  assertError(assert, await ask(a, { user_id: [b.user.id] }), 400, 'invalid_field');
  assertError(assert, await ask(a, { user_id: 2 ** 60 }), 400, 'invalid_field');
  assertError(assert, await ask(a, { username: 42 }), 400, 'invalid_field');
  assertError(assert, await ask(a, { username: '' }), 400);
  assertError(assert, await ask(a, { user_id: BIG_ID }), 404, 'user_not_found');
  assertError(assert, await ask(a, { username: uniqueName('ghost') }), 404, 'user_not_found');
  assertError(assert, await ask(a, { username: 'no such user!' }), 404, 'user_not_found');
  assertError(assert, await ask(a, { username: 'x'.repeat(64) }), 404, 'user_not_found');
  // Bodies that are not a JSON object.
  assertError(assert, await api.post('/api/v1/friends/requests', { token: a.token, body: '{"user_id":' }), 400);
  assertError(assert, await api.post('/api/v1/friends/requests', { token: a.token, body: '[1]' }), 400);
  assertError(assert, await api.post('/api/v1/friends/requests', { token: a.token }), 400);
  // Nothing was created by any of it.
  assert.deepEqual(await requests(a), { incoming: [], outgoing: [] });
  assert.deepEqual(await requests(b), { incoming: [], outgoing: [] });
});

test('every route needs a session: 401 without or with a bad token', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  const q = await sent(a, b);
  const calls = [
    () => api.post('/api/v1/friends/requests', { json: { user_id: b.user.id } }),
    () => api.get('/api/v1/friends/requests'),
    () => api.post(`/api/v1/friends/requests/${q.id}/accept`),
    () => api.post(`/api/v1/friends/requests/${q.id}/reject`),
    () => api.del(`/api/v1/friends/requests/${q.id}`),
    () => api.get('/api/v1/friends'),
    () => api.del(`/api/v1/friends/${a.user.id}`),
    () => api.post('/api/v1/blocks', { json: { user_id: a.user.id } }),
    () => api.get('/api/v1/blocks'),
    () => api.del(`/api/v1/blocks/${a.user.id}`),
  ];
  for (const call of calls) assertError(assert, await call(), 401);
  assertError(assert, await api.get('/api/v1/friends', { token: 'not-a-real-token' }), 401);
  // The request is untouched.
  assert.deepEqual(ids((await requests(b)).incoming), [q.id]);
  assert.deepEqual(await blocks(a), []);
});

test('duplicate request -> 409 request_pending; friends -> 409 already_friends', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  const q = await sent(a, b);
  assertError(assert, await ask(a, { user_id: b.user.id }), 409, 'request_pending');
  assertError(assert, await ask(a, { username: b.user.username.toUpperCase() }), 409, 'request_pending');
  assert.deepEqual(ids((await requests(a)).outgoing), [q.id]);
  assert.deepEqual(ids((await requests(b)).incoming), [q.id]);

  assert.equal((await accept(b, q.id)).status, 200);
  assertError(assert, await ask(a, { user_id: b.user.id }), 409, 'already_friends');
  assertError(assert, await ask(b, { user_id: a.user.id }), 409, 'already_friends');
  await assertNoPending(a, b);
});

// --- crossing requests -----------------------------------------------------

test('crossing requests: B asking A back accepts A\'s request (200)', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  const q = await sent(a, b, 'be my friend');
  const r = await ask(b, { user_id: a.user.id, memo: 'sure' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.request.id, q.id);
  assert.equal(r.json.request.state, 'accepted');
  assert.equal(r.json.request.from, a.user.id);
  assert.equal(r.json.request.to, b.user.id);
  assertUser(r.json.request.user, a);
  await assertFriends(a, b);
  await assertNoPending(a, b);
  // Accepting the merged request again is not possible.
  assertError(assert, await accept(b, q.id), 409, 'request_not_pending');
});

test('crossing requests sent at the same moment always end as friends', async () => {
  const pairs = await Promise.all(Array.from({ length: 10 }, async () =>
    [await register('xa'), await register('xb')]));
  await Promise.all(pairs.map(async ([a, b]) => {
    const [ra, rb] = await Promise.all([
      ask(a, { user_id: b.user.id }),
      ask(b, { user_id: a.user.id }),
    ]);
    const statuses = [ra.status, rb.status].sort();
    assert.deepEqual(statuses, [200, 201], ra.text + ' / ' + rb.text);
    const accepted = ra.status === 200 ? ra : rb;
    assert.equal(accepted.json.request.state, 'accepted');
  }));
  for (const [a, b] of pairs) {
    await assertFriends(a, b);
    await assertNoPending(a, b);
  }
});

// --- accept / reject -------------------------------------------------------

test('accept: only the recipient; once; then both friend lists show each other', async () => {
  const [a, b, c] = await Promise.all([register('fa'), register('fb'), register('fc')]);
  const q = await sent(a, b, 'hello');
  assertError(assert, await accept(a, q.id), 403, 'not_recipient');
  assertError(assert, await reject(a, q.id), 403, 'not_recipient');
  // An outsider cannot tell the request exists.
  const out = await accept(c, q.id);
  assertError(assert, out, 404, 'request_not_found');
  const missing = await accept(c, BIG_ID);
  assertError(assert, missing, 404, 'request_not_found');
  assert.deepEqual(ids((await requests(b)).incoming), [q.id]);

  const r = await accept(b, q.id);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.request.id, q.id);
  assert.equal(r.json.request.state, 'accepted');
  assert.equal(r.json.request.memo, 'hello');
  assertUser(r.json.request.user, a);

  assertError(assert, await accept(b, q.id), 409, 'request_not_pending');
  assertError(assert, await reject(b, q.id), 409, 'request_not_pending');
  assertError(assert, await cancel(a, q.id), 409, 'request_not_pending');

  const fa = await friends(a);
  const fb = await friends(b);
  assert.equal(fa.length, 1);
  assert.equal(fb.length, 1);
  assert.deepEqual({ id: fa[0].id, username: fa[0].username, display_name: fa[0].display_name },
    { id: b.user.id, username: b.user.username, display_name: b.user.display_name });
  assert.deepEqual({ id: fb[0].id, username: fb[0].username, display_name: fb[0].display_name },
    { id: a.user.id, username: a.user.username, display_name: a.user.display_name });
  assert.match(fa[0].since, ISO);
  assert.match(fb[0].since, ISO);
  assert.deepEqual(await requests(a), { incoming: [], outgoing: [] });
  assert.deepEqual(await requests(b), { incoming: [], outgoing: [] });
  assert.deepEqual(await friends(c), []);
});

test('reject: state rejected, not friends, and the sender may ask again', async () => {
  const [a, b] = await Promise.all([register('fa'), register('fb')]);
  const q = await sent(a, b);
  const r = await reject(b, q.id);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.request.id, q.id);
  assert.equal(r.json.request.state, 'rejected');
  assertUser(r.json.request.user, a);
  await assertNotFriends(a, b);
  await assertNoPending(a, b);
  assertError(assert, await reject(b, q.id), 409, 'request_not_pending');
  assertError(assert, await accept(b, q.id), 409, 'request_not_pending');

  const again = await ask(a, { user_id: b.user.id, memo: 'second try' });
  assert.equal(again.status, 201, again.text);
  assert.notEqual(again.json.request.id, q.id);
  assert.equal(again.json.request.state, 'pending');
  assert.deepEqual(ids((await requests(b)).incoming), [again.json.request.id]);
  assert.equal((await accept(b, again.json.request.id)).status, 200);
  await assertFriends(a, b);
});

test('accept/reject/cancel: ids in the path must be positive integers', async () => {
  const a = await register('fa');
  for (const bad of ['abc', '0', '-1', '1.5', '01', '1e3', '99999999999999999999999']) {
    assertError(assert, await api.post(`/api/v1/friends/requests/${bad}/accept`, { token: a.token }), 400, 'invalid_id');
    assertError(assert, await api.post(`/api/v1/friends/requests/${bad}/reject`, { token: a.token }), 400, 'invalid_id');
    assertError(assert, await api.del(`/api/v1/friends/requests/${bad}`, { token: a.token }), 400, 'invalid_id');
    assertError(assert, await api.del(`/api/v1/friends/${bad}`, { token: a.token }), 400, 'invalid_id');
    assertError(assert, await api.del(`/api/v1/blocks/${bad}`, { token: a.token }), 400, 'invalid_id');
  }
  assertError(assert, await reject(a, BIG_ID), 404, 'request_not_found');
  assertError(assert, await cancel(a, BIG_ID), 404, 'request_not_found');
});

// --- cancel ----------------------------------------------------------------

test('cancel: sender only; the request disappears from both lists', async () => {
  const [a, b, c] = await Promise.all([register('fa'), register('fb'), register('fc')]);
  const q = await sent(a, b);
  assertError(assert, await cancel(b, q.id), 403, 'not_sender');
  assertError(assert, await cancel(c, q.id), 404, 'request_not_found');
  assert.deepEqual(ids((await requests(b)).incoming), [q.id]);

  const r = await cancel(a, q.id);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  assert.deepEqual(await requests(a), { incoming: [], outgoing: [] });
  assert.deepEqual(await requests(b), { incoming: [], outgoing: [] });
  // Gone for good: no second cancel, the recipient cannot accept it.
  assertError(assert, await cancel(a, q.id), 409, 'request_not_pending');
  assertError(assert, await accept(b, q.id), 409, 'request_not_pending');
  await assertNotFriends(a, b);
  // A new request works.
  const q2 = await sent(a, b);
  assert.notEqual(q2.id, q.id);
});

// --- another user's requests -----------------------------------------------

test('an outsider can neither see nor touch a request between two others', async () => {
  const [a, b, c] = await Promise.all([register('fa'), register('fb'), register('fc')]);
  const q = await sent(a, b, 'private');
  assertError(assert, await accept(c, q.id), 404, 'request_not_found');
  assertError(assert, await reject(c, q.id), 404, 'request_not_found');
  assertError(assert, await cancel(c, q.id), 404, 'request_not_found');
  // The outsider's 404 reads the same as for an id nobody has.
  const seen = await accept(c, q.id);
  const none = await accept(c, BIG_ID);
  assert.equal(seen.json.error.code, none.json.error.code);
  assert.deepEqual(await requests(c), { incoming: [], outgoing: [] });
  // Still pending and intact for its parties.
  const rb = await requests(b);
  assert.deepEqual(ids(rb.incoming), [q.id]);
  assert.equal(rb.incoming[0].state, 'pending');
  assert.equal(rb.incoming[0].memo, 'private');
  assert.deepEqual(ids((await requests(a)).outgoing), [q.id]);
  await assertNotFriends(a, b);
  assert.deepEqual(await friends(c), []);
});

// --- ending a friendship ---------------------------------------------------

test('DELETE /friends/{id}: ends the friendship for both; then 404 not_friends', async () => {
  const [a, b, c] = await Promise.all([register('fa'), register('fb'), register('fc')]);
  await befriend(a, b);
  await befriend(a, c);
  await assertFriends(a, b);

  const r = await unfriend(b, a.user.id);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  await assertNotFriends(a, b);
  // A's other friendship is untouched.
  assert.deepEqual(await friendIds(a), [c.user.id]);
  assert.deepEqual(await friendIds(c), [a.user.id]);

  assertError(assert, await unfriend(b, a.user.id), 404, 'not_friends');
  assertError(assert, await unfriend(a, b.user.id), 404, 'not_friends');
  // Strangers and unknown ids.
  assertError(assert, await unfriend(b, c.user.id), 404, 'not_friends');
  assertError(assert, await unfriend(b, BIG_ID), 404, 'not_friends');
  assertError(assert, await unfriend(b, b.user.id), 404, 'not_friends');
  // They may become friends again.
  await befriend(b, a);
  await assertFriends(a, b);
});

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
