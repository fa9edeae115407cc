// Accounts routes through nginx: register, logout, me and user search. Login
// and its throttling are in accounts_login.test.js, sessions (devices) and
// cookie auth with CSRF in accounts_sessions.test.js; helpers in
// tests/accounts.js.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { api, register, uniqueName, assertError } = require('../lib.js');
const { PASSWORD, TOKEN_RE, login, registerRaw, hexName, setCookies, me } = require('../accounts.js');

// --- register ---------------------------------------------------------------

test('register returns the user, a working token, csrf token and expiry', async () => {
  const username = uniqueName('reg');
  const r = await registerRaw({ username, password: PASSWORD });
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers['content-type'], /application\/json/);
  assert.deepEqual(Object.keys(r.json).sort(), ['csrf_token', 'expires_in', 'session_id', 'token', 'user']);
  assert.deepEqual(Object.keys(r.json.user).sort(), ['display_name', 'id', 'username']);
  assert.ok(Number.isSafeInteger(r.json.user.id) && r.json.user.id > 0, 'id is a positive integer');
  assert.equal(r.json.user.username, username);
  assert.equal(r.json.user.display_name, username, 'display_name defaults to the username');
  assert.match(r.json.token, TOKEN_RE);
  assert.match(r.json.csrf_token, TOKEN_RE);
  assert.notEqual(r.json.token, r.json.csrf_token);
  assert.ok(Number.isInteger(r.json.expires_in) && r.json.expires_in > 0);

  const m = await me(r.json.token);
  assert.equal(m.status, 200, m.text);
  assert.deepEqual(m.json.user, r.json.user);
});

test('register case-folds the username and keeps a Unicode display_name', async () => {
  const username = hexName('MiXeD_').replace(/[a-f]/g, (c) => c.toUpperCase());
  const r = await registerRaw({ username, password: PASSWORD, display_name: 'Zoë 李' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.user.username, username.toLowerCase());
  assert.equal(r.json.user.display_name, 'Zoë 李');

  const m = await me(r.json.token);
  assert.equal(m.json.user.display_name, 'Zoë 李');
  assert.equal(m.json.user.username, username.toLowerCase());

  // Login with any case of the name reaches the same account.
  const l = await login(username.toUpperCase(), PASSWORD);
  assert.equal(l.status, 200, l.text);
  assert.equal(l.json.user.id, r.json.user.id);
});

test('register accepts the boundary lengths (3 and 32, password of 8, display_name of 64)', async () => {
  const short = hexName('', 3);
  const r3 = await registerRaw({ username: short, password: '12345678' });
  // A 3-character hex name may already exist from an earlier run.
  assert.ok(r3.status === 201 || r3.status === 409, r3.text);
  const long = hexName('b', 31);
  assert.equal(long.length, 32);
  const r32 = await registerRaw({ username: long, password: '12345678', display_name: 'é'.repeat(64) });
  assert.equal(r32.status, 201, r32.text);
  assert.equal(r32.json.user.display_name, 'é'.repeat(64));
  const l = await login(long, '12345678');
  assert.equal(l.status, 200, l.text);
});

test('register refuses a taken username, also in another case', async () => {
  const a = await register('dup');
  const again = await registerRaw({ username: a.user.username, password: PASSWORD });
  assertError(assert, again, 409, 'username_taken');
  const upper = await registerRaw({ username: a.user.username.toUpperCase(), password: 'other password' });
  assertError(assert, upper, 409, 'username_taken');
  // The original account is untouched: its password still works.
  const l = await login(a.user.username, PASSWORD);
  assert.equal(l.status, 200, l.text);
  assert.equal(l.json.user.id, a.user.id);
});

test('register validates every field and names it in the message', async () => {
  const ok = () => uniqueName('val');
  const cases = [
    ['username too short', { username: 'ab', password: PASSWORD }, 'username'],
    ['username too long', { username: 'a'.repeat(33), password: PASSWORD }, 'username'],
    ['username with a space', { username: 'a b', password: PASSWORD }, 'username'],
    ['username with !', { username: 'ab!', password: PASSWORD }, 'username'],
    ['username not ASCII', { username: 'zoë' + hexName('', 4), password: PASSWORD }, 'username'],
    ['username as number', { username: 12345, password: PASSWORD }, 'username'],
    ['username empty', { username: '', password: PASSWORD }, 'username'],
    ['password too short', { username: ok(), password: '1234567' }, 'password'],
    ['password as array', { username: ok(), password: ['correct horse 1'] }, 'password'],
    ['password as number', { username: ok(), password: 12345678 }, 'password'],
    ['display_name 65 characters', { username: ok(), password: PASSWORD, display_name: 'x'.repeat(65) }, 'display_name'],
    ['display_name empty', { username: ok(), password: PASSWORD, display_name: '' }, 'display_name'],
    ['display_name with a control character', { username: ok(), password: PASSWORD, display_name: 'bell\u0007' }, 'display_name'],
    ['display_name with a newline', { username: ok(), password: PASSWORD, display_name: 'two\nlines' }, 'display_name'],
    ['display_name as object', { username: ok(), password: PASSWORD, display_name: { a: 1 } }, 'display_name'],
    ['missing username', { password: PASSWORD }, 'username'],
    ['missing password', { username: ok() }, 'password'],
    ['null password', { username: ok(), password: null }, 'password'],
    ['empty object', {}, 'username'],
  ];
  for (const [what, body, field] of cases) {
    const r = await registerRaw(body);
    assert.equal(r.status, 400, `${what}: expected 400, got ${r.status}: ${r.text}`);
    assertError(assert, r, 400);
    assert.ok(['invalid_field', 'missing_field'].includes(r.json.error.code), `${what}: ${r.text}`);
    assert.ok(r.json.error.message.includes(`'${field}'`),
      `${what}: message should name '${field}': ${r.json.error.message}`);
  }
  const missing = await registerRaw({ password: PASSWORD });
  assertError(assert, missing, 400, 'missing_field');
  // A refused registration creates nothing: the name is still free.
  const name = uniqueName('val');
  assertError(assert, await registerRaw({ username: name, password: 'short' }), 400, 'invalid_field');
  assertError(assert, await registerRaw({ username: name, password: PASSWORD, display_name: 'x'.repeat(65) }), 400, 'invalid_field');
  const later = await registerRaw({ username: name, password: PASSWORD });
  assert.equal(later.status, 201, later.text);
});

test('ten parallel registrations of one username: exactly one wins', async () => {
  const username = uniqueName('race');
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    registerRaw({ username, password: 'password number ' + i })));
  const created = results.filter((r) => r.status === 201);
  const taken = results.filter((r) => r.status === 409);
  assert.equal(created.length, 1, results.map((r) => r.status).join(','));
  assert.equal(taken.length, 9, results.map((r) => r.status).join(','));
  for (const r of taken) assertError(assert, r, 409, 'username_taken');
  // The winner's password is the one stored.
  const winner = results.indexOf(created[0]);
  const l = await login(username, 'password number ' + winner);
  assert.equal(l.status, 200, l.text);
  assert.equal(l.json.user.id, created[0].json.user.id);
});

// --- logout -----------------------------------------------------------------

test('logout revokes only the current session', async () => {
  const a = await register('out');
  const second = await login(a.user.username, PASSWORD);
  assert.equal(second.status, 200);
  const r = await api.post('/api/v1/auth/logout', { token: second.json.token });
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  const cleared = setCookies(r).find((c) => c.startsWith('parley_session='));
  assert.ok(cleared && /Max-Age=0/.test(cleared), 'logout clears the session cookie: ' + setCookies(r));
  const gone = await me(second.json.token);
  assertError(assert, gone, 401, 'invalid_token');
  assert.ok(gone.headers['www-authenticate'], 'WWW-Authenticate on 401');
  // The registration session is still alive.
  const still = await me(a.token);
  assert.equal(still.status, 200, still.text);
  // Logging out twice with the same token: the token is already invalid.
  assertError(assert, await api.post('/api/v1/auth/logout', { token: second.json.token }), 401, 'invalid_token');
  // And logging out needs a token at all.
  assertError(assert, await api.post('/api/v1/auth/logout'), 401, 'unauthorized');
});

// --- me ---------------------------------------------------------------------

test('me refuses missing, malformed and unknown tokens with 401 + WWW-Authenticate', async () => {
  const cases = [
    ['no token', {}, 'unauthorized'],
    ['Bearer garbage', { headers: { Authorization: 'Bearer garbage' } }, 'unauthorized'],
    ['Basic', { headers: { Authorization: 'Basic eHh4Onl5eQ==' } }, 'unauthorized'],
    ['empty Bearer', { headers: { Authorization: 'Bearer ' } }, 'unauthorized'],
    ['unknown 43-char token', { token: crypto.randomBytes(32).toString('base64url') }, 'invalid_token'],
    ['44-char token', { token: crypto.randomBytes(33).toString('base64url').slice(0, 44) }, 'unauthorized'],
  ];
  for (const [what, opts, code] of cases) {
    const r = await api.get('/api/v1/auth/me', opts);
    assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
    assertError(assert, r, 401, code);
    assert.match(r.headers['www-authenticate'] || '', /^Bearer/, `${what}: WWW-Authenticate`);
  }
});

test('me returns the token owner', async () => {
  const a = await register('me');
  const b = await register('me');
  const ra = await me(a.token);
  const rb = await me(b.token);
  assert.equal(ra.status, 200);
  assert.deepEqual(ra.json, { user: a.user, session_id: a.session });
  assert.deepEqual(rb.json, { user: b.user, session_id: b.session });
  assert.ok(Number.isInteger(a.session) && a.session !== b.session);
  assert.equal(ra.headers['cache-control'], 'no-store');
});

// --- user search ------------------------------------------------------------

test('user search finds by prefix, case-insensitively, without the caller', async () => {
  const prefix = hexName('s', 8);
  const made = [];
  for (let i = 0; i < 3; i++) made.push(await register(prefix));
  const outsider = await register(hexName('t', 8));
  const me0 = made[0];

  const r = await api.get(`/api/v1/users?q=${prefix}`, { token: me0.token });
  assert.equal(r.status, 200, r.text);
  const names = r.json.users.map((u) => u.username);
  assert.deepEqual(names, made.slice(1).map((u) => u.user.username).sort(), 'ordered by username, caller excluded');
  for (const u of r.json.users) assert.deepEqual(Object.keys(u).sort(), ['display_name', 'id', 'username']);
  assert.deepEqual(r.json.users.find((u) => u.id === made[1].user.id), made[1].user);

  const upper = await api.get(`/api/v1/users?q=${prefix.toUpperCase()}`, { token: me0.token });
  assert.equal(upper.status, 200);
  assert.deepEqual(upper.json.users, r.json.users);

  // The outsider sees all three.
  const all = await api.get(`/api/v1/users?q=${prefix}`, { token: outsider.token });
  assert.equal(all.json.users.length, 3);

  const one = await api.get(`/api/v1/users?q=${prefix}&limit=1`, { token: outsider.token });
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.users.length, 1);
  assert.equal(one.json.users[0].username, all.json.users[0].username);

  const full = await api.get(`/api/v1/users?q=${made[2].user.username}`, { token: me0.token });
  assert.deepEqual(full.json.users, [made[2].user], 'a whole name is a prefix of itself');

  const none = await api.get(`/api/v1/users?q=${hexName('zz', 12)}`, { token: me0.token });
  assert.equal(none.status, 200);
  assert.deepEqual(none.json.users, []);
});

test('user search validates q and limit and needs a token', async () => {
  const a = await register('srchv');
  const bad = [
    'q=', '', 'limit=5', `q=${'a'.repeat(33)}`, 'q=a%20b', 'q=ab!', 'q=%ZZ', 'q=%C3%A9',
    'q=a&limit=0', 'q=a&limit=51', 'q=a&limit=abc', 'q=a&limit=', 'q=a&limit=-1', 'q=a&limit=1.5',
  ];
  for (const qs of bad) {
    const r = await api.get('/api/v1/users' + (qs ? '?' + qs : ''), { token: a.token });
    assertError(assert, r, 400, 'invalid_parameter');
    const param = /limit=/.test(qs) && /^q=a&/.test(qs) ? 'limit' : 'q';
    assert.ok(r.json.error.message.includes(`'${param}'`), `${qs}: ${r.json.error.message}`);
  }
  for (const limit of [1, 50]) {
    const r = await api.get(`/api/v1/users?q=a&limit=${limit}`, { token: a.token });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.users.length <= limit);
  }
  const noAuth = await api.get('/api/v1/users?q=abc');
  assertError(assert, noAuth, 401, 'unauthorized');
  assert.ok(noAuth.headers['www-authenticate']);
});
