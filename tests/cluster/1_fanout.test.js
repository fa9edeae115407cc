// Across hosts: a message sent through service host B wakes a long poll
// parked on host C and reaches a WebSocket on C's gateway. Both hosts
// share nothing but the database: the wake-up is PostgreSQL's NOTIFY.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { onB, onC, openStream, upstreamLog, logged, servedBy, sleep, register, befriend, stats } = require('./hosts.js');

test('a message sent through B reaches a poll parked on C and a WebSocket on C', async () => {
  const [a, b] = await Promise.all([register('cfa'), register('cfb')]);
  await befriend(a, b);
  const h = await onC.poll(a, { timeout: 0 });
  assert.equal(h.status, 200, h.text);
  const since = h.json.next;

  const s = await openStream(onC.base, a.token);
  s.ws.send(JSON.stringify({ since }));
  await s.until((x) => x.frames.length >= 1);

  const logC = upstreamLog('edge-c').length;
  const logB = upstreamLog('edge-b').length;
  const parked = onC.poll(a, { since, timeout: 20 });
  await sleep(500);	// parked on C's poll service by now
  const t0 = Date.now();
  const r = await onB.post('/api/v1/messages', { token: b.token, json: { to: a.user.id, type: 'text', body: { text: 'from B' }, client_id: 'fan-1' } });
  assert.equal(r.status, 201, r.text);
  const got = await parked;
  const pollMs = Date.now() - t0;
  assert.equal(got.status, 200, got.text);
  const m = got.json.events.find((e) => e.type === 'message');
  assert.ok(m, 'the parked poll answered with the message: ' + got.text);
  assert.equal(m.data.message.id, r.json.message.id);
  assert.ok(pollMs < 5000, `woken in ${pollMs} ms, not by its timeout`);

  await s.until((x) => x.events.some((e) => e.type === 'message' && e.data.message.id === r.json.message.id));
  const wsMs = Date.now() - t0;
  s.ws.close();
  // Who served what, from the edge's logs: the send on B's messages, the
  // poll and the socket on C.
  await logged('edge-c', logC, (l) => / 200 GET \/api\/v1\/events$/.test(l) && servedBy(l) === 'c');
  await logged('edge-b', logB, (l) => / 201 POST \/api\/v1\/messages$/.test(l) && servedBy(l) === 'b');
  console.log(`# B -> C: poll woken in ${pollMs} ms, WebSocket in ${wsMs} ms; ${stats.dbRetries} retried after a 503 (database)`);
});
