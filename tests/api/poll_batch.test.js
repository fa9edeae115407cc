// Poll service, black box: parked polls answered in batches. The poll
// service keeps a compact record per parked poll and writes its FastCGI
// reply itself (services/poll/poll_reply.c); woken polls are read with
// one query per batch (stream_events_batch). Here: a group message wakes
// many parked members at once and each gets exactly its own stream's
// event, JSONP ones and one whose session ended among them; a parked poll
// woken with over 64 KiB of events gets all of it, as JSON and as JSONP.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const vm = require('node:vm');
const { api, register, befriend, stack } = require('../lib.js');
const { sendText, sendGroup, poll, head } = require('../chat.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql);
}

// The one argument a JSONP body passes to `name`, run as a script tag would.
function jsonp(res, name) {
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^application\/javascript/);
  assert.ok(res.text.startsWith(`/**/${name}(`) && res.text.endsWith(');'), res.text.slice(0, 200));
  const calls = [];
  const sandbox = {};
  sandbox[name] = (...args) => calls.push(args);
  vm.runInNewContext(res.text, sandbox, { timeout: 1000 });
  assert.equal(calls.length, 1);
  return JSON.parse(JSON.stringify(calls[0][0]));
}

async function streamToken(u) {
  const st = await api.post('/api/v1/auth/stream-token', { token: u.token });
  assert.equal(st.status, 201, st.text);
  return st.json.stream_token;
}

test('one group message wakes every parked member at once: each gets its own event once; JSONP alike; an ended session gets 401', async () => {
  const N = 24;
  const users = await Promise.all(Array.from({ length: N + 1 }, (_, i) => register('pb' + i)));
  const [owner, ...members] = users;
  for (const m of members) await befriend(owner, m);
  const g = await api.post('/api/v1/groups', { token: owner.token, json: { name: 'batch', members: members.map((m) => m.user.id) } });
  assert.equal(g.status, 201, g.text);
  const gid = g.json.group.id;
  // Streams of different lengths: a batch that mixed up its rows would
  // hand one member another's seqs.
  await Promise.all(members.map(async (m, i) => {
    for (let k = 0; k < i % 4; k++) await sendText(owner, m, `warm-up ${k}`);
  }));
  const heads = await Promise.all(members.map(head));
  assert.ok(new Set(heads).size > 1);
  const tokens = await Promise.all(members.map((m, i) => (i % 3 === 1 ? streamToken(m) : null)));

  // Every member parks a poll; every third as JSONP with a stream token;
  // the last one's session ends while it waits.
  const leaver = members.length - 1;
  const parked = members.map((m, i) => (tokens[i]
    ? api.get(`/api/v1/events?since=${heads[i]}&timeout=20&callback=cb${i}&access_token=${tokens[i]}`)
    : poll(m, { since: heads[i], timeout: 20 })));
  await sleep(500);
  assert.equal((await api.post('/api/v1/auth/logout', { token: members[leaver].token })).status, 204);
  const msg = await sendGroup(owner, gid, 'to everyone at once');
  const answers = await Promise.all(parked);

  answers.forEach((r, i) => {
    if (i === leaver) {
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.error.code, 'invalid_token');
      return;
    }
    const body = tokens[i] ? jsonp(r, `cb${i}`) : (assert.equal(r.status, 200, r.text), r.json);
    // The member's own stream: seqs right after its own cursor, the
    // message once, and `next` its last seq.
    assert.ok(body.events.length >= 1, `member ${i}: ${JSON.stringify(body)}`);
    body.events.forEach((e, k) => assert.equal(e.seq, heads[i] + 1 + k, `member ${i}`));
    assert.equal(body.next, body.events[body.events.length - 1].seq);
    const got = body.events.filter((e) => e.type === 'message');
    assert.equal(got.length, 1, `member ${i}: ${JSON.stringify(body.events)}`);
    assert.deepEqual(got[0].data.message, msg);
  });
  // Nothing more, nothing twice: each stream continues after `next`.
  await Promise.all(members.slice(0, 6).map(async (m, i) => {
    const next = tokens[i] ? jsonp(answers[i], `cb${i}`).next : answers[i].json.next;
    const r = await poll(m, { since: next, timeout: 0 });
    assert.deepEqual(r.json, { events: [], next });
  }));
});

test('a parked poll woken with over 64 KiB of events gets all of it, as JSON and as JSONP', async () => {
  const [a, b] = await Promise.all([register('pbig'), register('pbig')]);
  await befriend(a, b);
  const h = await head(b);
  const st = await streamToken(b);
  const plainP = poll(b, { since: h, timeout: 20, limit: 100 });
  const jsonpP = api.get(`/api/v1/events?since=${h}&timeout=20&limit=100&callback=big&access_token=${st}`);
  await sleep(500);
  // 20 events of ~6 KB in one commit, then one hint: both polls wake once
  // and read ~120 KB each (the records split under 64 KiB).
  const id = b.user.id;
  psql(`WITH s AS (UPDATE streams SET head = head + 20 WHERE user_id = ${id} RETURNING head - 20 AS h)
    INSERT INTO events (user_id, seq, type, data)
    SELECT ${id}, s.h + i, 'test.padding', jsonb_build_object('i', i, 'pad', repeat(chr(8232) || 'x<>&', 1500))
    FROM s, generate_series(1, 20) i`);
  psql(`SELECT pg_notify('parley_events', '${id}')`);
  const [plain, viaJsonp] = await Promise.all([plainP, jsonpP]);
  assert.equal(plain.status, 200, plain.text.slice(0, 200));
  assert.ok(plain.text.length > 65536, `${plain.text.length} bytes`);
  assert.equal(plain.json.events.length, 20);
  plain.json.events.forEach((e, k) => {
    assert.equal(e.seq, h + 1 + k);
    assert.equal(e.type, 'test.padding');
    assert.equal(e.data.i, k + 1);
    assert.equal(e.data.pad, '\u2028x<>&'.repeat(1500));
  });
  assert.equal(plain.json.next, h + 20);
  assert.equal(Number(plain.headers['content-length']), Buffer.byteLength(plain.text));
  // JSONP: U+2028 escaped (ES5), the same object inside.
  assert.ok(!viaJsonp.text.includes('\u2028'));
  assert.deepEqual(jsonp(viaJsonp, 'big'), plain.json);
});
