// The event stream's credentials and what ends them, black box:
//   - a cross-origin script tag that carries only the cookie reads nothing
//     and changes nothing (no receipt, no presence);
//   - ?access_token= takes a stream token (POST /auth/stream-token), never
//     the session token; a stream token reads only GET /events, lives
//     PARLEY_STREAM_TOKEN_TTL seconds and dies with its session;
//   - a cookie poll needs X-CSRF-Token, GET or not (it acknowledges);
//   - a JSONP reply with U+2028/U+2029 in it is an ES5 program;
//   - revoking a session or logging out answers its parked polls 401 at
//     once, and nothing sent afterwards reaches them.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const vm = require('node:vm');
const acorn = require('acorn');
const { api, register, befriend, assertError, stack, stackAsync } = require('../lib.js');
const { sendText, head } = require('../chat.js');

const STREAM_TOKEN = /^st_[A-Za-z0-9_-]{43}$/;

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

async function login(u) {
  const r = await api.post('/api/v1/auth/login', { json: { username: u.user.username, password: u.password } });
  assert.equal(r.status, 200, r.text);
  return { user: r.json.user, token: r.json.token, csrf: r.json.csrf_token, session: r.json.session_id, password: u.password };
}

async function streamToken(u, opts = { token: u.token }) {
  const r = await api.post('/api/v1/auth/stream-token', opts);
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.stream_token, STREAM_TOKEN);
  return r.json.stream_token;
}

// The one argument a JSONP body passes to its callback, run as a browser
// would run the script.
function runJsonp(body, name) {
  const calls = [];
  const sandbox = { [name]: (...a) => calls.push(a) };
  vm.runInNewContext(body, sandbox, { timeout: 1000 });
  assert.equal(calls.length, 1, 'the callback runs once');
  return JSON.parse(JSON.stringify(calls[0][0]));
}

function jsonp(res, name = 'cb') {
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^application\/javascript/);
  return runJsonp(res.text, name);
}

function sessionRow(id) {
  const [acked, polled] = psql(`SELECT acked_seq, last_poll_at IS NOT NULL FROM sessions WHERE id = ${id}`).split('|');
  return { acked: Number(acked), polled: polled === 't' };
}

// --- item: the cookie never authenticates JSONP --------------------------------

test('a cross-origin script tag with only the cookie reads nothing and writes no receipt or presence', async () => {
  const victim = await register('sv');
  const stranger = await register('ss');
  const friend = await register('sf');
  await befriend(victim, friend);
  const req = await api.post('/api/v1/friends/requests', {
    token: stranger.token, json: { user_id: victim.user.id, memo: 'private memo 7f3a' },
  });
  assert.equal(req.status, 201, req.text);
  const before = sessionRow(victim.session);
  assert.equal(before.polled, false, 'the victim has not polled yet');
  const friendHead = await head(friend);

  // What <script src=".../api/v1/events?since=0&timeout=0&callback=steal">
  // sends from another origin: the cookie (old browsers ignore SameSite),
  // no header, no token in the URL.
  for (const q of ['since=0&timeout=0&callback=steal', 'since=1&timeout=0&callback=steal', 'callback=steal']) {
    const r = await api.get(`/api/v1/events?${q}`, { headers: { Cookie: `parley_session=${victim.token}` } });
    assert.doesNotMatch(r.text, /private memo|friend\.request/, r.text);
    const got = jsonp(r, 'steal');
    assert.equal(got.status, 401, r.text);
    assert.equal(got.error.code, 'unauthorized');
  }
  // The csrf cookie alongside changes nothing either (a page can forge
  // neither, but a script tag sends both).
  const both = await api.get('/api/v1/events?since=1&timeout=0&callback=steal', {
    headers: { Cookie: `parley_session=${victim.token}; parley_csrf=${victim.csrf}` },
  });
  assert.equal(jsonp(both, 'steal').status, 401);
  assert.deepEqual(sessionRow(victim.session), before, 'no receipt and no poll time were written');
  // Not marked online: the friend got no presence event.
  const fr = await api.get(`/api/v1/events?since=${friendHead}&timeout=0`, { token: friend.token });
  assert.equal(fr.status, 200, fr.text);
  assert.deepEqual(fr.json.events.filter((e) => e.type === 'presence'), []);

  // An <img> or a script tag without callback= gets nothing to read, and
  // must not acknowledge either: a cookie poll needs X-CSRF-Token.
  const img = await api.get('/api/v1/events?since=1&timeout=0', { headers: { Cookie: `parley_session=${victim.token}` } });
  assertError(assert, img, 403, 'csrf_failed');
  assert.deepEqual(sessionRow(victim.session), before);

  // The victim's own page (same origin, reads the csrf cookie) polls fine.
  const own = await api.get('/api/v1/events?since=0&timeout=0', {
    headers: { Cookie: `parley_session=${victim.token}`, 'X-CSRF-Token': victim.csrf },
  });
  assert.equal(own.status, 200, own.text);
  assert.ok(own.json.events.some((e) => e.type === 'friend.request' && e.data.request.memo === 'private memo 7f3a'));
});

test('access_token takes a stream token only; the session token there is refused (JSON and JSONP)', async () => {
  const u = await register('sq');
  for (const cb of ['', '&callback=cb']) {
    const r = await api.get(`/api/v1/events?since=0&timeout=0${cb}&access_token=${u.token}`);
    const body = cb ? jsonp(r) : (assert.equal(r.status, 401, r.text), r.json);
    assert.equal(body.error.code, 'invalid_token', r.text);
    assert.match(body.error.message, /stream token/);
  }
  const before = sessionRow(u.session);
  assert.equal(before.polled, false, 'refused polls wrote nothing');
  // Garbage shaped like a stream token: unknown.
  const fake = await api.get(`/api/v1/events?since=0&timeout=0&callback=cb&access_token=st_${'A'.repeat(43)}`);
  assert.equal(jsonp(fake).error.code, 'invalid_token');
  // An access_token wins over the cookie (it is the explicit one).
  const st = await streamToken(u);
  const r = await api.get(`/api/v1/events?since=0&timeout=0&callback=cb&access_token=${st}`, {
    headers: { Cookie: 'parley_session=garbage' },
  });
  assert.deepEqual(Object.keys(jsonp(r)).sort(), ['events', 'next']);
});

// --- the stream token -------------------------------------------------------------

test('POST /auth/stream-token: bearer or cookie + CSRF; the token reads /events only, JSON or JSONP, and acknowledges', async () => {
  const [a, b] = await Promise.all([register('sa'), register('sb')]);
  await befriend(a, b);
  assertError(assert, await api.post('/api/v1/auth/stream-token'), 401, 'unauthorized');
  assertError(assert, await api.post('/api/v1/auth/stream-token', { headers: { Cookie: `parley_session=${b.token}` } }),
    403, 'csrf_failed');
  const byCookie = await api.post('/api/v1/auth/stream-token', {
    headers: { Cookie: `parley_session=${b.token}`, 'X-CSRF-Token': b.csrf },
  });
  assert.equal(byCookie.status, 201, byCookie.text);
  assert.match(byCookie.json.stream_token, STREAM_TOKEN);
  assert.equal(byCookie.json.expires_in, Number(process.env.PARLEY_STREAM_TOKEN_TTL || 600));
  const st = await streamToken(b);
  assert.notEqual(st, byCookie.json.stream_token);

  // Stored hashed, bound to the session that minted it.
  assert.equal(psql(`SELECT count(*) FROM stream_tokens WHERE session_id = ${b.session}`), '2');
  assert.equal(psql(`SELECT count(*) FROM stream_tokens WHERE session_id = ${b.session} AND length(token_hash) = 32` +
    ` AND expires_at BETWEEN now() + interval '30 seconds' AND now() + interval '1 day'`), '2');

  // Read-only: no other route takes it, in the header or the query, and
  // it cannot mint another.
  for (const [method, path] of [['GET', '/api/v1/auth/me'], ['GET', '/api/v1/conversations'],
    ['POST', '/api/v1/auth/stream-token'], ['POST', '/api/v1/auth/logout'], ['GET', '/api/v1/friends']]) {
    const r = await api.request(method, path, { token: st });
    assertError(assert, r, 401, 'unauthorized');
  }
  assertError(assert, await api.get(`/api/v1/auth/me?access_token=${st}`), 401, 'unauthorized');
  assertError(assert, await api.get('/api/v1/auth/me', { headers: { Cookie: `parley_session=${st}` } }), 401, 'unauthorized');
  // Nor is it a cookie for the stream.
  assertError(assert, await api.get('/api/v1/events', { headers: { Cookie: `parley_session=${st}`, 'X-CSRF-Token': b.csrf } }),
    401, 'unauthorized');

  // On /events: JSON by query or header, JSONP by query; it acknowledges
  // `since` for its session (delivery receipts for the sender).
  const h = await head(b);
  const m = await sendText(a, b, 'read me by stream token');
  const aHead = await head(a);
  const viaHeader = await api.get(`/api/v1/events?since=${h}&timeout=0`, { token: st });
  assert.equal(viaHeader.status, 200, viaHeader.text);
  const viaQuery = await api.get(`/api/v1/events?since=${h}&timeout=0&access_token=${st}`);
  assert.deepEqual(viaQuery.json, viaHeader.json);
  const viaJsonp = jsonp(await api.get(`/api/v1/events?since=${h}&timeout=0&callback=cb&access_token=${st}`));
  assert.deepEqual(viaJsonp, viaHeader.json);
  assert.deepEqual(viaJsonp.events.find((e) => e.type === 'message').data.message, m);
  const next = viaJsonp.next;
  jsonp(await api.get(`/api/v1/events?since=${next}&timeout=0&callback=cb&access_token=${st}`));
  assert.equal(sessionRow(b.session).acked, next, 'acknowledged for the session');
  const receipts = await api.get(`/api/v1/events?since=${aHead}&timeout=0`, { token: a.token });
  assert.ok(receipts.json.events.some((e) => e.type === 'message.delivered' && e.data.user_id === b.user.id),
    receipts.text);
});

test('a stream token expires, and dies with its session (revoked or logged out)', async () => {
  const u = await register('se');
  const other = await login(u);
  const [st1, st2, st3] = [await streamToken(u), await streamToken(u), await streamToken(other)];
  const ok = (st) => api.get(`/api/v1/events?timeout=0&callback=cb&access_token=${st}`).then((r) => jsonp(r));
  for (const st of [st1, st2, st3]) assert.equal(typeof (await ok(st)).next, 'number');

  psql(`UPDATE stream_tokens SET expires_at = now() - interval '1 second' WHERE session_id = ${u.session}` +
    ` AND created_at = (SELECT min(created_at) FROM stream_tokens WHERE session_id = ${u.session})`);
  const expired = [await ok(st1), await ok(st2)].filter((x) => x.status === 401);
  assert.equal(expired.length, 1, 'exactly the expired one is refused');
  assert.equal(expired[0].error.code, 'invalid_token');

  // Revoke u's first session from the other one: its tokens stop at once.
  const live = (await ok(st1)).status === 401 ? st2 : st1;
  assert.equal((await api.del(`/api/v1/auth/sessions/${u.session}`, { token: other.token })).status, 204);
  assert.equal((await ok(live)).error.code, 'invalid_token');
  assertError(assert, await api.get(`/api/v1/events?timeout=0&access_token=${live}`), 401, 'invalid_token');
  // Logging out kills the other session's token too.
  assert.equal((await ok(st3)).next >= 0, true);
  assert.equal((await api.post('/api/v1/auth/logout', { token: other.token })).status, 204);
  assert.equal((await ok(st3)).error.code, 'invalid_token');
});

// --- U+2028 / U+2029 -------------------------------------------------------------

test('JSONP with U+2028/U+2029 in a stranger\'s memo parses as ES5 and passes the memo unchanged', async () => {
  const victim = await register('sl');
  const stranger = await register('sm');
  const memo = 'line\u2028break\u2029para \u2028';
  const r = await api.post('/api/v1/friends/requests', { token: stranger.token, json: { user_id: victim.user.id, memo } });
  assert.equal(r.status, 201, r.text);
  const st = await streamToken(victim);
  const res = await api.get(`/api/v1/events?since=0&timeout=0&callback=parley.cb1&access_token=${st}`);
  assert.equal(res.status, 200, res.text);
  assert.ok(!/[\u2028\u2029]/.test(res.text), 'no raw U+2028/U+2029 in the script');
  assert.ok(res.text.includes('\\u2028') && res.text.includes('\\u2029'), res.text);
  // What an ES5 engine (IE8-10, old Safari and Android) accepts.
  acorn.parse(res.text, { ecmaVersion: 5, sourceType: 'script' });
  const calls = [];
  vm.runInNewContext(res.text, { parley: { cb1: (x) => calls.push(x) } }, { timeout: 1000 });
  assert.equal(calls.length, 1);
  const ev = calls[0].events.find((e) => e.type === 'friend.request');
  assert.equal(ev.data.request.memo, memo);
  // Plain JSON keeps the characters as they are (JSON.parse takes them).
  const plain = await api.get('/api/v1/events?since=0&timeout=0', { token: victim.token });
  assert.equal(plain.json.events.find((e) => e.type === 'friend.request').data.request.memo, memo);
});

// --- revocation ends parked polls ------------------------------------------------

// Parks a poll for `u` from cursor `since`; resolves {res, ms} when it
// answers, ms counted from `mark()`.
function parkPoll(query, opts) {
  let t0 = 0;
  const p = api.get(`/api/v1/events?${query}`, Object.assign({ timeout: 40000 }, opts)).then((res) => ({ res, ms: Date.now() - t0 }));
  return { done: p, mark: () => { t0 = Date.now(); } };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const how of ['revoke', 'logout']) {
  test(`${how}: parked polls of the session answer 401 at once; a later message never reaches them`, async () => {
    const [a, b0] = await Promise.all([register('ra'), register('rb')]);
    await befriend(a, b0);
    const b = await login(b0);          // the session that goes
    const keep = b0;                    // b's other session stays
    const st = await streamToken(b);
    const since = await head(b);
    const polls = [
      parkPoll(`since=${since}&timeout=20`, { token: b.token }),
      parkPoll(`since=${since}&timeout=20&callback=cb&access_token=${st}`),
    ];
    const kept = parkPoll(`since=${since}&timeout=20`, { token: keep.token });
    await sleep(500);                   // all three are parked
    for (const p of polls) p.mark();
    const r = how === 'revoke'
      ? await api.del(`/api/v1/auth/sessions/${b.session}`, { token: keep.token })
      : await api.post('/api/v1/auth/logout', { token: b.token });
    assert.equal(r.status, 204, r.text);
    // Nothing else happens to b's stream: only the revocation can end
    // these polls before their 20 s.
    const [plain, script] = await Promise.all(polls.map((p) => p.done));
    assertError(assert, plain.res, 401, 'invalid_token');
    assert.equal(jsonp(script.res).error.code, 'invalid_token');
    for (const p of [plain, script]) assert.ok(p.ms < 3000, `answered ${p.ms} ms after the ${how}`);
    const m = await sendText(a, b, `after the ${how}`);
    // The other session is untouched and gets the message.
    const k = await kept.done;
    assert.equal(k.res.status, 200, k.res.text);
    assert.deepEqual(k.res.json.events.find((e) => e.type === 'message').data.message, m);
    // And a new poll of the dead session is refused.
    assertError(assert, await api.get(`/api/v1/events?since=${since}&timeout=0`, { token: b.token }), 401, 'invalid_token');
  });
}

test('a session that ends without a hint (expiry) still gets no event: the poll checks it before answering', async () => {
  const [a, b] = await Promise.all([register('xa'), register('xb')]);
  await befriend(a, b);
  const since = await head(b);
  const p = parkPoll(`since=${since}&timeout=20`, { token: b.token });
  await sleep(500);
  // Expiry sends no hint; the message's hint wakes the poll, which must
  // see the session is over rather than deliver.
  await stackAsync('psql', '-qAtX', '-c', `UPDATE sessions SET expires_at = now() WHERE id = ${b.session}`);
  await sendText(a, b, 'to an expired session');
  const { res } = await p.done;
  assertError(assert, res, 401, 'invalid_token');
  assert.ok(!res.text.includes('to an expired session'));
});
