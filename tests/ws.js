// WebSocket helpers for the gateway tests (GET /api/v1/stream through
// nginx), on the `ws` package: opening a socket the ways a client may
// authenticate, reading its frames in order, and the close it ends with.
'use strict';
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { BASE } = require('./lib.js');
const { checkFrame } = require('./contract.js');

const WS_URL = `ws://${BASE.host}/api/v1/stream`;
const ORIGIN = `http://${BASE.host}`;

// One open socket. Every text frame is parsed and kept in `frames`;
// next() hands them out in order, events() the events in them.
const live = new Set();

class Stream {
  constructor(ws) {
    this.ws = ws;
    live.add(this);
    this.frames = [];
    this.pos = 0;
    this.seen = [];		// every event of every frame, in order
    this.wake = null;
    this.close = null;		// {code, reason} once closed
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.close = { code, reason: reason.toString() };
        live.delete(this);
        resolve(this.close);
        this.poke();
      });
    });
    ws.on('message', (data, isBinary) => {
      assert.equal(isBinary, false, 'the gateway sends text frames only');
      const f = JSON.parse(data.toString('utf8'));
      // Against docs/openapi.json's StreamFrame; a mismatch fails the
      // next read (a throw here would be an uncaught exception).
      try { checkFrame(f); } catch (e) { this.contractError = this.contractError || e; }
      this.frames.push(f);
      if (Array.isArray(f.events)) this.seen.push(...f.events);
      this.poke();
    });
    ws.on('error', () => {});	// the close event follows
  }

  poke() {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }

  // The next frame not handed out yet; fails after `ms`, or when the
  // socket closes first.
  async next(ms = 10000) {
    const end = Date.now() + ms;
    if (this.contractError) throw this.contractError;
    while (this.pos >= this.frames.length) {
      if (this.close) assert.fail(`socket closed (${this.close.code} ${this.close.reason}) while a frame was awaited`);
      const left = end - Date.now();
      if (left <= 0) assert.fail(`no frame within ${ms} ms`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
    }
    return this.frames[this.pos++];
  }

  // Frames until one holds an event matching `pred`: resolves {event,
  // events (all events up to and including it), next (its frame's next)}.
  async until(pred, ms = 10000) {
    const end = Date.now() + ms;
    const events = [];
    for (;;) {
      const f = await this.next(Math.max(1, end - Date.now()));
      assert.ok(Array.isArray(f.events), 'an events frame: ' + JSON.stringify(f));
      for (const e of f.events) {
        events.push(e);
        if (pred(e)) return { event: e, events, next: f.next };
      }
    }
  }

  // Resolves {code, reason}; fails when the socket is still open after ms.
  async ended(ms = 10000) {
    let timer;
    const t = new Promise((resolve) => { timer = setTimeout(resolve, ms, null); });
    const c = await Promise.race([this.closed, t]);
    clearTimeout(timer);
    assert.ok(c, `the socket is still open after ${ms} ms`);
    return c;
  }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  ack(seq) {
    this.send({ ack: seq });
  }

  // Closes from our side and waits for the end of the handshake.
  async shut() {
    if (!this.close) {
      this.ws.close(1000);
      await this.ended();
    }
  }

  kill() {
    this.ws.terminate();
  }
}

// Drops every socket still open (for test.after: a failed test must not
// leave sockets that keep the test file's process alive).
function closeAll() {
  for (const s of live) s.kill();
  live.clear();
}

// Opens a socket. opts: token (sent as the subprotocol "token.<token>"),
// protocols (the whole list instead), cookie (a parley_session value),
// origin, headers, maxPayload, autoPong (false: pings go unanswered).
// Resolves a Stream once open; a refused upgrade rejects with an Error
// carrying {status, json, text}.
function open(opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (opts.cookie !== undefined) headers.Cookie = `parley_session=${opts.cookie}`;
  let protocols = opts.protocols;
  if (protocols === undefined && opts.token) protocols = ['parley', 'token.' + opts.token];
  const wsOpts = { headers, handshakeTimeout: 10000, perMessageDeflate: false };
  if (opts.origin) wsOpts.origin = opts.origin;
  if (opts.maxPayload) wsOpts.maxPayload = opts.maxPayload;
  if (opts.autoPong === false) wsOpts.autoPong = false;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(WS_URL, protocols || [], wsOpts);
    const s = new Stream(ws);
    ws.once('open', () => resolve(s));
    ws.once('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch (e) { json = undefined; }
        const err = new Error(`upgrade refused: ${res.statusCode} ${text}`);
        Object.assign(err, { status: res.statusCode, headers: res.headers, text, json });
        req.destroy();
        reject(err);
      });
    });
    ws.once('error', (e) => reject(e));
  });
}

// The refusal of an upgrade that must not succeed: resolves {status,
// headers, text, json}.
async function refused(opts) {
  let s;
  try {
    s = await open(opts);
  } catch (e) {
    if (e.status === undefined) throw e;
    return e;
  }
  s.kill();
  assert.fail('the upgrade succeeded: ' + JSON.stringify(opts));
}

// A subscribed socket for user u (token as subprotocol): resolves
// {s, first} with the first events frame.
async function subscribe(u, since, opts = {}) {
  const s = await open(Object.assign({ token: u.token }, opts));
  s.send({ since: since === undefined ? null : since });
  const first = await s.next();
  assert.ok(Array.isArray(first.events), 'the first frame is an events frame: ' + JSON.stringify(first));
  assert.equal(typeof first.next, 'number');
  return { s, first };
}

// Asserts how a socket ended: an {"error":{code,message}} frame (when
// `code` and not noFrame), then the close with `status` and reason code.
async function assertClosed(s, status, code, ms = 10000, noFrame = false) {
  const c = await s.ended(ms);
  const frames = s.frames.slice(s.pos);
  assert.equal(c.code, status, `close code (reason ${c.reason}; frames ${JSON.stringify(frames)})`);
  if (code === undefined) return c;
  assert.equal(c.reason, code);
  if (!noFrame) {
    const err = frames.filter((f) => f.error);
    assert.equal(err.length, 1, 'one error frame before the close: ' + JSON.stringify(frames));
    assert.equal(err[0].error.code, code);
    assert.equal(typeof err[0].error.message, 'string');
    assert.ok(err[0].error.message.length > 0);
    assert.deepEqual(frames[frames.length - 1], err[0], 'the error frame is the last one');
  }
  return c;
}

module.exports = { WS_URL, ORIGIN, Stream, open, refused, subscribe, assertClosed, closeAll, WebSocket };
