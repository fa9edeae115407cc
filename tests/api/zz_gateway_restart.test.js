// The gateway killed mid-load: receivers on WebSockets keep reconnecting
// (retrying while the supervisor or Kore brings the gateway back) and
// resume from the last event they processed; at the end each has its
// whole stream, every event once, in seq order. Three blows, senders
// writing all the while: kill -9 of Kore's parent (the workers notice,
// say 1001 and exit; the supervisor starts a new gateway), kill -9 of one
// worker (Kore starts another), and a graceful restart-service (every
// socket gets 1001 shutting_down). PostgreSQL and the other services are
// untouched by any of it.
//
// Kills the gateway: a zz_ file, run alone after the others.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, register, befriend, stack, stackAsync, ROOT } = require('../lib.js');
const { send, drain } = require('../chat.js');
const { subscribe, closeAll } = require('../ws.js');

test.after(closeAll);

const VAR = process.env.PARLEY_VAR || path.join(ROOT, 'var');
const RUN = path.join(VAR, 'run');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pidOf(name) {
  try {
    return Number(fs.readFileSync(path.join(RUN, name + '.pid'), 'utf8').split(/\s+/)[0]);
  } catch (e) {
    return 0;
  }
}

// Alive and not a zombie (an exited child nobody reaped yet).
function alive(pid) {
  try {
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (e) {
    return false;
  }
}

function workersOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch (e) {
    return [];
  }
}

async function until(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < end, `${what} within ${ms} ms`);
    await sleep(100);
  }
}

// A receiver that keeps one socket open, whatever happens: on a close it
// reconnects (every 100 ms while the upgrade fails) from the last event
// it processed, and acknowledges what it processed.
class Receiver {
  constructor(u, since) {
    this.u = u;
    this.cursor = since;
    this.got = [];
    this.closes = [];	// [{code, reason}] of sockets that ended
    this.failed = 0;	// upgrades that failed
    this.opened = 0;
    this.running = true;
    this.sock = null;
    this.done = this.loop();
  }

  take(events) {
    for (const e of events) {
      assert.equal(e.seq, this.cursor + 1, `${this.u.user.username}: ${e.seq} follows ${this.cursor}`);
      this.got.push(e);
      this.cursor = e.seq;
    }
  }

  async loop() {
    while (this.running) {
      let r;
      try {
        r = await subscribe(this.u, this.cursor);
      } catch (e) {
        this.failed++;
        await sleep(100);
        continue;
      }
      this.sock = r.s;
      this.opened++;
      this.take(r.first.events);
      while (this.running) {
        let f;
        try {
          f = await r.s.next(1000);
        } catch (e) {
          if (r.s.close) break;
          continue;	// quiet for a second
        }
        if (f.error) continue;	// the close follows
        this.take(f.events);
        r.s.ack(this.cursor);
      }
      if (r.s.close) this.closes.push(r.s.close);
      this.sock = null;
      if (this.running) await sleep(50);
      else await r.s.shut();
    }
  }

  async stop() {
    this.running = false;
    await this.done;
  }
}

function otherPids() {
  const out = {};
  for (const s of ['accounts', 'friends', 'messages', 'poll', 'calls', 'sites']) out[s] = pidOf(s);
  return out;
}

function pgStarted() {
  return stack('psql', '-qAtX', '-c', 'SELECT pg_postmaster_start_time()').trim();
}

test('the gateway killed mid-load (parent, worker) and restarted: every client resumes, nothing lost or repeated', {
  skip: !process.env.PARLEY_VAR ? 'needs PARLEY_VAR of the test stack' : false,
}, async (t) => {
  const senders = await Promise.all([register('ga'), register('gb')]);
  const users = await Promise.all(Array.from({ length: 6 }, (_, i) => register('gr' + i)));
  for (const u of users) for (const s of senders) await befriend(s, u);
  const heads = await Promise.all(users.map(async (u) => (await drain(u, 0)).next));
  const others = otherPids();
  const pg = pgStarted();
  const restarts0 = Number(fs.readFileSync(path.join(RUN, 'gateway.restarts'), 'utf8'));

  const recv = users.map((u, i) => new Receiver(u, heads[i]));
  await until('every receiver connected', () => recv.every((r) => r.opened === 1 && r.sock));

  let writing = true;
  let sent = 0;
  const writers = senders.map(async (s, k) => {
    for (let i = 0; writing; i++) {
      const to = users[(i + k) % users.length];
      const res = await send(s, { to: to.user.id, type: 'text', body: { text: `${k}/${i}` } });
      assert.equal(res.status, 201, res.text);
      sent++;
      await sleep(3);
    }
  });
  // Everyone receives, then the blows, each once all are back.
  const progress = () => recv.map((r) => r.got.length);
  const allMoved = async (before) => {
    await until('every receiver got events again', () => progress().every((n, i) => n > before[i] + 2));
  };
  await allMoved(progress());

  // 1. kill -9 of Kore's parent.
  const parent = pidOf('gateway');
  const oldWorkers = workersOf(parent);
  assert.ok(oldWorkers.length >= 1, 'Kore has workers');
  let before = progress();
  let opened = recv.map((r) => r.opened);
  process.kill(parent, 'SIGKILL');
  t.diagnostic(`killed Kore's parent ${parent} (workers ${oldWorkers.join(' ')})`);
  await until('the old workers exited', () => oldWorkers.every((p) => !alive(p)), 10000);
  await until('the supervisor started a new gateway', () => pidOf('gateway') && pidOf('gateway') !== parent);
  assert.equal(Number(fs.readFileSync(path.join(RUN, 'gateway.restarts'), 'utf8')), restarts0 + 1,
    'the supervisor counted one restart');
  await until('every receiver reconnected', () => recv.every((r, i) => r.opened > opened[i] && r.sock));
  await allMoved(before);
  const afterParent = recv.flatMap((r) => r.closes);
  t.diagnostic(`closes after the parent's kill: ${JSON.stringify(afterParent.map((c) => c.code))}`);
  assert.ok(afterParent.every((c) => c.code === 1001 || c.code === 1006), JSON.stringify(afterParent));
  assert.ok(afterParent.some((c) => c.code === 1001 && c.reason === 'shutting_down'),
    'workers that lost their parent say goodbye: ' + JSON.stringify(afterParent));

  // 2. kill -9 of one worker: Kore starts another; its sockets reconnect.
  const parent2 = pidOf('gateway');
  const workers2 = await until('the new gateway has its workers', () => {
    const w = workersOf(parent2);
    return w.length >= 2 ? w : null;
  });
  before = progress();
  opened = recv.map((r) => r.opened);
  process.kill(workers2[0], 'SIGKILL');
  t.diagnostic(`killed worker ${workers2[0]} of ${parent2}`);
  await until('Kore replaced the worker', () => {
    const w = workersOf(parent2);
    return w.length === workers2.length && !w.includes(workers2[0]);
  });
  await sleep(500);
  await until('every receiver has a socket', () => recv.every((r) => r.sock));
  await allMoved(before);
  assert.equal(pidOf('gateway'), parent2, 'the parent stayed');
  const reopened = recv.filter((r, i) => r.opened > opened[i]).length;
  t.diagnostic(`${reopened} of ${recv.length} receivers were on the killed worker`);

  // 3. A graceful restart: every socket is told.
  before = progress();
  opened = recv.map((r) => r.opened);
  const closes0 = recv.map((r) => r.closes.length);
  await stackAsync('restart-service', 'gateway');
  await until('every receiver reconnected', () => recv.every((r, i) => r.opened > opened[i] && r.sock));
  await allMoved(before);
  for (const [i, r] of recv.entries()) {
    const c = r.closes.slice(closes0[i]);
    assert.deepEqual(c, [{ code: 1001, reason: 'shutting_down' }], `${r.u.user.username}: ${JSON.stringify(c)}`);
  }

  writing = false;
  await Promise.all(writers);
  // Everything that was sent reaches every receiver, then compare.
  const ends = await Promise.all(users.map(async (u, i) => (await drain(u, heads[i])).next));
  await until('every receiver caught up', () => recv.every((r, i) => r.cursor >= ends[i]), 20000);
  await Promise.all(recv.map((r) => r.stop()));
  let total = 0;
  for (const [i, r] of recv.entries()) {
    const all = (await drain(users[i], heads[i])).events;
    assert.deepEqual(r.got, all, `${r.u.user.username}: its whole stream, each event once, in order`);
    total += all.length;
  }
  assert.equal(total, sent, 'every message sent arrived');
  t.diagnostic(`${sent} messages; upgrades that failed while the gateway was down: ${recv.reduce((n, r) => n + r.failed, 0)}`);

  // Nothing else noticed.
  assert.deepEqual(otherPids(), others, 'no other service restarted');
  assert.equal(pgStarted(), pg, 'PostgreSQL was not restarted');
  const h = await api.get('/api/v1/health');
  assert.equal(h.status, 200, h.text);
});
