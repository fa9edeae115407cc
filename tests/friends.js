// Helpers of the friends tests (tests/api/friends*.test.js): one call per
// friends route, the lists as each party sees them, and assertions on the
// state between two users.
'use strict';
const assert = require('node:assert/strict');
const { api } = require('./lib.js');

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const BIG_ID = 9007199254740991; // 2^53 - 1: valid, but nobody has it

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

module.exports = {
  ISO, BIG_ID, ask, accept, reject, cancel, unfriend, block, unblock, requests,
  friends, friendIds, blocks, ids, sent, assertUser, assertNoPending,
  assertFriends, assertNotFriends,
};
