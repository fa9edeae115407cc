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
const { ROOT } = require('../lib.js');

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

// The API through one door.
function door(base) {
  return {
    base,
    get: (p, o) => request(base, 'GET', p, o),
    post: (p, o) => request(base, 'POST', p, o),
    // GET /events as the user u.
    poll: (u, q = {}, o = {}) => request(base, 'GET', '/api/v1/events?' + new URLSearchParams(q), Object.assign({ token: u.token }, o)),
  };
}
const edge = door(EDGE);
const onB = door(PIN.b);
const onC = door(PIN.c);

// A WebSocket through `base`, authenticated by the token subprotocol;
// resolves {ws, frames, events, next(ms)} once open.
function openStream(base, token) {
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
    ws.once('unexpected-response', (req, res) => reject(new Error('upgrade refused: ' + res.statusCode)));
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

// The host (b, c) that finally answered a log line, from its last address.
function servedBy(line) {
  const addrs = line.split(' ')[0].replace(/,$/, '');
  const last = line.split(' ').filter((w) => /^\d+\.\d+\.\d+\.\d+:\d+,?$/.test(w)).pop() || addrs;
  const ip = last.replace(/,$/, '').split(':')[0];
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

module.exports = { edge, onB, onC, door, openStream, upstreamLog, servedBy, killHost, startHost, established, PORT, sleep, ADDR };
