// Cancelling a friend request emits friend.canceled, as docs/openapi.json
// (EventFriendRequest) and docs/EVENTS.md say: to the sender's sessions,
// and to the recipient unless the recipient has blocked the sender (the
// request never reached them). The events are also checked against the
// description by tests/contract.js, as every poll reply is.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register } = require('../lib.js');
const { head, drain, waitEvent, ofType } = require('../chat.js');

async function request(from, to) {
  const r = await api.post('/api/v1/friends/requests', { token: from.token, json: { user_id: to.user.id } });
  assert.equal(r.status, 201, r.text);
  return r.json.request;
}

test('cancel: friend.canceled (state canceled) to the sender and the recipient', async () => {
  const [a, b] = await Promise.all([register('fc'), register('fc')]);
  const [ha, hb] = await Promise.all([head(a), head(b)]);
  const req = await request(a, b);
  const del = await api.del(`/api/v1/friends/requests/${req.id}`, { token: a.token });
  assert.equal(del.status, 204, del.text);
  for (const [u, h] of [[a, ha], [b, hb]]) {
    const { event } = await waitEvent(u, h, ofType('friend.canceled'));
    assert.equal(event.data.request.id, req.id);
    assert.equal(event.data.request.state, 'canceled');
    assert.equal(event.data.from_user.id, a.user.id);
    assert.equal(event.data.to_user.id, b.user.id);
  }
});

test('cancel after the recipient blocked the sender: only the sender hears of it', async () => {
  const [a, b] = await Promise.all([register('fc'), register('fc')]);
  const blk = await api.post('/api/v1/blocks', { token: b.token, json: { user_id: a.user.id } });
  assert.equal(blk.status, 201, blk.text);
  const [ha, hb] = await Promise.all([head(a), head(b)]);
  const req = await request(a, b);     // looks sent; never reaches b
  const del = await api.del(`/api/v1/friends/requests/${req.id}`, { token: a.token });
  assert.equal(del.status, 204, del.text);
  const { event } = await waitEvent(a, ha, ofType('friend.canceled'));
  assert.equal(event.data.request.id, req.id);
  // b's stream: nothing about the request at all, before or after.
  const { events } = await drain(b, hb);
  assert.deepEqual(events.filter((e) => e.type.startsWith('friend.')), []);
});
