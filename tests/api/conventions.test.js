// API conventions through nginx: health, request body rules, the JSON
// error convention (also for nginx's own errors), Cache-Control.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, uniqueName, assertError, untilNotBusy } = require('../lib.js');

const REGISTER = '/api/v1/auth/register';

// Every error is JSON with a code and a message, never an HTML page.
function assertJsonError(res, status, code) {
  assertError(assert, res, status, code);
  assert.equal(typeof res.json.error.code, 'string');
  assert.match(res.json.error.code, /^[a-z_]+$/);
  assert.doesNotMatch(res.text, /<html|<body/i, 'no HTML error pages');
}

// A registration; a 503 busy (the hashing pool's queue, full when other
// files register at once) is asked again, as a client would.
function post(body, opts = {}) {
  return untilNotBusy(() => api.post(REGISTER, Object.assign({ body }, opts)));
}

test('health answers 200 with the database status', async () => {
  const r = await api.get('/api/v1/health');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'ok', database: 'ok' });
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.equal(r.headers['cache-control'], 'no-store');
});

test('malformed JSON and non-object JSON are 400 invalid_json', async () => {
  for (const body of ['{"username":', '{username: "x"}', "{'a':1}", '{"a":1,}', 'nul', '{"a":1}{"b":2}', '[]', '"x"', '3', 'null', 'true', '[{"username":"abc"}]']) {
    const r = await post(body);
    assertJsonError(r, 400, 'invalid_json');
  }
});

test('duplicate keys are refused', async () => {
  const name = uniqueName('dupkey');
  const r = await post(`{"username":"${name}","password":"correct horse 1","username":"${name}x"}`);
  assertJsonError(r, 400, 'invalid_json');
  // Nothing was created under either name.
  const ok = await untilNotBusy(() => api.post(REGISTER, { json: { username: name, password: 'correct horse 1' } }));
  assert.equal(ok.status, 201, ok.text);
});

test('invalid UTF-8 and NUL inside JSON strings are 400, never 500', async () => {
  const name = uniqueName('utf');
  const wrap = (bytes) => Buffer.concat([
    Buffer.from(`{"username":"${name}","password":"correct horse 1","display_name":"a`),
    Buffer.from(bytes), Buffer.from('b"}')]);
  const cases = [
    ['0xff', [0xff]],
    ['overlong /', [0xc0, 0xaf]],
    ['overlong 3-byte', [0xe0, 0x80, 0xaf]],
    ['lone continuation', [0x80]],
    ['truncated 2-byte', [0xc3]],
    ['UTF-16 surrogate', [0xed, 0xa0, 0x80]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ];
  for (const [what, bytes] of cases) {
    const r = await post(wrap(bytes));
    assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
    assertJsonError(r, 400);
  }
  for (const esc of ['\\u0000', 'x\\u0000y']) {
    const r = await post(`{"username":"${name}","password":"correct horse 1","display_name":"${esc}"}`);
    assert.equal(r.status, 400, `${esc}: ${r.status} ${r.text}`);
    assertJsonError(r, 400);
  }
  // A NUL in the password (not checked for control characters) too.
  const pw = await post(`{"username":"${name}","password":"correct\\u0000horse 1"}`);
  assertJsonError(pw, 400);
  // A lone surrogate escape is not a character either.
  const sur = await post(`{"username":"${name}","password":"correct horse 1","display_name":"\\ud800"}`);
  assertJsonError(sur, 400);
  // None of these created the account; valid UTF-8 does.
  const ok = await post(wrap([0xc3, 0xa9]));
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.user.display_name, 'aéb');
});

test('an empty body is 400 body_required', async () => {
  assertJsonError(await post(''), 400, 'body_required');
  assertJsonError(await api.post(REGISTER), 400, 'body_required');
  assertJsonError(await api.post('/api/v1/auth/login', { body: '' }), 400, 'body_required');
});

test('a body that is not declared as JSON is 415', async () => {
  const body = JSON.stringify({ username: uniqueName('ct'), password: 'correct horse 1' });
  assertJsonError(await post(body, { contentType: 'text/plain' }), 415, 'unsupported_media_type');
  assertJsonError(await post(body, { contentType: null }), 415, 'unsupported_media_type');
  assertJsonError(await post(body, { contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
  assertJsonError(await post(body, { contentType: 'application/jsonp' }), 415, 'unsupported_media_type');
  // Parameters and case do not matter.
  const ok = await post(body, { contentType: 'Application/JSON; charset=utf-8' });
  assert.equal(ok.status, 201, ok.text);
});

test('a body over 64 KiB is 413 body_too_large from the service', async () => {
  const filler = 'x'.repeat(65537 - '{"username":"a","password":"correct horse 1","pad":""}'.length);
  const body = `{"username":"a","password":"correct horse 1","pad":"${filler}"}`;
  assert.equal(Buffer.byteLength(body), 65537);
  JSON.parse(body); // valid JSON: only the size is wrong
  const r = await post(body);
  assertJsonError(r, 413, 'body_too_large');
  assert.equal(r.headers['cache-control'], 'no-store', 'answered by the service');
  // Exactly at the limit, the body is read (and then judged on its fields).
  const at = body.replace('x', '');
  assert.equal(Buffer.byteLength(at), 65536);
  const r2 = await post(at);
  assertJsonError(r2, 400, 'invalid_field');
});

test('a 2 MiB body is stopped by nginx with a JSON 413', async () => {
  const body = Buffer.alloc(2 * 1024 * 1024, 'a');
  const r = await post(body);
  assertJsonError(r, 413, 'body_too_large');
});

test('unknown endpoints are JSON 404s', async () => {
  for (const p of ['/api/v1/nope', '/api/v2/health', '/api/v1/auth/nope', '/api/v1/auth/sessions/1/x',
    '/api/v1/friends/requests/1/nope', '/api/v1/users/1', '/api/']) {
    const r = await api.get(p);
    assertJsonError(r, 404, 'not_found');
  }
  assertJsonError(await api.post('/api/v1/nope', { json: {} }), 404, 'not_found');
});

test('a wrong method on a known path is a JSON 405', async () => {
  const cases = [
    ['PUT', '/api/v1/auth/login'],
    ['GET', '/api/v1/auth/login'],
    ['DELETE', '/api/v1/auth/me'],
    ['POST', '/api/v1/health'],
    ['POST', '/api/v1/users'],
    ['PATCH', '/api/v1/friends'],
  ];
  for (const [method, p] of cases) {
    const r = await api.request(method, p);
    assertJsonError(r, 405, 'method_not_allowed');
  }
});

test('bad percent-encoding in the path is a JSON 400', async () => {
  const a = await register('pct');
  // Not percent-encoding at all: nginx refuses the request line.
  for (const p of ['/api/v1/auth/sessions/%ZZ', '/api/v1/auth/sessions/%', '/api/v1/auth/sessions/%4',
    '/api/v1/auth/sessions/%00', '/api/v1/%ZZ/x']) {
    const r = await api.del(p, { token: a.token });
    assertJsonError(r, 400, 'bad_request');
  }
  // Well-formed escapes that decode to invalid UTF-8 or NUL: the service
  // refuses the segment.
  for (const p of ['/api/v1/auth/sessions/%C0%AF', '/api/v1/auth/sessions/%FF', '/api/v1/friends/%ED%A0%80']) {
    const r = await api.del(p, { token: a.token });
    assertJsonError(r, 400, 'invalid_path');
  }
  assert.equal((await api.get('/api/v1/auth/me', { token: a.token })).status, 200);
});

test('nginx refuses oversized request heads with JSON errors', async () => {
  const bigHeader = await api.get('/api/v1/health', { headers: { 'X-Big': 'a'.repeat(20000) } });
  assertJsonError(bigHeader, 400, 'bad_request');
  const longUri = await api.get('/api/v1/users?q=' + 'a'.repeat(10000));
  assert.ok(longUri.status === 414 || longUri.status === 400, `${longUri.status} ${longUri.text}`);
  assertJsonError(longUri, longUri.status);
});

test('service responses carry Cache-Control: no-store', async () => {
  const a = await register('cache');
  const responses = [
    await api.get('/api/v1/health'),
    await api.get('/api/v1/auth/me', { token: a.token }),
    await api.get('/api/v1/auth/sessions', { token: a.token }),
    await api.get('/api/v1/users?q=abc', { token: a.token }),
    await api.get('/api/v1/friends', { token: a.token }),
    await api.get('/api/v1/auth/me'),
    await api.post(REGISTER, { json: {} }),
    await untilNotBusy(() => api.post(REGISTER, { json: { username: a.user.username, password: 'correct horse 1' } })),
    await api.put('/api/v1/auth/login'),
    await api.get('/api/v1/auth/nope'),
  ];
  for (const r of responses) {
    assert.ok(r.status > 0);
    assert.equal(r.headers['cache-control'], 'no-store', `${r.status} ${r.text}`);
  }
  const created = await untilNotBusy(() => api.post(REGISTER, { json: { username: uniqueName('cache'), password: 'correct horse 1' } }));
  assert.equal(created.status, 201);
  assert.equal(created.headers['cache-control'], 'no-store', 'a response with a token is never cached');
  const out = await api.post('/api/v1/auth/logout', { token: created.json.token });
  assert.equal(out.status, 204);
  assert.equal(out.headers['cache-control'], 'no-store');
});

test('JSON responses declare their type and are not sniffed', async () => {
  const r = await api.get('/api/v1/health');
  assert.match(r.headers['content-type'], /^application\/json; charset=utf-8$/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  const e = await api.get('/api/v1/auth/me');
  assert.match(e.headers['content-type'], /^application\/json/);
  assert.equal(e.headers['x-content-type-options'], 'nosniff');
});
