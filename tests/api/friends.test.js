// Friends service, black box: friend requests (send, list, accept, reject,
// cancel, crossing), the friend list, ending a friendship. Blocks are in
// friends_blocks.test.js; helpers in tests/friends.js. Every test uses fresh
// users.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, uniqueName, assertError } = require('../lib.js');
const {
  BIG_ID, ISO, accept, ask, assertFriends, assertNoPending,
  assertNotFriends, assertUser, blocks, cancel, friendIds, friends, ids,
  reject, requests, sent, unfriend,
} = require('../friends.js');

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
