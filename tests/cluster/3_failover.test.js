// kill -9 of every process on service host C while clients poll, hold
// WebSockets and send through the edge (nginx with B and C as upstreams):
// nginx moves requests to B, clients resume from their cursors and retry
// sends with their client_id, and every message arrives exactly once.
// Then C comes back and takes requests again.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { edge, openStream, upstreamLog, servedBy, killHost, startHost, established, PORT, onC, sleep, register, befriend, stats } = require('./hosts.js');

const SENDERS = 3;
const PER_SENDER = 100;
const KILL_AT = 90;	// messages sent (all senders) before C dies

let R;			// the receiver
let Q;			// a friend whose polls stay parked across the kill
let senders;

test.before(async () => {
  [R, Q] = await Promise.all([register('cfr'), register('cfq')]);
  senders = await Promise.all(Array.from({ length: SENDERS }, (_, i) => register('cfs' + i)));
  for (const s of senders) await befriend(s, R);
  await befriend(senders[0], Q);
});

// One long poll of 30 s through the edge, parked until an event comes;
// a failed one is asked again from the same cursor. Resolves {events,
// errors}.
async function parkedPoll(u, since) {
  let errors = 0;
  for (;;) {
    let r = null;
    try { r = await edge.poll(u, { since, timeout: 30 }, { timeout: 40000 }); } catch (e) { r = null; }
    if (r && r.status === 200 && r.json.events.length > 0) return { events: r.json.events, errors };
    if (!r || r.status !== 200) { errors++; await sleep(100); }
  }
}

// A long-polling client: from its cursor, again and again; any failure
// (connection reset, a 502/503 while a host dies) is retried from the
// same cursor. Collects events until stop().
function poller(u) {
  const c = { events: [], errors: 0, stop: false };
  c.done = (async () => {
    let cur = (await edge.poll(u, { timeout: 0 })).json.next;
    c.start = cur;
    while (!c.stop) {
      let r;
      try {
        r = await edge.poll(u, { since: cur, timeout: 2 }, { timeout: 10000 });
      } catch (e) {
        r = null;
      }
      if (!r || r.status !== 200) { c.errors++; await sleep(100); continue; }
      c.events.push(...r.json.events);
      cur = r.json.next;
    }
  })();
  return c;
}

// A WebSocket client through the edge: on a close it opens a new socket
// and resumes from the cursor of the last frame it got.
function streamer(u, since) {
  const c = { events: [], reconnects: 0, stop: false, cur: since, frames: 0 };
  c.done = (async () => {
    while (!c.stop) {
      let s;
      try {
        s = await openStream(edge.base, u.token);
      } catch (e) {
        c.reconnects++; await sleep(200); continue;
      }
      c.sock = s;
      s.ws.on('message', (data) => {
        const f = JSON.parse(data.toString('utf8'));
        c.frames++;
        if (Array.isArray(f.events)) { c.events.push(...f.events); c.cur = f.next; }
      });
      s.ws.send(JSON.stringify({ since: c.cur }));
      await new Promise((r) => { if (s.closed) r(); else s.ws.on('close', r); });
      if (!c.stop) { c.reconnects++; await sleep(200); }
    }
  })();
  return c;
}

const texts = (events) => events.filter((e) => e.type === 'message').map((e) => e.data.message.client_id);

function exactlyOnce(ids, label) {
  const counts = new Map();
  for (const id of ids) counts.set(id, (counts.get(id) || 0) + 1);
  const doubled = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = [];
  for (let i = 0; i < SENDERS; i++)
    for (let k = 0; k < PER_SENDER; k++) if (!counts.has(`s${i}-${k}`)) missing.push(`s${i}-${k}`);
  assert.deepEqual(doubled, [], `${label}: delivered twice`);
  assert.deepEqual(missing, [], `${label}: never delivered`);
}

// Every message of a conversation, oldest first, through the edge.
async function allMessages(u, conv) {
  let out = [];
  let before;
  for (;;) {
    const q = new URLSearchParams(before === undefined ? { limit: 200 } : { limit: 200, before });
    const r = await edge.get(`/api/v1/conversations/${conv}/messages?${q}`, { token: u.token });
    assert.equal(r.status, 200, r.text);
    out = r.json.messages.concat(out);
    if (!r.json.has_more) return out;
    before = r.json.next_before;
  }
}

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  while (!pred()) {
    assert.ok(Date.now() < end, 'timed out waiting for ' + (typeof what === 'function' ? what() : what));
    await sleep(100);
  }
}

test('kill -9 of host C under load: nothing lost, nothing doubled, clients resume on B', async () => {
  const log0 = upstreamLog().length;
  // Two long-polling clients and WebSockets through the edge, until at
  // least one socket sits on each host (nginx spreads them round robin).
  const pollers = [poller(R), poller(R)];
  await until(() => pollers.every((p) => p.start !== undefined), 5000, 'the pollers');
  const since = Math.min(...pollers.map((p) => p.start));
  const streams = [];
  const onHost = { b: [], c: [] };
  while ((onHost.b.length === 0 || onHost.c.length === 0) && streams.length < 8) {
    const before = established('c', PORT.gateway);
    const w = streamer(R, since);
    await until(() => w.frames > 0, 10000, 'a socket');
    streams.push(w);
    onHost[established('c', PORT.gateway) > before ? 'c' : 'b'].push(w);
  }
  assert.ok(onHost.c.length > 0 && onHost.b.length > 0, 'sockets on both hosts');
  // Q's polls, parked (nothing comes for Q until C is dead), until one
  // sits on C.
  const qSince = (await edge.poll(Q, { timeout: 0 })).json.next;
  const qPolls = [];
  while (qPolls.length < 10) {
    const before = established('c', PORT.poll);
    qPolls.push(parkedPoll(Q, qSince));
    await sleep(300);
    if (established('c', PORT.poll) > before) break;
  }
  assert.ok(established('c', PORT.poll) > 0, 'a poll of Q is parked on C');
  let parkedOnC = 0;
  let sent = 0;
  let retries = 0;
  let dedup = 0;
  let killed = null;
  const t0 = Date.now();
  const send = async (s, i) => {
    for (let k = 0; k < PER_SENDER; k++) {
      const json = { to: R.user.id, type: 'text', body: { text: `m ${i}/${k}` }, client_id: `s${i}-${k}` };
      for (;;) {
        let r = null;
        try { r = await edge.post('/api/v1/messages', { token: s.token, json, timeout: 10000 }); } catch (e) { r = null; }
        if (r && (r.status === 201 || r.status === 200)) { if (r.status === 200) dedup++; break; }
        retries++;
        assert.ok(Date.now() - t0 < 60000, 'sends keep failing: ' + (r ? r.status + ' ' + r.text : 'no answer'));
        await sleep(100);
      }
      if (++sent === KILL_AT) {
        parkedOnC = established('c', PORT.poll);
        killed = killHost('c');
      }
      await sleep(5);
    }
  };
  await Promise.all(senders.map(send));
  await killed;
  const sendMs = Date.now() - t0;
  // Q's parked polls were cut with C; they are asked again on B and are
  // woken there by one message.
  const qm = await edge.post('/api/v1/messages', { token: senders[0].token, json: { to: Q.user.id, type: 'text', body: { text: 'for Q' }, client_id: 'q-1' } });
  assert.equal(qm.status, 201, qm.text);
  const qGot = await Promise.all(qPolls);
  for (const g of qGot) assert.deepEqual(g.events.filter((e) => e.type === 'message').map((e) => e.data.message.id), [qm.json.message.id]);
  const clients = pollers.map((p, i) => ['poll ' + i, p]).concat(streams.map((w, i) => ['socket ' + i, w]));
  const all = SENDERS * PER_SENDER;
  await until(() => clients.every(([, c]) => texts(c.events).length >= all), 20000,
    () => 'all messages at the clients (' + clients.map(([l, c]) => `${l}: ${texts(c.events).length}`).join(', ') + ')');
  await sleep(500);	// anything doubled arrives too
  for (const [, c] of clients) c.stop = true;
  for (const w of streams) if (w.sock) w.sock.ws.close();
  await Promise.all(clients.map(([, c]) => c.done));

  for (const [label, c] of clients) {
    exactlyOnce(texts(c.events), label);
    // Cursors only move forward: no event seen twice.
    const seqs = c.events.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), label + ': in order');
    assert.equal(new Set(seqs).size, seqs.length, label + ': no event twice');
  }
  // The sockets on C were cut and opened again (on B); those on B stayed.
  for (const w of onHost.c) assert.ok(w.reconnects >= 1, 'a socket on C reconnected');
  // The database holds each message once.
  for (const [i, s] of senders.entries()) {
    const conv = pollers[0].events.find((e) => e.type === 'message' && e.data.message.client_id === `s${i}-0`).data.message.conversation_id;
    const ids = (await allMessages(s, conv)).map((m) => m.client_id);
    assert.equal(ids.length, PER_SENDER);
    assert.equal(new Set(ids).size, PER_SENDER);
  }
  // Both hosts served before the kill; afterwards nginx moved requests
  // that met the dead host on to B.
  const lines = upstreamLog().slice(log0);
  const byC = lines.filter((l) => servedBy(l) === 'c').length;
  const movedOn = lines.filter((l) => l.includes(', ')).length;
  assert.ok(byC > 0, 'C served requests before it died');
  assert.ok(movedOn > 0, 'nginx moved requests from C to B:\n' + lines.slice(-10).join('\n'));
  console.log(`# ${SENDERS * PER_SENDER} messages in ${sendMs} ms; C served ${byC} of ${lines.length} requests; ` +
    `${movedOn} moved on from C by nginx; sender retries ${retries} (${dedup} answered 200: sent before, not again); ` +
    `${parkedOnC} polls parked on C when it died (Q's among them; Q's polls answered with errors: ` +
    `${qGot.map((g) => g.errors).join('+')}), R's poll retries ${pollers.map((p) => p.errors).join('+')}; ` +
    `sockets on B ${onHost.b.length}, on C ${onHost.c.length}, reconnects ${streams.map((w) => w.reconnects).join('+')}`);
});

test('C comes back and takes requests again', async () => {
  await startHost('c');
  const h = await onC.get('/api/v1/health');
  assert.equal(h.status, 200, h.text);
  const log0 = upstreamLog().length;
  const s = senders[0];
  const since = (await edge.poll(R, { timeout: 0 })).json.next;
  const end = Date.now() + 15000;
  let n = 0;
  let lines = [];
  const onCount = (re) => lines.filter((l) => servedBy(l) === 'c' && re.test(l)).length;
  while (Date.now() < end) {
    // A host that just started may still be connecting to the database
    // (503, Retry-After): the client retries with the same client_id.
    let r;
    for (let t = 0; t < 20; t++) {
      r = await edge.post('/api/v1/messages', { token: s.token, json: { to: R.user.id, type: 'text', body: { text: 'back ' + n }, client_id: 'back-' + n } });
      if (r.status !== 503) break;
      await sleep(200);
    }
    assert.ok(r.status === 201 || r.status === 200, r.text);
    n++;
    const e = await edge.poll(R, { since, timeout: 0 });
    assert.ok(e.status === 200 || e.status === 503, e.text);
    lines = upstreamLog().slice(log0);
    if (onCount(/ 201 POST \/api\/v1\/messages$/) >= 2 && onCount(/ 200 GET \/api\/v1\/events$/) >= 2) break;
    await sleep(100);
  }
  assert.ok(onCount(/ 201 POST \/api\/v1\/messages$/) >= 2, 'C took sends again:\n' + lines.slice(-10).join('\n'));
  assert.ok(onCount(/ 200 GET \/api\/v1\/events$/) >= 2, 'C took polls again:\n' + lines.slice(-10).join('\n'));
  // Everything sent since C came back is in R's stream, once.
  let events = [];
  let cur = since;
  for (;;) {
    const r = await edge.poll(R, { since: cur, timeout: 0, limit: 500 });
    if (r.json.events.length === 0) break;
    events = events.concat(r.json.events);
    cur = r.json.next;
  }
  const got = events.filter((e) => e.type === 'message').map((e) => e.data.message.body.text);
  assert.deepEqual(got, Array.from({ length: n }, (_, i) => 'back ' + i));
  console.log(`# C back: ${lines.filter((l) => servedBy(l) === 'c').length} of ${lines.length} requests served by C after ${n} sends; ` +
    `${stats.dbRetries} requests of this file retried after 503 database_unavailable`);
});
