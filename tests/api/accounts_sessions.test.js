// Sessions (devices): listed, one current, revoked by id (another user's is
// unknown); cookie auth with its CSRF token. Helpers in tests/accounts.js.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, assertError } = require('../lib.js');
const { PASSWORD, login, setCookies, me } = require('../accounts.js');

// --- sessions ---------------------------------------------------------------

async function sessions(token) {
  const r = await api.get('/api/v1/auth/sessions', { token });
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json.sessions));
  return r.json.sessions;
}

test('sessions lists each device, exactly one is current, and one can be revoked', async () => {
  const a = await register('dev');
  const phone = await login(a.user.username, PASSWORD, { headers: { 'User-Agent': 'ParleyPhone/1.0' } });
  const laptop = await login(a.user.username, PASSWORD, { headers: { 'User-Agent': 'ParleyLaptop/2.0' } });
  assert.equal(phone.status, 200);
  assert.equal(laptop.status, 200);

  const list = await sessions(laptop.json.token);
  assert.ok(list.length >= 3, 'register + two logins: ' + JSON.stringify(list));
  assert.equal(list.filter((s) => s.current === true).length, 1);
  const cur = list.find((s) => s.current);
  assert.equal(cur.user_agent, 'ParleyLaptop/2.0');
  for (const s of list) {
    assert.ok(Number.isSafeInteger(s.id) && s.id > 0);
    for (const k of ['created_at', 'last_seen_at', 'expires_at'])
      assert.match(s[k], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, k);
    assert.equal(typeof s.ip, 'string');
  }
  const phoneSession = list.find((s) => s.user_agent === 'ParleyPhone/1.0');
  assert.ok(phoneSession, 'the phone is listed');
  assert.equal(phoneSession.current, false);
  // Seen from the phone, the phone's session is the current one.
  const fromPhone = await sessions(phone.json.token);
  assert.equal(fromPhone.find((s) => s.current).id, phoneSession.id);

  const del = await api.del(`/api/v1/auth/sessions/${phoneSession.id}`, { token: laptop.json.token });
  assert.equal(del.status, 204, del.text);
  assertError(assert, await me(phone.json.token), 401, 'invalid_token');
  assert.equal((await me(laptop.json.token)).status, 200);
  assert.equal((await me(a.token)).status, 200);
  const after = await sessions(laptop.json.token);
  assert.ok(!after.some((s) => s.id === phoneSession.id), 'revoked session is no longer listed');
  assert.equal(after.length, list.length - 1);

  // Revoking it again: no such active session.
  const again = await api.del(`/api/v1/auth/sessions/${phoneSession.id}`, { token: laptop.json.token });
  assertError(assert, again, 404, 'not_found');
});

test("another user's session id is unknown (404) and stays valid", async () => {
  const a = await register('own');
  const b = await register('thief');
  const aSession = (await sessions(a.token)).find((s) => s.current);
  const r = await api.del(`/api/v1/auth/sessions/${aSession.id}`, { token: b.token });
  assertError(assert, r, 404, 'not_found');
  assert.equal((await me(a.token)).status, 200, "a's session survives");
  assert.equal((await me(b.token)).status, 200);
});

test('revoking a session needs a positive integer id and a token', async () => {
  const a = await register('badid');
  for (const id of ['abc', '0', '-1', '1.5', '01', '99999999999999999999', '1e3']) {
    const r = await api.del(`/api/v1/auth/sessions/${id}`, { token: a.token });
    assertError(assert, r, 400, 'invalid_id');
  }
  assertError(assert, await api.del('/api/v1/auth/sessions/999999999999', { token: a.token }), 404, 'not_found');
  assertError(assert, await api.del('/api/v1/auth/sessions/1'), 401, 'unauthorized');
  assertError(assert, await api.get('/api/v1/auth/sessions'), 401, 'unauthorized');
  assert.equal((await me(a.token)).status, 200);
});

test('revoking the current session works like logout', async () => {
  const a = await register('self');
  const second = await login(a.user.username, PASSWORD);
  const cur = (await sessions(second.json.token)).find((s) => s.current);
  const r = await api.del(`/api/v1/auth/sessions/${cur.id}`, { token: second.json.token });
  assert.equal(r.status, 204, r.text);
  assertError(assert, await me(second.json.token), 401, 'invalid_token');
  assert.equal((await me(a.token)).status, 200);
});

// --- cookie auth and CSRF ---------------------------------------------------

test('login sets an HttpOnly SameSite session cookie and a readable csrf cookie', async () => {
  const a = await register('cook');
  const r = await login(a.user.username, PASSWORD);
  assert.equal(r.status, 200);
  const cookies = setCookies(r);
  const session = cookies.find((c) => c.startsWith('parley_session='));
  assert.ok(session, 'parley_session cookie: ' + cookies);
  assert.equal(session.split(';')[0], 'parley_session=' + r.json.token);
  assert.match(session, /;\s*HttpOnly/i);
  assert.match(session, /;\s*SameSite=(Lax|Strict)/i);
  assert.match(session, /;\s*Path=\/api\//);
  const csrf = cookies.find((c) => c.startsWith('parley_csrf='));
  assert.ok(csrf, 'parley_csrf cookie: ' + cookies);
  assert.equal(csrf.split(';')[0], 'parley_csrf=' + r.json.csrf_token);
  assert.doesNotMatch(csrf, /HttpOnly/i, 'scripts must be able to read the csrf cookie');
});

test('cookie auth works for GET and needs X-CSRF-Token for POST', async () => {
  const a = await register('csrf');
  const r = await login(a.user.username, PASSWORD);
  const cookie = `parley_session=${r.json.token}`;

  const m = await api.get('/api/v1/auth/me', { headers: { Cookie: cookie } });
  assert.equal(m.status, 200, m.text);
  assert.equal(m.json.user.id, a.user.id);
  // Other cookies around it do not matter.
  const m2 = await api.get('/api/v1/auth/me', { headers: { Cookie: `theme=dark; ${cookie}; parley_csrf=${r.json.csrf_token}` } });
  assert.equal(m2.status, 200, m2.text);

  const noCsrf = await api.post('/api/v1/auth/logout', { headers: { Cookie: cookie } });
  assertError(assert, noCsrf, 403, 'csrf_failed');
  const wrong = await api.post('/api/v1/auth/logout', { headers: { Cookie: cookie, 'X-CSRF-Token': a.csrf } });
  assertError(assert, wrong, 403, 'csrf_failed');
  const garbage = await api.post('/api/v1/auth/logout', { headers: { Cookie: cookie, 'X-CSRF-Token': 'x' } });
  assertError(assert, garbage, 403, 'csrf_failed');
  // The token itself is not the CSRF value.
  const tokenAsCsrf = await api.post('/api/v1/auth/logout', { headers: { Cookie: cookie, 'X-CSRF-Token': r.json.token } });
  assertError(assert, tokenAsCsrf, 403, 'csrf_failed');
  // A refused DELETE leaves the sessions alone too.
  const regSession = (await sessions(a.token)).find((s) => s.current);
  const delNoCsrf = await api.del(`/api/v1/auth/sessions/${regSession.id}`, { headers: { Cookie: cookie } });
  assertError(assert, delNoCsrf, 403, 'csrf_failed');
  assert.equal((await me(a.token)).status, 200);
  // Nothing was logged out by the refused requests.
  assert.equal((await api.get('/api/v1/auth/me', { headers: { Cookie: cookie } })).status, 200);

  const ok = await api.post('/api/v1/auth/logout', { headers: { Cookie: cookie, 'X-CSRF-Token': r.json.csrf_token } });
  assert.equal(ok.status, 204, ok.text);
  assertError(assert, await api.get('/api/v1/auth/me', { headers: { Cookie: cookie } }), 401, 'invalid_token');
  assertError(assert, await me(r.json.token), 401, 'invalid_token');
  assert.equal((await me(a.token)).status, 200, 'the other session is still alive');
});

test('a bearer token needs no CSRF header, and the header wins over the cookie', async () => {
  const a = await register('hdr');
  const b = await register('hdr');
  // Bearer POST without X-CSRF-Token is fine (not a browser ambient credential).
  const second = await login(a.user.username, PASSWORD);
  const out = await api.post('/api/v1/auth/logout', { token: second.json.token });
  assert.equal(out.status, 204, out.text);
  // Both present: the Authorization header decides who is asking.
  const r = await api.get('/api/v1/auth/me', { token: b.token, headers: { Cookie: `parley_session=${a.token}` } });
  assert.equal(r.status, 200);
  assert.equal(r.json.user.id, b.user.id);
});
