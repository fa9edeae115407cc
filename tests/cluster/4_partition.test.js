// Host C lost without a word: its link goes down, so nothing answers and
// nothing resets (unlike kill -9, where C's kernel resets every
// connection). With the edge's 1 s connect timeout (scripts/test-cluster.sh;
// nginx's default is 60 s) a request meant for C reaches B within about a
// second; a poll parked on C is given up by the client after its own
// deadline and asked again from its cursor. Every message arrives once.
// Then the link comes back and C, whose processes never stopped, serves
// and wakes again.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { edge, onB, onC, cutHost, mendHost, established, PORT, register, befriend, sleep } = require('./hosts.js');

const N = 40;

test('C cut off: sends reach B within the connect timeout, pollers resume from their cursors, nothing lost or doubled', async () => {
  const [r, s] = await Promise.all([register('cpr'), register('cps')]);
  await befriend(s, r);
  // Pollers with their own deadline: 5 s polls, given up after 8 s.
  const cur0 = (await edge.poll(r, { timeout: 0 })).json.next;
  const poller = () => {
    const p = { events: [], abandoned: 0, stop: false, cur: cur0 };
    p.done = (async () => {
      while (!p.stop) {
        let res = null;
        try { res = await edge.poll(r, { since: p.cur, timeout: 5 }, { timeout: 8000 }); } catch (e) { res = null; }
        if (!res || res.status !== 200) { p.abandoned++; continue; }
        p.events.push(...res.json.events);
        p.cur = res.json.next;
      }
    })();
    return p;
  };
  const pollers = [poller(), poller(), poller()];
  const wait = Date.now() + 8000;
  while (established('c', PORT.poll) === 0 && Date.now() < wait) await sleep(100);
  await cutHost('c');
  // Polls that were parked on C when the link went: C still holds their
  // connections (nothing can close them now).
  const stranded = established('c', PORT.poll);
  let slowest = 0;
  let retries = 0;
  try {
    for (let k = 0; k < N; k++) {
      const json = { to: r.user.id, type: 'text', body: { text: 'cut ' + k }, client_id: 'cut-' + k };
      for (;;) {
        const t0 = Date.now();
        let res = null;
        try { res = await edge.post('/api/v1/messages', { token: s.token, json, timeout: 5000 }); } catch (e) { res = null; }
        slowest = Math.max(slowest, Date.now() - t0);
        if (res && (res.status === 201 || res.status === 200)) break;
        retries++;
        assert.ok(retries < 20, 'sends keep failing: ' + (res ? res.status + ' ' + res.text : 'no answer'));
        await sleep(100);
      }
    }
    const end = Date.now() + 15000;
    const got = (p) => p.events.filter((e) => e.type === 'message').length;
    while (pollers.some((p) => got(p) < N) && Date.now() < end) await sleep(100);
    // A stranded poll is given up by its client 8 s after it was asked.
    while (pollers.reduce((n, p) => n + p.abandoned, 0) < stranded && Date.now() < end) await sleep(100);
  } finally {
    await mendHost('c');
  }
  await sleep(300);
  for (const p of pollers) p.stop = true;
  await Promise.all(pollers.map((p) => p.done));
  for (const p of pollers) {
    const ids = p.events.filter((e) => e.type === 'message').map((e) => e.data.message.client_id);
    assert.deepEqual(ids, Array.from({ length: N }, (_, k) => 'cut-' + k), 'each message once, in order');
  }
  const abandoned = pollers.reduce((n, p) => n + p.abandoned, 0);
  assert.ok(abandoned >= stranded, `${stranded} polls stranded on C, ${abandoned} given up`);
  assert.ok(slowest < 4000, `a send waited ${slowest} ms (the connect timeout is 1 s)`);

  // C's processes lived through it: it serves, and a send through C wakes
  // a poll parked on B.
  const h = await onC.get('/api/v1/health', { timeout: 10000 });
  assert.equal(h.status, 200, h.text);
  const since = (await onB.poll(r, { timeout: 0 })).json.next;
  const parked = onB.poll(r, { since, timeout: 10 });
  await sleep(300);
  const m = await onC.post('/api/v1/messages', { token: s.token, json: { to: r.user.id, type: 'text', body: { text: 'C again' } }, timeout: 10000 });
  assert.equal(m.status, 201, m.text);
  const got = await parked;
  assert.ok(got.json.events.some((e) => e.type === 'message' && e.data.message.id === m.json.message.id), got.text);
  console.log(`# C cut off: ${N} sends, slowest ${slowest} ms, ${retries} retried; ${stranded} polls stranded on C, ${abandoned} given up by their clients and asked again`);
});
