// Poll service, black box: GET /api/v1/events as clients use it. Long
// polls that wait and wake, cursors and their errors, JSONP, presence,
// friend events, a client hanging up mid-poll, and exactly-once in-order
// delivery while many senders write at the same time. Fresh users per test.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { api, register, befriend, assertError, stack, BASE } = require('../lib.js');
const { send, sendText, poll, head, drain, waitEvent, ofType } = require('../chat.js');

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Offline detection needs PARLEY_ONLINE_WINDOW seconds without a poll (60
// by default); scripts/test.sh starts the stack with 5.
const ONLINE_WINDOW = Number(process.env.PARLEY_ONLINE_WINDOW || 60);

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql);
}

async function friends2(p = 'p') {
  const [a, b] = await Promise.all([register(p + 'a'), register(p + 'b')]);
  await befriend(a, b);
  return [a, b];
}

// Runs a JSONP body the way a browser's <script> would: resolves the one
// argument the callback received. `name` may be dotted (ns.cb).
function runJsonp(body, name) {
  const calls = [];
  const sandbox = {};
  const parts = name.split('.');
  let o = sandbox;
  for (const p of parts.slice(0, -1)) o = o[p] = {};
  o[parts[parts.length - 1]] = (...args) => calls.push(args);
  vm.runInNewContext(body, sandbox, { timeout: 1000 });
  assert.equal(calls.length, 1, 'the callback is called exactly once');
  assert.equal(calls[0].length, 1, 'with one argument');
  // Through JSON, so it compares with a JSON.parse result.
  return JSON.parse(JSON.stringify(calls[0][0]));
}

function assertJsonp(res, name) {
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^application\/javascript/);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.ok(res.text.startsWith(`/**/${name}(`), res.text);
  assert.ok(res.text.endsWith(');'), res.text);
  return runJsonp(res.text, name);
}

// --- waiting and cursors ----------------------------------------------------------

test('a poll without a cursor answers at once with the head; with one it waits, then times out empty', async () => {
  const [a, b] = await friends2();
  const h = await head(b);
  assert.ok(h >= 2, 'friend.request and friend.accepted are on the stream');
  // Events after the cursor: at once, oldest first, `next` = the last seq.
  let r = await poll(b, { since: 0, timeout: 20 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.events.map((e) => e.seq), Array.from({ length: h }, (_, i) => i + 1));
  assert.equal(r.json.next, h);
  for (const e of r.json.events) {
    assert.deepEqual(Object.keys(e).sort(), ['created_at', 'data', 'seq', 'type']);
    assert.match(e.created_at, ISO);
  }
  assert.deepEqual(r.json.events.slice(0, 2).map((e) => e.type), ['friend.request', 'friend.accepted']);

  // Nothing new: a short poll answers empty at once...
  let t0 = Date.now();
  r = await poll(b, { since: h, timeout: 0 });
  assert.deepEqual(r.json, { events: [], next: h });
  assert.ok(Date.now() - t0 < 1000);
  // ...a long poll waits for its timeout, then answers the same.
  t0 = Date.now();
  r = await poll(b, { since: h, timeout: 1 });
  const took = Date.now() - t0;
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { events: [], next: h });
  assert.ok(took >= 900 && took < 4000, `timeout=1 answered after ${took} ms`);

  // limit pages through what is there.
  for (let i = 0; i < 5; i++) await sendText(a, b, 'n' + i);
  const seqs = [];
  let next = h;
  for (;;) {
    r = await poll(b, { since: next, timeout: 0, limit: 2 });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.events.length <= 2);
    if (r.json.events.length === 0) break;
    seqs.push(...r.json.events.map((e) => e.seq));
    next = r.json.next;
  }
  assert.deepEqual(seqs, [h + 1, h + 2, h + 3, h + 4, h + 5]);
  assert.equal(await head(b), h + 5);
});

test('a message wakes a waiting long poll; several waiting devices all wake', async () => {
  const [a, b] = await friends2();
  // A second device of b's.
  const login = await api.post('/api/v1/auth/login', { json: { username: b.user.username, password: b.password } });
  assert.equal(login.status, 200, login.text);
  const b2 = { user: b.user, token: login.json.token };
  const since = await head(b);

  const polls = [poll(b, { since, timeout: 20 }), poll(b2, { since, timeout: 20 }), poll(b, { since, timeout: 20 })];
  await sleep(300);
  const t0 = Date.now();
  const m = await sendText(a, b, 'wake up');
  const rs = await Promise.all(polls);
  const took = Date.now() - t0;
  assert.ok(took < 3000, `woken after ${took} ms`);
  for (const r of rs) {
    assert.equal(r.status, 200, r.text);
    const msg = r.json.events.find((e) => e.type === 'message');
    assert.ok(msg, r.text);
    assert.deepEqual(msg.data.message, m);
  }
});

test('cursor and parameter errors: 400 for malformed, 410 ahead of the head or below the floor', async () => {
  const [a, b] = await friends2();
  const h = await head(b);
  for (const q of ['since=-1', 'since=abc', 'since=', 'since=1.5', 'since=0x10', 'since=1e3',
    'since=99999999999999999999', 'limit=0', 'limit=501', 'limit=-3', 'limit=ten',
    'timeout=-1', 'timeout=100000', 'timeout=soon', 'since=0&timeout=']) {
    const r = await api.get('/api/v1/events?' + q, { token: b.token });
    assertError(assert, r, 400, 'invalid_parameter');
    assert.match(r.json.error.message, new RegExp(q.split('&').pop().split('=')[0]));
  }
  // Ahead of the head: 410 with where to continue.
  let r = await poll(b, { since: h + 1, timeout: 0 });
  assertError(assert, r, 410, 'cursor_expired');
  assert.equal(r.json.next, h);
  assert.equal(r.json.oldest, 0);
  // Below the retention floor (pruned events): 410 as well.
  await sendText(a, b, 'one');
  await sendText(a, b, 'two');
  psql(`UPDATE streams SET floor = ${h + 1} WHERE user_id = ${b.user.id}`);
  r = await poll(b, { since: h, timeout: 0 });
  assertError(assert, r, 410, 'cursor_expired');
  assert.deepEqual([r.json.oldest, r.json.next], [h + 1, h + 2]);
  // The floor itself is a valid cursor.
  r = await poll(b, { since: h + 1, timeout: 0 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.events.map((e) => e.seq), [h + 2]);
  // Without a session.
  assertError(assert, await api.get('/api/v1/events?since=0'), 401);
  assertError(assert, await api.get('/api/v1/events', { token: 'x'.repeat(43) }), 401);
  assertError(assert, await api.post('/api/v1/events', { token: b.token, json: {} }), 405);
});

// --- JSONP ------------------------------------------------------------------------

test('JSONP: the same JSON passed to the callback; a stream token may be in the query', async () => {
  const [a, b] = await friends2();
  await sendText(a, b, 'for the browser </script><script>alert(1)</script>');
  const plain = await poll(b, { since: 0, timeout: 0 });
  assert.equal(plain.status, 200);

  for (const cb of ['cb', 'parley.cb1', '$_x.y$.z_9']) {
    const r = await api.get(`/api/v1/events?since=0&timeout=0&callback=${cb}`, { token: b.token });
    assert.deepEqual(assertJsonp(r, cb), plain.json);
  }
  // A stream token in the query instead of a header (script tags cannot
  // set one); tests/api/stream.test.js has the rest of its rules.
  const st = await api.post('/api/v1/auth/stream-token', { token: b.token });
  assert.equal(st.status, 201, st.text);
  const viaQuery = await api.get(`/api/v1/events?since=0&timeout=0&callback=cb&access_token=${st.json.stream_token}`);
  assert.deepEqual(assertJsonp(viaQuery, 'cb'), plain.json);
  // Only the event stream takes a token from the query.
  assertError(assert, await api.get(`/api/v1/conversations?access_token=${st.json.stream_token}`), 401);

  // A JSONP long poll that a message wakes, and one that times out.
  const since = plain.json.next;
  const waiting = api.get(`/api/v1/events?since=${since}&timeout=20&callback=wake.up&access_token=${st.json.stream_token}`);
  await sleep(300);
  const m = await sendText(a, b, 'ping');
  const woke = assertJsonp(await waiting, 'wake.up');
  assert.deepEqual(woke.events.find((e) => e.type === 'message').data.message, m);
  const empty = await api.get(`/api/v1/events?since=${woke.next}&timeout=1&callback=cb`, { token: b.token });
  assert.deepEqual(assertJsonp(empty, 'cb'), { events: [], next: woke.next });

  // A token in the query must not end up in the access logs (needs them).
  const logs = process.env.PARLEY_VAR && path.join(process.env.PARLEY_VAR, 'log');
  for (const f of ['nginx-access.log', 'poll.log']) {
    if (!logs || !fs.existsSync(path.join(logs, f))) continue;
    const text = fs.readFileSync(path.join(logs, f), 'utf8');
    assert.ok(!text.includes(b.token), `${f} holds the access token`);
    assert.ok(!text.includes(st.json.stream_token), `${f} holds the stream token`);
  }
});

test('JSONP errors: 200 with {error, status} inside; a bad callback name is a plain 400', async () => {
  const [, b] = await friends2();
  const h = await head(b);
  const cases = [
    [`since=-1&callback=cb`, b.token, 400, 'invalid_parameter'],
    [`since=0&limit=0&callback=cb`, b.token, 400, 'invalid_parameter'],
    [`since=0&callback=cb`, null, 401, 'unauthorized'],
    [`since=0&callback=cb&access_token=${'A'.repeat(43)}`, null, 401, 'invalid_token'],
    [`since=${h + 5}&callback=cb`, b.token, 410, 'cursor_expired'],
  ];
  for (const [q, token, status, code] of cases) {
    const r = await api.get('/api/v1/events?' + q, token ? { token } : {});
    const got = assertJsonp(r, 'cb');
    assert.equal(got.status, status, `${q}: ${r.text}`);
    assert.equal(got.error.code, code, r.text);
    assert.equal(typeof got.error.message, 'string');
  }
  for (const cb of ['1abc', 'a-b', 'a.', '.a', 'a..b', 'alert(1)', 'a%3Bb', 'x'.repeat(80), '', 'a%00b', 'é']) {
    const r = await api.get(`/api/v1/events?since=0&callback=${cb}`, { token: b.token });
    assertError(assert, r, 400, 'invalid_callback');
  }
  // The callback is checked before the session: no token, still 400.
  assertError(assert, await api.get('/api/v1/events?callback=a(b)'), 400, 'invalid_callback');
});

// --- presence and friend events --------------------------------------------------

test('presence: polling makes a user online for friends (and offline after the window)', async (t) => {
  const [a, b] = await friends2();
  const ha = await head(a); // a polls: a is online now
  const friendsOf = async (u) => (await api.get('/api/v1/friends', { token: u.token })).json.friends;
  assert.equal((await friendsOf(b))[0].online, true);
  assert.equal((await friendsOf(a))[0].online, false, 'b has not polled yet');

  await poll(b, { timeout: 0 });
  const on = await waitEvent(a, ha, ofType('presence', (d) => d.user_id === b.user.id));
  assert.deepEqual(on.event.data, { user_id: b.user.id, online: true });
  assert.equal((await friendsOf(a))[0].online, true);
  assert.equal((await friendsOf(a))[0].id, b.user.id);
  // Polling again while online tells nobody anything new.
  await poll(b, { timeout: 0 });
  await poll(b, { since: 0, timeout: 0 });
  const quiet = await drain(a, on.next);
  assert.deepEqual(quiet.events.filter((e) => e.type === 'presence' && e.data.user_id === b.user.id), []);

  if (ONLINE_WINDOW > 10) {
    t.diagnostic(`offline detection not tested: PARLEY_ONLINE_WINDOW=${ONLINE_WINDOW} (needs <= 10)`);
    return;
  }
  // b keeps polling (short polls, every second) for longer than the
  // window: b stays online.
  let next = quiet.next;
  const end = Date.now() + (ONLINE_WINDOW + 3) * 1000;
  let bNext = await head(b);
  while (Date.now() < end) {
    const r = await poll(b, { since: bNext, timeout: 1 });
    assert.equal(r.status, 200, r.text);
    bNext = r.json.next;
  }
  const still = await drain(a, next);
  assert.deepEqual(still.events.filter((e) => e.type === 'presence' && e.data.user_id === b.user.id), [],
    'b polled all the time and must not have gone offline');
  assert.equal((await friendsOf(a))[0].online, true);
  next = still.next;

  // b stops: within the window (plus the sweep tick) a is told.
  const t0 = Date.now();
  const off = await waitEvent(a, next, ofType('presence', (d) => d.user_id === b.user.id), (ONLINE_WINDOW + 8) * 1000);
  assert.deepEqual(off.event.data, { user_id: b.user.id, online: false });
  assert.ok(Date.now() - t0 >= (ONLINE_WINDOW - 3) * 1000, 'not before the window passed');
  assert.equal((await friendsOf(a))[0].online, false);
  // b's next poll brings b back online.
  await poll(b, { since: bNext, timeout: 0 });
  const back = await waitEvent(a, off.next, ofType('presence', (d) => d.user_id === b.user.id));
  assert.deepEqual(back.event.data, { user_id: b.user.id, online: true });
  assert.equal((await friendsOf(a))[0].online, true);
});

test('presence: logging out of the last session takes a user offline at once', async () => {
  const [a, b] = await friends2();
  // b on two devices, both polling.
  const login = await api.post('/api/v1/auth/login', { json: { username: b.user.username, password: b.password } });
  assert.equal(login.status, 200, login.text);
  const b2 = { user: b.user, token: login.json.token };
  const ha = await head(a);
  await poll(b, { timeout: 0 });
  await poll(b2, { timeout: 0 });
  const on = await waitEvent(a, ha, ofType('presence', (d) => d.user_id === b.user.id));
  assert.equal(on.event.data.online, true);

  // One device logs out: b is still online on the other.
  assert.equal((await api.post('/api/v1/auth/logout', { token: b.token })).status, 204);
  await sleep(2500); // more than a sweep tick
  assert.deepEqual((await drain(a, on.next)).events.filter((e) => e.type === 'presence'), []);
  // The last one logs out: offline within a sweep (2 s), whatever the window.
  const t0 = Date.now();
  assert.equal((await api.post('/api/v1/auth/logout', { token: b2.token })).status, 204);
  const off = await waitEvent(a, on.next, ofType('presence', (d) => d.user_id === b.user.id), 6000);
  assert.deepEqual(off.event.data, { user_id: b.user.id, online: false });
  assert.ok(Date.now() - t0 < 5000);
  const fr = await api.get('/api/v1/friends', { token: a.token });
  assert.equal(fr.json.friends[0].online, false);
});

test('friend events: request and acceptance on both streams, removal, silent requests', async () => {
  const [a, b, c] = await Promise.all([register('fa'), register('fb'), register('fc')]);
  const [ha, hb, hc] = await Promise.all([a, b, c].map(head));
  const userOf = (u) => ({ id: u.user.id, username: u.user.username, display_name: u.user.display_name });

  const q = await api.post('/api/v1/friends/requests', { token: a.token, json: { user_id: b.user.id, memo: 'hi' } });
  assert.equal(q.status, 201, q.text);
  const ra = await waitEvent(a, ha, ofType('friend.request'));
  const rb = await waitEvent(b, hb, ofType('friend.request'));
  assert.deepEqual(ra.event.data, rb.event.data);
  assert.equal(rb.event.data.request.id, q.json.request.id);
  assert.equal(rb.event.data.request.memo, 'hi');
  assert.equal(rb.event.data.request.state, 'pending');
  assert.deepEqual(rb.event.data.from_user, userOf(a));
  assert.deepEqual(rb.event.data.to_user, userOf(b));

  const acc = await api.post(`/api/v1/friends/requests/${q.json.request.id}/accept`, { token: b.token });
  assert.equal(acc.status, 200, acc.text);
  const aa = await waitEvent(a, ra.next, ofType('friend.accepted'));
  const ab = await waitEvent(b, rb.next, ofType('friend.accepted'));
  assert.equal(aa.event.data.request.state, 'accepted');
  assert.deepEqual(aa.event.data, ab.event.data);

  const del = await api.del(`/api/v1/friends/${b.user.id}`, { token: a.token });
  assert.equal(del.status, 204, del.text);
  for (const [u, w] of [[a, aa], [b, ab]]) {
    const x = await waitEvent(u, w.next, ofType('friend.removed'));
    assert.deepEqual(x.event.data, { users: [a.user.id, b.user.id], by: a.user.id });
  }

  // c blocks a; a's request to c is silent: only a's stream has it.
  assert.equal((await api.post('/api/v1/blocks', { token: c.token, json: { user_id: a.user.id } })).status, 201);
  const ha2 = await head(a);
  const s = await api.post('/api/v1/friends/requests', { token: a.token, json: { user_id: c.user.id } });
  assert.equal(s.status, 201, s.text);
  const mine = await waitEvent(a, ha2, ofType('friend.request'));
  assert.equal(mine.event.data.request.to, c.user.id);
  const cs = await drain(c, hc);
  assert.deepEqual(cs.events.filter((e) => e.type.startsWith('friend.')), []);
});

// --- a client that goes away --------------------------------------------------

test('a client that hangs up mid-poll loses nothing; the poll service logs 499', async () => {
  const [a, b] = await friends2();
  const since = await head(b);
  // A raw request we can abort.
  const aborted = await new Promise((resolve) => {
    const req = http.get({
      host: BASE.hostname, port: BASE.port, agent: false,
      path: `/api/v1/events?since=${since}&timeout=20`,
      headers: { Authorization: 'Bearer ' + b.token },
    }, (res) => resolve('answered ' + res.statusCode));
    req.on('error', () => resolve('aborted'));
    setTimeout(() => req.destroy(), 200);
  });
  assert.equal(aborted, 'aborted');
  await sleep(100);
  const m = await sendText(a, b, 'sent while nobody listened');
  const r = await poll(b, { since, timeout: 5 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.events.find((e) => e.type === 'message').data.message, m);

  // The poll service noticed the hangup (optional: needs the log file).
  const log = process.env.PARLEY_VAR && path.join(process.env.PARLEY_VAR, 'log', 'poll.log');
  if (!log || !fs.existsSync(log)) return;
  const want = new RegExp(`access GET /api/v1/events 499 \\S+ user=${b.user.id} `);
  const end = Date.now() + 3000;
  while (!want.test(fs.readFileSync(log, 'utf8'))) {
    assert.ok(Date.now() < end, `no 499 line for user ${b.user.id} in ${log}`);
    await sleep(100);
  }
  // And never did it log the query string (it could hold an access_token).
  assert.doesNotMatch(fs.readFileSync(log, 'utf8'), /access_token|since=/);
});

// --- exactly once, in order, under concurrent senders ---------------------------

// Polls `u` from `since` (since = next each time) until `enough(events)`
// or `ms` pass. Returns every event seen, in the order seen.
async function pollUntil(u, since, enough, ms, limit = 50) {
  const seen = [];
  let next = since;
  const end = Date.now() + ms;
  while (!enough(seen)) {
    assert.ok(Date.now() < end, `poller gave up after ${ms} ms with ${seen.length} events`);
    const r = await poll(u, { since: next, timeout: 5, limit });
    assert.equal(r.status, 200, r.text);
    if (r.json.events.length > 0) {
      assert.equal(r.json.next, r.json.events[r.json.events.length - 1].seq);
      seen.push(...r.json.events);
    } else {
      assert.equal(r.json.next, next);
    }
    next = r.json.next;
  }
  return { seen, next };
}

// Every event once, seqs consecutive from `since`; messages exactly the
// sent ones, each sender's in send order.
function assertExactlyOnce(seen, since, sentBy) {
  seen.forEach((e, i) => assert.equal(e.seq, since + 1 + i, `event #${i} has seq ${e.seq}, expected ${since + 1 + i}`));
  const msgs = seen.filter((e) => e.type === 'message').map((e) => e.data.message);
  const all = [].concat(...sentBy.values());
  const ids = msgs.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, 'no message arrives twice');
  assert.deepEqual([...ids].sort((x, y) => x - y), all.map((m) => m.id).sort((x, y) => x - y), 'every message arrives');
  const byId = new Map(all.map((m) => [m.id, m]));
  for (const m of msgs) assert.deepEqual(m, byId.get(m.id));
  for (const [from, list] of sentBy) {
    assert.deepEqual(msgs.filter((m) => m.from === from).map((m) => m.id), list.map((m) => m.id), `sender ${from}'s order`);
  }
}

test('exactly once: 8 senders x 50 messages while the recipient polls in a loop', async () => {
  const SENDERS = 8;
  const EACH = 50;
  const r = await register('xr');
  const senders = await Promise.all(Array.from({ length: SENDERS }, (_, i) => register('xs' + i)));
  for (const s of senders) await befriend(s, r);
  const since = await head(r);

  const sentBy = new Map(senders.map((s) => [s.user.id, []]));
  const polling = pollUntil(r, since, (seen) => seen.filter((e) => e.type === 'message').length >= SENDERS * EACH, 90000);
  await Promise.all(senders.map(async (s) => {
    for (let i = 0; i < EACH; i++) {
      const res = await send(s, { to: r.user.id, client_id: `x-${i}`, type: 'text', body: { text: `${s.user.id}:${i}` } });
      assert.equal(res.status, 201, res.text);
      sentBy.get(s.user.id).push(res.json.message);
    }
  }));
  const { seen, next } = await polling;
  // Nothing more arrives afterwards (no late duplicates).
  const after = await drain(r, next);
  assert.deepEqual(after.events.filter((e) => e.type === 'message'), []);
  assertExactlyOnce(seen, since, sentBy);
  // The per-conversation seqs are 1..50 for every sender.
  for (const list of sentBy.values()) assert.deepEqual(list.map((m) => m.seq), Array.from({ length: EACH }, (_, i) => i + 1));
});

test('exactly once in a group: every member\'s stream gets every message once, in group order', async () => {
  const N = 5;
  const EACH = 20;
  const users = await Promise.all(Array.from({ length: N }, (_, i) => register('xg' + i)));
  for (const u of users.slice(1)) await befriend(users[0], u);
  const g = await api.post('/api/v1/groups', { token: users[0].token, json: { name: 'busy', members: users.slice(1).map((u) => u.user.id) } });
  assert.equal(g.status, 201, g.text);
  const gid = g.json.group.id;
  const heads = await Promise.all(users.map(head));

  const pollers = users.map((u, i) => pollUntil(u, heads[i],
    (seen) => seen.filter((e) => e.type === 'message').length >= N * EACH, 60000, 37));
  const sentBy = new Map(users.map((u) => [u.user.id, []]));
  await Promise.all(users.map(async (u) => {
    for (let i = 0; i < EACH; i++) {
      const res = await send(u, { group_id: gid, type: 'text', body: { text: `${u.user.id}:${i}` } });
      assert.equal(res.status, 201, res.text);
      sentBy.get(u.user.id).push(res.json.message);
    }
  }));
  const results = await Promise.all(pollers);
  results.forEach(({ seen }, i) => {
    assertExactlyOnce(seen, heads[i], sentBy);
    // Everyone sees the group's messages in the group's own order.
    const seqs = seen.filter((e) => e.type === 'message').map((e) => e.data.message.seq);
    assert.deepEqual(seqs, Array.from({ length: N * EACH }, (_, k) => k + 1));
  });
});
