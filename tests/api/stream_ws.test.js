// The WebSocket gateway (GET /api/v1/stream through nginx), black box over
// a real client (`ws`): resume from a cursor, the head, live delivery,
// acks and receipts, cursor_expired, bad frames and their close codes, the
// ways to authenticate and the refusals, revoked sessions, socket limits,
// presence, and a call's signaling. Runs beside the other API tests: it
// never restarts anything. Fresh users per test.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, assertError, stack } = require('../lib.js');
const { sendText, poll, head, drain, waitEvent, ofType } = require('../chat.js');
const { ORIGIN, open, refused, subscribe, assertClosed, closeAll } = require('../ws.js');

// A failed test leaves sockets open; they must not keep this file alive.
test.after(closeAll);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ONLINE_WINDOW = Number(process.env.PARLEY_ONLINE_WINDOW || 60);
const AUTH_TIMEOUT = Number(process.env.PARLEY_GATEWAY_AUTH_TIMEOUT || 10);
const MAX_FRAME = Number(process.env.PARLEY_GATEWAY_MAX_FRAME || 4096);
const PER_SESSION = Number(process.env.PARLEY_GATEWAY_MAX_PER_SESSION || 8);
const PER_USER = Number(process.env.PARLEY_GATEWAY_MAX_PER_USER || 32);

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

async function friends2(p) {
  const [a, b] = await Promise.all([register(p + 'a'), register(p + 'b')]);
  await befriend(a, b);
  return [a, b];
}

async function login(u) {
  const r = await api.post('/api/v1/auth/login', { json: { username: u.user.username, password: u.password } });
  assert.equal(r.status, 200, r.text);
  return { user: r.json.user, token: r.json.token, csrf: r.json.csrf_token, session: r.json.session_id, password: u.password };
}

async function streamToken(u) {
  const r = await api.post('/api/v1/auth/stream-token', { token: u.token });
  assert.equal(r.status, 201, r.text);
  return r.json.stream_token;
}

// Every event of the socket's frames from now until `ms` pass quietly.
async function quiet(s, ms = 700) {
  const out = [];
  for (;;) {
    const n = s.frames.length;
    await sleep(ms);
    if (s.frames.length === n) break;
  }
  while (s.pos < s.frames.length) {
    const f = s.frames[s.pos++];
    if (f.events) out.push(...f.events);
  }
  return out;
}

// --- cursors ---------------------------------------------------------------------

test('resume from a cursor: the events after N, in seq order, batched, the same as GET /events?since=N', async () => {
  const [a, b] = await friends2('wr');
  const since = await head(a);
  const sent = [];
  for (let i = 0; i < 130; i++) sent.push(await sendText(b, a, `resume ${i}`));
  // The poll's answer (two pages of 100 and 30, as the socket batches).
  const polled = await drain(a, since);
  assert.equal(polled.events.length, 130);

  const { s, first } = await subscribe(a, since);
  const frames = [first];
  let got = first.events.slice();
  while (got.length < polled.events.length) {
    const f = await s.next();
    frames.push(f);
    got = got.concat(f.events);
  }
  assert.deepEqual(got, polled.events, 'the same events, fields and order as the poll');
  for (const f of frames) {
    assert.deepEqual(Object.keys(f).sort(), ['events', 'next']);
    assert.ok(f.events.length > 0 && f.events.length <= 100, `a batch of ${f.events.length}`);
    assert.equal(f.next, f.events[f.events.length - 1].seq);
  }
  assert.equal(frames.length, 2);
  for (let i = 1; i < got.length; i++) assert.equal(got[i].seq, got[i - 1].seq + 1);
  assert.deepEqual(got.map((e) => e.data.message.id), sent.map((m) => m.id));
  assert.deepEqual(await quiet(s), [], 'nothing more, nothing twice');

  // A socket from a cursor in the middle gets the rest, and the first frame
  // for a cursor at the head is an empty one.
  const mid = got[99].seq;
  const r2 = await subscribe(a, mid);
  assert.deepEqual(r2.first.events, got.slice(100));
  const r3 = await subscribe(a, polled.next);
  assert.deepEqual(r3.first, { events: [], next: polled.next });
  await Promise.all([s.shut(), r2.s.shut(), r3.s.shut()]);
});

test('since: null starts at the head (nothing old), then new messages arrive live', async () => {
  const [a, b] = await friends2('wh');
  await sendText(b, a, 'old news');
  const h = await head(a);
  const { s, first } = await subscribe(a, null);
  assert.deepEqual(first, { events: [], next: h });
  const t0 = Date.now();
  const m = await sendText(b, a, 'fresh');
  const got = await s.until(ofType('message', (d) => d.message.id === m.id), 5000);
  assert.ok(Date.now() - t0 < 3000, `live delivery took ${Date.now() - t0} ms`);
  assert.equal(got.events.length, 1, 'only the new one: ' + JSON.stringify(got.events));
  assert.equal(got.event.seq, h + 1);
  assert.equal(got.event.data.message.body.text, 'fresh');
  // Several more, from two senders at once: all, once, in seq order.
  const c = await register('whc');
  await befriend(a, c);
  const more = await Promise.all([
    ...Array.from({ length: 10 }, (_, i) => sendText(b, a, `b${i}`)),
    ...Array.from({ length: 10 }, (_, i) => sendText(c, a, `c${i}`)),
  ]);
  const all = (await drain(a, h)).events;
  const live = await s.until((e) => e.seq === all[all.length - 1].seq);
  assert.deepEqual([got.event, ...live.events], all);
  for (const mm of more) assert.equal(all.filter((e) => e.type === 'message' && e.data.message.id === mm.id).length, 1);
  await s.shut();
});

test('cursor_expired: a cursor beyond the head gets an error frame with oldest and next, then close 4410', async () => {
  const u = await register('wx');
  const h = await head(u);
  const s = await open({ token: u.token });
  s.send({ since: h + 5 });
  const f = await s.next();
  assert.equal(f.error.code, 'cursor_expired');
  assert.equal(typeof f.error.message, 'string');
  assert.equal(f.next, h);
  assert.equal(typeof f.oldest, 'number');
  assert.ok(f.oldest <= h);
  // The poll answers the same cursor the same way.
  const p = await poll(u, { since: h + 5, timeout: 0 });
  assertError(assert, p, 410, 'cursor_expired');
  assert.equal(p.json.next, f.next);
  assert.equal(p.json.oldest, f.oldest);
  s.pos--;
  await assertClosed(s, 4410, 'cursor_expired');
});

// --- acks ------------------------------------------------------------------------

test('an ack over the socket gives the sender message.delivered over its own socket; since acks too', async () => {
  const [a, b] = await friends2('wa');
  const sa = (await subscribe(a, await head(a))).s;
  const hb = await head(b);
  const m1 = await sendText(a, b, 'one');
  const m2 = await sendText(a, b, 'two');
  const sb = (await subscribe(b, hb)).s;
  sb.pos = 0;
  const got = await sb.until(ofType('message', (d) => d.message.id === m2.id));
  // Not acknowledged yet: no receipt.
  assert.deepEqual((await quiet(sa)).filter((e) => e.type === 'message.delivered'), []);
  // Acknowledge the first only, then both.
  sb.ack(got.events.find((e) => e.data.message && e.data.message.id === m1.id).seq);
  const d1 = await sa.until(ofType('message.delivered'));
  assert.deepEqual(d1.event.data, { conversation_id: m1.conversation_id, user_id: b.user.id, seq: m1.seq });
  sb.ack(got.event.seq);
  sb.ack(got.event.seq);	// again: nothing new
  const d2 = await sa.until(ofType('message.delivered'));
  assert.deepEqual(d2.event.data, { conversation_id: m1.conversation_id, user_id: b.user.id, seq: m2.seq });
  assert.deepEqual((await quiet(sa)).filter((e) => e.type === 'message.delivered'), [], 'one receipt per ack');
  // The receipt is the same the poll would show, and it is stored.
  const conv = (await api.get('/api/v1/conversations', { token: b.token })).json.conversations
    .find((c) => c.id === m1.conversation_id);
  assert.equal(conv.delivered_seq, m2.seq);

  // Subscribing from a cursor acknowledges it, as a poll with since does.
  const m3 = await sendText(a, b, 'three');
  const cur = (await drain(b, got.event.seq)).events.find((e) => e.data.message && e.data.message.id === m3.id).seq;
  const sb2 = (await subscribe(b, cur)).s;
  const d3 = await sa.until(ofType('message.delivered'));
  assert.equal(d3.event.data.seq, m3.seq);
  // And the last ack of a socket that closes right after it is written.
  const m4 = await sendText(a, b, 'four');
  const e4 = await sb2.until(ofType('message', (d) => d.message.id === m4.id));
  sb2.ack(e4.event.seq);
  await sb2.shut();
  const d4 = await sa.until(ofType('message.delivered'));
  assert.equal(d4.event.data.seq, m4.seq);
  await Promise.all([sa.shut(), sb.shut()]);
});

// --- bad frames ------------------------------------------------------------------

test('bad frames: each gets an error frame, a close code and the code as reason; nothing crashes', async () => {
  const u = await register('wb');
  const h = await head(u);
  const big = (n) => JSON.stringify({ since: h, pad: 'x'.repeat(n) });
  // [what, state, frame, close code, error code]
  const cases = [
    ['not JSON', 'hello', 'hello there', 4400, 'bad_frame'],
    ['a JSON array', 'hello', '[{"since":0}]', 4400, 'bad_frame'],
    ['a JSON number', 'hello', '42', 4400, 'bad_frame'],
    ['an unknown key beside since', 'hello', JSON.stringify({ since: h, x: 1 }), 4400, 'bad_frame'],
    ['a negative since', 'hello', '{"since":-1}', 4400, 'bad_frame'],
    ['a string since', 'hello', '{"since":"5"}', 4400, 'bad_frame'],
    ['a duplicate key', 'hello', `{"since":${h},"since":${h}}`, 4400, 'bad_frame'],
    ['an ack before subscribing', 'hello', '{"ack":0}', 4400, 'bad_frame'],
    ['an empty object', 'hello', '{}', 4400, 'bad_frame'],
    ['a binary frame', 'hello', Buffer.from('{"since":0}'), 4400, 'bad_frame'],
    ['an unknown key after subscribing', 'live', '{"ack":0,"x":1}', 4400, 'bad_frame'],
    ['since a second time', 'live', `{"since":${h}}`, 4400, 'bad_frame'],
    ['an ack ahead of what was sent', 'live', `{"ack":${h + 1}}`, 4400, 'ack_ahead'],
    ['a non-integer ack', 'live', '{"ack":1.5}', 4400, 'bad_frame'],
    ['a frame over the limit', 'hello', big(MAX_FRAME), 1009, 'frame_too_large'],
    ['a frame far over the limit', 'hello', big(200000), 1009, 'frame_too_large'],
    ['a frame over the limit after subscribing', 'live', big(MAX_FRAME), 1009, 'frame_too_large'],
    ['a token frame after a token upgrade', 'hello', JSON.stringify({ token: u.token }), 4400, 'bad_frame'],
    ['no token in the first frame', 'auth', `{"since":${h}}`, 4400, 'bad_frame'],
    ['a numeric token', 'auth', '{"token":5}', 4400, 'bad_frame'],
    ['binary instead of a token', 'auth', Buffer.from('x'), 4400, 'bad_frame'],
  ];
  for (const [what, state, frame, status, code] of cases) {
    await t_case(what, async () => {
      const s = await open(state === 'auth' ? {} : { token: u.token });
      if (state === 'live') {
        s.send({ since: h });
        assert.deepEqual(await s.next(), { events: [], next: h });
      }
      s.ws.send(frame);
      await assertClosed(s, status, code);
    });
  }
  // A client still sending when it is closed (frames in flight behind the
  // bad one) gets the close code all the same: the gateway waits for the
  // client's close frame before it hangs up, so nginx never fails to
  // write to it and drop what it had to forward.
  for (let round = 0; round < 5; round++) {
    await t_case(`round ${round}: an ack ahead with more frames behind it`, async () => {
      const s = await open({ token: u.token });
      s.send({ since: h });
      assert.deepEqual(await s.next(), { events: [], next: h });
      s.send({ ack: h + 1 });
      const pad = JSON.stringify({ ack: h }) + ' '.repeat(MAX_FRAME - 20);
      for (let i = 0; i < 300; i++) s.send(pad);
      await assertClosed(s, 4400, 'ack_ahead');
    });
  }
  // The largest frame allowed is fine (whitespace is JSON too).
  const ok = await open({ token: u.token });
  const f = `{"since":${h}}`;
  ok.send(f + ' '.repeat(MAX_FRAME - f.length));
  assert.deepEqual(await ok.next(), { events: [], next: h });
  await ok.shut();
  // And the gateway still serves.
  const { s } = await subscribe(u, h);
  await s.shut();
});

async function t_case(what, fn) {
  try {
    await fn();
  } catch (e) {
    e.message = `${what}: ${e.message}`;
    throw e;
  }
}

// --- authentication --------------------------------------------------------------

test('the token: as subprotocol, in the first frame (with or without since), a stream token; refusals', async () => {
  const [a, b] = await friends2('wt');
  const h = await head(a);
  const m = await sendText(b, a, 'for a');
  const h2 = (await drain(a, h)).next;

  // Subprotocol: the server answers "parley".
  const s1 = await open({ token: a.token });
  assert.equal(s1.ws.protocol, 'parley');
  s1.send({ since: h });
  assert.equal((await s1.next()).events[0].data.message.id, m.id);

  // First frame, with since: events follow at once.
  const s2 = await open({});
  assert.equal(s2.ws.protocol, '');
  s2.send({ token: a.token, since: h });
  assert.equal((await s2.next()).events[0].data.message.id, m.id);
  // First frame without since, then since.
  const s3 = await open({ protocols: ['parley'] });
  assert.equal(s3.ws.protocol, 'parley');
  s3.send({ token: a.token });
  await sleep(300);
  assert.equal(s3.frames.length, 0, 'nothing before since');
  s3.send({ since: h });
  assert.equal((await s3.next()).events[0].data.message.id, m.id);

  // A stream token (st_...) works both ways.
  const st = await streamToken(a);
  const s4 = await open({ token: st });
  s4.send({ since: h });
  assert.equal((await s4.next()).events[0].data.message.id, m.id);
  const s5 = await open({});
  s5.send({ token: st, since: null });
  assert.deepEqual(await s5.next(), { events: [], next: h2 });

  // Refused before the upgrade, with a JSON body.
  for (const [what, opts, status, code] of [
    ['a wrong token', { token: 'x'.repeat(43) }, 401, 'invalid_token'],
    ['a very long token', { token: 'y'.repeat(300) }, 401, 'invalid_token'],
    ['a fake stream token', { token: 'st_' + 'A'.repeat(43) }, 401, 'invalid_token'],
    ['no "parley" among the protocols', { protocols: ['chat', 'token.' + a.token] }, 400, 'bad_protocol'],
  ]) {
    const r = await refused(opts);
    assert.equal(r.status, status, `${what}: ${r.text}`);
    assert.ok(r.json && r.json.error, `${what}: a JSON body: ${r.text}`);
    assert.equal(r.json.error.code, code, what);
    assert.match(r.headers['content-type'], /application\/json/);
  }
  // A wrong token in the first frame: 4401.
  const s6 = await open({});
  s6.send({ token: 'z'.repeat(43), since: 0 });
  await assertClosed(s6, 4401, 'invalid_token');

  // The session ends: its stream token is refused too.
  assert.equal((await api.post('/api/v1/auth/logout', { token: a.token })).status, 204);
  assert.equal((await refused({ token: st })).status, 401);
  assert.equal((await refused({ token: a.token })).status, 401);
  const s7 = await open({});
  s7.send({ token: st });
  await assertClosed(s7, 4401, 'invalid_token');
  for (const s of [s1, s2, s3, s4, s5]) await s.ended(5000);
});

test(`no credential and no token frame: close 4408 auth_timeout after ${AUTH_TIMEOUT} s`, async () => {
  const t0 = Date.now();
  const s = await open({});
  const c = await assertClosed(s, 4408, 'auth_timeout', (AUTH_TIMEOUT + 10) * 1000);
  const took = (Date.now() - t0) / 1000;
  assert.ok(took >= AUTH_TIMEOUT - 0.5 && took < AUTH_TIMEOUT + 6, `closed after ${took} s`);
  assert.equal(c.reason, 'auth_timeout');
});

test('the session cookie counts only from our own origin: foreign or missing Origin is 403', async () => {
  const [a, b] = await friends2('wc');
  const h = await head(a);
  const m = await sendText(b, a, 'cookie');
  const h2 = (await drain(a, h)).next;
  const s = await open({ cookie: a.token, origin: ORIGIN });
  s.send({ since: h });
  assert.equal((await s.next()).events[0].data.message.id, m.id);
  await s.shut();
  // With the subprotocol "parley" alone, the cookie still counts.
  const s2 = await open({ cookie: a.token, origin: ORIGIN, protocols: ['parley'] });
  s2.send({ since: null });
  assert.deepEqual(await s2.next(), { events: [], next: h2 });
  await s2.shut();
  for (const origin of ['http://evil.example', `${ORIGIN}.evil.example`, `https://evil.example/${ORIGIN}`,
    'null', `${ORIGIN}/`, 'http://127.0.0.2:' + new URL(ORIGIN).port, undefined]) {
    const r = await refused({ cookie: a.token, origin });
    assertError(assert, r, 403, 'origin_not_allowed');
  }
  // A wrong cookie from our origin: 401.
  assertError(assert, await refused({ cookie: 'nope', origin: ORIGIN }), 401, 'invalid_token');
  // A token beside the cookie wins, whatever the origin (it is not ambient).
  const s3 = await open({ cookie: 'nope', origin: 'http://evil.example', token: a.token });
  s3.send({ since: null });
  assert.deepEqual(await s3.next(), { events: [], next: h2 });
  await s3.shut();
});

test('not an upgrade: GET is 426 upgrade_required, POST is 405, both JSON', async () => {
  const g = await api.get('/api/v1/stream');
  assertError(assert, g, 426, 'upgrade_required');
  const p = await api.post('/api/v1/stream', { json: {} });
  assertError(assert, p, 405);
  assert.match(p.headers.allow || '', /GET/);
});

// --- sessions ending, limits -----------------------------------------------------

test('a revoked session\'s socket closes at once with 4401, and gets nothing committed after the revocation', async () => {
  const [a, b] = await friends2('wv');
  const b2 = await login(b);
  const hb = await head(b);
  // Logout.
  const s = (await subscribe(b, hb)).s;
  const other = (await subscribe(b2, hb)).s;
  const m0 = await sendText(a, b, 'before');
  await s.until(ofType('message', (d) => d.message.id === m0.id));
  await other.until(ofType('message', (d) => d.message.id === m0.id));
  const t0 = Date.now();
  assert.equal((await api.post('/api/v1/auth/logout', { token: b.token })).status, 204);
  const m1 = await sendText(a, b, 'after logout');
  await assertClosed(s, 4401, 'invalid_token', 5000);
  assert.ok(Date.now() - t0 < 3000, `closed ${Date.now() - t0} ms after the logout`);
  assert.ok(!s.seen.some((e) => e.data.message && e.data.message.id === m1.id), 'no event after the revocation');
  // The other device stays and gets it.
  await other.until(ofType('message', (d) => d.message.id === m1.id));

  // DELETE /auth/sessions/{id} from another device.
  const b3 = await login(b);
  const s3 = (await subscribe(b3, null)).s;
  const hello = await open({ token: b3.token });	// authenticated, not subscribed
  const t1 = Date.now();
  const del = await api.del(`/api/v1/auth/sessions/${b3.session}`, { token: b2.token });
  assert.equal(del.status, 204, del.text);
  const m2 = await sendText(a, b, 'after delete');
  await assertClosed(s3, 4401, 'invalid_token', 5000);
  assert.ok(Date.now() - t1 < 3000);
  assert.ok(!s3.seen.some((e) => e.data.message && e.data.message.id === m2.id));
  await assertClosed(hello, 4401, 'invalid_token', 5000);
  await other.until(ofType('message', (d) => d.message.id === m2.id));
  await other.shut();
});

test(`too many sockets: the ${PER_SESSION + 1}th of a session and the ${PER_USER + 1}th of a user get 4429`, async () => {
  const u = await register('wm');
  const socks = [];
  for (let i = 0; i < PER_SESSION; i++) socks.push(await open({ token: u.token }));
  const over = await open({ token: u.token });
  await assertClosed(over, 4429, 'too_many_sockets');
  // The same with the token in the first frame.
  const over2 = await open({});
  over2.send({ token: u.token, since: null });
  await assertClosed(over2, 4429, 'too_many_sockets');
  for (const s of socks) assert.equal(s.close, null, 'the first ones stay open');
  // One closes: its place is free again.
  await socks.pop().shut();
  const again = await open({ token: u.token });
  again.send({ since: null });
  assert.ok(Array.isArray((await again.next()).events));
  socks.push(again);

  // Per user: more sessions, each below its own limit.
  let n = socks.length;
  while (n < PER_USER) {
    const dev = await login(u);
    for (let i = 0; i < PER_SESSION && n < PER_USER; i++, n++) socks.push(await open({ token: dev.token }));
  }
  const dev = await login(u);
  const over3 = await open({ token: dev.token });
  await assertClosed(over3, 4429, 'too_many_sockets');
  await Promise.all(socks.map((s) => s.shut()));
  // All given back.
  const last = await open({ token: dev.token });
  last.send({ since: null });
  assert.ok(Array.isArray((await last.next()).events));
  await last.shut();
});

// --- presence, calls -------------------------------------------------------------

test('presence: an open socket keeps its user online; closed, the user goes offline after the window', async (t) => {
  const [a, b] = await friends2('wp');
  const ha = await head(a);
  const friendsOf = async (u) => (await api.get('/api/v1/friends', { token: u.token })).json.friends;
  assert.equal((await friendsOf(a))[0].online, false, 'b has no device connected yet');
  // b's only device: a socket.
  const { s } = await subscribe(b, null);
  const on = await waitEvent(a, ha, ofType('presence', (d) => d.user_id === b.user.id));
  assert.deepEqual(on.event.data, { user_id: b.user.id, online: true });
  assert.equal((await friendsOf(a))[0].online, true);
  if (ONLINE_WINDOW > 10) {
    t.diagnostic(`offline detection not tested: PARLEY_ONLINE_WINDOW=${ONLINE_WINDOW} (needs <= 10)`);
    await s.shut();
    return;
  }
  // Longer than the window with the socket open and silent: still online.
  await sleep((ONLINE_WINDOW + 3) * 1000);
  const still = await drain(a, on.next);
  assert.deepEqual(still.events.filter((e) => e.type === 'presence'), [], 'b stayed online');
  assert.equal((await friendsOf(a))[0].online, true);
  // Taken offline all the same (as the first sweep after a database
  // outage longer than the window does): the open socket brings b back
  // within a refresh (a third of the window), as b's next poll would.
  psql(`UPDATE presence SET online = false, since = now() WHERE user_id = ${b.user.id}`);
  assert.equal((await friendsOf(a))[0].online, false);
  const back = await waitEvent(a, still.next, ofType('presence', (d) => d.user_id === b.user.id),
    (ONLINE_WINDOW / 3 + 4) * 1000);
  assert.deepEqual(back.event.data, { user_id: b.user.id, online: true });
  assert.equal((await friendsOf(a))[0].online, true);
  // Closed: offline once the window passed.
  await s.shut();
  const t0 = Date.now();
  const off = await waitEvent(a, back.next, ofType('presence', (d) => d.user_id === b.user.id), (ONLINE_WINDOW + 8) * 1000);
  assert.deepEqual(off.event.data, { user_id: b.user.id, online: false });
  assert.ok(Date.now() - t0 >= (ONLINE_WINDOW - 3) * 1000, `offline after ${Date.now() - t0} ms, not before the window`);
  assert.equal((await friendsOf(a))[0].online, false);
});

test('a call\'s signaling (invite, accept, signal, hang up) arrives over the sockets', async () => {
  const [a, b] = await friends2('wk');
  const sa = (await subscribe(a, null)).s;
  const sb = (await subscribe(b, null)).s;
  await sleep(300);	// both online
  const r = await api.post('/api/v1/calls', { token: a.token, json: { to: b.user.id, media: 'audio' } });
  assert.equal(r.status, 201, r.text);
  const id = r.json.call.id;
  const inv = await sb.until(ofType('call.invite', (d) => d.call.id === id));
  assert.equal(inv.event.data.call.state, 'ringing');
  const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
  assert.equal((await api.post(`/api/v1/calls/${id}/signal`, { token: a.token, json: { kind: 'offer', data: offer } })).status, 202);
  const got = await sb.until(ofType('call.signal', (d) => d.kind === 'offer'));
  assert.deepEqual(got.event.data.data, offer);
  assert.equal((await api.post(`/api/v1/calls/${id}/accept`, { token: b.token })).status, 200);
  const acc = await sa.until(ofType('call.accepted', (d) => d.call.id === id));
  assert.equal(acc.event.data.call.state, 'active');
  const answer = { type: 'answer', sdp: 'v=0\r\n' };
  assert.equal((await api.post(`/api/v1/calls/${id}/signal`, { token: b.token, json: { kind: 'answer', data: answer } })).status, 202);
  assert.deepEqual((await sa.until(ofType('call.signal', (d) => d.kind === 'answer'))).event.data.data, answer);
  assert.equal((await api.post(`/api/v1/calls/${id}/hangup`, { token: a.token })).status, 200);
  await sb.until(ofType('call.ended', (d) => d.call.id === id));
  await Promise.all([sa.shut(), sb.shut()]);
});
