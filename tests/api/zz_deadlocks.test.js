// Writers never deadlock (issue 11, section 4): for a bounded time a small
// circle of friends sends (direct and group), polls with `since` (acks,
// hence delivery receipts into the senders' streams), goes offline and
// comes back (presence_sweep and the first poll's presence fan-out), marks
// conversations read, and places, accepts, hangs up and lets ring out
// calls, all at once. PostgreSQL must count no deadlock, its log must show
// none, and no request may fail with a 5xx. A zz_ file: it loads the whole
// stack and reads database-wide counters, so it runs alone.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, register, befriend, stack, ROOT } = require('../lib.js');

const LOAD_MS = Number(process.env.DEADLOCK_LOAD_MS || 18000);
const WINDOW = Number(process.env.PARLEY_ONLINE_WINDOW || 60);
// A backend reports its counters at most once a second while busy and
// within 10 s once idle (PostgreSQL's PGSTAT_IDLE_INTERVAL).
const STATS_FLUSH_MS = 11000;
const USERS = 8;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (a) => a[Math.floor(Math.random() * a.length)];

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}
function deadlocks() {
  return Number(psql('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()'));
}

// The embedded cluster's log (absent with an external DATABASE_URL).
const PG_LOG = path.join(process.env.PARLEY_VAR || path.join(ROOT, 'var'), 'pg', 'postgres.log');
function logSize() {
  try { return fs.statSync(PG_LOG).size; } catch (e) { return null; }
}
function logSince(offset) {
  const fd = fs.openSync(PG_LOG, 'r');
  try {
    const len = fs.fstatSync(fd).size - offset;
    const buf = Buffer.alloc(Math.max(0, len));
    fs.readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

test('concurrent sends, acks, presence, read marks and calls cause no deadlock', { timeout: 120000 }, async (t) => {
  if (WINDOW > 10) {
    // Going offline within the run needs the test stack's short window.
    t.skip('needs PARLEY_ONLINE_WINDOW <= 10 (scripts/test.sh uses 5)');
    return;
  }
  const users = [];
  for (let i = 0; i < USERS; i++) users.push(await register('dl' + i));
  const pairs = [];
  for (let i = 0; i < USERS; i++) for (let j = i + 1; j < USERS; j++) pairs.push([users[i], users[j]]);
  await Promise.all(pairs.map(([a, b]) => befriend(a, b)));
  const groups = [];
  for (const [owner, members] of [[users[0], users.slice(1)], [users[3], users.slice(4)]]) {
    const r = await api.post('/api/v1/groups', { token: owner.token,
      json: { name: 'dl ' + owner.user.id, members: members.map((m) => m.user.id) } });
    assert.equal(r.status, 201, r.text);
    groups.push({ id: r.json.group.id, members: [owner, ...members] });
  }

  // Every answer, by request kind and status; a 5xx is a failure.
  const statuses = {};
  const failures = [];
  let failed = 0;
  function note(kind, r) {
    const k = kind + ' ' + r.status;
    statuses[k] = (statuses[k] || 0) + 1;
    if (r.status >= 500 && failed++ < 10) failures.push(`${kind}: ${r.status} ${r.text}`);
    return r;
  }

  const state = new Map(users.map((u) => [u, { cursor: 0, convs: new Map() }]));
  for (const u of users) {
    const r = await api.get('/api/v1/events', { token: u.token });
    assert.equal(r.status, 200, r.text);
    state.get(u).cursor = r.json.next;
  }

  const before = deadlocks();
  const logAt = logSize();
  const end = Date.now() + LOAD_MS;
  const running = () => Date.now() < end;

  // A device: polls with its cursor as `since` (each poll acknowledges
  // the previous batch: delivery receipts to the senders) and remembers
  // the newest seq per conversation for read marks. Users 4..7 now and
  // then stop polling long enough to go offline, then come back.
  async function device(u, flaky) {
    const st = state.get(u);
    let phaseEnd = Date.now() + 2000 + Math.random() * 4000;
    while (running()) {
      if (flaky && Date.now() > phaseEnd) {
        await sleep(Math.min((WINDOW + 2.5) * 1000, Math.max(0, end - Date.now())));
        phaseEnd = Date.now() + 3000 + Math.random() * 3000;
        continue;
      }
      const r = note('poll', await api.get(`/api/v1/events?since=${st.cursor}&timeout=1&limit=500`, { token: u.token }));
      if (r.status !== 200) { await sleep(50); continue; }
      for (const e of r.json.events) {
        if (e.type === 'message') st.convs.set(e.data.message.conversation_id, e.data.message.seq);
      }
      st.cursor = r.json.next;
    }
  }

  // A writer: direct and group messages, and now and then a read mark.
  async function writer(u) {
    const st = state.get(u);
    const mine = groups.filter((g) => g.members.includes(u));
    while (running()) {
      const x = Math.random();
      if (x < 0.15 && st.convs.size > 0) {
        const conv = pick([...st.convs.keys()]);
        note('read', await api.post(`/api/v1/conversations/${conv}/read`, { token: u.token,
          json: { seq: st.convs.get(conv) } }));
      } else if (x < 0.4) {
        note('send-group', await api.post('/api/v1/messages', { token: u.token,
          json: { group_id: pick(mine).id, type: 'text', body: { text: 'g' } } }));
      } else {
        const to = pick(users.filter((v) => v !== u));
        note('send', await api.post('/api/v1/messages', { token: u.token,
          json: { to: to.user.id, type: 'text', body: { text: 'd' } } }));
      }
      await sleep(Math.random() * 20);
    }
  }

  // Calls between random friends: most are accepted, then hung up by
  // either side; some are left to ring out (calls_sweep ends them); a
  // flaky callee may be offline or drop out mid-call (disconnected).
  async function caller() {
    while (running()) {
      const a = pick(users);
      const b = pick(users.filter((v) => v !== a));
      const r = note('invite', await api.post('/api/v1/calls', { token: a.token,
        json: { to: b.user.id, media: 'audio' } }));
      if (r.status !== 201) { await sleep(100); continue; }
      const id = r.json.call.id;
      if (Math.random() < 0.15) { await sleep(300); continue; } // rings out
      await sleep(Math.random() * 100);
      const acc = note('accept', await api.post(`/api/v1/calls/${id}/accept`, { token: b.token }));
      await sleep(100 + Math.random() * 400);
      if (acc.status === 200) {
        note('hangup', await api.post(`/api/v1/calls/${id}/hangup`, { token: pick([a, b]).token }));
      } else {
        note('cancel', await api.post(`/api/v1/calls/${id}/cancel`, { token: a.token }));
      }
    }
  }

  await Promise.all([
    ...users.map((u, i) => device(u, i >= 4)),
    ...users.map((u) => writer(u)),
    caller(), caller(), caller(),
  ]);

  // Counters settle once every backend has flushed; a deadlock in the log
  // shows up at once.
  const waitUntil = Date.now() + STATS_FLUSH_MS;
  let after = deadlocks();
  while (after === before && Date.now() < waitUntil) {
    await sleep(1000);
    after = deadlocks();
  }
  const logged = logAt === null ? '' : logSince(logAt);
  const lines = logged.split('\n').filter((l) => /deadlock detected/.test(l));
  const detail = logged.split('\n').filter((l) => /deadlock detected|^\s*Process \d+|CONTEXT:/.test(l)).slice(0, 12);

  console.log(`deadlocks before ${before}, after ${after}; answers ${JSON.stringify(statuses)}`);
  const sends = (statuses['send 201'] || 0) + (statuses['send-group 201'] || 0);
  assert.ok(sends > 100, `the load ran (${sends} messages sent)`);
  assert.ok((statuses['accept 200'] || 0) > 2, 'calls were accepted');
  // One comparison, so a failure shows all three counts.
  assert.deepEqual(
    { deadlocks: after - before, logged: lines.length, failed_5xx: failed },
    { deadlocks: 0, logged: 0, failed_5xx: 0 },
    `deadlocks (pg_stat_database, postgres.log) and 5xx answers:\n${detail.join('\n')}\n${failures.join('\n')}`);
});
