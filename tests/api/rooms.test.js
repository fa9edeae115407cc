// Rooms (mesh calls of 2 to 8), black box: creating with invited friends,
// joining (peers and who offers), full and uninvited refusals, the signal
// relay between members, leaving, going offline, and the room closing
// when its last member leaves. Every test uses fresh users.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, assertError } = require('../lib.js');
const { head, drain, waitEvent, ofType } = require('../chat.js');
const { assertSameAnswer } = require('../same.js');
const { checkIce, CALL_TTL } = require('../ice.js');

const BIG_ID = 9007199254740991;

function create(u, body) {
  return api.post('/api/v1/rooms', { token: u.token, json: body });
}
function join(u, id) {
  return api.post(`/api/v1/rooms/${id}/join`, { token: u.token });
}
function leave(u, id) {
  return api.post(`/api/v1/rooms/${id}/leave`, { token: u.token });
}
function rsignal(u, id, to, kind, data) {
  return api.post(`/api/v1/rooms/${id}/signal`, { token: u.token, json: { to: to.user.id, kind, data } });
}

// An owner and n friends of the owner, all polling; each gets .cur.
async function crew(prefix, n) {
  const owner = await register(prefix + 'o');
  const users = [owner];
  for (let i = 0; i < n; i++) {
    const u = await register(prefix + i);
    await befriend(owner, u);
    users.push(u);
  }
  for (const u of users) u.cur = await head(u);
  return users;
}

test('create a room: invited friends get room.invite; only they see it', async () => {
  const [o, a, b] = await crew('rc', 2);
  const r = await create(o, { capacity: 3, invite: [a.user.id, b.user.id, o.user.id] });
  assert.equal(r.status, 201, r.text);
  const room = r.json.room;
  assert.equal(room.owner, o.user.id);
  assert.equal(room.capacity, 3);
  assert.equal(room.media, 'video');
  assert.equal(room.closed, false);
  assert.deepEqual(room.members, []);
  assert.deepEqual(room.invited, [o.user.id, a.user.id, b.user.id].sort((x, y) => x - y));
  for (const u of [a, b]) {
    const inv = await waitEvent(u, u.cur, ofType('room.invite', (d) => d.room.id === room.id));
    assert.equal(inv.event.data.from.id, o.user.id);
    const g = await api.get(`/api/v1/rooms/${room.id}`, { token: u.token });
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.room.id, room.id);
  }
  const stranger = await register('rcs');
  assertError(assert, await api.get(`/api/v1/rooms/${room.id}`, { token: stranger.token }), 404, 'room_not_found');
  assertError(assert, await rsignal(stranger, room.id, o, 'candidate', { candidate: '' }), 404, 'room_not_found');
  assertError(assert, await leave(stranger, room.id), 404, 'room_not_found');
  // Defaults: capacity 4.
  const d = await create(o, { invite: [a.user.id], media: 'audio' });
  assert.equal(d.status, 201, d.text);
  assert.equal(d.json.room.capacity, 4);
  assert.equal(d.json.room.media, 'audio');
});

test('room input is checked: capacity 2..8, invite of friends only, at least one', async () => {
  const [o, a] = await crew('rv', 1);
  const stranger = await register('rvs');
  assertError(assert, await create(o, { capacity: 1, invite: [a.user.id] }), 400, 'invalid_field');
  assertError(assert, await create(o, { capacity: 9, invite: [a.user.id] }), 400, 'invalid_field');
  assertError(assert, await create(o, { invite: [] }), 400, 'invalid_field');
  assertError(assert, await create(o, {}), 400, 'missing_field');
  assertError(assert, await create(o, { invite: ['x'] }), 400, 'invalid_field');
  assertError(assert, await create(o, { invite: [a.user.id], media: 'smell' }), 400, 'invalid_field');
  assertError(assert, await create(o, { invite: [a.user.id, stranger.user.id] }), 403, 'not_friends');
  assertError(assert, await create(o, { invite: [9007199254740991] }), 404, 'user_not_found');
  assertError(assert, await create(o, { invite: Array.from({ length: 33 }, (_, i) => i + 1) }), 400, 'invalid_field');
  assertError(assert, await join(o, 'x'), 400);
  assertError(assert, await join(o, 9007199254740991), 404, 'room_not_found');
});

test('a block is told only to the blocker: who blocked the owner is refused as a non-friend', async () => {
  const [o, a, b] = await crew('rb', 2);
  const stranger = await register('rbs');
  // a blocks the owner: inviting a looks like inviting a stranger.
  assert.equal((await api.post('/api/v1/blocks', { token: a.token, json: { user_id: o.user.id } })).status, 201);
  const blocked = await create(o, { invite: [b.user.id, a.user.id] });
  assertError(assert, blocked, 403, 'not_friends');
  assertSameAnswer(assert, blocked, await create(o, { invite: [b.user.id, stranger.user.id] }),
    'inviting one who blocked the owner, and a stranger');
  // The owner blocks b: the owner is told why.
  assert.equal((await api.post('/api/v1/blocks', { token: o.token, json: { user_id: b.user.id } })).status, 201);
  assertError(assert, await create(o, { invite: [b.user.id] }), 403, 'blocked');
});

test('join: peers in join order, the joiner offers; full and uninvited are refused', async () => {
  const [o, a, b, c] = await crew('rj', 3);
  const stranger = await register('rjs');
  const room = (await create(o, { capacity: 3, invite: [a.user.id, b.user.id, c.user.id] })).json.room;

  const j1 = await join(o, room.id);
  assert.equal(j1.status, 200, j1.text);
  assert.deepEqual(j1.json.peers, []);
  assert.equal(j1.json.initiator, false);
  const j2 = await join(a, room.id);
  assert.deepEqual(j2.json.peers, [o.user.id]);
  assert.equal(j2.json.initiator, true);
  const j3 = await join(b, room.id);
  assert.deepEqual(j3.json.peers, [o.user.id, a.user.id]);
  assert.deepEqual(j3.json.room.members, [o.user.id, a.user.id, b.user.id]);

  const pj = await waitEvent(o, o.cur, ofType('room.peer_joined', (d) => d.user_id === b.user.id));
  o.cur = pj.next;
  assert.equal(pj.event.data.room_id, room.id);
  assert.deepEqual(pj.event.data.members, [o.user.id, a.user.id, b.user.id]);
  const seenByA = await waitEvent(a, a.cur, ofType('room.peer_joined', (d) => d.user_id === b.user.id));
  a.cur = seenByA.next;

  assertError(assert, await join(c, room.id), 409, 'room_full');
  // Uninvited, a room is answered as one that does not exist.
  assertError(assert, await join(stranger, room.id), 404, 'room_not_found');
  for (const [what, call] of Object.entries({
    'GET /rooms/{id}': (id) => api.get(`/api/v1/rooms/${id}`, { token: stranger.token }),
    'POST /rooms/{id}/join': (id) => join(stranger, id),
    'POST /rooms/{id}/leave': (id) => leave(stranger, id),
    'POST /rooms/{id}/signal': (id) => rsignal(stranger, id, o, 'candidate', { candidate: '' }),
  })) assertSameAnswer(assert, await call(room.id), await call(BIG_ID), what);
  // Joining again (a reload) is allowed and tells the others again.
  const again = await join(a, room.id);
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.json.peers, [o.user.id, b.user.id]);
  await waitEvent(b, b.cur, ofType('room.peer_joined', (d) => d.user_id === a.user.id));
});

// Each member gets a TURN credential of their own for the room: the joiner
// in the join reply, each member already there with room.peer_joined
// (they open a new connection to the joiner).
test('room joins hand out per-room TURN credentials to the joiner and to each peer', async () => {
  const [o, a, b] = await crew('rt', 2);
  const room = (await create(o, { invite: [a.user.id, b.user.id] })).json.room;
  let t0 = Date.now();
  const j1 = await join(o, room.id);
  let t1 = Date.now();
  assert.equal(j1.status, 200, j1.text);
  assert.deepEqual(Object.keys(j1.json).sort(), ['ice', 'initiator', 'peers', 'room']);
  checkIce(assert, j1.json.ice, { userId: o.user.id, scope: 'r', id: room.id, ttl: CALL_TTL, t0, t1 });
  await join(a, room.id);
  t0 = Date.now();
  const j3 = await join(b, room.id);
  t1 = Date.now();
  checkIce(assert, j3.json.ice, { userId: b.user.id, scope: 'r', id: room.id, ttl: CALL_TTL, t0, t1 });
  for (const u of [o, a]) {
    const pj = await waitEvent(u, u.cur, ofType('room.peer_joined', (d) => d.user_id === b.user.id));
    checkIce(assert, pj.event.data.ice, { userId: u.user.id, scope: 'r', id: room.id, ttl: CALL_TTL, t0, t1 });
  }
  // A refused join hands out nothing.
  const stranger = await register('rts');
  const no = await join(stranger, room.id);
  assertError(assert, no, 404, 'room_not_found');
  assert.equal(no.json.ice, undefined);
});

test('signals go to one member of the room, in order; non-members are refused', async () => {
  const [o, a, b] = await crew('rs', 2);
  const room = (await create(o, { invite: [a.user.id, b.user.id] })).json.room;
  await join(o, room.id);
  await join(a, room.id);
  assertError(assert, await rsignal(b, room.id, o, 'offer', { type: 'offer', sdp: 'v=0\r\n' }), 403, 'not_in_room');
  assertError(assert, await rsignal(a, room.id, b, 'offer', { type: 'offer', sdp: 'v=0\r\n' }), 409, 'peer_not_in_room');
  assertError(assert, await rsignal(a, room.id, a, 'offer', { type: 'offer', sdp: 'v=0\r\n' }), 409, 'peer_not_in_room');
  assertError(assert, await rsignal(a, room.id, o, 'bogus', {}), 400, 'invalid_signal');
  assertError(assert, await api.post(`/api/v1/rooms/${room.id}/signal`, { token: a.token, json: { kind: 'offer', data: {} } }), 400, 'missing_field');
  const s1 = await rsignal(a, room.id, o, 'offer', { type: 'offer', sdp: 'v=0\r\n' });
  assert.equal(s1.status, 202, s1.text);
  for (let i = 0; i < 5; i++)
    assert.equal((await rsignal(a, room.id, o, 'candidate', { candidate: 'c' + i, sdpMid: '0', sdpMLineIndex: 0 })).status, 202);
  const got = (await drain(o, o.cur)).events.filter((e) => e.type === 'room.signal');
  assert.deepEqual(got.map((e) => e.data.kind), ['offer', 'candidate', 'candidate', 'candidate', 'candidate', 'candidate']);
  assert.deepEqual(got.slice(1).map((e) => e.data.data.candidate), ['c0', 'c1', 'c2', 'c3', 'c4']);
  assert.equal(got[0].data.from, a.user.id);
  assert.equal(got[0].data.room_id, room.id);
  // Nobody else got them.
  assert.equal((await drain(b, b.cur)).events.filter((e) => e.type === 'room.signal').length, 0);
});

test('leaving tells the others; the last one out closes the room', async () => {
  const [o, a] = await crew('rl', 1);
  const room = (await create(o, { invite: [a.user.id] })).json.room;
  await join(o, room.id);
  await join(a, room.id);
  assert.equal((await leave(o, room.id)).status, 204);
  const left = await waitEvent(a, a.cur, ofType('room.peer_left', (d) => d.user_id === o.user.id));
  a.cur = left.next;
  assert.equal(left.event.data.reason, 'left');
  assertError(assert, await leave(o, room.id), 409, 'not_in_room');
  assert.equal((await leave(a, room.id)).status, 204);
  await waitEvent(o, o.cur, ofType('room.closed', (d) => d.room_id === room.id));
  const g = await api.get(`/api/v1/rooms/${room.id}`, { token: a.token });
  assert.equal(g.json.room.closed, true);
  assert.deepEqual(g.json.room.members, []);
  assertError(assert, await join(o, room.id), 409, 'room_closed');
});

test('a member whose devices go offline leaves the room (disconnected)', async () => {
  const [o, a] = await crew('ro', 1);
  const room = (await create(o, { invite: [a.user.id] })).json.room;
  await join(o, room.id);
  await join(a, room.id);
  assert.equal((await api.post('/api/v1/auth/logout', { token: a.token })).status, 204);
  const left = await waitEvent(o, o.cur, ofType('room.peer_left', (d) => d.user_id === a.user.id), 10000);
  assert.equal(left.event.data.reason, 'disconnected');
  const g = await api.get(`/api/v1/rooms/${room.id}`, { token: o.token });
  assert.deepEqual(g.json.room.members, [o.user.id]);
});
