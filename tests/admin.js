// Helpers of the operator console's tests (tests/api/admin*.test.js): the
// admin routes of services/admin, admins made on the command line, requests
// to an admin route beside the same request to a path no service has, audit
// rows, and a minimal WebSocket client for the online list's transport.
'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const { api, request, register, stack, BASE, ROOT } = require('./lib.js');

const MISSING = 9007199254740991;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cookie = (u) => `parley_session=${u.token}`;

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

// The admin routes, read from docs/openapi.json, which the admin service's
// route table is generated from (a new route is covered without editing
// this file; tests/api/routes.test.js checks the generated table).
const ADMIN_ROUTES = Object.entries(JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8')).paths)
  .flatMap(([p, item]) => Object.entries(item)
    .filter(([, op]) => op && op['x-parley-service'] === 'admin')
    .map(([m]) => ({ method: m.toUpperCase(), path: p })));

function urlOf(route, id = MISSING) {
  return route.path.replace(/\{[^}]+\}/g, String(id));
}

async function login(u, password = u.password) {
  return api.post('/api/v1/auth/login', { json: { username: u.user.username, password } });
}

// One after the other: registrations share a small password-hashing
// pool with every other test file running beside this one.
async function inTurn(...makers) {
  const out = [];
  for (const make of makers) out.push(await make());
  return out;
}

// A user made admin through the command line, as an operator would.
async function newAdmin(prefix = 'adm') {
  const a = await register(prefix);
  stack('admin', 'grant', a.user.username);
  return a;
}

// Where an unknown path goes: nginx's own 404 for /api/.
function missingPath(route) {
  return '/api/v1/zz-' + crypto.randomBytes(4).toString('hex') + urlOf(route).slice('/api/v1/admin'.length);
}

// Headers a client sees, but the date.
function headerList(res) {
  return Object.entries(res.headers).filter(([k]) => k !== 'date').map(([k, v]) => `${k}: ${v}`).sort();
}

// `res` is answered exactly as `ref`, a request to a path no service has.
function assertAsMissing(res, ref, what) {
  const why = `${what}\n  got ${res.status} ${JSON.stringify(res.headers)} ${res.text}\n  ref ${ref.status} ${JSON.stringify(ref.headers)} ${ref.text}`;
  assert.equal(ref.status, 404, 'the reference is nginx\'s 404' + why);
  assert.equal(res.status, ref.status, why);
  assert.equal(res.text, ref.text, why);
  assert.deepEqual(headerList(res), headerList(ref), why);
}

// The same request to the admin route and to a missing path.
async function pair(method, route, opts, id) {
  const o = () => Object.assign({}, opts, { headers: Object.assign({}, opts.headers || {}) });
  const [res, ref] = await Promise.all([
    request(method, urlOf(route, id), o()),
    request(method, missingPath(route), o()),
  ]);
  return { res, ref };
}

// Audit rows about a target, oldest first.
function auditRows(type, id) {
  const out = psql(`SELECT coalesce(json_agg(json_build_object('admin_id', admin_id, 'actor', actor, 'action', action,
    'detail', detail) ORDER BY id), '[]') FROM admin_audit WHERE target_type = '${type}' AND target_id = ${Number(id)}`);
  return JSON.parse(out);
}

// A minimal WebSocket client for GET /api/v1/stream: the upgrade with the
// token in Sec-WebSocket-Protocol, one {"since"} frame; resolves
// { frames, closed: Promise<code> }.
function openSocket(token) {
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(BASE.port), BASE.hostname);
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const frames = [];
    let closeCode;
    const closed = new Promise((res) => {
      s.on('close', () => res(closeCode === undefined ? 1006 : closeCode));
    });
    s.on('error', reject);
    s.write(`GET /api/v1/stream HTTP/1.1\r\nHost: ${BASE.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: parley, token.${token}\r\n\r\n`);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headText = buf.slice(0, end).toString();
        if (!/^HTTP\/1\.1 101/.test(headText)) { reject(new Error('no upgrade: ' + headText)); s.destroy(); return; }
        upgraded = true;
        buf = buf.slice(end + 4);
        const payload = Buffer.from(JSON.stringify({ since: null }));
        const mask = crypto.randomBytes(4);
        const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
        s.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
        resolve({ frames, closed, end: () => s.destroy() });
      }
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const op = buf[0] & 0x0f;
        const data = buf.slice(off, off + len);
        buf = buf.slice(off + len);
        if (op === 0x8) closeCode = data.length >= 2 ? data.readUInt16BE(0) : 1005;
        else if (op === 0x1) frames.push(JSON.parse(data.toString()));
        else if (op === 0x9) {
          const mask = crypto.randomBytes(4);
          s.write(Buffer.concat([Buffer.from([0x8a, 0x80 | data.length]), mask, Buffer.from(data.map((b, i) => b ^ mask[i % 4]))]));
        }
      }
    });
  });
}

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function onlineEntry(admin, userId) {
  const r = await api.get('/api/v1/admin/online?limit=500', { token: admin.token });
  assert.equal(r.status, 200, r.text);
  assert.equal(typeof r.json.online, 'number');
  assert.equal(typeof r.json.window, 'number');
  return r.json.users.find((x) => x.id === userId);
}

module.exports = {
  MISSING, sleep, cookie, psql, ADMIN_ROUTES, urlOf, login, inTurn, newAdmin,
  missingPath, headerList, assertAsMissing, pair, auditRows, openSocket, until,
  onlineEntry,
};
