// One-to-one calls in real browsers: two headless Chromium pages, each
// logged in as its own user through web/js/parley.js (and parley-ws.js),
// signal a WebRTC call to each other through Parley's event stream over
// the WebSocket (one device of the multi-device test long-polls) and
// connect over host candidates. Nothing is mocked: the pages talk to the
// real stack.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, register, befriend, ROOT } = require('../lib.js');
const { launch, closeBrowser, openUser, waitIn, eventsOf, screenshot } = require('./lib.js');

const RING_TIMEOUT = Number(process.env.PARLEY_CALL_RING_TIMEOUT || 4);
const ONLINE_WINDOW = Number(process.env.PARLEY_ONLINE_WINDOW || 5);

// Two friends, a browser, and a logged-in page for each; everything is
// closed when the test ends, whatever happened.
async function twoPages(t, prefix) {
  const [a, b] = await Promise.all([register(prefix + 'a'), register(prefix + 'b')]);
  await befriend(a, b);
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const [pa, pb] = await Promise.all([openUser(browser, a, 'A'), openUser(browser, b, 'B')]);
  return { a, b, pa, pb };
}

// A places a call to B from the page; resolves the call as the server
// created it.
function placeCall(pa, to, media) {
  return pa.page.evaluate(({ to, media }) => new Promise((resolve, reject) => {
    window.T.manager.place(to, media, (err, call) => {
      if (err) { reject(new Error(err.code + ': ' + err.message)); return; }
      window.T.watch(call);
      resolve(call.info);
    });
  }), { to, media });
}

// B waits for the invite of call `id` on its event loop.
function waitInvite(pb, id) {
  return waitIn(pb, `call.invite for call ${id}`,
    (id) => window.T.incoming.indexOf(id) >= 0 &&
      window.T.events.some((e) => e.type === 'call.invite' && e.data.call.id === id), id);
}

// Runs a Call method in the page (accept, hangup, ...) and resolves its
// server-side call info.
function callAction(p, id, action) {
  return p.page.evaluate(({ id, action }) => new Promise((resolve, reject) => {
    const call = window.T.manager.calls[id];
    if (!call) { reject(new Error('no live call ' + id + ' in this page')); return; }
    call[action]((err, c) => {
      if (err) reject(new Error(action + ': ' + err.code + ': ' + err.message));
      else resolve(c.info);
    });
  }), { id, action });
}

function waitEnded(p, id, timeout) {
  return waitIn(p, `the end of call ${id}`, (id) => window.T.calls[id] && window.T.calls[id].ended, id, timeout);
}

// The call.ended / call.timeout event for call `id` on this page.
async function endEvent(p, type, id) {
  const evs = (await eventsOf(p, type)).filter((e) => e.data.call.id === id);
  assert.equal(evs.length, 1, `[${p.label}] one ${type} for call ${id}: ${JSON.stringify(evs)}`);
  return evs[0].data.call;
}

test('a video call connects both browsers, then A hangs up', { timeout: 60000 }, async (t) => {
  const { a, b, pa, pb } = await twoPages(t, 'bc');
  // The call brings its own ICE servers: no page asks GET /ice-servers.
  const iceFetches = [];
  for (const p of [pa, pb]) p.page.on('request', (req) => { if (/\/ice-servers/.test(req.url())) iceFetches.push(p.label); });

  const call = await placeCall(pa, b.user.id, 'video');
  assert.equal(call.state, 'ringing');
  assert.equal(call.from, a.user.id);
  assert.equal(call.to, b.user.id);
  assert.equal(call.media, 'video');

  await waitInvite(pb, call.id);
  const invite = (await eventsOf(pb, 'call.invite'))[0].data;
  assert.equal(invite.caller.id, a.user.id);
  assert.equal(invite.caller.username, a.user.username);
  const accepted = await callAction(pb, call.id, 'accept');
  assert.equal(accepted.state, 'active');

  // The media path is up on both sides...
  const connected = (id) => {
    const c = window.T.calls[id];
    return c && c.connection.indexOf('connected') >= 0;
  };
  await Promise.all([
    waitIn(pa, 'A connected', connected, call.id, 30000),
    waitIn(pb, 'B connected', connected, call.id, 30000),
  ]);
  for (const p of [pa, pb]) {
    const pc = await p.page.evaluate((id) => {
      const c = window.T.manager.calls[id];
      return { connection: c.pc.connectionState, ice: c.pc.iceConnectionState, state: c.state };
    }, call.id);
    assert.equal(pc.connection, 'connected', `[${p.label}] ${JSON.stringify(pc)}`);
    assert.match(pc.ice, /^(connected|completed)$/);
    assert.equal(pc.state, 'active');
  }
  // Each connection got its own party's TURN credential for this call.
  for (const [p, u] of [[pa, a], [pb, b]]) {
    const names = await p.page.evaluate((id) => window.T.manager.calls[id].pc.getConfiguration().iceServers
      .filter((s) => s.username).map((s) => s.username), call.id);
    assert.equal(names.length, 1, `[${p.label}] one TURN entry: ${JSON.stringify(names)}`);
    assert.match(names[0], new RegExp(`^\\d+:${u.user.id}:c${call.id}$`), `[${p.label}]`);
  }
  assert.deepEqual(iceFetches, [], 'no GET /ice-servers');
  // ...and the other side's camera (Chromium's fake one) really plays.
  const playing = () => {
    const v = document.getElementById('remote');
    return v && v.videoWidth > 0 && v.readyState >= 2;
  };
  await Promise.all([
    waitIn(pa, "A plays B's video", playing, null, 15000),
    waitIn(pb, "B plays A's video", playing, null, 15000),
  ]);
  await screenshot(pa, 'call-connected-A');
  await screenshot(pb, 'call-connected-B');

  // The signals came over the WebSocket: one socket each, still open,
  // and not a single long poll.
  for (const p of [pa, pb]) {
    const ws = await p.page.evaluate(() => ({ transport: window.T.loop.transport, stats: window.T.loop._ws.stats }));
    assert.equal(ws.transport, 'websocket', `[${p.label}] ${JSON.stringify(ws)}`);
    assert.equal(ws.stats.fallbacks, 0, `[${p.label}] ${JSON.stringify(ws)}`);
    assert.ok(ws.stats.batches >= 3, `[${p.label}] signals arrived in batches: ${JSON.stringify(ws)}`);
    assert.equal(p.sockets.length, 1, `[${p.label}] ${JSON.stringify(p.sockets)}`);
    assert.match(p.sockets[0].url, /^ws:\/\/[^/]+\/api\/v1\/stream$/);
    assert.equal(p.sockets[0].closed, false);
    assert.equal(p.polls, 0, `[${p.label}] no GET /api/v1/events`);
  }

  // The pages used their cookie session (no bearer token in the page).
  assert.equal(await pa.page.evaluate(() => window.T.client.token), null);

  // Mute and camera switches act on the local tracks.
  const toggled = await pa.page.evaluate((id) => {
    const c = window.T.manager.calls[id];
    const state = () => c.localStream.getTracks().map((tr) => tr.kind + ':' + tr.enabled).sort().join(',');
    c.setMuted(true);
    c.setCamera(false);
    const off = state();
    c.setMuted(false);
    c.setCamera(true);
    return [off, state()];
  }, call.id);
  assert.deepEqual(toggled, ['audio:false,video:false', 'audio:true,video:true']);

  // Only the accepting device was told it answered (this is B's only one).
  const answered = await eventsOf(pb, 'call.answered_elsewhere');
  assert.equal(answered.length, 1);
  assert.equal(answered[0].data.device, pb.session.sessionId);

  // The call outlives the online window: the pages' open sockets keep
  // both devices online, so the server's sweeper does not end it as
  // disconnected.
  await new Promise((r) => setTimeout(r, (ONLINE_WINDOW + 2) * 1000));
  for (const p of [pa, pb]) {
    const now = await p.page.evaluate((id) => {
      const c = window.T.manager.calls[id];
      return { state: c && c.state, connection: c && c.connectionState };
    }, call.id);
    assert.deepEqual(now, { state: 'active', connection: 'connected' }, `[${p.label}]`);
  }

  // A hangs up: both see call.ended with reason hangup.
  const hung = await callAction(pa, call.id, 'hangup');
  assert.equal(hung.state, 'ended');
  assert.equal(hung.reason, 'hangup');
  assert.equal(await waitEnded(pb, call.id), 'hangup');
  assert.equal(await waitEnded(pa, call.id), 'hangup');
  await waitIn(pa, 'call.ended on A', (id) => window.T.events.some((e) => e.type === 'call.ended' && e.data.call.id === id), call.id);
  const ended = await endEvent(pb, 'call.ended', call.id);
  assert.equal(ended.state, 'ended');
  assert.equal(ended.reason, 'hangup');
  assert.equal(ended.ended_by, a.user.id);
  assert.equal(typeof ended.duration, 'number');
  assert.equal((await endEvent(pa, 'call.ended', call.id)).reason, 'hangup');

  // Both pages let go of their peer connection and camera.
  for (const p of [pa, pb]) {
    const left = await p.page.evaluate((id) => ({
      live: Object.keys(window.T.manager.calls).length,
      tracks: window.T.current.localStream.getTracks().map((tr) => tr.readyState),
    }), call.id);
    assert.equal(left.live, 0, `[${p.label}] no live call left`);
    assert.ok(left.tracks.every((s) => s === 'ended'), `[${p.label}] local tracks stopped: ${left.tracks}`);
  }

  // The call left a record in the pair's history: a `call` message.
  await waitIn(pb, 'the call record message', (id) => window.T.events.some((e) =>
    e.type === 'message' && e.data.message.type === 'call' && e.data.message.body.call_id === id), call.id);
  const recordEv = (await eventsOf(pb, 'message')).find((e) => e.data.message.type === 'call');
  const conv = recordEv.data.message.conversation_id;
  const h = await api.get(`/api/v1/conversations/${conv}/messages`, { token: a.token });
  assert.equal(h.status, 200, h.text);
  const records = h.json.messages.filter((m) => m.type === 'call' && m.body.call_id === call.id);
  assert.equal(records.length, 1, h.text);
  assert.equal(records[0].from, a.user.id);
  assert.equal(records[0].body.result, 'completed');
  assert.equal(records[0].body.media, 'video');
  assert.equal(records[0].body.reason, 'hangup');
  assert.equal(typeof records[0].body.duration, 'number');

  // No step failed on the way (signals, descriptions, candidates).
  const errors = await Promise.all([pa, pb].map((p) => p.page.evaluate(
    (id) => window.T.errors.concat(window.T.calls[id].errors), call.id)));
  assert.deepEqual(errors, [[], []]);
});

test('B rejects: A sees call.ended with reason rejected', { timeout: 60000 }, async (t) => {
  const { a, b, pa, pb } = await twoPages(t, 'br');

  const call = await placeCall(pa, b.user.id, 'audio');
  assert.equal(call.media, 'audio');
  await waitInvite(pb, call.id);
  const rejected = await callAction(pb, call.id, 'reject');
  assert.equal(rejected.reason, 'rejected');

  assert.equal(await waitEnded(pa, call.id), 'rejected');
  await waitIn(pa, 'call.ended on A', (id) => window.T.events.some((e) => e.type === 'call.ended' && e.data.call.id === id), call.id);
  const ended = await endEvent(pa, 'call.ended', call.id);
  assert.equal(ended.reason, 'rejected');
  assert.equal(ended.ended_by, b.user.id);
  assert.equal(ended.answered_at, null);
  // The caller's camera and microphone were released.
  const tracks = await pa.page.evaluate(() => window.T.current.localStream.getTracks().map((tr) => tr.readyState));
  assert.ok(tracks.length > 0 && tracks.every((s) => s === 'ended'), String(tracks));
  assert.equal(await waitEnded(pb, call.id), 'rejected');

  await waitIn(pa, 'the declined call record', (id) => window.T.events.some((e) =>
    e.type === 'message' && e.data.message.type === 'call' && e.data.message.body.call_id === id &&
    e.data.message.body.result === 'declined'), call.id);
});

test('nobody answers: both see call.timeout after the ring timeout', { timeout: 60000 }, async (t) => {
  const { b, pa, pb } = await twoPages(t, 'bt');

  const t0 = Date.now();
  const call = await placeCall(pa, b.user.id, 'video');
  await waitInvite(pb, call.id);

  const wait = (RING_TIMEOUT + 8) * 1000;
  const seen = (id) => window.T.events.some((e) => e.type === 'call.timeout' && e.data.call.id === id);
  await Promise.all([
    waitIn(pa, 'call.timeout on A', seen, call.id, wait),
    waitIn(pb, 'call.timeout on B', seen, call.id, wait),
  ]);
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= RING_TIMEOUT * 1000 - 500, `timed out after ${elapsed} ms, ring timeout ${RING_TIMEOUT} s`);
  for (const p of [pa, pb]) {
    const c = await endEvent(p, 'call.timeout', call.id);
    assert.equal(c.state, 'ended');
    assert.equal(c.reason, 'timeout');
    assert.equal((await eventsOf(p, 'call.ended')).length, 0, `[${p.label}] no call.ended for a timeout`);
    assert.equal(await waitEnded(p, call.id, 2000), 'timeout');
  }
  await waitIn(pb, 'the missed call record', (id) => window.T.events.some((e) =>
    e.type === 'message' && e.data.message.type === 'call' && e.data.message.body.call_id === id &&
    e.data.message.body.result === 'missed'), call.id);
});

test("B's other device stops ringing when one device accepts; A cancels the next call", { timeout: 60000 }, async (t) => {
  const { a, b, pa, pb } = await twoPages(t, 'bd');
  const browser = pa.context.browser();
  // B2 has no WebSocket: its call events come by long poll.
  const pb2 = await openUser(browser, b, 'B2', { websocket: false });

  const call = await placeCall(pa, b.user.id, 'audio');
  await Promise.all([waitInvite(pb, call.id), waitInvite(pb2, call.id)]);
  await callAction(pb, call.id, 'accept');
  // The device that did not answer stops ringing; the one that did goes on.
  assert.equal(await waitEnded(pb2, call.id), 'answered_elsewhere');
  const connected = (id) => window.T.calls[id] && window.T.calls[id].connection.indexOf('connected') >= 0;
  await Promise.all([
    waitIn(pa, 'A connected', connected, call.id, 30000),
    waitIn(pb, 'B connected', connected, call.id, 30000),
  ]);
  const other = await eventsOf(pb2, 'call.answered_elsewhere');
  assert.equal(other.length, 1);
  assert.equal(other[0].data.device, pb.session.sessionId);
  assert.notEqual(other[0].data.device, pb2.session.sessionId);
  // B2 never got media or a peer connection for it.
  assert.equal(await pb2.page.evaluate((id) => window.T.calls[id].states.join(','), call.id), 'ringing,ended');

  // B hangs up; A's side ends too.
  assert.equal((await callAction(pb, call.id, 'hangup')).reason, 'hangup');
  assert.equal(await waitEnded(pa, call.id), 'hangup');

  // A calls again and cancels while it rings: every device of B stops.
  const next = await placeCall(pa, b.user.id, 'video');
  await Promise.all([waitInvite(pb, next.id), waitInvite(pb2, next.id)]);
  assert.equal((await callAction(pa, next.id, 'hangup')).reason, 'canceled');
  assert.equal(await waitEnded(pb, next.id), 'canceled');
  assert.equal(await waitEnded(pb2, next.id), 'canceled');
  assert.equal(a.user.id, (await endEvent(pb2, 'call.ended', next.id)).ended_by);
  assert.equal(await pb2.page.evaluate(() => window.T.loop.transport), 'poll');
  assert.ok(pb2.polls > 0 && pb2.sockets.length === 0, `polls ${pb2.polls}, sockets ${pb2.sockets.length}`);
  assert.equal(await pb.page.evaluate(() => window.T.loop.transport), 'websocket');
});

test('parley.js parses as ECMAScript 5', () => {
  const acorn = require('acorn');
  const file = path.join(ROOT, 'web', 'js', 'parley.js');
  assert.doesNotThrow(() => acorn.parse(fs.readFileSync(file, 'utf8'), { ecmaVersion: 5 }));
});

test('without WebRTC, placing a call reports webrtc_unsupported', { timeout: 60000 }, async (t) => {
  const [a, b] = await Promise.all([register('bua'), register('bub')]);
  await befriend(a, b);
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const pa = await openUser(browser, a, 'A');
  const r = await pa.page.evaluate((to) => {
    const support = window.Parley.webrtcSupport();
    window.RTCPeerConnection = undefined;
    return new Promise((resolve) => window.T.manager.place(to, 'audio', (err) => resolve({
      before: support.supported, after: window.Parley.webrtcSupport(), code: err && err.code,
    })));
  }, b.user.id);
  assert.equal(r.before, true);
  assert.deepEqual(r.after, { supported: false, missing: ['RTCPeerConnection'] });
  assert.equal(r.code, 'webrtc_unsupported');
});

test('the event loop resyncs after 410 and backs off on errors', { timeout: 60000 }, async (t) => {
  const [a, b] = await Promise.all([register('bla'), register('blb')]);
  await befriend(a, b);
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const pb = await openUser(browser, b, 'B');

  // A cursor far beyond the head gets 410 cursor_expired: the loop jumps
  // to the head it names and goes on delivering.
  await pb.page.evaluate(() => {
    const loop = (window.T.loop2 = new window.Parley.EventLoop(window.T.client, { cursor: 1e9 }));
    window.T.resyncs = [];
    window.T.got = [];
    loop.on('loop:resync', (r) => window.T.resyncs.push(r));
    loop.on('message', (data, ev) => window.T.got.push(ev.seq));
    loop.start();
  });
  await waitIn(pb, 'a resync', () => window.T.resyncs.length === 1);
  const sent = await api.post('/api/v1/messages', {
    token: a.token, json: { to: b.user.id, type: 'text', body: { text: 'after resync' } },
  });
  assert.equal(sent.status, 201, sent.text);
  await waitIn(pb, 'the message on the resynced loop', () => window.T.got.length === 1);
  const r = await pb.page.evaluate(() => ({ resync: window.T.resyncs[0], got: window.T.got, cursor: window.T.loop2.cursor }));
  assert.equal(typeof r.resync.next, 'number');
  assert.ok(r.got[0] > r.resync.next, JSON.stringify(r));
  assert.equal(r.cursor, r.got[0]);

  // A poll that fails (here nginx's JSON 404 under a wrong prefix) is
  // retried after a delay that doubles up to maxBackoff.
  await pb.page.evaluate(() => {
    const bad = new window.Parley.Client({ baseUrl: '/nowhere' });
    const loop = (window.T.loop3 = new window.Parley.EventLoop(bad, { minBackoff: 50, maxBackoff: 400 }));
    window.T.delays = [];
    loop.on('loop:error', (err, delay) => {
      window.T.delays.push(err.code + ':' + delay);
      if (window.T.delays.length === 6) loop.stop();
    });
    loop.start();
  });
  await waitIn(pb, 'six retries', () => window.T.delays.length === 6);
  // Stopped from its own error listener, it stays stopped.
  await new Promise((r) => setTimeout(r, 800));
  const delays = await pb.page.evaluate(() => window.T.delays);
  assert.deepEqual(delays, ['not_found:50', 'not_found:100', 'not_found:200', 'not_found:400', 'not_found:400', 'not_found:400']);
  await pb.page.evaluate(() => window.T.loop2.stop());
});
