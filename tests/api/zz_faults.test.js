// Fault injection under load (issue 11, section 6): while senders send
// numbered messages (retrying failures with the same client_id), pollers
// follow their streams and a site's webhook receiver takes deliveries,
// every service, the webhook dispatcher and an nginx worker are killed
// with SIGKILL in turn, PostgreSQL is stopped in immediate mode and
// started again, and nginx is reloaded. The supervisor (or nginx's master,
// or pg-start) brings each back. Then: every acknowledged message is in
// every member's stream and in the history exactly once, in send order;
// nothing unsent appears; webhooks are at-least-once with a stable event
// id; no deadlock; every service answers and was restarted exactly once.
//
// This kills processes of the test stack and stops its database:
// scripts/test.sh runs tests/api/zz_*.test.js after the others, one file
// at a time.
//
// Helpers (processes, logs, the checks of streams and histories) are in
// tests/faults.js.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { api, request, register, befriend, stack, stackAsync } = require('../lib.js');
const { head, poll } = require('../chat.js');
const { newSite, sign, siteUser, login, receiver } = require('../sites.js');
const {
  now, psql, failKind, TRANSIENT, sleep, pidOf, alive, nginxWorkers,
  pgImmediateStop, nginxMaster, fileSize, PGLOG, PROCS, LOGDIR, status,
  deadlocks, drainAll, checkLane, historyAll, pick, readFrom, deadlockLines,
} = require('../faults.js');

const skip = !process.env.PARLEY_URL || !process.env.PARLEY_VAR ?
  'needs PARLEY_URL and PARLEY_VAR of the test stack' : false;

// ------------------------------------------------------------ state

let stopLoad = false;   // senders finish their current message, then stop
let abort = false;      // everything stops at once (hard deadline, failure)
let pgDown = false;     // test.after starts PostgreSQL again
let rx = null;

test.after(() => {
  stopLoad = true;
  abort = true;
  if (pgDown) stack('pg-start');
  if (rx) rx.close();
});


test('faults under load: kill -9 of each process, PostgreSQL immediate stop, nginx reload; nothing lost or doubled', {
  skip, timeout: 180000,
}, async (t) => {
  const tStart = now();
  const hard = setTimeout(() => { stopLoad = true; abort = true; }, 170000);
  hard.unref();
  const tag = crypto.randomBytes(3).toString('hex');

  // ---------------------------------------------------------- users
  // a1 -> b1, a2 -> b2: plain users. c, d, o: a site's users; o and c
  // never poll (offline: their messages become message.offline webhooks),
  // d polls. Group g (owner c): b1, b2, d, o; c and b1 send into it.
  // d -> o goes through the server-to-server API (sites service).
  const site = newSite('fz');
  const rxTimes = [];
  // Every 5th event's first attempt gets 503, so retries happen too.
  rx = await receiver(site, (ev, n) => {
    rxTimes.push({ id: ev.id, at: now() });
    return n === 1 && ev.id % 5 === 0 ? 503 : 200;
  });
  const siteReq = (method, p, json, timeout = 5000) => {
    const body = json === undefined ? '' : JSON.stringify(json);
    const headers = sign(site, method, p, body);
    return request(method, p, body === '' ? { headers, timeout } : { headers, body, timeout });
  };
  const put = await siteReq('PUT', '/api/v1/server/webhook', { url: rx.url + '/faults', events: ['message.offline'] });
  assert.equal(put.status, 200, put.text);

  const [a1, a2, b1, b2, P] = await Promise.all(['fa1', 'fa2', 'fb1', 'fb2', 'fp'].map((p) => register(p)));
  const c = await login(site, await siteUser(site, 'fc'));
  const d = await login(site, await siteUser(site, 'fd'));
  const o = await siteUser(site, 'fo'); // logs in only at the end
  for (const [x, y] of [[c, d], [c, o], [d, o]]) {
    const r = await siteReq('POST', '/api/v1/server/friendships', { a: x.ext, b: y.ext });
    assert.equal(r.status, 201, r.text);
  }
  await befriend(a1, b1);
  await befriend(a2, b2);
  await befriend(c, b1);
  await befriend(c, b2);
  const g = await api.post('/api/v1/groups', { token: c.token, json: { name: 'faults ' + tag, members: [b1.user.id, b2.user.id, d.user.id, o.user.id] } });
  assert.equal(g.status, 201, g.text);
  const groupId = g.json.group.id;

  const users = { a1, a2, b1, b2, c, d, o };
  const nameOf = new Map(Object.entries(users).map(([k, u]) => [u.user.id, k]));
  const offline = new Set([c.user.id, o.user.id]);
  // Stream heads before any message (the offline users' through the
  // database: a poll, even without a cursor, would make them online).
  const head0 = {};
  for (const [k, u] of Object.entries(users)) {
    head0[k] = offline.has(u.user.id) ? Number(await psql(`SELECT head FROM streams WHERE user_id = ${u.user.id}`)) : await head(u);
  }

  const userSend = (from, target) => (client_id, text) => api.post('/api/v1/messages', {
    token: from.token, timeout: 5000,
    json: Object.assign({ client_id, type: 'text', body: { text } }, target),
  });
  const lanes = [
    { name: 'a1>b1', from: a1, members: [a1, b1], send: userSend(a1, { to: b1.user.id }) },
    { name: 'a2>b2', from: a2, members: [a2, b2], send: userSend(a2, { to: b2.user.id }) },
    { name: 'c>d', from: c, members: [c, d], send: userSend(c, { to: d.user.id }) },
    { name: 'c>o', from: c, members: [c, o], send: userSend(c, { to: o.user.id }) },
    { name: 'c>g', from: c, members: [c, b1, b2, d, o], send: userSend(c, { group_id: groupId }) },
    { name: 'b1>g', from: b1, members: [c, b1, b2, d, o], send: userSend(b1, { group_id: groupId }) },
    { name: 'd>o site', from: d, members: [d, o], send: (client_id, text) => siteReq('POST', '/api/v1/server/messages',
      { from: d.ext, to: o.ext, type: 'text', body: { text }, client_id }) },
  ];
  for (const l of lanes) Object.assign(l, { acked: [], tries: 0, dups: 0 });
  const ackById = new Map();
  const sendLog = [];     // {lane, start, end, ok, kind}
  const unexpected = [];  // answers that are neither success nor transient

  // ---------------------------------------------------------- load
  async function sender(l) {
    for (let i = 0; !stopLoad; i++) {
      const client_id = `${tag}-${l.name}-${i}`;
      const text = `${l.name}#${i}`;
      for (let attempt = 0; ; attempt++) {
        if (abort) return;
        const start = now();
        let res = null, err = null;
        l.tries++;
        try { res = await l.send(client_id, text); } catch (e) { err = e; }
        const end = now();
        const m = res && (res.status === 201 || res.status === 200) && res.json ? res.json.message : null;
        if (res && (res.status === 201 || res.status === 200) && !m) unexpected.push(`${l.name} #${i}: ${res.status} without a message: ${res.text}`);
        if (m) {
          if (m.client_id !== client_id || !m.body || m.body.text !== text || m.from !== l.from.user.id) {
            unexpected.push(`${l.name} #${i}: ${res.status} with another message: ${res.text}`);
          } else if (res.status === 200 && attempt === 0) {
            unexpected.push(`${l.name} #${i}: a first attempt was answered as a duplicate: ${res.text}`);
          }
          if (res.status === 200) l.dups++;
          l.acked.push(m);
          ackById.set(m.id, { lane: l, i, m, at: end });
          sendLog.push({ lane: l.name, start, end, ok: true });
          break;
        }
        const kind = failKind(res, err);
        sendLog.push({ lane: l.name, start, end, ok: false, kind });
        if (res && !TRANSIENT.has(res.status)) unexpected.push(`${l.name} #${i}: ${res.status} ${res.text}`);
        await sleep(Math.min(50 * 2 ** attempt, 500));
      }
      await sleep(40);
    }
  }

  const pollers = ['b1', 'b2', 'd'].map((k) => ({ k, u: users[k], next: head0[k], events: [], arrived: new Map() }));
  const pollLog = [];     // {user, start, end, ok, kind}
  const streamErrors = [];
  async function poller(p) {
    for (let fails = 0; !abort;) {
      const start = now();
      const quick = stopLoad; // after the load: drain to the head, then stop
      let res = null, err = null;
      try {
        res = await poll(p.u, { since: p.next, timeout: quick ? 0 : 5, limit: 100 }, { timeout: 15000 });
      } catch (e) { err = e; }
      const end = now();
      if (!res || res.status !== 200) {
        const kind = failKind(res, err);
        pollLog.push({ user: p.k, start, end, ok: false, kind });
        if (res && !TRANSIENT.has(res.status)) unexpected.push(`poll ${p.k}: ${res.status} ${res.text}`);
        fails++;
        await sleep(Math.min(100 * 2 ** (fails - 1), 1000));
        continue;
      }
      fails = 0;
      pollLog.push({ user: p.k, start, end, ok: true });
      const evs = res.json.events;
      evs.forEach((e, j) => {
        if (e.seq !== p.next + 1 + j) streamErrors.push(`${p.k}: event seq ${e.seq} after cursor ${p.next} at #${j}`);
        if (e.type === 'message') p.arrived.set(e.data.message.id, end);
      });
      const want = evs.length ? evs[evs.length - 1].seq : p.next;
      if (res.json.next !== want) streamErrors.push(`${p.k}: next ${res.json.next}, expected ${want}`);
      p.events.push(...evs);
      p.next = res.json.next;
      if (quick && evs.length === 0) return;
    }
  }

  // Routes of every service (2xx when it is up) and the one a fault hits.
  const probes = {
    accounts: () => api.get('/api/v1/auth/me', { token: P.token, timeout: 3000 }),
    friends: () => api.get('/api/v1/friends', { token: P.token, timeout: 3000 }),
    messages: () => api.get('/api/v1/conversations', { token: P.token, timeout: 3000 }),
    poll: () => api.get('/api/v1/events?timeout=0', { token: P.token, timeout: 3000 }),
    calls: () => api.get('/api/v1/calls', { token: P.token, timeout: 3000 }),
    sites: () => siteReq('GET', '/api/v1/server/webhook', undefined, 3000),
    health: () => api.get('/api/v1/health', { timeout: 3000 }),
  };
  const ok = async (fn) => { try { const r = await fn(); return r.status >= 200 && r.status < 300; } catch (e) { return false; } };
  async function allHealthy() {
    const rs = await Promise.all(Object.values(probes).map(ok));
    return rs.every(Boolean);
  }

  // Time from `tf` to the first 2xx of `probe` sent after it.
  async function firstOk(probe, tf, limit) {
    while (now() < limit && !abort) {
      if (await ok(probe)) return now() - tf;
      await sleep(25);
    }
    return null;
  }
  async function until(what, fn, limit) {
    while (!abort) {
      const v = await fn();
      if (v) return v;
      if (now() > limit) throw new Error('timed out waiting for ' + what);
      await sleep(50);
    }
    throw new Error('aborted waiting for ' + what);
  }
  // After a fault at tf: the process is back, its route answers, every
  // service answers, every lane had a message acknowledged and every
  // poller a good poll that started after the fault, and (when asked)
  // the receiver got a delivery after the dispatcher was back.
  async function recover(f, tf, webhookAfter) {
    const limit = tf + 30000;
    // Requests count from the moment the fault is complete (a send that
    // started while PostgreSQL was still stopping may well succeed).
    const from = f.from || tf;
    const out = {};
    if (f.route) {
      out.route = await firstOk(probes[f.route], tf, limit);
      if (out.route === null) throw new Error(`${f.name}: ${f.route} did not answer within 30 s`);
    }
    await until(`${f.name}: every service to answer`, allHealthy, limit);
    await until(`${f.name}: every lane to send`, () => lanes.every((l) => sendLog.some((x) => x.lane === l.name && x.ok && x.start >= from)), limit);
    await until(`${f.name}: every poller to poll`, () => pollers.every((p) => pollLog.some((x) => x.user === p.k && x.ok && x.start >= from)), limit);
    const sends = sendLog.filter((x) => x.ok && x.start >= from).map((x) => x.end);
    const polls = pollLog.filter((x) => x.ok && x.start >= from).map((x) => x.end);
    out.send = Math.min(...sends) - tf;
    out.poll = Math.min(...polls) - tf;
    out.allSend = Math.max(...lanes.map((l) => Math.min(...sendLog.filter((x) => x.lane === l.name && x.ok && x.start >= from).map((x) => x.end)))) - tf;
    if (webhookAfter !== undefined) {
      const from = webhookAfter();
      await until(`${f.name}: a webhook delivery`, () => rxTimes.some((x) => x.at > from), limit);
      out.webhook = Math.min(...rxTimes.filter((x) => x.at > from).map((x) => x.at)) - tf;
    }
    return out;
  }

  // ---------------------------------------------------------- faults
  async function killProc(name) {
    const before = pidOf(name);
    assert.ok(before > 0 && alive(before), `${name} runs before the fault`);
    const tf = now();
    process.kill(before, 'SIGKILL');
    const back = await until(`${name} to be running again`, () => {
      const p = pidOf(name);
      return p && p !== before && alive(p) ? now() : 0;
    }, tf + 30000);
    // The dispatcher has no route: its outage ends with the first delivery.
    const res = await recover({ name: `kill -9 ${name}`, route: name === 'webhooks' ? null : name }, tf,
      name === 'webhooks' ? () => back : undefined);
    return Object.assign(res, { tf, process: back - tf, what: `kill -9 ${name} (pid ${before})` });
  }
  async function killNginxWorker() {
    const workers = nginxWorkers();
    assert.ok(workers.length >= 1, 'nginx has workers');
    const victim = workers[0];
    const tf = now();
    process.kill(victim, 'SIGKILL');
    const res = await recover({ name: 'kill -9 nginx worker', route: 'health' }, tf);
    await until('nginx to replace its worker', () => {
      const w = nginxWorkers();
      return !w.includes(victim) && w.length === workers.length;
    }, tf + 30000);
    return Object.assign(res, { tf, what: `kill -9 nginx worker (pid ${victim})` });
  }
  async function pgImmediate() {
    const tf = now();
    pgDown = true;
    await pgImmediateStop();
    const stopped = now();
    await sleep(1000); // the database stays away for a moment
    const tStart = now();
    await stackAsync('pg-start');
    pgDown = false;
    const started = now();
    const res = await recover({ name: 'postgres immediate stop', route: 'health', from: stopped }, tf, () => started);
    return Object.assign(res, { tf, what: 'postgres: pg_ctl -m immediate stop, 1 s, pg-start', stopTook: stopped - tf, down: started - tf, startTook: started - tStart });
  }
  async function nginxReload() {
    const workers = nginxWorkers();
    const tf = now();
    process.kill(nginxMaster(), 'SIGHUP');
    const res = await recover({ name: 'nginx reload', route: 'health' }, tf);
    await until('nginx to run new workers', () => nginxWorkers().filter((w) => !workers.includes(w)).length >= workers.length, tf + 30000);
    return Object.assign(res, { tf, what: 'nginx reload (SIGHUP to the master)' });
  }

  // ---------------------------------------------------------- run
  const pgLogStart = fileSize(PGLOG);
  const logStart = Object.fromEntries(PROCS.map((s) => [s, fileSize(path.join(LOGDIR, s + '.log'))]));
  const st0 = await status();
  for (const s of PROCS) assert.ok(st0[s] && st0[s].running, `${s} runs at the start: ${st0[s] && st0[s].line}`);
  const dl0 = await deadlocks();
  let dlBeforePg = null, dlAfterPg = null;

  const senders = lanes.map(sender);
  const polling = pollers.map(poller);
  const results = [];
  let outboxMark = null;
  try {
    const flowing = now() + 20000;
    await until('the load to flow', () => lanes.every((l) => l.acked.length >= 3) && pollers.every((p) => p.arrived.size > 0), flowing);
    await sleep(1000);
    const plan = [
      ...PROCS.map((s) => () => killProc(s)),
      killNginxWorker,
      async () => { dlBeforePg = await deadlocks(); return pgImmediate(); },
      nginxReload,
    ];
    for (const step of plan) {
      const r = await step();
      results.push(r);
      if (r.what.startsWith('postgres')) dlAfterPg = await deadlocks();
      const failedSends = sendLog.filter((x) => !x.ok && x.start >= r.tf);
      const failedPolls = pollLog.filter((x) => !x.ok && x.start >= r.tf);
      const kinds = [...new Set([...failedSends, ...failedPolls].map((x) => x.kind))].slice(0, 4).join(', ');
      const back = [];
      if (r.route !== undefined) back.push(`${r.route} ms to its route`);
      if (r.process !== undefined) back.push(`process back ${r.process} ms`);
      if (r.down !== undefined) back.push(`up again ${r.down} ms after the stop (stop ${r.stopTook} ms, pg-start ${r.startTook} ms)`);
      if (r.webhook !== undefined) back.push(`first webhook ${r.webhook} ms`);
      t.diagnostic(`${r.what}: ${back.join(', ')}; first send ${r.send} ms, all lanes ${r.allSend} ms, first poll ${r.poll} ms; ` +
        `failed sends ${failedSends.length}, failed polls ${failedPolls.length}${kinds ? ' (' + kinds + ')' : ''}`);
      await sleep(3000);
    }
    outboxMark = Number(await psql('SELECT coalesce(max(id), 0) FROM webhook_outbox'));
    await sleep(1500);
  } finally {
    stopLoad = true;
    const drained = Promise.all([...senders, ...polling]);
    const late = setTimeout(() => { abort = true; }, 30000);
    await drained;
    clearTimeout(late);
  }
  assert.ok(!abort, 'the load finished before the hard deadline');

  // ---------------------------------------------------------- checks
  assert.deepEqual(unexpected, [], 'only successes and transient failures (502, 503, 504, resets, timeouts)');
  assert.deepEqual(streamErrors, [], 'every poll answer continues its cursor');
  await login(site, o);


  let total = 0;
  for (const l of lanes) {
    assert.ok(l.acked.length > 0, `${l.name} sent`);
    total += l.acked.length;
    l.acked.forEach((m, i) => assert.equal(m.body.text, `${l.name}#${i}`));
  }
  // Streams: every member's, from its head at the start.
  for (const [k, u] of Object.entries(users)) {
    const events = await drainAll(u, head0[k]);
    events.forEach((e, j) => assert.equal(e.seq, head0[k] + 1 + j, `${k}: seq without gaps`));
    const p = pollers.find((x) => x.k === k);
    if (p) {
      assert.ok(p.events.length <= events.length);
      assert.deepEqual(p.events, events.slice(0, p.events.length), `${k}: the poller saw the stream exactly as it is`);
    }
    const msgs = events.filter((e) => e.type === 'message').map((e) => e.data.message);
    for (const m of msgs) assert.ok(ackById.has(m.id), `${k}: message ${m.id} (${JSON.stringify(m.body)}) was acknowledged to its sender`);
    for (const l of lanes) if (l.members.includes(u)) checkLane(l, msgs, `${k}'s stream`);
    const lanesOf = lanes.filter((l) => l.members.includes(u));
    assert.equal(msgs.length, lanesOf.reduce((n, l) => n + l.acked.length, 0), `${k}: only its conversations' messages`);
  }
  // History, as every member sees it.
  const convs = new Map();
  for (const l of lanes) {
    const conv = l.acked[0].conversation_id;
    if (!convs.has(conv)) convs.set(conv, { members: l.members, lanes: [] });
    convs.get(conv).lanes.push(l);
  }
  for (const [conv, x] of convs) {
    for (const u of x.members) {
      const msgs = await historyAll(u, conv);
      const where = `history of ${conv} as ${nameOf.get(u.user.id)}`;
      for (const m of msgs) assert.ok(ackById.has(m.id), `${where}: message ${m.id} was acknowledged`);
      msgs.forEach((m, j) => assert.equal(m.seq, j + 1, `${where}: seq ${m.seq} at #${j}`));
      for (const l of x.lanes) checkLane(l, msgs, where);
      assert.equal(msgs.length, x.lanes.reduce((n, l) => n + l.acked.length, 0), `${where}: nothing else`);
    }
  }

  // Webhooks: the outbox holds one row per message and offline member
  // (the cause committed once); every delivery the receiver took is one
  // of them, signed; a re-delivery carries the same event id and body.
  const outbox = JSON.parse(await psql(`SELECT coalesce(json_agg(json_build_object('id', o.id, 'state', o.state,
      'attempts', o.attempts, 'user', (o.data #>> '{user,id}')::bigint, 'message', (o.data #>> '{message,id}')::bigint,
      'last_error', o.last_error) ORDER BY o.id), '[]') FROM webhook_outbox o JOIN sites s ON s.id = o.site_id
      WHERE s.name = '${site.name}'`));
  const rowById = new Map(outbox.map((r) => [r.id, r]));
  const pairs = new Set();
  for (const r of outbox) {
    const a = ackById.get(r.message);
    assert.ok(a, `outbox ${r.id}: for acknowledged message ${r.message}`);
    assert.ok(a.lane.members.some((u) => u.user.id === r.user) && r.user !== a.m.from, `outbox ${r.id}: to a recipient of message ${r.message}`);
    const key = `${r.message}/${r.user}`;
    assert.ok(!pairs.has(key), `outbox ${r.id}: one event per message and recipient (${key})`);
    pairs.add(key);
  }
  for (const [id, a] of ackById) {
    for (const u of a.lane.members) {
      if (offline.has(u.user.id) && u.user.id !== a.m.from)
        assert.ok(pairs.has(`${id}/${u.user.id}`), `message ${id} (${a.lane.name}) to offline ${nameOf.get(u.user.id)} has its webhook event`);
    }
  }
  const bodies = new Map();
  for (const got of rx.got) {
    const ev = got.event;
    assert.ok(got.verified, `delivery of event ${ev.id} is signed with the site's secret`);
    assert.equal(got.headers['x-parley-event-id'], String(ev.id));
    assert.equal(ev.type, 'message.offline');
    assert.ok(rowById.has(ev.id), `delivered event ${ev.id} is in the outbox`);
    assert.equal(ev.data.message.id, rowById.get(ev.id).message);
    assert.equal(ev.data.user.id, rowById.get(ev.id).user);
    assert.deepEqual(pick(ev.data.message), pick(ackById.get(ev.data.message.id).m), `event ${ev.id}: the message as sent`);
    const s = JSON.stringify(ev);
    if (bodies.has(ev.id)) assert.equal(s, bodies.get(ev.id), `event ${ev.id}: a re-delivery is the same event`);
    else bodies.set(ev.id, s);
  }
  const acked = new Set(rx.got.filter((x) => x.status >= 200 && x.status < 300).map((x) => x.event.id));
  for (const r of outbox) if (r.state === 'delivered') assert.ok(acked.has(r.id), `outbox ${r.id} is delivered: the receiver acknowledged it`);
  // The dispatcher is healthy at the end: what was queued after the last
  // fault is delivered (earlier rows may wait for a lease of a killed
  // round, 50 s, or have given up after PARLEY_WEBHOOK_GIVE_UP).
  await until('the deliveries queued after the faults', async () => {
    const n = Number(await psql(`SELECT count(*) FROM webhook_outbox WHERE id > ${outboxMark} AND state <> 'delivered'
      AND site_id = (SELECT id FROM sites WHERE name = '${site.name}')`));
    return n === 0;
  }, now() + 15000);
  const redelivered = rx.got.length - bodies.size;

  const busy = [...sendLog, ...pollLog].filter((x) => x.kind === '503 busy').length;
  const dups = lanes.reduce((n, l) => n + l.dups, 0);
  const tries = lanes.reduce((n, l) => n + l.tries, 0);
  t.diagnostic(`${total} messages acknowledged (${tries} send attempts, ${dups} answered as duplicates of a retried client_id), ` +
    `${pollLog.length} polls (${pollLog.filter((x) => !x.ok).length} failed), ` +
    `${busy} answers 503 busy (a deadlock or serialization failure), ` +
    `${bodies.size} webhook events delivered (${rx.got.length} deliveries, ${redelivered} re-deliveries), ` +
    `outbox: ${outbox.length} rows, ${outbox.filter((r) => r.state === 'failed').length} failed, ${outbox.filter((r) => r.state === 'pending').length} pending; ` +
    `${Math.round((now() - tStart) / 1000)} s`);
  const lat = [];
  for (const p of pollers) for (const [id, at] of p.arrived) if (ackById.has(id)) lat.push(at - ackById.get(id).at);
  lat.sort((x, y) => x - y);
  t.diagnostic(`message to poller, from the send's answer: median ${lat[lat.length >> 1]} ms, p99 ${lat[Math.floor(lat.length * 0.99)]} ms, max ${lat[lat.length - 1]} ms`);

  // Every service answers, was restarted exactly once (no crash), and
  // PostgreSQL saw no deadlock.
  for (const [s, probe] of Object.entries(probes)) {
    const r = await probe();
    assert.ok(r.status >= 200 && r.status < 300, `${s} answers at the end: ${r.status} ${r.text}`);
  }
  const st1 = await status();
  for (const s of PROCS) {
    assert.ok(st1[s].running, st1[s].line);
    assert.equal(st1[s].restarts, st0[s].restarts + 1, `${s} restarted once (the kill), no crash: ${st1[s].line}`);
    const log = readFrom(path.join(LOGDIR, s + '.log'), logStart[s]);
    const exits = log.match(/parley: \S+ exited unexpectedly \([^)]*\)/g) || [];
    assert.deepEqual(exits, [`parley: ${s} exited unexpectedly (killed by signal 9)`], `${s}'s log: only the kill`);
    assert.doesNotMatch(log, /AddressSanitizer|runtime error:/, `${s}'s log has no sanitizer report`);
  }
  assert.match(st1.nginx.line, /^nginx: running/);
  assert.match(st1.postgres.line, /^postgres: running/);
  assert.equal(nginxWorkers().length >= 2, true, 'nginx runs its workers');
  const pglog = readFrom(PGLOG, pgLogStart);
  const dlLines = deadlockLines(pglog);
  const dl1 = await deadlocks();
  t.diagnostic(`deadlocks: ${dlLines.length} in the PostgreSQL log; pg_stat_database.deadlocks ${dl0} at the start, ` +
    `${dlBeforePg} before the stop, ${dlAfterPg} after the restart, ${dl1} at the end`);
  assert.deepEqual(dlLines, [], 'no deadlock in the PostgreSQL log');
  assert.equal(dlBeforePg, dl0, 'pg_stat_database.deadlocks unchanged before the stop');
  // An immediate stop resets the statistics: compare from the restart.
  assert.equal(dl1, dlAfterPg, 'pg_stat_database.deadlocks unchanged after the restart');

  clearTimeout(hard);
});
