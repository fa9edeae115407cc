// Groups, black box: creating a group from friends, messages fanned out to
// every member's event stream, renaming, adding and removing members,
// roles, leaving (and the owner handing over), what outsiders see, and the
// 500-member limit. Every test uses fresh users.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, assertError, stack } = require('../lib.js');
const { assertSameAnswer } = require('../same.js');
const {
  send, sendText, sendGroup, conversations, conversation, history, head, drain, waitEvent, ofType,
} = require('../chat.js');

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const BIG_ID = 9007199254740991;

function create(u, body) {
  return api.post('/api/v1/groups', { token: u.token, json: body });
}
function getGroup(u, id) {
  return api.get(`/api/v1/groups/${id}`, { token: u.token });
}
function rename(u, id, name) {
  return api.request('PATCH', `/api/v1/groups/${id}`, { token: u.token, json: { name } });
}
function addMembers(u, id, members) {
  return api.post(`/api/v1/groups/${id}/members`, { token: u.token, json: { members } });
}
function removeMember(u, id, userId) {
  return api.del(`/api/v1/groups/${id}/members/${userId}`, { token: u.token });
}
function setRole(u, id, userId, role) {
  return api.request('PATCH', `/api/v1/groups/${id}/members/${userId}`, { token: u.token, json: { role } });
}
function leave(u, id) {
  return api.post(`/api/v1/groups/${id}/leave`, { token: u.token });
}

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql);
}

const member = (u, role) => ({ id: u.user.id, username: u.user.username, display_name: u.user.display_name, role });
const roles = (g) => Object.fromEntries(g.members.map((m) => [m.id, m.role]));

// An owner and `n` friends of theirs.
async function circle(n, p = 'g') {
  const users = await Promise.all(Array.from({ length: n + 1 }, (_, i) => register(p + i)));
  const [owner, ...rest] = users;
  await Promise.all(rest.map((u) => befriend(owner, u)));
  return users;
}

async function made(owner, name, others) {
  const r = await create(owner, { name, members: others.map((u) => u.user.id) });
  assert.equal(r.status, 201, r.text);
  return r.json.group;
}

test('create a group of friends: everyone gets group.created and then every message', async () => {
  const [a, b, c] = await circle(2);
  const heads = await Promise.all([a, b, c].map(head));

  const r = await create(a, { name: 'Weekend ⛺', members: [b.user.id, c.user.id] });
  assert.equal(r.status, 201, r.text);
  const g = r.json.group;
  assert.deepEqual(Object.keys(g).sort(), ['created_at', 'id', 'members', 'name']);
  assert.equal(typeof g.id, 'number');
  assert.equal(g.name, 'Weekend ⛺');
  assert.match(g.created_at, ISO);
  assert.deepEqual(g.members.sort((x, y) => x.id - y.id),
    [member(a, 'owner'), member(b, 'member'), member(c, 'member')].sort((x, y) => x.id - y.id));

  // Every member sees the same group; group.created is on every stream.
  for (const [i, u] of [a, b, c].entries()) {
    const gr = await getGroup(u, g.id);
    assert.equal(gr.status, 200, gr.text);
    assert.equal(gr.json.group.id, g.id);
    assert.equal(gr.json.group.name, g.name);
    assert.deepEqual(roles(gr.json.group), roles(g));
    const w = await waitEvent(u, heads[i], ofType('group.created'));
    assert.deepEqual(w.event.data, { group_id: g.id, name: g.name, by: a.user.id });
    heads[i] = w.next;
  }

  // A message from any member reaches all three streams once, in order.
  const m1 = await sendGroup(b, g.id, 'hi all');
  const m2 = await sendGroup(c, g.id, 'hey b');
  const m3 = await sendGroup(a, g.id, 'welcome');
  assert.deepEqual([m1, m2, m3].map((m) => m.conversation_id), [g.id, g.id, g.id]);
  assert.deepEqual([m1, m2, m3].map((m) => m.seq), [1, 2, 3]);
  for (const [i, u] of [a, b, c].entries()) {
    const got = (await drain(u, heads[i])).events.filter((e) => e.type === 'message');
    assert.deepEqual(got.map((e) => e.data.message), [m1, m2, m3], u.user.username);
  }

  // The conversation list shows the group by name, with unread counts.
  const cb = await conversation(b, g.id);
  assert.equal(cb.kind, 'group');
  assert.equal(cb.name, g.name);
  assert.equal(cb.peer, null);
  assert.equal(cb.unread, 2); // c's and a's
  assert.deepEqual(cb.last_message, m3);
  assert.equal((await conversation(a, g.id)).unread, 2);
  assert.deepEqual((await history(c, g.id)).messages, [m1, m2, m3]);

  // Reading tells each sender whose messages were read.
  const hb = await head(b);
  const hc = await head(c);
  const rr = await api.post(`/api/v1/conversations/${g.id}/read`, { token: a.token, json: { seq: 3 } });
  assert.equal(rr.status, 204, rr.text);
  for (const [u, h] of [[b, hb], [c, hc]]) {
    const w = await waitEvent(u, h, ofType('message.read'));
    assert.deepEqual(w.event.data, { conversation_id: g.id, user_id: a.user.id, seq: 3 });
  }
  assert.equal((await conversation(a, g.id)).unread, 0);
});

test('a group is created only with the creator\'s friends', async () => {
  const [a, b] = await circle(1);
  const stranger = await register('gx');
  await befriend(b, stranger); // a friend of a friend is still no friend of a's
  const r = await create(a, { name: 'nope', members: [b.user.id, stranger.user.id] });
  assertError(assert, r, 403, 'not_friends');
  assert.match(r.json.error.message, new RegExp(String(stranger.user.id)));
  assertError(assert, await create(a, { name: 'ghost', members: [BIG_ID] }), 403, 'not_friends');
  assert.deepEqual(await conversations(a), []);
  assert.deepEqual(await conversations(stranger), []);

  // A group of one (just the creator; listing oneself is harmless) is fine.
  const solo = await create(a, { name: 'notes to self', members: [a.user.id] });
  assert.equal(solo.status, 201, solo.text);
  assert.deepEqual(solo.json.group.members, [member(a, 'owner')]);
  const empty = await create(a, { name: 'empty', members: [] });
  assert.equal(empty.status, 201, empty.text);
});

test('group input: name and members are validated', async () => {
  const [a, b] = await circle(1);
  const id = b.user.id;
  for (const body of [
    { members: [id] },
    { name: '', members: [id] },
    { name: 'x'.repeat(65), members: [id] },
    { name: 'tab\there', members: [id] },
    { name: 42, members: [id] },
    { name: 'ok' },
    { name: 'ok', members: id },
    { name: 'ok', members: [String(id)] },
    { name: 'ok', members: [0] },
    { name: 'ok', members: [-id] },
    { name: 'ok', members: [id, id] },
    { name: 'ok', members: [1.5] },
  ]) assertError(assert, await create(a, body), 400);
  // 64 characters (not bytes) is the longest name.
  const long = await create(a, { name: 'ü'.repeat(64), members: [id] });
  assert.equal(long.status, 201, long.text);
  const g = long.json.group;
  assertError(assert, await rename(a, g.id, ''), 400);
  assertError(assert, await rename(a, g.id, 'x'.repeat(65)), 400);
  assertError(assert, await setRole(a, g.id, id, 'owner'), 400, 'invalid_field');
  assertError(assert, await setRole(a, g.id, id, 'ADMIN'), 400, 'invalid_field');
  assertError(assert, await addMembers(a, g.id, 'everyone'), 400, 'invalid_field');
  assertError(assert, await api.get('/api/v1/groups/abc', { token: a.token }), 400, 'invalid_id');
  assertError(assert, await removeMember(a, g.id, 'me'), 400, 'invalid_id');
  assertError(assert, await api.post('/api/v1/groups', { json: { name: 'x', members: [] } }), 401);
  assertError(assert, await api.get(`/api/v1/groups/${g.id}`), 401);
  // Still the same group.
  assert.deepEqual((await getGroup(b, g.id)).json.group, g);
});

test('rename: owner and admins may, members may not; everyone gets group.renamed', async () => {
  const [a, b, c] = await circle(2);
  const g = await made(a, 'first', [b, c]);
  const hc = await head(c);

  assertError(assert, await rename(b, g.id, 'by a member'), 403, 'forbidden');
  let r = await rename(a, g.id, 'second');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.group.name, 'second');
  assert.equal(r.json.group.id, g.id);
  let w = await waitEvent(c, hc, ofType('group.renamed'));
  assert.deepEqual(w.event.data, { group_id: g.id, name: 'second', by: a.user.id });

  r = await setRole(a, g.id, b.user.id, 'admin');
  assert.equal(r.status, 200, r.text);
  r = await rename(b, g.id, 'third');
  assert.equal(r.status, 200, r.text);
  w = await waitEvent(c, w.next, ofType('group.renamed'));
  assert.deepEqual(w.event.data, { group_id: g.id, name: 'third', by: b.user.id });
  assert.equal((await getGroup(c, g.id)).json.group.name, 'third');
  assert.equal((await conversation(c, g.id)).name, 'third');
});

test('members: add (friends only), roles (owner only), remove, with events for all', async () => {
  const [a, b, c, d, e] = await circle(4);
  const g = await made(a, 'team', [b, c]);
  const [hb, hd] = await Promise.all([head(b), head(d)]);

  // A member may not add; the owner may add friends only; re-adding is a no-op.
  assertError(assert, await addMembers(b, g.id, [d.user.id]), 403, 'forbidden');
  const stranger = await register('gs');
  assertError(assert, await addMembers(a, g.id, [d.user.id, stranger.user.id]), 403, 'not_friends');
  assert.equal((await getGroup(d, g.id)).status, 404, 'not added by the refused call');
  let r = await addMembers(a, g.id, [d.user.id, b.user.id]);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(roles(r.json.group), { [a.user.id]: 'owner', [b.user.id]: 'member', [c.user.id]: 'member', [d.user.id]: 'member' });
  let w = await waitEvent(d, hd, ofType('group.members_added'));
  assert.deepEqual(w.event.data, { group_id: g.id, user_ids: [d.user.id], by: a.user.id });
  const wb = await waitEvent(b, hb, ofType('group.members_added'));
  assert.deepEqual(wb.event.data, w.event.data);
  r = await addMembers(a, g.id, [b.user.id]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.group.members.length, 4);
  // The newcomer can read and write, including earlier history.
  await sendGroup(a, g.id, 'welcome, d');
  const md = await sendGroup(d, g.id, 'hello, I am new');
  assert.equal((await history(d, g.id)).messages.length, 2);
  assert.equal(md.seq, 2);

  // Roles: only the owner sets them; only admin/member; not on oneself.
  assertError(assert, await setRole(b, g.id, c.user.id, 'admin'), 403, 'forbidden');
  assertError(assert, await setRole(a, g.id, a.user.id, 'member'), 403, 'forbidden');
  assertError(assert, await setRole(a, g.id, e.user.id, 'admin'), 404, 'not_member');
  const hc = await head(c);
  r = await setRole(a, g.id, b.user.id, 'admin');
  assert.equal(r.status, 200, r.text);
  assert.equal(roles(r.json.group)[b.user.id], 'admin');
  w = await waitEvent(c, hc, ofType('group.role_changed'));
  assert.deepEqual(w.event.data, { group_id: g.id, user_id: b.user.id, role: 'admin', by: a.user.id });
  // An admin may not set roles either, but may add its friends.
  assertError(assert, await setRole(b, g.id, c.user.id, 'admin'), 403, 'forbidden');
  await befriend(b, e);
  r = await addMembers(b, g.id, [e.user.id]);
  assert.equal(r.status, 200, r.text);
  assert.equal(roles(r.json.group)[e.user.id], 'member');

  // Removing: an admin removes members, not the owner nor other admins.
  r = await setRole(a, g.id, c.user.id, 'admin');
  assert.equal(r.status, 200, r.text);
  assertError(assert, await removeMember(b, g.id, a.user.id), 403, 'forbidden');
  assertError(assert, await removeMember(b, g.id, c.user.id), 403, 'forbidden');
  assertError(assert, await removeMember(d, g.id, e.user.id), 403, 'forbidden');
  assertError(assert, await removeMember(a, g.id, stranger.user.id), 404, 'not_member');
  const he = await head(e);
  r = await removeMember(b, g.id, e.user.id);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  // The removed member is told, then sees nothing of the group any more.
  w = await waitEvent(e, he, ofType('group.member_removed'));
  assert.deepEqual(w.event.data, { group_id: g.id, user_id: e.user.id, by: b.user.id, new_owner: null });
  assertError(assert, await getGroup(e, g.id), 404, 'group_not_found');
  assertError(assert, await api.get(`/api/v1/conversations/${g.id}/messages`, { token: e.token }), 404, 'conversation_not_found');
  // To a former member the group is gone: sending is answered as for a
  // group that never existed.
  assertSameAnswer(assert, await sendGroupRaw(e, g.id, 'let me back in'),
    await sendGroupRaw(e, BIG_ID, 'let me back in'), 'a removed member sends');
  assert.equal((await conversations(e)).some((x) => x.id === g.id), false);
  // ...and messages after the removal do not reach its stream.
  const after = await drain(e, w.next);
  await sendGroup(a, g.id, 'after e left');
  assert.deepEqual((await drain(e, after.next)).events.filter((x) => x.type === 'message'), []);
  // The owner may remove an admin.
  r = await removeMember(a, g.id, c.user.id);
  assert.equal(r.status, 204, r.text);
  const final = (await getGroup(a, g.id)).json.group;
  assert.deepEqual(roles(final), { [a.user.id]: 'owner', [b.user.id]: 'admin', [d.user.id]: 'member' });
});

function sendGroupRaw(u, id, text) {
  return send(u, { group_id: id, type: 'text', body: { text } });
}

test('leave: members leave with 204; an owner leaving hands the group on', async () => {
  const [a, b, c, d] = await circle(3);
  const g = await made(a, 'handover', [b, c, d]);
  assert.equal((await setRole(a, g.id, c.user.id, 'admin')).status, 200);
  const hb = await head(b);

  // d (a member) leaves.
  let r = await leave(d, g.id);
  assert.equal(r.status, 204, r.text);
  assertError(assert, await getGroup(d, g.id), 404, 'group_not_found');
  assertError(assert, await leave(d, g.id), 404, 'group_not_found');

  // The owner leaves: the longest-standing admin (c, not b) becomes owner.
  r = await leave(a, g.id);
  assert.equal(r.status, 204, r.text);
  let w = await waitEvent(b, hb, ofType('group.member_removed', (x) => x.user_id === a.user.id));
  assert.deepEqual(w.event.data, { group_id: g.id, user_id: a.user.id, by: a.user.id, new_owner: c.user.id });
  let gr = (await getGroup(b, g.id)).json.group;
  assert.deepEqual(roles(gr), { [b.user.id]: 'member', [c.user.id]: 'owner' });
  // The new owner has the owner's powers.
  r = await setRole(c, g.id, b.user.id, 'admin');
  assert.equal(r.status, 200, r.text);
  r = await rename(c, g.id, 'new management');
  assert.equal(r.status, 200, r.text);
  // Without admins the longest-standing member inherits.
  assert.equal((await setRole(c, g.id, b.user.id, 'member')).status, 200);
  assert.equal((await leave(c, g.id)).status, 204);
  gr = (await getGroup(b, g.id)).json.group;
  assert.deepEqual(gr.members, [member(b, 'owner')]);
  // The last one out: the group is gone for everybody.
  assert.equal((await leave(b, g.id)).status, 204);
  assertError(assert, await getGroup(b, g.id), 404, 'group_not_found');
  assertError(assert, await sendGroupRaw(b, g.id, 'anyone?'), 404, 'group_not_found');
});

test('outsiders: every group route answers as for a group that does not exist', async () => {
  const [a, b] = await circle(1);
  const outsider = await register('go');
  await befriend(a, outsider);
  const g = await made(a, 'private club', [b]);
  const m = await sendGroup(a, g.id, 'members only');

  // Each route, for the real group and for an id nobody has: the same
  // status, headers and body (ids the caller sent masked where quoted).
  const routes = {
    'GET /groups/{id}': (id) => getGroup(outsider, id),
    'PATCH /groups/{id}': (id) => rename(outsider, id, 'pwned'),
    'POST /groups/{id}/members': (id) => addMembers(outsider, id, [outsider.user.id]),
    'PATCH /groups/{id}/members/{user}': (id) => setRole(outsider, id, b.user.id, 'admin'),
    'DELETE /groups/{id}/members/{user}': (id) => removeMember(outsider, id, b.user.id),
    'POST /groups/{id}/leave': (id) => leave(outsider, id),
    'GET /conversations/{id}/messages': (id) => api.get(`/api/v1/conversations/${id}/messages`, { token: outsider.token }),
    'POST /conversations/{id}/read': (id) => api.post(`/api/v1/conversations/${id}/read`, { token: outsider.token, json: { seq: 1 } }),
    'POST /messages {group_id}': (id) => sendGroupRaw(outsider, id, 'let me in'),
  };
  for (const [what, call] of Object.entries(routes)) {
    const real = await call(g.id);
    assert.equal(real.status, 404, `${what}: ${real.text}`);
    assertSameAnswer(assert, real, await call(BIG_ID), what, [[g.id], [BIG_ID]]);
  }
  assertError(assert, await sendGroupRaw(outsider, g.id, 'let me in'), 404, 'group_not_found');
  assertSameAnswer(assert, await api.post(`/api/v1/messages/${m.id}/recall`, { token: outsider.token }),
    await api.post(`/api/v1/messages/${BIG_ID}/recall`, { token: outsider.token }), 'recall', [[m.id], [BIG_ID]]);

  assertError(assert, await sendGroupRaw(a, BIG_ID, 'void'), 404, 'group_not_found');
  assertError(assert, await getGroup(a, BIG_ID), 404, 'group_not_found');
  assertError(assert, await rename(a, BIG_ID, 'x'), 404, 'group_not_found');
  // A direct conversation's id is not a group.
  const dm = await sendText(a, b, 'direct');
  assertError(assert, await sendGroupRaw(a, dm.conversation_id, 'not a group'), 404, 'group_not_found');
  assertError(assert, await getGroup(a, dm.conversation_id), 404, 'group_not_found');
  assertError(assert, await rename(a, dm.conversation_id, 'x'), 404, 'group_not_found');

  // Nothing changed for the members.
  const gr = (await getGroup(b, g.id)).json.group;
  assert.equal(gr.name, 'private club');
  assert.equal(gr.members.length, 2);
  assert.deepEqual((await history(b, g.id)).messages, [m]);
});

// The limit is 500 members including the owner.
//
// Creating: valid_id_array takes at most 500 ids per request, and
// group_create() checks the size before the members' friendship, so 500
// made-up ids plus the owner make 501 members and are refused with 409
// group_full (not 403 not_friends) without 500 real friends. 501 ids are
// refused by the validator (400).
//
// Adding: group_add() checks friendship before the size, so made-up ids
// give 403 not_friends there. To reach the limit through additions, the
// test creates 499 users that are the owner's friends directly in the
// database (registering 499 users through the API would be slow).
test('500 members at most: creating or growing past 500 is refused with 409 group_full', async () => {
  const [a, b] = await circle(1);
  const fake = Array.from({ length: 499 }, (_, i) => BIG_ID - i);
  assertError(assert, await create(a, { name: 'too big', members: [b.user.id, ...fake] }), 409, 'group_full');
  // The owner listed among 500 ids still makes 500 members: the size is
  // fine, so the made-up ids are what is refused.
  assertError(assert, await create(a, { name: 'fits', members: [a.user.id, b.user.id, ...fake.slice(1)] }), 403, 'not_friends');
  assertError(assert, await create(a, { name: 'way too big', members: [b.user.id, ...fake, 1] }), 400, 'invalid_field');
  assert.deepEqual(await conversations(a), []);

  const prefix = a.user.username.slice(0, 20) + '_';
  const bulk = psql(`WITH u AS (
      INSERT INTO users (username, display_name)
      SELECT '${prefix}' || i, 'bulk ' || i FROM generate_series(1, 499) i RETURNING id
    ), f AS (
      INSERT INTO friendships (user_id, friend_id)
      SELECT ${a.user.id}, id FROM u UNION ALL SELECT id, ${a.user.id} FROM u
    ) SELECT id FROM u ORDER BY id`).trim().split('\n').map(Number);
  assert.equal(bulk.length, 499);

  // Real friends, 501 of them with the owner: too many.
  assertError(assert, await create(a, { name: 'crowd', members: [b.user.id, ...bulk] }), 409, 'group_full');
  // 499 members, then b makes 500, then one more is refused.
  const g = await made(a, 'crowd', bulk.slice(0, 498).map((id) => ({ user: { id } })));
  assert.equal(g.members.length, 499);
  let r = await addMembers(a, g.id, [b.user.id]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.group.members.length, 500);
  assertError(assert, await addMembers(a, g.id, [bulk[498]]), 409, 'group_full');
  assertError(assert, await addMembers(a, g.id, [bulk[498], bulk[0]]), 409, 'group_full');
  assert.equal((await getGroup(b, g.id)).json.group.members.length, 500);
  // Room again after someone leaves.
  assert.equal((await leave(b, g.id)).status, 204);
  r = await addMembers(a, g.id, [bulk[498]]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.group.members.length, 500);
  // A full group works: a message reaches the last member's stream.
  const m = await sendGroup(a, g.id, 'hello, 499 people');
  assert.equal(m.seq, 1);
});
