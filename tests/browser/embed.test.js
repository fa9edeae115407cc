// Embedding (web/embed.js) on another site, in headless Chromium: a host
// page served by a tiny node server at http://localhost:<port>/ (another
// site and origin than Parley at PARLEY_URL = http://127.0.0.1:...) loads
// PARLEY_URL/embed.js with a script tag and
//   - ParleyEmbed.widget: JSONP long polling (script tags only, no XHR)
//     shows live messages and a ringing call, resumes from its cursor
//     after failed polls with a growing back-off, jumps on 410, stops on
//     401, and never hands an event over twice; its URLs carry a stream
//     token that the host's backend mints (this test's host server plays
//     that backend at /stream-token), never the session token;
//   - ParleyEmbed.frame: the full client in an iframe, where the session
//     cookie is not sent, signed in with a token handed by the host (or a
//     login inside the frame), live, and still signed in after a reload.
// Screenshots: tests/artifacts/embed-*.png.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { api, register, befriend, stack, BASE } = require('../lib.js');
const { launch, closeBrowser, ARTIFACTS } = require('./lib.js');

const PARLEY = BASE.origin;
const PASSWORD = 'correct horse 1';

// ---------------------------------------------------------------------------
// The host site: pages registered by the tests, served on 127.0.0.1 and
// opened as http://localhost:<port>/ so they are cross-site to Parley.

const pages = new Map();
// The host's backend keeps each signed-in user's Parley session token and
// mints stream tokens with it: GET /stream-token?u=<key> on the host.
const backendTokens = new Map();
let host;
let HOST;

async function mintForHost(req, res) {
  const key = new URL(req.url, 'http://host').searchParams.get('u');
  const token = backendTokens.get(key);
  const r = token ? await api.post('/api/v1/auth/stream-token', { token }) : { status: 401, text: '{}' };
  res.writeHead(r.status === 201 ? 200 : r.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(r.text);
}

// The host page's side: streamToken(callback) asks the host's backend.
const HOST_MINT = (key) => `function (cb) {
  var x = new XMLHttpRequest();
  x.open('GET', '/stream-token?u=${key}', true);
  x.onreadystatechange = function () {
    if (x.readyState !== 4) return;
    if (x.status !== 200) { var e = new Error('mint failed'); e.status = x.status; cb(e); return; }
    var j = JSON.parse(x.responseText);
    window.MINTED = (window.MINTED || 0) + 1;
    cb(null, j.stream_token, j.expires_in);
  };
  x.send(null);
}`;

function hostPage(name, bodyHtml, script) {
  pages.set('/' + name, '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Host site</title></head>' +
    '<body style="font:15px sans-serif;margin:16px;background:#f4f1ea">' +
    '<h1 style="font-size:18px">Example host site</h1>' + bodyHtml +
    `<script src="${PARLEY}/embed.js"></script>` +
    `<script>${script}</script></body></html>`);
  return HOST + '/' + name;
}

test.before(async () => {
  host = http.createServer((req, res) => {
    if (req.url.startsWith('/stream-token?')) {
      mintForHost(req, res).catch((e) => { res.writeHead(500); res.end(String(e)); });
      return;
    }
    const page = pages.get(req.url.split('?')[0]);
    if (!page) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(page);
  });
  await new Promise((resolve) => host.listen(0, '127.0.0.1', resolve));
  HOST = `http://localhost:${host.address().port}`;
});

test.after(() => new Promise((resolve) => host.close(resolve)));

// ---------------------------------------------------------------------------
// Helpers

async function openHost(browser, label, url) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const logs = [];
  const requests = [];
  page.on('console', (m) => logs.push(`[${label}] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[${label}] pageerror: ${e.message}`));
  page.on('request', (r) => requests.push({ url: r.url(), type: r.resourceType(), request: r }));
  const p = { label, context, page, logs, requests };
  await page.goto(url);
  return p;
}

// Waits until fn(arg) is truthy in the page (or frame); a timeout names
// what was awaited, with page errors and recent log lines.
async function waitFor(p, what, fn, arg, { timeout = 20000, frame } = {}) {
  try {
    const h = await (frame || p.page).waitForFunction(fn, arg, { timeout, polling: 100 });
    return await h.jsonValue();
  } catch (e) {
    const state = await (frame || p.page).evaluate(() => JSON.stringify(window.W ? {
      W: window.W, text: document.body.innerText.slice(0, 400),
    } : { text: document.body.innerText.slice(0, 400) })).catch(() => '(gone)');
    throw new Error(`[${p.label}] timed out after ${timeout} ms waiting for ${what}\nstate: ${state}\n` +
      `logs:\n${p.logs.slice(-25).join('\n')}\n${e.message}`);
  }
}

async function shot(p, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await p.page.screenshot({ path: path.join(ARTIFACTS, name + '.png') });
}

async function send(from, to, text) {
  const r = await api.post('/api/v1/messages', {
    token: from.token,
    json: { to: to.user.id, type: 'text', body: { text }, client_id: crypto.randomBytes(8).toString('hex') },
  });
  assert.equal(r.status, 201, r.text);
  return r.json.message;
}

function widgetText(p) {
  return p.page.evaluate(() => {
    const t = document.querySelector('#badge .parley-embed-text');
    return t ? t.textContent : '';
  });
}

// The framed client's Frame once its iframe exists.
async function parleyFrame(p) {
  const iframe = await p.page.waitForSelector('iframe.parley-embed-frame', { timeout: 20000 });
  const frame = await iframe.contentFrame();
  assert.ok(frame, 'the iframe has a frame');
  return frame;
}

function appReady(p, frame, what) {
  return waitFor(p, what, () => document.body.getAttribute('data-screen') === 'app' &&
    window.PA && PA.loop && PA.loop.ready && PA.state.convsLoaded, undefined, { frame });
}

// Keeps a user online (a poll loop from node) until stop().
function keepPolling(u) {
  let running = true;
  const done = (async () => {
    let since = (await api.get('/api/v1/events', { token: u.token })).json.next;
    while (running) {
      const r = await api.get(`/api/v1/events?since=${since}&timeout=2`, { token: u.token });
      if (r.status === 200) since = r.json.next;
    }
  })();
  return { stop: async () => { running = false; await done; } };
}

// Reloads the framed document and waits for the client to be signed in
// again (the marker is gone once the new document runs).
async function reloadFrame(p, frame) {
  await frame.evaluate(() => { window.beforeReload = true; window.location.reload(); });
  await waitFor(p, 'the framed client after a reload', () => !window.beforeReload &&
    document.body && document.body.getAttribute('data-screen') === 'app' &&
    window.PA && PA.loop && PA.loop.ready && PA.state.convsLoaded, undefined, { frame });
}

// ---------------------------------------------------------------------------

test('widget: JSONP long polling shows live messages and a ringing call, resumes after errors, no XHR', async () => {
  const alice = await register('emw');
  const bob = await register('emb');
  await befriend(alice, bob);
  backendTokens.set('alice', alice.token);
  const cfg = {
    server: PARLEY, token: alice.token, userId: alice.user.id, names: { [bob.user.id]: 'Bob' }, container: 'badge',
  };
  const url = hostPage('widget', '<p>Your notifications:</p><div id="badge"></div>',
    `window.EV = []; var cfg = ${JSON.stringify(cfg)};
     cfg.streamToken = ${HOST_MINT('alice')};
     cfg.onEvent = function (e) { EV.push(e); };
     window.W = ParleyEmbed.widget(cfg);`);

  const browser = await launch();
  try {
    const p = await openHost(browser, 'widget', url);
    assert.ok(p.page.url().startsWith('http://localhost:'), 'the host is another site');
    await waitFor(p, 'the widget to hold its cursor', () => W.state === 'live' && typeof W.cursor === 'number');
    assert.match(await widgetText(p), /no new messages/);

    await send(bob, alice, 'hi');
    await waitFor(p, 'the first message', () =>
      /1 new message — latest from Bob: hi/.test(document.querySelector('.parley-embed-text').textContent));
    await send(bob, alice, 'are you there?');
    await waitFor(p, 'the second message', () =>
      /2 new messages — latest from Bob: are you there\?/.test(document.querySelector('.parley-embed-text').textContent));

    // Outage: every new poll fails to load. The poll already parked
    // brings the next message; the ones after it fail and back off.
    let blocked = 0;
    await p.page.route((u) => u.href.startsWith(PARLEY + '/api/v1/events'), (route) => {
      blocked++;
      route.abort();
    });
    await send(bob, alice, 'third');
    await waitFor(p, 'two failed polls', () => W.errors >= 2 && W.unread === 3, undefined, { timeout: 30000 });
    await send(bob, alice, 'sent during the outage');
    await p.page.unrouteAll();
    await waitFor(p, 'the message sent during the outage', () =>
      W.state === 'live' && /4 new messages — latest from Bob: sent during the outage/
        .test(document.querySelector('.parley-embed-text').textContent), undefined, { timeout: 40000 });
    const W1 = await p.page.evaluate(() => window.W);
    assert.ok(blocked >= 2, 'polls were blocked');
    assert.deepEqual(W1.delays.slice(0, 2), [1000, 2000], 'back-off grows from 1 s, doubling');
    const stale = await p.page.evaluate(() => document.querySelectorAll('script[src*="/api/v1/events"]').length);
    assert.ok(stale <= 1, `old script tags are removed (${stale} left)`);

    // A call: the widget's polls keep Alice online, so Bob can ring her;
    // Bob polls from here, else the server ends his call (caller offline).
    const bobOnline = keepPolling(bob);
    const call = await api.post('/api/v1/calls', { token: bob.token, json: { to: alice.user.id, media: 'audio' } });
    assert.equal(call.status, 201, call.text);
    await waitFor(p, 'the incoming call notice', () => {
      const c = document.querySelector('.parley-embed-call');
      return c && c.style.display !== 'none' && /Incoming call from Bob/.test(c.textContent);
    });
    await shot(p, 'embed-widget');
    // Bob gives up (or the stack's short ring timeout ends it first).
    const cancel = await api.post(`/api/v1/calls/${call.json.call.id}/cancel`, { token: bob.token });
    assert.ok(cancel.status === 200 || (cancel.status === 409 && cancel.json.error.code === 'call_ended'), cancel.text);
    await waitFor(p, 'the call notice to go', () =>
      document.querySelector('.parley-embed-call').style.display === 'none' &&
      EV.some((e) => e.type === 'call.ended' || e.type === 'call.timeout'));
    await bobOnline.stop();

    // Read on another of Alice's devices: the count clears.
    const convs = await api.get('/api/v1/conversations', { token: alice.token });
    const conv = convs.json.conversations[0];
    const read = await api.post(`/api/v1/conversations/${conv.id}/read`, { token: alice.token, json: { seq: conv.last_message ? conv.last_message.seq : 100 } });
    assert.ok(read.status === 200 || read.status === 204, read.text);
    await waitFor(p, 'the count to clear', () => W.unread === 0 &&
      /no new messages/.test(document.querySelector('.parley-embed-text').textContent));

    // Every event exactly once, in order; four texts, nothing doubled.
    const ev = await p.page.evaluate(() => EV.map((e) => ({ seq: e.seq, type: e.type, data: e.data })));
    for (let i = 1; i < ev.length; i++) assert.ok(ev[i].seq > ev[i - 1].seq, `seq ${ev[i].seq} after ${ev[i - 1].seq}`);
    const texts = ev.filter((e) => e.type === 'message' && e.data.message.type === 'text')
      .map((e) => e.data.message.body.text);
    assert.deepEqual(texts, ['hi', 'are you there?', 'third', 'sent during the outage']);
    assert.ok(ev.some((e) => e.type === 'call.invite'));

    // JSONP only: script tags to Parley, never XHR or fetch.
    const toParley = p.requests.filter((r) => r.url.startsWith(PARLEY));
    assert.deepEqual(toParley.filter((r) => r.type === 'xhr' || r.type === 'fetch').map((r) => r.url), []);
    const polls = toParley.filter((r) => r.url.includes('/api/v1/events'));
    assert.ok(polls.length >= 5, `polls: ${polls.length}`);
    assert.ok(polls.every((r) => r.type === 'script' && /callback=ParleyEmbed\._cb\d+/.test(r.url)));
    // Each poll's URL holds a stream token, never the session token.
    assert.ok(polls.every((r) => /[?&]access_token=st_[A-Za-z0-9_-]{43}(&|$)/.test(r.url)), polls[0].url);
    assert.ok(polls.every((r) => !r.url.includes(alice.token)));
    assert.equal(await p.page.evaluate(() => window.MINTED), 1, 'one stream token served every poll');
    assert.deepEqual(p.logs.filter((l) => /pageerror/.test(l)), []);

    // "Open Parley" opens the full client in a popup, signed in by the
    // token once Alice confirms it is her account (a top-level tab
    // without a session never takes a hand-off silently: login CSRF).
    const [popup] = await Promise.all([p.context.waitForEvent('page'), p.page.click('.parley-embed-open')]);
    await popup.waitForFunction(() => document.body && document.body.getAttribute('data-screen') === 'handoff',
      undefined, { timeout: 20000, polling: 100 });
    assert.match(await popup.textContent('#handoff-account'), new RegExp('@' + alice.user.username));
    await popup.click('#handoff-accept');
    await popup.waitForFunction(() => document.body && document.body.getAttribute('data-screen') === 'app' &&
      window.PA && PA.state.me && PA.loop && PA.loop.ready, undefined, { timeout: 20000, polling: 100 });
    assert.equal(await popup.evaluate(() => PA.state.me.id), alice.user.id);
    assert.ok(popup.url().startsWith(PARLEY + '/') && !/token=/.test(popup.url()), popup.url());
  } finally {
    await closeBrowser(browser);
  }
});

test('widget: a bad token stops polling (401); a foreign cursor jumps to the head (410)', async () => {
  const carol = await register('emc');
  const dave = await register('emd');
  await befriend(carol, dave);
  const st = await api.post('/api/v1/auth/stream-token', { token: carol.token });
  assert.equal(st.status, 201, st.text);
  const url = hostPage('widget-errors', '<div id="bad"></div><div id="badge"></div>',
    `window.BAD = ParleyEmbed.widget({server: ${JSON.stringify(PARLEY)}, streamToken: 'not-a-token', container: 'bad'});
     window.W = ParleyEmbed.widget({server: ${JSON.stringify(PARLEY)}, streamToken: ${JSON.stringify(st.json.stream_token)},
       userId: ${carol.user.id}, container: 'badge', since: 99999999});`);
  const browser = await launch();
  try {
    const p = await openHost(browser, 'errors', url);
    await waitFor(p, 'the bad token to stop', () => BAD.state === 'unauthorized' && !BAD.running);
    assert.match(await p.page.textContent('#bad'), /please sign in again/);
    await waitFor(p, 'the resync from 410', () => W.resyncs === 1 && W.state === 'live');
    await send(dave, carol, 'after the jump');
    await waitFor(p, 'a message after the jump', () =>
      /1 new message — latest from user \d+: after the jump/.test(document.querySelector('#badge').textContent));
    const badPolls = p.requests.filter((r) => r.url.includes('access_token=not-a-token')).length;
    assert.equal(badPolls, 1, 'no poll after the 401');
  } finally {
    await closeBrowser(browser);
  }
});

test('widget: an expired stream token is renewed through the host; a revoked session stops the widget', async () => {
  const erin = await register('eme');
  const fred = await register('emf');
  await befriend(erin, fred);
  const first = await api.post('/api/v1/auth/stream-token', { token: erin.token });
  assert.equal(first.status, 201, first.text);
  backendTokens.set('erin', erin.token);
  // The host hands over a token it minted earlier; that one expires (set
  // below), the widget asks the host's backend for a fresh one and goes on.
  const url = hostPage('widget-renew', '<div id="badge"></div>',
    `var mint = ${HOST_MINT('erin')}, handed = false;
     window.W = ParleyEmbed.widget({server: ${JSON.stringify(PARLEY)}, userId: ${erin.user.id}, container: 'badge',
       timeout: 2, streamToken: function (cb) {
         if (!handed) { handed = true; cb(null, ${JSON.stringify(first.json.stream_token)}); return; }
         mint(cb);
       }});`);
  const browser = await launch();
  try {
    const p = await openHost(browser, 'renew', url);
    await waitFor(p, 'the widget to be live', () => W.state === 'live' && typeof W.cursor === 'number');
    stack('psql', '-qAtX', '-c', `UPDATE stream_tokens SET expires_at = now() - interval '1 second' WHERE session_id = ${erin.session}`);
    await waitFor(p, 'a renewal through the host', () => window.MINTED === 1 && W.renewals === 2);
    await send(fred, erin, 'after the renewal');
    await waitFor(p, 'a message with the new token', () =>
      /1 new message — latest from user \d+: after the renewal/.test(document.querySelector('#badge').textContent));
    assert.equal(await p.page.evaluate(() => W.state), 'live');

    // Signed out on another device: the next poll is refused, the host
    // cannot mint any more (its session is gone too), the widget stops.
    const out = await api.post('/api/v1/auth/logout', { token: erin.token });
    assert.equal(out.status, 204, out.text);
    await waitFor(p, 'the widget to stop', () => W.state === 'unauthorized' && !W.running, undefined, { timeout: 15000 });
    assert.match(await p.page.textContent('#badge'), /please sign in again/);
    const polls = p.requests.filter((r) => r.url.startsWith(PARLEY + '/api/v1/events'));
    assert.ok(polls.every((r) => !r.url.includes(erin.token)));
  } finally {
    await closeBrowser(browser);
  }
});

test('frame: a token from the host signs in the framed client without cookies; live; survives a reload', async () => {
  const erin = await register('eme');
  const frank = await register('emf');
  await befriend(erin, frank);
  await send(frank, erin, 'hello before the frame');
  const url = hostPage('frame', '<p>Chat with your friends:</p><div id="box"></div>',
    `ParleyEmbed.frame({server: ${JSON.stringify(PARLEY)}, container: 'box', width: 960, height: 600,
       token: ${JSON.stringify(erin.token)}});`);
  const browser = await launch();
  try {
    const p = await openHost(browser, 'frame', url);
    const frame = await parleyFrame(p);
    await appReady(p, frame, 'the framed client signed in');
    assert.ok(!/token=/.test(frame.url()), 'the token left the frame URL: ' + frame.url());
    assert.equal(await frame.evaluate(() => PA.tokenMode && PA.state.me.id), erin.user.id);
    assert.equal(await frame.evaluate(() => sessionStorage.getItem('parley.token')), erin.token);
    await waitFor(p, 'the conversation in the list', (name) =>
      document.getElementById('conv-list').textContent.indexOf(name) >= 0 &&
      document.getElementById('conv-list').textContent.indexOf('hello before the frame') >= 0,
    frank.user.username, { frame });

    await send(frank, erin, 'live into the frame');
    await waitFor(p, 'the live message in the list', () =>
      document.getElementById('conv-list').textContent.indexOf('live into the frame') >= 0, undefined, { frame });
    await frame.click('#conv-list li');
    await waitFor(p, 'the conversation open', () =>
      document.getElementById('messages').textContent.indexOf('live into the frame') >= 0, undefined, { frame });
    await send(frank, erin, 'and one more while it is open');
    await waitFor(p, 'the live message in the open conversation', () =>
      document.getElementById('messages').textContent.indexOf('and one more while it is open') >= 0,
    undefined, { frame });
    await shot(p, 'embed-frame');

    // The frame's API calls carry the bearer token; no session cookie.
    const apiCalls = p.requests.filter((r) => r.url.startsWith(PARLEY + '/api/v1/conversations'));
    assert.ok(apiCalls.length > 0);
    for (const r of apiCalls) {
      const h = await r.request.allHeaders();
      assert.equal(h.authorization, 'Bearer ' + erin.token);
      assert.ok(!/parley_session/.test(h.cookie || ''), 'no session cookie in a cross-site frame');
    }

    // A reload inside the frame keeps the session (sessionStorage).
    await reloadFrame(p, frame);
    assert.equal(await frame.evaluate(() => PA.state.me.id), erin.user.id);
    assert.deepEqual(p.logs.filter((l) => /pageerror/.test(l)), []);
  } finally {
    await closeBrowser(browser);
  }
});

test('frame: logging in inside the frame works without cookies and survives a reload', async () => {
  const gina = await register('emg', PASSWORD);
  const url = hostPage('frame-login', '<div id="box"></div>',
    `ParleyEmbed.frame({server: ${JSON.stringify(PARLEY)}, container: 'box', width: 900, height: 560});`);
  const browser = await launch();
  try {
    const p = await openHost(browser, 'frame-login', url);
    const frame = await parleyFrame(p);
    await waitFor(p, 'the login form', () => document.body.getAttribute('data-screen') === 'auth', undefined, { frame });
    await frame.fill('#login-username', gina.user.username);
    await frame.fill('#login-password', PASSWORD);
    await frame.click('#login-submit');
    await appReady(p, frame, 'the app after logging in inside the frame');
    assert.ok(await frame.evaluate(() => !!sessionStorage.getItem('parley.token')));
    // Why token mode: the login set a SameSite=Lax cookie, and the browser
    // does not send it from a frame on another site.
    const after = p.requests.filter((r) => r.url.startsWith(PARLEY + '/api/v1/conversations'));
    assert.ok(after.length > 0);
    for (const r of after) {
      const h = await r.request.allHeaders();
      assert.ok(!/parley_session/.test(h.cookie || ''), 'no session cookie in a cross-site frame');
      assert.match(h.authorization || '', /^Bearer /);
    }
    await shot(p, 'embed-frame-login');
    await reloadFrame(p, frame);
    assert.equal(await frame.evaluate(() => PA.state.me.id), gina.user.id);
    // Log out: the kept token goes too, and a reload shows the login form.
    await frame.click('#logout');
    await waitFor(p, 'the login form after logging out', () =>
      document.body.getAttribute('data-screen') === 'auth' && !sessionStorage.getItem('parley.token'),
    undefined, { frame });
  } finally {
    await closeBrowser(browser);
  }
});
