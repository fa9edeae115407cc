// The operator console's API (services/admin, /api/v1/admin/) on content:
// groups (search, view, remove a member, delete) and deleting a message for
// everyone, each with what members see and an audit row. Helpers in
// tests/admin.js.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { api, register, befriend } = require('../lib.js');
const { sendText, history, head, waitEvent, ofType } = require('../chat.js');
const { inTurn, newAdmin, MISSING, auditRows, psql } = require('../admin.js');

// --- groups and messages -------------------------------------------------------------

async function group(owner, name, members) {
  const r = await api.post('/api/v1/groups', { token: owner.token, json: { name, members: members.map((m) => m.user.id) } });
  assert.equal(r.status, 201, r.text);
  return r.json.group.id;
}

test('groups: search by name, view, remove a member (members get group.member_removed), delete a group', async () => {
  const [admin, o, a, b] = await inTurn(() => newAdmin('adgr'), () => register('ado'), () => register('ada'), () => register('adb'));
  await Promise.all([befriend(o, a), befriend(o, b)]);
  const tag = crypto.randomBytes(4).toString('hex');
  const g = await group(o, `Knitting ${tag} Club`, [a, b]);
  await sendText(o, a, 'direct, unrelated');
  const found = await api.get(`/api/v1/admin/groups?q=${encodeURIComponent(tag.toUpperCase() + ' cl')}`, { token: admin.token });
  assert.equal(found.status, 200, found.text);
  assert.deepEqual(found.json.groups.map((x) => x.id), [g]);
  const row = found.json.groups[0];
  assert.equal(row.members, 3);
  assert.equal(row.owner.id, o.user.id);
  assert.equal(row.name, `Knitting ${tag} Club`);
  const byId = await api.get(`/api/v1/admin/groups?q=${g}`, { token: admin.token });
  assert.ok(byId.json.groups.some((x) => x.id === g), 'found by id');
  const page = await api.get(`/api/v1/admin/groups?limit=2&before=${g + 1}`, { token: admin.token });
  assert.equal(page.json.groups[0].id, g);
  assert.ok(page.json.groups.length <= 2);
  const view = await api.get(`/api/v1/admin/groups/${g}`, { token: admin.token });
  assert.equal(view.status, 200, view.text);
  assert.deepEqual(view.json.group.members.map((m) => m.id).sort(), [o.user.id, a.user.id, b.user.id].sort());
  assert.equal(view.json.group.messages, 0);
  assert.equal((await api.get(`/api/v1/admin/groups/${MISSING}`, { token: admin.token })).json.error.code, 'group_not_found');

  // Remove the owner: b and a are told, the group gets a new owner.
  const [so, sa, sb] = await Promise.all([head(o), head(a), head(b)]);
  const rm = await api.del(`/api/v1/admin/groups/${g}/members/${o.user.id}`, { token: admin.token });
  assert.equal(rm.status, 204, rm.text);
  for (const [u, s] of [[o, so], [a, sa], [b, sb]]) {
    const e = await waitEvent(u, s, ofType('group.member_removed', (d) => d.group_id === g), 5000);
    assert.equal(e.event.data.user_id, o.user.id);
    assert.equal(e.event.data.by, null, 'an operator did it');
    assert.ok([a.user.id, b.user.id].includes(e.event.data.new_owner));
  }
  assert.equal((await api.get(`/api/v1/groups/${g}`, { token: o.token })).status, 404, 'the removed owner lost the group');
  const again = await api.del(`/api/v1/admin/groups/${g}/members/${o.user.id}`, { token: admin.token });
  assert.equal(again.status, 404);
  assert.equal(again.json.error.code, 'not_member');

  // Delete it: each remaining member gets its own removal, deleted: true.
  const [sa2, sb2] = await Promise.all([head(a), head(b)]);
  const del = await api.del(`/api/v1/admin/groups/${g}`, { token: admin.token });
  assert.equal(del.status, 204, del.text);
  for (const [u, s] of [[a, sa2], [b, sb2]]) {
    const e = await waitEvent(u, s, ofType('group.member_removed', (d) => d.group_id === g), 5000);
    assert.deepEqual(e.event.data, { group_id: g, user_id: u.user.id, by: null, new_owner: null, deleted: true });
    assert.equal((await api.get(`/api/v1/groups/${g}`, { token: u.token })).status, 404);
    const convs = (await api.get('/api/v1/conversations', { token: u.token })).json.conversations;
    assert.ok(!convs.some((c) => c.id === g), 'the conversation is gone');
  }
  assert.equal((await api.del(`/api/v1/admin/groups/${g}`, { token: admin.token })).status, 404);
  assert.equal((await api.get(`/api/v1/admin/groups/${g}`, { token: admin.token })).status, 404);
  const rows = auditRows('group', g);
  assert.deepEqual(rows.map((x) => x.action), ['group.remove_member', 'group.delete']);
  assert.deepEqual(rows[0].detail, { user_id: o.user.id });
  assert.equal(rows[1].detail.name, `Knitting ${tag} Club`);
  assert.deepEqual(rows[1].detail.members.sort(), [a.user.id, b.user.id].sort());
  for (const x of rows) assert.equal(x.admin_id, admin.user.id);
});

test('a message deleted for everyone: members get message.recalled, the body is gone from replies and from the database', async () => {
  const [admin, a, b] = await inTurn(() => newAdmin('adm'), () => register('adma'), () => register('admb'));
  await befriend(a, b);
  const [sa, sb] = await Promise.all([head(a), head(b)]);
  const m = await sendText(a, b, 'something awful');
  const del = await api.del(`/api/v1/admin/messages/${m.id}`, { token: admin.token });
  assert.equal(del.status, 204, del.text);
  for (const [u, s] of [[a, sa], [b, sb]]) {
    const e = await waitEvent(u, s, ofType('message.recalled', (d) => d.message_id === m.id), 5000);
    assert.deepEqual(e.event.data, { message_id: m.id, conversation_id: m.conversation_id, seq: m.seq, by_operator: true });
    const got = (await history(u, m.conversation_id)).messages.find((x) => x.id === m.id);
    assert.equal(got.recalled, true);
    assert.equal(got.body, null);
  }
  assert.equal(psql(`SELECT body::text FROM messages WHERE id = ${m.id}`), '{}');
  // Even the event the message arrived with no longer matters: replies
  // carry no body, and the audit row keeps no content.
  const rows = auditRows('message', m.id);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].action, 'message.delete');
  assert.deepEqual(Object.keys(rows[0].detail).sort(), ['conversation_id', 'created_at', 'from', 'recalled_before', 'seq', 'type']);
  assert.equal(rows[0].detail.from, a.user.id);
  assert.ok(!JSON.stringify(rows[0]).includes('awful'));
  const missing = await api.del(`/api/v1/admin/messages/${MISSING}`, { token: admin.token });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.code, 'message_not_found');
});
