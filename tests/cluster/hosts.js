// Helpers for the cluster tests (scripts/test-cluster.sh runs them in the
// edge namespace): the three doors of the edge nginx (both service hosts,
// only B, only C), a WebSocket opened through any of them, which host
// served a request (the edge's upstream logs), and killing or restarting
// a host through the script.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { execFile, execFileSync } = require('node:child_process');
const WebSocket = require('ws');
const { ROOT, uniqueName } = require('../lib.js');

const EDGE = new URL(process.env.PARLEY_URL);
const PIN = { b: new URL(process.env.CLUSTER_B), c: new URL(process.env.CLUSTER_C) };
const ADDR = { b: process.env.CLUSTER_B_ADDR, c: process.env.CLUSTER_C_ADDR };
const VAR = process.env.CLUSTER_VAR;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One request through `base` (a URL: EDGE, PIN.b or PIN.c); resolves
// {status, text, json}; a failed connection rejects.
function request(base, method, urlPath, opts = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    let body = null;
    if (opts.json !== undefined) {
      body = Buffer.from(JSON.stringify(opts.json));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = body.length;
    }
    if (opts.token) headers.Authorization = 'Bearer ' + opts.token;
    const req = http.request({ host: base.hostname, port: base.port, method, path: urlPath, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = undefined; }
        resolve({ status: res.statusCode, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(opts.timeout || 30000, () => req.destroy(new Error('timeout')));
    if (body) req.write(body);
    req.end();
  });
}

// 503 database_unavailable means the request did nothing: a service
// could not reach PostgreSQL in time (its connect timeout is 3 s; on a
// busy 2-core test machine a fresh connection, forked and authenticated
// by SCRAM, sometimes takes longer). A client retries it, as the
// Retry-After says; so do these tests, a few times, and count it.
const stats = { dbRetries: 0 };
async function retrying(base, method, p, o) {
  for (let i = 0; ; i++) {
    const r = await request(base, method, p, o);
    if (r.status !== 503 || !r.json || !r.json.error || r.json.error.code !== 'database_unavailable' || i === 5) return r;
    stats.dbRetries++;
    await sleep(300);
  }
}

// The API through one door.
function door(base) {
  return {
    base,
    get: (p, o) => retrying(base, 'GET', p, o),
    post: (p, o) => retrying(base, 'POST', p, o),
    // GET /events as the user u.
    poll: (u, q = {}, o = {}) => retrying(base, 'GET', '/api/v1/events?' + new URLSearchParams(q), Object.assign({ token: u.token }, o)),
  };
}
const edge = door(EDGE);
const onB = door(PIN.b);
const onC = door(PIN.c);

// A new user, through the edge; resolves {user, token}.
async function register(prefix) {
  const username = uniqueName(prefix);
  const r = await edge.post('/api/v1/auth/register', { json: { username, password: 'correct horse 1' } });
  if (r.status !== 201) throw new Error('register failed: ' + r.status + ' ' + r.text);
  return { user: r.json.user, token: r.json.token };
}

// Makes a and b friends (request and accept).
async function befriend(a, b) {
  const r = await edge.post('/api/v1/friends/requests', { token: a.token, json: { user_id: b.user.id } });
  if (r.status !== 201) throw new Error('friend request failed: ' + r.status + ' ' + r.text);
  const acc = await edge.post(`/api/v1/friends/requests/${r.json.request.id}/accept`, { token: b.token });
  if (acc.status !== 200) throw new Error('accept failed: ' + acc.status + ' ' + acc.text);
}

// A WebSocket through `base`, authenticated by the token subprotocol;
// resolves {ws, frames, events, until(pred, ms)} once open. A 503 (the
// gateway could not reach PostgreSQL in time to check the token) is
// retried like a request's.
async function openStream(base, token) {
  for (let i = 0; ; i++) {
    try {
      return await openStreamOnce(base, token);
    } catch (e) {
      if (e.status !== 503 || i === 5) throw e;
      stats.dbRetries++;
      await sleep(500);
    }
  }
}

function openStreamOnce(base, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${base.host}/api/v1/stream`, ['parley', 'token.' + token],
      { handshakeTimeout: 10000, perMessageDeflate: false });
    const s = { ws, frames: [], events: [], closed: false, wake: null };
    const poke = () => { const w = s.wake; s.wake = null; if (w) w(); };
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString('utf8'));
      s.frames.push(f);
      if (Array.isArray(f.events)) s.events.push(...f.events);
      poke();
    });
    ws.on('close', () => { s.closed = true; poke(); });
    ws.on('error', (e) => { s.error = e; });
    // Resolves once `pred(s)` holds, or rejects after ms.
    s.until = async (pred, ms = 10000) => {
      const end = Date.now() + ms;
      while (!pred(s)) {
        if (s.closed) throw new Error('socket closed');
        const left = end - Date.now();
        if (left <= 0) throw new Error(`not within ${ms} ms; frames ${JSON.stringify(s.frames).slice(0, 500)}`);
        await new Promise((r) => { const t = setTimeout(r, left); s.wake = () => { clearTimeout(t); r(); }; });
      }
    };
    ws.once('open', () => resolve(s));
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(Object.assign(new Error('upgrade refused: ' + res.statusCode), { status: res.statusCode }));
    });
    ws.once('error', reject);
  });
}

// The edge's log of which upstream answered what ("ADDR:PORT STATUS
// METHOD URI", several addresses when nginx moved a request on): `which`
// is 'edge' (both hosts), 'edge-b' or 'edge-c'.
function upstreamLog(which = 'edge') {
  try {
    return fs.readFileSync(path.join(VAR, which, 'log', 'upstream.log'), 'utf8').split('\n').filter(Boolean);
  } catch (e) {
    return [];
  }
}

// Waits (3 s at most) for a line after the first `from` of upstreamLog
// (which) that matches pred: nginx writes it once the request is over,
// which may be just after the client has its answer. Resolves the lines.
async function logged(which, from, pred) {
  const end = Date.now() + 3000;
  let lines;
  do {
    lines = upstreamLog(which).slice(from);
    if (lines.some(pred)) return lines;
    await sleep(50);
  } while (Date.now() < end);
  throw new Error(`no such line in ${which}'s upstream.log: ${lines.slice(-5).join('\n')}`);
}

// The host (b, c) that finally answered a log line, from its last address.
function servedBy(line) {
  const last = line.split(' ').filter((w) => /^\d+\.\d+\.\d+\.\d+:\d+,?$/.test(w)).pop() || '';
  const ip = last.split(':')[0];
  return ip === ADDR.b ? 'b' : ip === ADDR.c ? 'c' : '?';
}

function script(...args) {
  return new Promise((resolve, reject) => {
    execFile(path.join(ROOT, 'scripts/test-cluster.sh'), args, { env: process.env, timeout: 60000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`test-cluster.sh ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}
const killHost = (h) => script('__kill', h);

// TCP connections established to `port` on host h (b, c) now: which host
// holds a WebSocket or a parked poll (nginx keeps one upstream connection
// for each).
function established(h, port) {
  const out = execFileSync('ip', ['netns', 'exec', 'plc-' + h, 'ss', '-tnH', 'state', 'established', `( sport = :${port} )`]);
  return out.toString().split('\n').filter(Boolean).length;
}
const PORT = { poll: 9004, gateway: 9008 };
const startHost = (h) => script('__start', h);
const cutHost = (h) => script('__cut', h);
const mendHost = (h) => script('__mend', h);

module.exports = { register, befriend, stats, edge, onB, onC, door, openStream, upstreamLog, logged, servedBy, killHost, startHost, cutHost, mendHost, established, PORT, sleep, ADDR };
