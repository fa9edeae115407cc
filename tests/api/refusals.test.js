// Refusals that reveal nothing (issue 12, item 9): every route that takes
// the id of a call, room, group, friend request, session or user answers
// a stranger's id exactly as an id nobody has (same status, headers and
// body, the quoted id aside), and a block is told only to the one who
// blocked: the blocked user is answered as any non-friend. (The group and
// room routes are also covered in groups.test.js and rooms.test.js.)
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, assertError } = require('../lib.js');
const { head } = require('../chat.js');
const { assertSameAnswer } = require('../same.js');

const BIG_ID = 9007199254740991;

// Answers `call(realId)` as `call(BIG_ID)`.
async function sameAsMissing(what, realId, call) {
  assertSameAnswer(assert, await call(realId), await call(BIG_ID), what, [[realId], [BIG_ID]]);
}

test("another pair's call answers as a missing call on every call route", async () => {
  const [a, b, stranger] = await Promise.all([register('ra'), register('rb'), register('rs')]);
  await befriend(a, b);
  await head(a);
  await head(b);
  const r = await api.post('/api/v1/calls', { token: a.token, json: { to: b.user.id } });
  assert.equal(r.status, 201, r.text);
  const id = r.json.call.id;
  const t = { token: stranger.token };
  await sameAsMissing('GET /calls/{id}', id, (x) => api.get(`/api/v1/calls/${x}`, t));
  for (const action of ['accept', 'reject', 'cancel', 'hangup'])
    await sameAsMissing(`POST /calls/{id}/${action}`, id, (x) => api.post(`/api/v1/calls/${x}/${action}`, t));
  await sameAsMissing('POST /calls/{id}/signal', id,
    (x) => api.post(`/api/v1/calls/${x}/signal`, { token: stranger.token, json: { kind: 'candidate', data: { candidate: '' } } }));
  assertError(assert, await api.get(`/api/v1/calls/${id}`, t), 404, 'call_not_found');
  // Still ringing for its parties.
  assert.equal((await api.get(`/api/v1/calls/${id}`, { token: b.token })).json.call.state, 'ringing');
  assert.equal((await api.post(`/api/v1/calls/${id}/cancel`, { token: a.token })).status, 200);
});

test("another pair's friend request, another user's session: answered as missing ones", async () => {
  const [a, b, stranger] = await Promise.all([register('rq'), register('rq'), register('rq')]);
  const req = await api.post('/api/v1/friends/requests', { token: a.token, json: { user_id: b.user.id } });
  assert.equal(req.status, 201, req.text);
  const rid = req.json.request.id;
  const t = { token: stranger.token };
  await sameAsMissing('POST /friends/requests/{id}/accept', rid, (x) => api.post(`/api/v1/friends/requests/${x}/accept`, t));
  await sameAsMissing('POST /friends/requests/{id}/reject', rid, (x) => api.post(`/api/v1/friends/requests/${x}/reject`, t));
  await sameAsMissing('DELETE /friends/requests/{id}', rid, (x) => api.del(`/api/v1/friends/requests/${x}`, t));
  assertError(assert, await api.del(`/api/v1/friends/requests/${rid}`, t), 404, 'request_not_found');
  // a's session, revoked by someone else: unknown to them.
  await sameAsMissing('DELETE /auth/sessions/{id}', a.session, (x) => api.del(`/api/v1/auth/sessions/${x}`, t));
  assert.equal((await api.get('/api/v1/auth/me', { token: a.token })).status, 200, 'a is still signed in');
  // Not a friend / not blocked: the same for a real user and for none.
  await sameAsMissing('DELETE /friends/{id}', a.user.id, (x) => api.del(`/api/v1/friends/${x}`, t));
  await sameAsMissing('DELETE /blocks/{id}', a.user.id, (x) => api.del(`/api/v1/blocks/${x}`, t));
});

test('the blocked user is answered as a stranger on every route that reaches the blocker', async () => {
  const [blocker, blocked, stranger, friend] = await Promise.all(['rx', 'ry', 'rz', 'rf'].map((p) => register(p)));
  await befriend(blocker, blocked);
  await befriend(blocked, friend);
  await Promise.all([blocker, blocked, stranger, friend].map((u) => head(u)));
  assert.equal((await api.post('/api/v1/blocks', { token: blocker.token, json: { user_id: blocked.user.id } })).status, 201);
  const as = (u) => ({ token: blocked.token, json: u });
  const routes = {
    'POST /messages': (u) => api.post('/api/v1/messages', as({ to: u.user.id, type: 'text', body: { text: 'hi' } })),
    'POST /calls': (u) => api.post('/api/v1/calls', as({ to: u.user.id })),
    'POST /rooms': (u) => api.post('/api/v1/rooms', as({ invite: [friend.user.id, u.user.id] })),
    'POST /groups': (u) => api.post('/api/v1/groups', as({ name: 'g', members: [friend.user.id, u.user.id] })),
    'DELETE /friends/{id}': (u) => api.del(`/api/v1/friends/${u.user.id}`, { token: blocked.token }),
  };
  for (const [what, call] of Object.entries(routes)) {
    const toBlocker = await call(blocker);
    assert.ok(toBlocker.status >= 400, `${what} is refused: ${toBlocker.text}`);
    assert.notEqual(toBlocker.json.error.code, 'blocked', what);
    assertSameAnswer(assert, toBlocker, await call(stranger), what,
      [[blocker.user.id], [stranger.user.id]]);
  }
  // A friend request still looks sent (and pending) to the blocked user.
  const fr = await api.post('/api/v1/friends/requests', as({ user_id: blocker.user.id }));
  assert.equal(fr.status, 201, fr.text);
  assert.equal(fr.json.request.state, 'pending');
  // The blocker is told, wherever they try.
  const bt = (json) => ({ token: blocker.token, json });
  assertError(assert, await api.post('/api/v1/messages', bt({ to: blocked.user.id, type: 'text', body: { text: 'hi' } })), 403, 'blocked');
  assertError(assert, await api.post('/api/v1/calls', bt({ to: blocked.user.id })), 403, 'blocked');
  assertError(assert, await api.post('/api/v1/friends/requests', bt({ user_id: blocked.user.id })), 403, 'blocked');
});
