// Helpers for black-box tests against the running stack (real nginx, real
// services, real PostgreSQL). PARLEY_URL points at nginx.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { execFile, execFileSync } = require('node:child_process');
const path = require('node:path');
const { checkResponse } = require('./contract.js');

const BASE = new URL(process.env.PARLEY_URL || 'http://127.0.0.1:18080');
const ROOT = path.resolve(__dirname, '..');

// One HTTP request. opts: token, json (object -> JSON body), body (raw
// string/Buffer), contentType, headers, localAddress (to test per-address
// rules from 127.0.0.x). Resolves {status, headers, text, json}.
// Every response is checked against docs/openapi.json (tests/contract.js)
// and rejects on a mismatch; `contract: false` opts one request out (only
// for a response that is not an API response by design: see there).
function request(method, urlPath, opts = {}) {
  return new Promise((resolve, reject) => {
    const headers = Object.assign({}, opts.headers || {});
    let body = null;
    if (opts.json !== undefined) {
      body = Buffer.from(JSON.stringify(opts.json));
      headers['Content-Type'] = 'application/json';
    } else if (opts.body !== undefined) {
      body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
      if (opts.contentType !== null)
        headers['Content-Type'] = opts.contentType || 'application/json';
    }
    if (opts.token) headers['Authorization'] = 'Bearer ' + opts.token;
    if (body) headers['Content-Length'] = body.length;
    const req = http.request({
      host: BASE.hostname, port: BASE.port, method, path: urlPath, headers,
      localAddress: opts.localAddress, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = undefined; }
        const out = { status: res.statusCode, headers: res.headers, text, json };
        try { checkResponse(method, urlPath, out, opts); } catch (e) { reject(e); return; }
        resolve(out);
      });
    });
    req.on('error', reject);
    req.setTimeout(opts.timeout || 30000, () => req.destroy(new Error('timeout')));
    if (body) req.write(body);
    req.end();
  });
}

const api = {
  get: (p, o) => request('GET', p, o),
  post: (p, o) => request('POST', p, o),
  put: (p, o) => request('PUT', p, o),
  del: (p, o) => request('DELETE', p, o),
  request,
};

// A fresh lowercase username that no other test run uses.
function uniqueName(prefix = 'u') {
  return (prefix + '_' + crypto.randomBytes(6).toString('hex')).slice(0, 32);
}

// Makes a request again while it is answered 503 busy, after its
// Retry-After, as a client is told to (at most 6 times): the
// password-hashing pool's queue fills when test files register at once.
// Only for requests the test expects to succeed; the 503 itself is tested
// in zz_pwhash_flood and accounts_commit.
async function untilNotBusy(make) {
  let r;
  for (let i = 0; ; i++) {
    r = await make();
    if (r.status !== 503 || !r.json || !r.json.error || r.json.error.code !== 'busy' || i === 5) return r;
    await new Promise((res) => setTimeout(res, 1000 * Number(r.headers['retry-after'] || 1)));
  }
}

// Registers a new user; resolves {user, token, csrf, password, session}.
// A 503 busy (the password-hashing pool's queue is full when many test
// files register at once) is retried after its Retry-After, as a client
// is told to; tests/api/zz_pwhash_flood.test.js tests the 503 itself.
async function register(prefix = 'u', password = 'correct horse 1') {
  const username = uniqueName(prefix);
  const r = await untilNotBusy(() => api.post('/api/v1/auth/register', { json: { username, password } }));
  if (r.status !== 201) throw new Error('register failed: ' + r.status + ' ' + r.text);
  return { user: r.json.user, token: r.json.token, csrf: r.json.csrf_token, password, session: r.json.session_id };
}

// Makes a and b friends through the real request/accept flow.
async function befriend(a, b) {
  const r = await api.post('/api/v1/friends/requests', { token: a.token, json: { user_id: b.user.id } });
  if (r.status !== 201) throw new Error('friend request failed: ' + r.status + ' ' + r.text);
  const acc = await api.post(`/api/v1/friends/requests/${r.json.request.id}/accept`, { token: b.token });
  if (acc.status !== 200) throw new Error('accept failed: ' + acc.status + ' ' + acc.text);
}

// Asserts the error convention: status, JSON {"error":{"code","message"}}.
function assertError(assert, res, status, code) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.ok(res.json && res.json.error, 'error body is JSON: ' + res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
  if (code) assert.equal(res.json.error.code, code, res.text);
  assert.match(res.headers['content-type'] || '', /application\/json/);
}

// Runs scripts/parley with the test stack's environment and all the given
// arguments: stack('pg-stop'), stack('restart-service', 'poll'),
// stack('psql', '-c', 'SELECT 1'). Blocks the event loop until it is done.
function stack(...args) {
  return execFileSync(path.join(ROOT, 'scripts/parley'), args, { stdio: 'pipe', env: process.env }).toString();
}

// The same without blocking: requests in flight keep going while it runs.
// Resolves stdout; rejects with stderr in the message.
function stackAsync(...args) {
  return new Promise((resolve, reject) => {
    execFile(path.join(ROOT, 'scripts/parley'), args, { env: process.env }, (err, stdout, stderr) => {
      if (err) reject(new Error(`scripts/parley ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

module.exports = { api, request, register, untilNotBusy, befriend, uniqueName, assertError, stack, stackAsync, BASE, ROOT };
