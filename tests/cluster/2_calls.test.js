// A call across hosts: every request of the caller goes through service
// host B, every request of the callee through host C; the invite, the
// accept and the signaling (offer, answer, candidates) are relayed
// between them in order.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { onB, onC, register, befriend } = require('./hosts.js');

// Long-polls through `door` until an event matching pred arrives (10 s).
async function waitEvent(door, u, since, pred) {
  const end = Date.now() + 10000;
  const seen = [];
  let next = since;
  while (Date.now() < end) {
    const r = await door.poll(u, { since: next, timeout: 3 });
    assert.equal(r.status, 200, r.text);
    for (const e of r.json.events) {
      seen.push(e);
      if (pred(e)) return { event: e, seen, next: e.seq };
    }
    next = r.json.next;
  }
  assert.fail('no matching event; saw ' + JSON.stringify(seen));
}

// Every event after `since` that exists now.
async function drain(door, u, since) {
  let events = [];
  let next = since;
  for (;;) {
    const r = await door.poll(u, { since: next, timeout: 0, limit: 500 });
    assert.equal(r.status, 200, r.text);
    if (r.json.events.length === 0) return { events, next };
    events = events.concat(r.json.events);
    next = r.json.next;
  }
}

test('a call from a user on B to a user on C rings, connects and relays its signaling both ways', async () => {
  const [a, b] = await Promise.all([register('cca'), register('ccb')]);
  await befriend(a, b);
  // Both online, each through its own host.
  let curA = (await onB.poll(a, { timeout: 0 })).json.next;
  let curB = (await onC.poll(b, { timeout: 0 })).json.next;
  const signal = (door, u, id, kind, data) => door.post(`/api/v1/calls/${id}/signal`, { token: u.token, json: { kind, data } });

  const r = await onB.post('/api/v1/calls', { token: a.token, json: { to: b.user.id, media: 'video' } });
  assert.equal(r.status, 201, r.text);
  const id = r.json.call.id;
  const inv = await waitEvent(onC, b, curB, (e) => e.type === 'call.invite' && e.data.call.id === id);
  curB = inv.next;
  assert.equal(inv.event.data.caller.id, a.user.id);

  const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 10.77.0.3\r\n' };
  assert.equal((await signal(onB, a, id, 'offer', offer)).status, 202);
  const acc = await onC.post(`/api/v1/calls/${id}/accept`, { token: b.token });
  assert.equal(acc.status, 200, acc.text);
  assert.equal(acc.json.call.state, 'active');
  const accepted = await waitEvent(onB, a, curA, (e) => e.type === 'call.accepted' && e.data.call.id === id);
  curA = accepted.next;

  const answer = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 10.77.0.4\r\n' };
  const ans = await signal(onC, b, id, 'answer', answer);
  assert.equal(ans.status, 202, ans.text);
  for (let i = 0; i < 6; i++) {
    const [door, u] = i % 2 ? [onC, b] : [onB, a];
    const s = await signal(door, u, id, 'candidate', { candidate: `candidate:${i} 1 udp 2122260223 10.77.0.9 ${50000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 });
    assert.equal(s.status, 202, s.text);
  }
  const gotB = (await drain(onC, b, curB)).events.filter((e) => e.type === 'call.signal');
  const gotA = (await drain(onB, a, curA)).events.filter((e) => e.type === 'call.signal');
  assert.deepEqual(gotB.map((e) => e.data.kind), ['offer', 'candidate', 'candidate', 'candidate']);
  assert.deepEqual(gotA.map((e) => e.data.kind), ['answer', 'candidate', 'candidate', 'candidate']);
  assert.deepEqual(gotB[0].data.data, offer);
  assert.deepEqual(gotA[0].data.data, answer);
  assert.deepEqual(gotB.slice(1).map((e) => e.data.data.candidate.split(' ')[0]), ['candidate:0', 'candidate:2', 'candidate:4']);
  assert.deepEqual(gotA.slice(1).map((e) => e.data.data.candidate.split(' ')[0]), ['candidate:1', 'candidate:3', 'candidate:5']);

  const hang = await onC.post(`/api/v1/calls/${id}/hangup`, { token: b.token });
  assert.equal(hang.status, 200, hang.text);
  const end = await waitEvent(onB, a, curA, (e) => e.type === 'call.ended' && e.data.call.id === id);
  assert.equal(end.event.data.call.reason, 'hangup');
});
