// Helpers for tests in real browsers: Debian's chromium driven by
// playwright-core (no browser download), one browser context per user so
// each has its own cookies, pages served by the stack's nginx and running
// web/js/parley.js against the real API.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { BASE, ROOT } = require('../lib.js');

const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');

const ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // getUserMedia without a permission prompt, fed by a generated test
  // pattern and a beep instead of real devices.
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  // Chromium hides host addresses behind random mDNS ".local" names unless
  // the page holds camera/microphone permission (ours do, through the fake
  // UI, so today's tests connect either way). Nothing may resolve such
  // names in a container, and the test stack's STUN/TURN server is not
  // running: keep real host candidates whatever a page was granted.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // Pages in background contexts must keep polling at full speed.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

// Chromium refuses to run as root with its sandbox.
function chromiumArgs() {
  const args = ARGS.slice();
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.unshift('--no-sandbox');
  return args;
}

async function launch() {
  return chromium.launch({ executablePath: EXECUTABLE, args: chromiumArgs(), headless: true });
}

// Closes a browser without letting a failure to close hide the test's
// own result.
async function closeBrowser(browser) {
  if (!browser) return;
  try {
    await browser.close();
  } catch (e) {
    // already gone
  }
}

// Records the page's WebSockets and long polls on p.sockets, p.polls.
function watchTransports(p) {
  p.sockets = [];
  p.polls = 0;
  p.page.on('websocket', (ws) => {
    const rec = { url: ws.url(), sent: [], received: 0, closed: false };
    p.sockets.push(rec);
    ws.on('framesent', (f) => rec.sent.push(String(f.payload)));
    ws.on('framereceived', () => { rec.received++; });
    ws.on('close', () => { rec.closed = true; });
  });
  p.page.on('request', (req) => { if (new URL(req.url()).pathname === '/api/v1/events') p.polls++; });
}

// Parley.CallManager and Parley.Call, after /js/parley.js, in this order
// (as web/index.html and README's "Embedding the client" list them).
const CALL_SCRIPTS = ['/js/parley-calls.js', '/js/parley-call.js', '/js/parley-call-media.js'];

// A page for one user in its own context: a neutral same-origin document
// (the health reply, not the web client, which would run its own event
// loop and answer calls too) with /js/parley.js, /js/parley-ws.js and
// the call files loaded (opts.websocket false: without parley-ws.js, so
// the loop long-polls).
// Page errors and console lines are collected in `logs` for failure
// messages; p.sockets and p.polls count the loop's transports.
async function openPage(browser, label, opts = {}) {
  const context = await browser.newContext({ baseURL: BASE.origin });
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`[${label}] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[${label}] pageerror: ${e.message}`));
  const p = { label, context, page, logs };
  watchTransports(p);
  await page.goto(BASE.origin + '/api/v1/health');
  await page.addScriptTag({ url: '/js/parley.js' });
  if (opts.websocket !== false) await page.addScriptTag({ url: '/js/parley-ws.js' });
  for (const f of CALL_SCRIPTS) await page.addScriptTag({ url: f });
  return p;
}

// In the page: logs in through parley.js (so the session cookie is set),
// starts the event loop and a CallManager, and records what happens in
// window.T for the test to look at. Resolves once the loop holds its
// first cursor (the user then counts as online).
function pageSetup({ username, password }) {
  return new Promise((resolve, reject) => {
    const client = new Parley.Client();
    const T = (window.T = {
      client, events: [], incoming: [], calls: {}, errors: [], loopErrors: [],
    });

    // The test's own view of the call, on top of whatever the landing
    // page (the web client) shows, so screenshots always show it.
    function video(id) {
      let box = document.getElementById('parley-test');
      if (!box) {
        box = document.createElement('div');
        box.id = 'parley-test';
        box.style.cssText = 'position:fixed;top:0;left:0;z-index:2147483647;padding:8px;' +
          'background:#fff;border:1px solid #888;font:14px sans-serif';
        box.appendChild(document.createTextNode(username + ' (local, remote)'));
        box.appendChild(document.createElement('br'));
        document.body.appendChild(box);
      }
      const v = document.createElement('video');
      v.id = id;
      v.autoplay = true;
      v.muted = true;
      v.playsInline = true;
      v.width = 320;
      v.height = 240;
      v.style.cssText = 'display:inline-block;background:#000;margin-right:8px';
      box.appendChild(v);
      return v;
    }

    // Every call of this page, by id: states, connection states, streams.
    T.watch = function (call) {
      const rec = (T.calls[call.id] = {
        id: call.id, direction: call.direction, states: [call.state], connection: [],
        ended: null, errors: [], remoteVideo: false,
      });
      T.current = call;
      call.on('state', (s) => rec.states.push(s));
      call.on('connection', (s) => rec.connection.push(s));
      call.on('error', (e) => rec.errors.push(e.code + ': ' + e.message));
      call.on('ended', (reason) => { rec.ended = reason; });
      call.on('localstream', (s) => Parley.attachStream(document.getElementById('local') || video('local'), s));
      call.on('remotestream', (s) => {
        rec.remoteVideo = s.getVideoTracks().length > 0;
        Parley.attachStream(document.getElementById('remote') || video('remote'), s);
      });
      return rec;
    };

    client.login(username, password, (err, res) => {
      if (err) { reject(new Error('login failed: ' + err.code + ' ' + err.message)); return; }
      const loop = new Parley.EventLoop(client);
      const calls = new Parley.CallManager(client, loop);
      T.loop = loop;
      T.manager = calls;
      T.sessionId = res.session_id;
      loop.on('*', (ev) => T.events.push({ seq: ev.seq, type: ev.type, data: ev.data }));
      loop.on('loop:error', (e) => T.loopErrors.push(e.code));
      calls.on('incoming', (call) => { T.incoming.push(call.id); T.watch(call); });
      calls.on('error', (e) => T.errors.push(e.code + ': ' + e.message));
      loop.once('loop:ready', () => resolve({ sessionId: res.session_id, userId: res.user.id }));
      loop.start();
    });
  });
}

// Opens a page for a user registered with tests/lib.js register() and logs
// it in through the library.
async function openUser(browser, user, label, opts) {
  const p = await openPage(browser, label, opts);
  p.user = user;
  p.session = await p.page.evaluate(pageSetup, { username: user.user.username, password: user.password });
  return p;
}

// Waits until fn(arg) is truthy in the page; on timeout the error names
// what was awaited and carries the page's recent log lines.
async function waitIn(p, what, fn, arg, timeout = 20000) {
  try {
    const handle = await p.page.waitForFunction(fn, arg, { timeout, polling: 100 });
    return await handle.jsonValue();
  } catch (e) {
    const state = await p.page.evaluate(() => JSON.stringify({
      events: window.T && window.T.events.map((x) => x.type + '#' + x.seq),
      calls: window.T && window.T.calls,
      errors: window.T && window.T.errors,
      loopErrors: window.T && window.T.loopErrors,
    })).catch(() => '(page gone)');
    throw new Error(`[${p.label}] timed out after ${timeout} ms waiting for ${what}\n` +
      `state: ${state}\nlogs:\n${p.logs.slice(-30).join('\n')}\n${e.message}`);
  }
}

// The events of one type this page has received so far.
function eventsOf(p, type) {
  return p.page.evaluate((t) => window.T.events.filter((e) => e.type === t), type);
}

async function screenshot(p, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name + '.png');
  await p.page.screenshot({ path: file });
  return file;
}

module.exports = {
  launch, closeBrowser, chromiumArgs, openPage, openUser, waitIn, eventsOf, screenshot,
  watchTransports, ARTIFACTS,
};
