// The event loop's WebSocket (web/js/parley-ws.js) in real headless
// Chromium against the real stack: the web client chats over it with no
// long poll while it is up; with the upgrade refused at nginx
// (PARLEY_STREAM=off) it long-polls by itself and chats the same; when the
// gateway goes away mid-conversation it falls back to polls and returns to
// the socket later, and no event is handed out twice or skipped. The
// library pages (tests/browser/lib.js) show what the loop does with the
// gateway's close codes. call.test.js has the call over the WebSocket.
//
// Files here run one at a time, so flipping nginx's stream switch does not
// disturb another test; it is always switched back.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { api, register, befriend, stackAsync, ROOT } = require('../lib.js');
const { launch, closeBrowser, openPage, openUser, waitIn } = require('./lib.js');
const {
  waitFor, shot, apiUserPage, sendText, shownTexts, convItem, openConvFromList, statusOf, assertNoPageErrors,
} = require('./webclient.js');

const ONLINE_WINDOW = Number(process.env.PARLEY_ONLINE_WINDOW || 5);
const STACK = process.env.PARLEY_URL && process.env.PARLEY_VAR ? false :
  'needs PARLEY_URL and PARLEY_VAR of the stack';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// nginx refuses the upgrade (on = false) or passes it to the gateway
// again; resolves once the reloaded workers answer that way.
async function streamAtNginx(on) {
  const env = Object.assign({}, process.env);
  if (on) delete env.PARLEY_STREAM;
  else env.PARLEY_STREAM = 'off';
  execFileSync(path.join(ROOT, 'scripts/parley'), ['reload-nginx'], { env, stdio: 'pipe' });
  const deadline = Date.now() + 15000;
  for (;;) {
    const r = await api.get('/api/v1/stream');
    const off = r.status === 503 && r.json && r.json.error && r.json.error.code === 'stream_disabled';
    if (off !== on) return r;
    if (Date.now() > deadline) throw new Error(`nginx still answers ${r.status} ${r.text}`);
    await sleep(100);
  }
}

// Two friends in the web client, with a conversation open on both sides.
async function twoClients(browser, prefix, opts) {
  const [A, B] = await Promise.all([
    apiUserPage(browser, prefix + 'a', 'A', undefined, opts), apiUserPage(browser, prefix + 'b', 'B', undefined, opts),
  ]);
  await befriend(A.user, B.user);
  await waitFor(A, 'B in the friend list', (id) => !!PA.state.friends[id], B.user.user.id);
  await A.page.evaluate((id) => { location.hash = '#/u/' + id; }, B.user.user.id);
  await A.page.waitForSelector('#conv:not(.hidden)');
  return { A, B };
}

// Records in the page every event the loop hands out (seq, type) and
// every transport it takes.
function record(p) {
  return p.page.evaluate(() => {
    window.REC = { seqs: [], transports: [PA.loop.transport] };
    PA.loop.on('*', (ev) => window.REC.seqs.push(ev.seq));
    PA.loop.on('loop:transport', (t) => window.REC.transports.push(t));
  });
}

// A user's events carry consecutive seqs: the loop handed out each one
// exactly once, in order, whatever carried it.
async function assertExactlyOnce(p) {
  const seqs = await p.page.evaluate(() => window.REC.seqs);
  assert.ok(seqs.length > 0, `[${p.label}] events seen`);
  for (let i = 1; i < seqs.length; i++) {
    assert.equal(seqs[i], seqs[i - 1] + 1, `[${p.label}] seq ${seqs[i]} after ${seqs[i - 1]}: ${seqs.join(',')}`);
  }
}

test('the web client chats over the WebSocket, with no long poll while it is up', { timeout: 90000 }, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const { A, B } = await twoClients(browser, 'wc');
  await Promise.all([record(A), record(B)]);
  const aId = A.user.user.id, bId = B.user.user.id;

  const expected = ['hello over the socket', 'second', 'third'];
  for (const text of expected) await sendText(A, text);
  const convId = await waitFor(A, 'the conversation', () => PA.state.view && PA.state.view.convId);
  await B.page.waitForSelector(convItem(convId));
  await openConvFromList(B, convId);
  await waitFor(B, 'A\'s three', () => document.querySelectorAll('#messages .msg-row[data-id]').length >= 3);
  await sendText(B, 'and back');
  expected.push('and back');
  await waitFor(A, 'the answer', () => document.querySelectorAll('#messages .msg-row[data-id]').length >= 4);
  await waitFor(B, 'all four', () => document.querySelectorAll('#messages .msg-row[data-id]').length >= 4);
  assert.deepEqual(await shownTexts(A), expected);
  assert.deepEqual(await shownTexts(B), expected);
  // Acks over the socket drive receipts: B has read A's messages.
  await waitFor(A, 'the read mark', () => {
    const s = document.querySelector('#messages .msg-row[data-mine="true"][data-id] .msg-status');
    return s && s.getAttribute('data-status') === 'read';
  });
  assert.equal(await statusOf(A, 'third'), 'read');

  // An open socket keeps its user online past the online window, with
  // no request at all.
  const online = (id) => !!document.querySelector(`#friend-list li[data-user-id="${id}"] .presence[data-online="true"]`);
  await waitFor(A, 'B online', online, bId);
  await sleep((ONLINE_WINDOW + 2) * 1000);
  assert.ok(await A.page.evaluate(online, bId), 'B still online after the online window');
  assert.ok(await B.page.evaluate(online, aId), 'A still online after the online window');
  await shot(B, 'web-websocket-chat');

  for (const p of [A, B]) {
    const s = await p.page.evaluate(() => ({ transport: PA.loop.transport, stats: PA.loop._ws.stats, banner: PA.bannerLog }));
    assert.equal(s.transport, 'websocket', `[${p.label}] ${JSON.stringify(s)}`);
    assert.equal(s.stats.sockets, 1, `[${p.label}] ${JSON.stringify(s)}`);
    assert.equal(s.stats.fallbacks, 0);
    assert.ok(!s.banner.includes('down'), `[${p.label}] banner: ${s.banner}`);
    assert.equal(p.polls, 0, `[${p.label}] no GET /api/v1/events`);
    assert.equal(p.sockets.length, 1, `[${p.label}] ${JSON.stringify(p.sockets)}`);
    const ws = p.sockets[0];
    assert.match(ws.url, /\/api\/v1\/stream$/);
    assert.equal(ws.closed, false);
    // The protocol as spoken: since once, then rising acks only.
    const frames = ws.sent.map((f) => JSON.parse(f));
    assert.deepEqual(Object.keys(frames[0]), ['since'], ws.sent[0]);
    const acks = frames.slice(1).map((f) => { assert.deepEqual(Object.keys(f), ['ack']); return f.ack; });
    assert.ok(acks.length >= 2, ws.sent.join(' '));
    for (let i = 1; i < acks.length; i++) assert.ok(acks[i] > acks[i - 1], acks.join(','));
    assert.equal(acks[acks.length - 1], await p.page.evaluate(() => PA.loop.cursor));
    await assertExactlyOnce(p);
  }
  assertNoPageErrors(A, B);
});

test('with the upgrade refused at nginx the web client long-polls and chats', { timeout: 90000, skip: STACK }, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const refused = await streamAtNginx(false);
  assert.equal(refused.status, 503);
  try {
    const { A, B } = await twoClients(browser, 'wn');
    await Promise.all([record(A), record(B)]);
    const expected = ['polled one', 'polled two'];
    for (const text of expected) await sendText(A, text);
    const convId = await waitFor(A, 'the conversation', () => PA.state.view && PA.state.view.convId);
    await B.page.waitForSelector(convItem(convId));
    await openConvFromList(B, convId);
    await waitFor(B, 'A\'s two', () => document.querySelectorAll('#messages .msg-row[data-id]').length >= 2);
    await sendText(B, 'polled back');
    expected.push('polled back');
    await waitFor(A, 'the answer', () => document.querySelectorAll('#messages .msg-row[data-id]').length >= 3);
    await waitFor(B, 'all three', () => document.querySelectorAll('#messages .msg-row[data-id]').length >= 3);
    assert.deepEqual(await shownTexts(A), expected);
    assert.deepEqual(await shownTexts(B), expected);
    await waitFor(A, 'the read mark', () => {
      const s = document.querySelector('#messages .msg-row[data-mine="true"][data-id] .msg-status');
      return s && s.getAttribute('data-status') === 'read';
    });
    for (const p of [A, B]) {
      const s = await p.page.evaluate(() => ({ transport: PA.loop.transport, stats: PA.loop._ws.stats, banner: PA.bannerLog }));
      // It tried the socket once, and took polls without a word.
      assert.equal(s.transport, 'poll', `[${p.label}] ${JSON.stringify(s)}`);
      assert.equal(s.stats.sockets, 1, `[${p.label}] ${JSON.stringify(s)}`);
      assert.equal(s.stats.fallbacks, 1);
      assert.equal(s.stats.batches, 0);
      assert.ok(!s.banner.includes('down'), `[${p.label}] banner: ${s.banner}`);
      assert.ok(p.polls >= 2, `[${p.label}] polls: ${p.polls}`);
      assert.ok(p.sockets.length <= 1 && p.sockets.every((w) => w.closed), JSON.stringify(p.sockets));
      await assertExactlyOnce(p);
    }
    await shot(B, 'web-websocket-refused');
    assertNoPageErrors(A, B);
  } finally {
    await streamAtNginx(true);
  }
});

test('the gateway goes away mid-conversation: polls take over, the socket comes back, nothing twice or lost', {
  timeout: 120000, skip: STACK,
}, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const { A, B } = await twoClients(browser, 'ws');
  const expected = [];
  const say = async (n) => {
    const text = 'm' + String(n).padStart(2, '0');
    expected.push(text);
    await sendText(A, text);
  };
  await Promise.all([record(A), record(B)]);
  for (let i = 1; i <= 8; i++) await say(i);
  const convId = await waitFor(A, 'the conversation', () => PA.state.view && PA.state.view.convId);
  await B.page.waitForSelector(convItem(convId));
  await openConvFromList(B, convId);
  const transport = (p) => p.page.evaluate(() => PA.loop.transport);
  assert.equal(await transport(B), 'websocket');

  // The gateway stops while A keeps writing: the sockets close, a new
  // one cannot open, and both pages long-poll.
  let restored = false;
  try {
    const stopping = stackAsync('stop-service', 'gateway');
    for (let i = 9; i <= 16; i++) await say(i);
    await stopping;
    for (const p of [A, B]) {
      await waitFor(p, 'polls', () => PA.loop.transport === 'poll', null, 30000);
    }
    for (let i = 17; i <= 22; i++) await say(i);
    await waitFor(B, '22 messages', (n) => document.querySelectorAll('#messages .msg-row[data-id]').length >= n, 22, 30000);

    // Back: at the next retry (brought forward here) each page returns
    // to the socket, from the cursor its polls reached.
    await stackAsync('restart-service', 'gateway');
    restored = true;
    await Promise.all([A, B].map((p) => p.page.evaluate(() => { PA.loop._ws.retryAt = 0; })));
    for (let i = 23; i <= 30; i++) {
      await say(i);
      await sleep(200);
    }
    for (const p of [A, B]) {
      await waitFor(p, 'the socket again', () => PA.loop.transport === 'websocket' && PA.loop._ws.live, null, 40000);
    }
  } finally {
    if (!restored) await stackAsync('restart-service', 'gateway');
  }
  for (let i = 31; i <= 36; i++) await say(i);
  // B answers once it has them all (A's sends go one at a time).
  await waitFor(B, 'all 36', (n) => document.querySelectorAll('#messages .msg-row[data-id]').length >= n, 36, 30000);
  await sendText(B, 'got them all');
  expected.push('got them all');
  await waitFor(A, 'the answer', (n) => document.querySelectorAll('#messages .msg-row[data-id]').length >= n, expected.length, 30000);
  await waitFor(B, 'everything', (n) => document.querySelectorAll('#messages .msg-row[data-id]').length >= n, expected.length, 30000);
  for (const p of [A, B]) {
    await waitFor(p, 'nothing pending', () => document.querySelectorAll('#messages .msg-row[data-pending]').length === 0);
    assert.deepEqual(await shownTexts(p), expected, `[${p.label}]`);
    const ids = await p.page.evaluate(() => Array.prototype.map.call(
      document.querySelectorAll('#messages .msg-row[data-id]'), (n) => n.getAttribute('data-id')));
    assert.equal(new Set(ids).size, ids.length, `[${p.label}] no message id twice`);
    await assertExactlyOnce(p);
    const rec = await p.page.evaluate(() => ({ transports: window.REC.transports, banner: PA.bannerLog }));
    t.diagnostic(`[${p.label}] transports ${rec.transports.join(' ')}; banner ${rec.banner.join(' ')}`);
    assert.deepEqual(rec.transports, ['websocket', 'poll', 'websocket'], `[${p.label}]`);
    assert.ok(p.polls > 0, `[${p.label}] polled meanwhile`);
    // The banner said the connection was lost, and then that it was back.
    if (rec.banner.includes('down')) assert.ok(rec.banner.lastIndexOf('back') > rec.banner.indexOf('down'), rec.banner.join(' '));
    await waitFor(p, 'the banner hidden', () => document.getElementById('banner').getAttribute('data-state') !== 'down', null, 30000);
  }
  assertNoPageErrors(A, B);
});

test('close codes: 4401 ends the session, 4410 resyncs, 1009 4400 4429 fall back to polls, and back', { timeout: 90000 }, async (t) => {
  const [a, b] = await Promise.all([register('wla'), register('wlb')]);
  await befriend(a, b);
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const pb = await openUser(browser, b, 'B');
  const send = async (text) => {
    const r = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'text', body: { text } } });
    assert.equal(r.status, 201, r.text);
  };
  const texts = () => pb.page.evaluate(() => window.T.events.filter((e) => e.type === 'message').map((e) => e.data.message.body.text));
  const stats = () => pb.page.evaluate(() => Object.assign({ transport: window.T.loop.transport }, window.T.loop._ws.stats));
  assert.equal((await stats()).transport, 'websocket');

  // 4410: a cursor the stream does not have. As a poll's 410: resync to
  // the head the error frame names, then on over a new socket.
  await pb.page.evaluate(() => {
    const loop = window.T.loop;
    window.T.resyncs = [];
    loop.on('loop:resync', (r) => window.T.resyncs.push(r));
    loop.stop();
    loop.cursor += 1000000;
    loop.start();
  });
  await waitIn(pb, 'the resync', () => window.T.resyncs.length === 1);
  await send('after the resync');
  await waitIn(pb, 'the message', () => window.T.events.some((e) => e.type === 'message'));
  let s = await stats();
  assert.equal(s.transport, 'websocket', JSON.stringify(s));
  // (The gateway gives this close no reason text; the error frame before
  // it names cursor_expired.)
  assert.match(s.lastClose, /^4410/, JSON.stringify(s));
  assert.equal(pb.polls, 0);

  // 1009 and 4400: the server refuses what a broken client sends. The
  // loop long-polls for a while; events keep coming.
  const cases = [['1009', () => window.T.loop._ws.socket.send('x'.repeat(5000))],
    ['4400', () => window.T.loop._ws.socket.send('not json')]];
  let n = 0;
  for (const [code, fn] of cases) {
    await pb.page.evaluate(fn);
    await waitIn(pb, `polls after ${code}`, () => window.T.loop.transport === 'poll');
    s = await stats();
    assert.ok(s.lastClose.startsWith(code), JSON.stringify(s));
    await send('polled after ' + code);
    await waitIn(pb, `message ${++n + 1}`, (k) => window.T.events.filter((e) => e.type === 'message').length === k, n + 1);
    // The next retry (brought forward) opens a socket again once the
    // poll that holds the stream returns.
    await pb.page.evaluate(() => { window.T.loop._ws.retryAt = 0; });
    await send('then back after ' + code);
    await waitIn(pb, `message ${++n + 1}`, (k) => window.T.events.filter((e) => e.type === 'message').length === k, n + 1);
    await waitIn(pb, `the socket after ${code}`, () => window.T.loop.transport === 'websocket' && window.T.loop._ws.live);
  }

  // 4429: the session holds every socket it may (8). The loop's own is
  // refused; it long-polls, and takes a socket again once one is free.
  await pb.page.evaluate(() => window.T.loop.stop());
  await sleep(500); // the gateway counts the loop's closed socket out
  const subscribed = await pb.page.evaluate(() => {
    window.T.extra = [];
    for (let i = 0; i < 8; i++) window.T.extra.push(new WebSocket('ws://' + location.host + '/api/v1/stream', 'parley'));
    return Promise.all(window.T.extra.map((w) => new Promise((resolve) => {
      w.onopen = () => w.send(JSON.stringify({ since: null }));
      w.onmessage = (e) => resolve(e.data);
      w.onclose = (e) => resolve('closed ' + e.code);
    })));
  });
  assert.ok(subscribed.every((f) => /^\{"events":/.test(f)), subscribed.join(' '));
  const pollsBefore = pb.polls;
  await pb.page.evaluate(() => window.T.loop.start());
  await waitIn(pb, 'polls after 4429', () => window.T.loop.transport === 'poll');
  s = await stats();
  assert.match(s.lastClose, /^4429 too_many_sockets/, JSON.stringify(s));
  await send('polled after 4429');
  await waitIn(pb, 'the polled message', (k) => window.T.events.filter((e) => e.type === 'message').length === k, n + 2);
  assert.ok(pb.polls > pollsBefore);
  await pb.page.evaluate(() => { window.T.extra.forEach((w) => w.close()); window.T.loop._ws.retryAt = 0; });
  await sleep(500);
  await send('then back after 4429');
  await waitIn(pb, 'the last message', (k) => window.T.events.filter((e) => e.type === 'message').length === k, n + 3);
  await waitIn(pb, 'the socket after 4429', () => window.T.loop.transport === 'websocket' && window.T.loop._ws.live);

  // Every message once, in order, over whichever transport.
  assert.deepEqual(await texts(), ['after the resync', 'polled after 1009', 'then back after 1009',
    'polled after 4400', 'then back after 4400', 'polled after 4429', 'then back after 4429']);
  const seqs = await pb.page.evaluate(() => window.T.events.map((e) => e.seq));
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], seqs.join(','));
  assert.deepEqual(await pb.page.evaluate(() => window.T.loopErrors), [], 'no error shown for any of it');

  // 4401: the session ends (logged out here; revoked elsewhere works the
  // same): the socket is closed at once and the loop stops, as after a
  // poll's 401.
  await pb.page.evaluate(() => new Promise((resolve) => {
    window.T.unauthorized = [];
    window.T.loop.on('loop:unauthorized', (e) => window.T.unauthorized.push(e.code + ' ' + e.status));
    window.T.client.logout(() => resolve());
  }));
  await waitIn(pb, 'loop:unauthorized', () => window.T.unauthorized.length === 1);
  s = await stats();
  assert.match(s.lastClose, /^4401/, JSON.stringify(s));
  assert.deepEqual(await pb.page.evaluate(() => [window.T.unauthorized, window.T.loop.running]), [['invalid_token 401'], false]);
});

test('without parley-ws.js, without WebSocket, or told so, the loop long-polls', { timeout: 60000 }, async (t) => {
  const [a, b] = await Promise.all([register('wpa'), register('wpb')]);
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const plain = await openUser(browser, a, 'A', { websocket: false });
  assert.equal(await plain.page.evaluate(() => [window.T.loop.transport, !!window.Parley.WebSocketTransport].join()), 'poll,false');
  assert.equal(plain.sockets.length, 0);
  assert.ok(plain.polls > 0);

  const pb = await openUser(browser, b, 'B');
  const polls = pb.polls;
  const r = await pb.page.evaluate(() => {
    window.T.loop.stop();
    const told = new window.Parley.EventLoop(window.T.client, { websocket: false });
    const saved = window.WebSocket;
    window.WebSocket = undefined; // as IE9
    const old = new window.Parley.EventLoop(window.T.client);
    return new Promise((resolve) => {
      let ready = 0;
      const done = () => {
        if (++ready < 2) return;
        window.WebSocket = saved;
        resolve([told.transport, old.transport]);
        told.stop();
        old.stop();
      };
      told.once('loop:ready', done);
      old.once('loop:ready', done);
      told.start();
      old.start();
    });
  });
  assert.deepEqual(r, ['poll', 'poll']);
  assert.equal(pb.sockets.length, 1, 'only the first loop opened a socket');
  assert.ok(pb.polls >= polls + 2);
});

test('a bearer token rides the subprotocol; one that cannot goes in the first frame', { timeout: 60000 }, async (t) => {
  const [a, b] = await Promise.all([register('wta'), register('wtb')]);
  await befriend(a, b);
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  // No login in this page: no cookie, only the token.
  const p = await openPage(browser, 'T');
  await p.page.evaluate((token) => new Promise((resolve) => {
    const loop = (window.L = new window.Parley.EventLoop(new window.Parley.Client({ token })));
    window.got = [];
    loop.on('message', (d) => window.got.push(d.message.body.text));
    loop.once('loop:ready', resolve);
    loop.start();
  }), b.token);
  const r = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'text', body: { text: 'by token' } } });
  assert.equal(r.status, 201, r.text);
  await waitIn(p, 'the message', () => window.got.length === 1);
  const s = await p.page.evaluate(() => ({ transport: window.L.transport, live: window.L._ws.live, cookie: document.cookie }));
  assert.deepEqual(s, { transport: 'websocket', live: true, cookie: '' });
  assert.equal(p.polls, 0);
  assert.deepEqual(JSON.parse(p.sockets[0].sent[0]), { since: null }, 'the token is not in the frame');

  // A token no subprotocol may carry (a space): {"token", "since"} first;
  // this one is unknown, so the gateway closes 4401 and the loop stops.
  const bad = await p.page.evaluate(() => new Promise((resolve) => {
    window.L.stop();
    const loop = new window.Parley.EventLoop(new window.Parley.Client({ token: 'no such token' }));
    // (Emitted just before the loop stops, as after a poll's 401.)
    loop.once('loop:unauthorized', (e) => setTimeout(() =>
      resolve({ code: e.code, running: loop.running, close: loop._ws.stats.lastClose }), 0));
    loop.start();
  }));
  assert.deepEqual(bad, { code: 'invalid_token', running: false, close: '4401 invalid_token' });
  assert.deepEqual(JSON.parse(p.sockets[1].sent[0]), { since: null, token: 'no such token' });
});
