// Helpers for the server-to-server API: a site made with
// `scripts/parley site add`, and requests signed as README "Request
// signing (version 1)" says, computed here independently of the C code.
'use strict';
const crypto = require('node:crypto');
const http = require('node:http');
const { api, request, stack, uniqueName } = require('./lib');
const { checkWebhook } = require('./contract.js');

// Creates a site; resolves {name, secret, req(method, path, json, opts)}.
function newSite(prefix = 's') {
  const name = uniqueName(prefix).replace(/_/g, '-').slice(0, 32);
  const out = stack('site', 'add', name);
  const m = /secret: (\S+)/.exec(out);
  if (!m) throw new Error('site add printed no secret: ' + out);
  const site = { name, secret: m[1] };
  site.req = (method, path, json, opts = {}) => signed(site, method, path, json, opts);
  return site;
}

// The v1 headers for one request. opts may override any part: ts, nonce,
// secret, site, and signMethod/signPath/signBody (what gets signed, when a
// test wants it to differ from what is sent).
function sign(site, method, path, body, opts = {}) {
  const ts = String(opts.ts !== undefined ? opts.ts : Math.floor(Date.now() / 1000));
  const nonce = opts.nonce || crypto.randomBytes(16).toString('hex');
  const bodyHash = crypto.createHash('sha256').update(opts.signBody !== undefined ? opts.signBody : body).digest('hex');
  const text = ['v1', ts, nonce, opts.signMethod || method, opts.signPath || path, bodyHash].join('\n');
  const sig = crypto.createHmac('sha256', opts.secret || site.secret).update(text).digest('hex');
  return {
    'X-Parley-Site': opts.site || site.name,
    'X-Parley-Timestamp': ts,
    'X-Parley-Nonce': nonce,
    'X-Parley-Signature': 'v1=' + sig,
  };
}

function signed(site, method, path, json, opts = {}) {
  const body = opts.raw !== undefined ? opts.raw : json === undefined ? '' : JSON.stringify(json);
  const headers = Object.assign(sign(site, method, path, body, opts), opts.headers || {});
  if (opts.drop) for (const h of opts.drop) delete headers[h];
  return request(method, path, body === '' ? { headers } : { headers, body });
}

// A site user with a session (through a login ticket). Resolves
// {ext, user, token, csrf, session}.
async function siteUser(site, prefix = 'su') {
  const ext = 'ext-' + crypto.randomBytes(6).toString('hex');
  const username = uniqueName(prefix);
  const r = await site.req('PUT', `/api/v1/server/users/${ext}`, { username, display_name: 'User ' + prefix });
  if (r.status !== 201) throw new Error('site user: ' + r.status + ' ' + r.text);
  return { ext, user: r.json.user };
}

async function login(site, u) {
  const t = await site.req('POST', `/api/v1/server/users/${encodeURIComponent(u.ext)}/login-tickets`);
  if (t.status !== 201) throw new Error('ticket: ' + t.status + ' ' + t.text);
  const s = await api.post('/api/v1/auth/ticket', { json: { ticket: t.json.ticket } });
  if (s.status !== 200) throw new Error('redeem: ' + s.status + ' ' + s.text);
  Object.assign(u, { token: s.json.token, csrf: s.json.csrf_token, session: s.json.session_id });
  return u;
}

// A webhook receiver on 127.0.0.1: verifies each delivery's signature with
// the site's secret and records it. `answer(event, n)` gives the status for
// the n-th delivery of that event id (default 200).
function receiver(site, answer = () => 200) {
  const got = [];
  const tries = new Map();
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const h = req.headers;
      const bodyHash = crypto.createHash('sha256').update(raw).digest('hex');
      const text = ['v1', h['x-parley-timestamp'], h['x-parley-nonce'], req.method, req.url, bodyHash].join('\n');
      const want = 'v1=' + crypto.createHmac('sha256', site.secret).update(text).digest('hex');
      // Against the description's `webhooks` (a mismatch fails the file).
      const contract = checkWebhook(h, raw);
      const ev = JSON.parse(raw);
      const n = (tries.get(ev.id) || 0) + 1;
      tries.set(ev.id, n);
      const status = answer(ev, n);
      got.push({ event: ev, headers: h, url: req.url, verified: want === h['x-parley-signature'], status, n, contract });
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => {
    resolve({ url: `http://127.0.0.1:${srv.address().port}`, got, close: () => srv.close() });
  }));
}

// Waits until pred() is true (checking every 50 ms) or fails after ms.
async function until(pred, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting for ' + what);
}

module.exports = { newSite, sign, signed, siteUser, login, receiver, until };
