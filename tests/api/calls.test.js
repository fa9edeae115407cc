// One-to-one calls, black box: invite, accept (first device wins), reject,
// cancel, hang up, signaling relay and its limits, busy and offline
// answers, the server's ring timeout and disconnect detection, and the
// call record each ended call leaves in the conversation. Every test uses
// fresh users. The test stack rings for 4 s (PARLEY_CALL_RING_TIMEOUT) and
// takes users offline 5 s after their last poll (PARLEY_ONLINE_WINDOW).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, assertError, untilNotBusy } = require('../lib.js');
const { poll, head, drain, waitEvent, ofType, allMessages } = require('../chat.js');
const { assertSameAnswer } = require('../same.js');
const { checkIce, turnEntry, CALL_TTL } = require('../ice.js');

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const RING = Number(process.env.PARLEY_CALL_RING_TIMEOUT || 4);
const WINDOW = Number(process.env.PARLEY_ONLINE_WINDOW || 5);

function call(u, to, media = 'audio') {
  return api.post('/api/v1/calls', { token: u.token, json: { to: to.user.id, media } });
}
function act(u, id, action) {
  return api.post(`/api/v1/calls/${id}/${action}`, { token: u.token });
}
function signal(u, id, kind, data) {
  return api.post(`/api/v1/calls/${id}/signal`, { token: u.token, json: { kind, data } });
}
function getCall(u, id) {
  return api.get(`/api/v1/calls/${id}`, { token: u.token });
}

// Two friends whose devices poll (so both are online); resolves
// {a, b, curA, curB} with each stream's cursor.
async function pair(prefix) {
  const a = await register(prefix + 'a');
  const b = await register(prefix + 'b');
  await befriend(a, b);
  return { a, b, curA: await head(a), curB: await head(b) };
}

// A second device (session) of the same user, online too.
async function secondDevice(u) {
  const r = await untilNotBusy(() => api.post('/api/v1/auth/login', { json: { username: u.user.username, password: u.password } }));
  assert.equal(r.status, 200, r.text);
  const dev = { user: u.user, token: r.json.token, password: u.password, session: r.json.session_id };
  await head(dev);
  return dev;
}

// A ringing call from a to b; resolves the call and b's cursor after the
// invite.
async function ring(p, media) {
  const r = await call(p.a, p.b, media);
  assert.equal(r.status, 201, r.text);
  const inv = await waitEvent(p.b, p.curB, ofType('call.invite', (d) => d.call.id === r.json.call.id));
  p.curB = inv.next;
  return r.json.call;
}

// The call record of `callId` in the pair's conversation.
async function record(u, callId) {
  const convs = (await api.get('/api/v1/conversations', { token: u.token })).json.conversations;
  for (const c of convs) {
    const m = (await allMessages(u, c.id)).find((x) => x.type === 'call' && x.body.call_id === callId);
    if (m) return m;
  }
  return null;
}

test('an invite rings the callee, who sees the caller; only the parties see the call', async () => {
  const p = await pair('ci');
  // Registered before the call rings: a registration can wait on the
  // hashing pool for longer than the tests' 4 s ring timeout.
  const stranger = await register('cis');
  const r = await call(p.a, p.b, 'video');
  assert.equal(r.status, 201, r.text);
  const c = r.json.call;
  assert.equal(c.state, 'ringing');
  assert.equal(c.from, p.a.user.id);
  assert.equal(c.to, p.b.user.id);
  assert.equal(c.media, 'video');
  assert.match(c.created_at, ISO);
  const inv = await waitEvent(p.b, p.curB, ofType('call.invite'));
  assert.equal(inv.event.data.call.id, c.id);
  assert.equal(inv.event.data.caller.id, p.a.user.id);
  assert.equal(inv.event.data.caller.username, p.a.user.username);

  for (const u of [p.a, p.b]) {
    const g = await getCall(u, c.id);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.call.state, 'ringing');
  }
  assertError(assert, await getCall(stranger, c.id), 404, 'call_not_found');
  assertError(assert, await act(stranger, c.id, 'accept'), 404, 'call_not_found');
  assertError(assert, await act(stranger, c.id, 'hangup'), 404, 'call_not_found');
  assertError(assert, await signal(stranger, c.id, 'offer', { type: 'offer', sdp: 'v=0\r\n' }), 404, 'call_not_found');
  const list = await api.get('/api/v1/calls', { token: p.b.token });
  assert.equal(list.status, 200, list.text);
  assert.equal(list.json.calls[0].id, c.id);
  assert.deepEqual((await api.get('/api/v1/calls', { token: stranger.token })).json.calls, []);
  assert.equal((await act(p.a, c.id, 'cancel')).status, 200);
});

// TURN credentials are minted per call and per party: a leaked one is
// good for this call's ring time plus a minute, not for a day of relaying.
test('each party gets its own TURN credential for the call: invite reply, call.invite, accept reply, call.accepted', async () => {
  const p = await pair('ct');
  let t0 = Date.now();
  const r = await call(p.a, p.b, 'video');
  let t1 = Date.now();
  assert.equal(r.status, 201, r.text);
  const c = r.json.call;
  assert.deepEqual(Object.keys(r.json).sort(), ['call', 'ice']);
  const callerTurn = checkIce(assert, r.json.ice, { userId: p.a.user.id, scope: 'c', id: c.id, ttl: CALL_TTL, t0, t1 });

  const inv = await waitEvent(p.b, p.curB, ofType('call.invite', (d) => d.call.id === c.id));
  const calleeTurn = checkIce(assert, inv.event.data.ice, { userId: p.b.user.id, scope: 'c', id: c.id, ttl: CALL_TTL, t0, t1 });
  assert.notEqual(calleeTurn.credential, callerTurn.credential);

  t0 = Date.now();
  const acc = await act(p.b, c.id, 'accept');
  t1 = Date.now();
  assert.equal(acc.status, 200, acc.text);
  assert.equal(acc.json.call.state, 'active');
  checkIce(assert, acc.json.ice, { userId: p.b.user.id, scope: 'c', id: c.id, ttl: CALL_TTL, t0, t1 });
  const ev = await waitEvent(p.a, p.curA, ofType('call.accepted', (d) => d.call.id === c.id));
  checkIce(assert, ev.event.data.ice, { userId: p.a.user.id, scope: 'c', id: c.id, ttl: CALL_TTL, t0, t1 });
  // A retried accept from the same device is answered again, with a
  // credential again.
  const again = await act(p.b, c.id, 'accept');
  assert.equal(again.status, 200, again.text);
  assert.equal(turnEntry(again.json.ice).username.split(':').slice(1).join(':'), `${p.b.user.id}:c${c.id}`);

  // The next call gets other credentials: they name their call.
  assert.equal((await act(p.a, c.id, 'hangup')).status, 200);
  const r2 = await call(p.a, p.b);
  assert.equal(r2.status, 201, r2.text);
  assert.notEqual(r2.json.call.id, c.id);
  assert.equal(turnEntry(r2.json.ice).username.split(':').slice(1).join(':'), `${p.a.user.id}:c${r2.json.call.id}`);
  // Refusals hand out nothing.
  const busy = await call(p.b, p.a);
  assertError(assert, busy, 409, 'busy');
  assert.equal(busy.json.ice, undefined);
  assert.equal((await act(p.a, r2.json.call.id, 'cancel')).status, 200);
});

test('accept, signals in order both ways, hang up: both see call.ended and a completed call record', async () => {
  const p = await pair('cs');
  const c = await ring(p);
  assertError(assert, await act(p.a, c.id, 'accept'), 403, 'not_callee');
  // No device of the callee is in the call before one answers.
  assertError(assert, await signal(p.b, c.id, 'answer', { type: 'answer', sdp: 'v=0\r\n' }), 409, 'not_answered');
  // The caller may send its offer while the call rings.
  assert.equal((await signal(p.a, c.id, 'offer', { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' })).status, 202);
  const acc = await act(p.b, c.id, 'accept');
  assert.equal(acc.status, 200, acc.text);
  assert.equal(acc.json.call.state, 'active');
  assert.match(acc.json.call.answered_at, ISO);
  const seenA = await waitEvent(p.a, p.curA, ofType('call.accepted', (d) => d.call.id === c.id));
  p.curA = seenA.next;
  assert.equal(seenA.event.data.call.state, 'active');

  const ans = await signal(p.b, c.id, 'answer', { type: 'answer', sdp: 'v=0\r\n' });
  assert.equal(ans.status, 202, ans.text);
  assert.equal(ans.json.status, 'relayed');
  for (let i = 0; i < 12; i++) {
    const who = i % 2 ? p.b : p.a;
    const s = await signal(who, c.id, 'candidate', {
      candidate: `candidate:${i} 1 udp 2122260223 127.0.0.1 ${50000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0,
      extra: 'dropped',
    });
    assert.equal(s.status, 202, s.text);
  }
  const gotB = await drain(p.b, p.curB);
  const gotA = await drain(p.a, p.curA);
  const sigB = gotB.events.filter((e) => e.type === 'call.signal');
  const sigA = gotA.events.filter((e) => e.type === 'call.signal');
  assert.deepEqual(sigB.map((e) => e.data.kind), ['offer', 'candidate', 'candidate', 'candidate', 'candidate', 'candidate', 'candidate']);
  assert.deepEqual(sigA.map((e) => e.data.kind), ['answer', 'candidate', 'candidate', 'candidate', 'candidate', 'candidate', 'candidate']);
  assert.deepEqual(sigB.slice(1).map((e) => e.data.data.candidate.split(' ')[0]),
    ['candidate:0', 'candidate:2', 'candidate:4', 'candidate:6', 'candidate:8', 'candidate:10']);
  for (const e of sigB) {
    assert.equal(e.data.call_id, c.id);
    assert.equal(e.data.from, p.a.user.id);
  }
  assert.deepEqual(sigB[1].data.data, { candidate: 'candidate:0 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 });
  assert.deepEqual(sigA[0].data.data, { type: 'answer', sdp: 'v=0\r\n' });
  p.curA = gotA.next;
  p.curB = gotB.next;

  assertError(assert, await act(p.a, c.id, 'cancel'), 409, 'not_ringing');
  assertError(assert, await act(p.b, c.id, 'reject'), 409, 'not_ringing');
  await new Promise((res) => setTimeout(res, 1100));
  const h = await act(p.a, c.id, 'hangup');
  assert.equal(h.status, 200, h.text);
  assert.equal(h.json.call.state, 'ended');
  assert.equal(h.json.call.reason, 'hangup');
  assert.equal(h.json.call.ended_by, p.a.user.id);
  assert.ok(h.json.call.duration >= 1, h.text);
  for (const [u, cur] of [[p.a, p.curA], [p.b, p.curB]]) {
    const end = await waitEvent(u, cur, ofType('call.ended', (d) => d.call.id === c.id));
    assert.equal(end.event.data.call.reason, 'hangup');
  }
  const rec = await record(p.b, c.id);
  assert.ok(rec, 'call record in history');
  assert.equal(rec.from, p.a.user.id);
  assert.equal(rec.body.result, 'completed');
  assert.equal(rec.body.media, 'audio');
  assert.equal(rec.body.duration, h.json.call.duration);
  assertError(assert, await act(p.b, c.id, 'hangup'), 409, 'call_ended');
  assertError(assert, await signal(p.a, c.id, 'candidate', { candidate: '' }), 409, 'call_ended');
  assertError(assert, await act(p.b, c.id, 'accept'), 409, 'call_ended');
});

test('the first device to accept wins; the callee\'s other devices get call.answered_elsewhere', async () => {
  const p = await pair('ce');
  const b2 = await secondDevice(p.b);
  const c = await ring(p);
  const acc = await act(b2, c.id, 'accept');
  assert.equal(acc.status, 200, acc.text);
  assertError(assert, await act(p.b, c.id, 'accept'), 409, 'answered_elsewhere');
  assert.equal((await act(b2, c.id, 'accept')).status, 200, 'a retried accept from the winner is fine');
  const ev = await waitEvent(p.b, p.curB, ofType('call.answered_elsewhere', (d) => d.call.id === c.id));
  assert.equal(ev.event.data.device, b2.session);
  assert.equal(ev.event.data.call.state, 'active');
  // Only the answering device takes part in the call.
  assertError(assert, await signal(p.b, c.id, 'answer', { type: 'answer', sdp: 'v=0\r\n' }), 409, 'wrong_device');
  assert.equal((await signal(b2, c.id, 'answer', { type: 'answer', sdp: 'v=0\r\n' })).status, 202);
  // The caller's other device cannot signal either.
  const a2 = await secondDevice(p.a);
  assertError(assert, await signal(a2, c.id, 'candidate', { candidate: '' }), 409, 'wrong_device');
  // Any of the callee's devices may hang up.
  assert.equal((await act(p.b, c.id, 'hangup')).status, 200);
});

test('reject ends a ringing call for both with a declined record; cancel leaves a canceled one', async () => {
  const p = await pair('cr');
  const c = await ring(p);
  assertError(assert, await act(p.a, c.id, 'reject'), 403, 'not_callee');
  assertError(assert, await act(p.b, c.id, 'cancel'), 403, 'not_caller');
  assertError(assert, await act(p.a, c.id, 'hangup'), 409, 'not_active');
  const rj = await act(p.b, c.id, 'reject');
  assert.equal(rj.status, 200, rj.text);
  assert.equal(rj.json.call.reason, 'rejected');
  const ea = await waitEvent(p.a, p.curA, ofType('call.ended', (d) => d.call.id === c.id));
  p.curA = ea.next;
  assert.equal(ea.event.data.call.reason, 'rejected');
  assert.equal(ea.event.data.call.ended_by, p.b.user.id);
  const eb = await waitEvent(p.b, p.curB, ofType('call.ended', (d) => d.call.id === c.id));
  p.curB = eb.next;
  assert.equal((await record(p.a, c.id)).body.result, 'declined');

  const c2 = await ring(p);
  const cn = await act(p.a, c2.id, 'cancel');
  assert.equal(cn.status, 200, cn.text);
  assert.equal(cn.json.call.reason, 'canceled');
  const e2 = await waitEvent(p.b, p.curB, ofType('call.ended', (d) => d.call.id === c2.id));
  assert.equal(e2.event.data.call.reason, 'canceled');
  assert.equal((await record(p.b, c2.id)).body.result, 'canceled');
  assertError(assert, await act(p.b, c2.id, 'accept'), 409, 'call_ended');
});

test('busy: a user in a ringing or active call cannot be called or call; the busy callee sees a missed call', async () => {
  const p = await pair('cb');
  const c = await register('cbc');
  await befriend(c, p.b);
  await befriend(c, p.a);
  await head(c);
  const first = await ring(p);
  const r1 = await call(c, p.b);
  assertError(assert, r1, 409, 'busy');
  const r2 = await call(p.a, c);
  assertError(assert, r2, 409, 'busy');
  assert.match(r2.json.error.message, /already in a call/);
  const r3 = await call(c, p.a);
  assertError(assert, r3, 409, 'busy');
  assert.equal((await act(p.b, first.id, 'accept')).status, 200);
  assertError(assert, await call(c, p.b), 409, 'busy');
  assert.equal((await act(p.b, first.id, 'hangup')).status, 200);
  // Free again.
  const ok = await call(c, p.b);
  assert.equal(ok.status, 201, ok.text);
  assert.equal((await act(c, ok.json.call.id, 'cancel')).status, 200);
  // b's history with c shows the call b missed while busy.
  const calls = (await api.get('/api/v1/calls?limit=100', { token: p.b.token })).json.calls;
  const missed = calls.find((x) => x.from === c.user.id && x.reason === 'busy');
  assert.ok(missed, JSON.stringify(calls));
  assert.equal(missed.state, 'ended');
  assert.equal((await record(p.b, missed.id)).body.result, 'missed');
});

test('a callee with no device online gets a missed call and the caller 409 callee_offline', async () => {
  const a = await register('coa');
  const b = await register('cob');
  await befriend(a, b);
  const r = await call(a, b);
  assertError(assert, r, 409, 'callee_offline');
  const calls = (await api.get('/api/v1/calls', { token: b.token })).json.calls;
  assert.equal(calls.length, 1);
  assert.equal(calls[0].reason, 'callee_offline');
  assert.equal(calls[0].from, a.user.id);
  const rec = await record(b, calls[0].id);
  assert.equal(rec.body.result, 'missed');
  assert.equal(rec.from, a.user.id);
  // No invite ever reached b.
  const ev = await drain(b, 0);
  assert.equal(ev.events.filter((e) => e.type.startsWith('call.')).length, 0);
  // a is not left busy by the refused call.
  await head(b);
  const again = await call(a, b);
  assert.equal(again.status, 201, again.text);
});

test('the server ends an unanswered call after the ring timeout: call.timeout for both, a missed call', async () => {
  const p = await pair('ct');
  const c = await ring(p);
  const t0 = Date.now();
  const ta = await waitEvent(p.a, p.curA, ofType('call.timeout', (d) => d.call.id === c.id), (RING + 8) * 1000);
  const waited = (Date.now() - t0) / 1000;
  assert.ok(waited >= RING - 1.5, `timed out after ${waited} s, ring timeout ${RING} s`);
  assert.equal(ta.event.data.call.reason, 'timeout');
  assert.equal(ta.event.data.call.state, 'ended');
  await waitEvent(p.b, p.curB, ofType('call.timeout', (d) => d.call.id === c.id), 5000);
  assertError(assert, await act(p.b, c.id, 'accept'), 409, 'call_ended');
  assert.equal((await record(p.b, c.id)).body.result, 'missed');
});

test('a party whose devices all go offline during a call ends it (disconnected)', async () => {
  const p = await pair('cd');
  const c = await ring(p);
  assert.equal((await act(p.b, c.id, 'accept')).status, 200);
  // Logging out takes b's only device offline at once.
  assert.equal((await api.post('/api/v1/auth/logout', { token: p.b.token })).status, 204);
  const e = await waitEvent(p.a, p.curA, ofType('call.ended', (d) => d.call.id === c.id), 10000);
  assert.equal(e.event.data.call.reason, 'disconnected');
  assert.equal(e.event.data.call.ended_by, p.b.user.id);
  assert.equal((await record(p.a, c.id)).body.result, 'completed');
});

test('a device that simply stops polling drops out of its call after the presence window', async () => {
  const p = await pair('cq');
  const c = await ring(p);
  assert.equal((await act(p.b, c.id, 'accept')).status, 200);
  // a keeps polling (waitEvent does); b polls no more.
  const t0 = Date.now();
  const e = await waitEvent(p.a, p.curA, ofType('call.ended', (d) => d.call.id === c.id), (WINDOW + 10) * 1000);
  assert.equal(e.event.data.call.reason, 'disconnected');
  assert.equal(e.event.data.call.ended_by, p.b.user.id);
  assert.ok(Date.now() - t0 > (WINDOW - 2) * 1000, 'not before the window passed');
});

test('a device waiting in one long poll longer than the presence window stays in its call', async () => {
  const p = await pair('cl');
  const c = await ring(p);
  assert.equal((await act(p.b, c.id, 'accept')).status, 200);
  // b holds one poll for twice the window while a keeps short-polling
  // (so a stays online and b hears of nothing). Had the server taken b
  // offline, the call would end and b's poll return call.ended early.
  const t0 = Date.now();
  const hold = poll(p.b, { since: await head(p.b), timeout: WINDOW * 2 + 2 }, { timeout: 60000 });
  let curA = await head(p.a);
  while (Date.now() - t0 < (WINDOW * 2 + 1) * 1000) {
    const r = await poll(p.a, { since: curA, timeout: 1 });
    assert.equal(r.status, 200, r.text);
    curA = r.json.next;
  }
  const rb = await hold;
  assert.equal(rb.status, 200, rb.text);
  assert.deepEqual(rb.json.events, [], 'b\'s poll was held to its timeout');
  assert.ok(Date.now() - t0 >= WINDOW * 2 * 1000);
  const g = await getCall(p.a, c.id);
  assert.equal(g.json.call.state, 'active', 'the call survived: ' + g.text);
  assert.equal((await act(p.a, c.id, 'hangup')).status, 200);
});

test('bad input: clear 4xx for every field, and no call is created', async () => {
  const p = await pair('cv');
  const stranger = await register('cvs');
  await head(stranger);
  assertError(assert, await api.post('/api/v1/calls', { token: p.a.token, json: {} }), 400, 'missing_field');
  assertError(assert, await api.post('/api/v1/calls', { token: p.a.token, json: { to: p.b.user.id, media: 'hologram' } }), 400, 'invalid_field');
  assertError(assert, await api.post('/api/v1/calls', { token: p.a.token, json: { to: String(p.b.user.id) } }), 400, 'invalid_field');
  assertError(assert, await api.post('/api/v1/calls', { token: p.a.token, json: { to: p.a.user.id } }), 400, 'invalid_field');
  assertError(assert, await api.post('/api/v1/calls', { token: p.a.token, body: '{"to":' }), 400);
  assertError(assert, await api.post('/api/v1/calls', { json: { to: p.b.user.id } }), 401);
  assertError(assert, await api.post('/api/v1/calls', { token: p.a.token, json: { to: 9007199254740991 } }), 404, 'user_not_found');
  assertError(assert, await call(p.a, stranger), 403, 'not_friends');
  assertError(assert, await getCall(p.a, 'abc'), 400);
  assertError(assert, await api.get('/api/v1/calls?limit=0', { token: p.a.token }), 400);
  assert.deepEqual((await api.get('/api/v1/calls', { token: p.a.token })).json.calls, []);
  // b blocks a: b is told why; a is answered exactly as for a stranger.
  assert.equal((await api.post('/api/v1/blocks', { token: p.b.token, json: { user_id: p.a.user.id } })).status, 201);
  const toBlocker = await call(p.a, p.b);
  assertError(assert, toBlocker, 403, 'not_friends');
  assertSameAnswer(assert, toBlocker, await call(p.a, stranger), 'the blocked user calls the blocker, and a stranger');
  assertError(assert, await call(p.b, p.a), 403, 'blocked');
});

test('signals: kinds, sizes and fields are checked; too many per call is 429', async () => {
  const p = await pair('cg');
  const c = await ring(p);
  const bad = [
    [{ kind: 'hello', data: {} }, 'invalid_signal'],
    [{ kind: 'offer' }, 'missing_field'],
    [{ data: { candidate: '' } }, 'missing_field'],
    [{ kind: 'offer', data: 'v=0' }, 'invalid_signal'],
    [{ kind: 'offer', data: { type: 'answer', sdp: 'v=0' } }, 'invalid_signal'],
    [{ kind: 'offer', data: { type: 'offer' } }, 'invalid_signal'],
    [{ kind: 'offer', data: { type: 'offer', sdp: '' } }, 'invalid_signal'],
    [{ kind: 'offer', data: { type: 'offer', sdp: 'x'.repeat(65537) } }, 'invalid_signal'],
    [{ kind: 'candidate', data: { candidate: 'x'.repeat(2049) } }, 'invalid_signal'],
    [{ kind: 'candidate', data: { candidate: 'a', sdpMid: 'y'.repeat(100) } }, 'invalid_signal'],
    [{ kind: 'candidate', data: { candidate: 'a', sdpMLineIndex: -1 } }, 'invalid_signal'],
    [{ kind: 'candidate', data: { candidate: 'a\nb' } }, 'invalid_signal'],
    [{ kind: 'candidate', data: { candidate: 5 } }, 'invalid_signal'],
    [{ kind: 'candidate', data: { candidate: 'x'.repeat(1900), usernameFragment: 'u'.repeat(200) } }, 'invalid_signal'],
  ];
  for (const [body, code] of bad) {
    const r = await api.post(`/api/v1/calls/${c.id}/signal`, { token: p.a.token, json: body });
    assertError(assert, r, 400, code);
  }
  // The largest offer allowed goes through whole.
  const sdp = 'v=0\r\n' + 'a='.padEnd(65536 - 5 - 2, 'z') + '\r\n';
  assert.equal(sdp.length, 65536);
  const big = await signal(p.a, c.id, 'offer', { type: 'offer', sdp });
  assert.equal(big.status, 202, big.text.slice(0, 200));
  const got = await waitEvent(p.b, p.curB, ofType('call.signal'));
  assert.equal(got.event.data.data.sdp, sdp);
  assertError(assert, await api.post(`/api/v1/calls/${c.id}/signal`, { token: p.a.token, body: JSON.stringify({ kind: 'offer', data: { sdp: 'x'.repeat(300000) } }) }), 413);
  // A flood of signals is cut off per party and call. The flood may take
  // longer than the test stack's 4 s ring time on a loaded machine, so the
  // call is answered first, and both devices keep polling (online) while
  // it runs.
  assert.equal((await act(p.b, c.id, 'accept')).status, 200);
  let flooding = true;
  const keepOnline = (async () => {
    while (flooding) {
      await Promise.all([p.a, p.b].map((u) => api.get('/api/v1/events?timeout=0', { token: u.token })));
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  let sent = 1;
  let refused = null;
  try {
    while (sent < 1005 && !refused) {
      const batch = await Promise.all(Array.from({ length: 8 }, () => signal(p.a, c.id, 'candidate', { candidate: '' })));
      for (const r of batch) {
        if (r.status === 202) sent++;
        else refused = r;
      }
    }
  } finally {
    flooding = false;
    await keepOnline;
  }
  assertError(assert, refused, 429, 'too_many_signals');
  assert.equal(sent, 1000);
  // The other party still has its own budget.
  assert.equal((await act(p.b, c.id, 'accept')).status, 200);
  assert.equal((await signal(p.b, c.id, 'candidate', { candidate: '' })).status, 202);
  assert.equal((await act(p.a, c.id, 'hangup')).status, 200);
});
