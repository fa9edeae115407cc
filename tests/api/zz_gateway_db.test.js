// The WebSocket gateway while PostgreSQL goes away and comes back, with the
// same gateway processes throughout: open sockets stay open; what needs the
// database answers "unavailable" (HTTP 503 at the upgrade, close 4503 on a
// socket); an ack given meanwhile is written once the database is back;
// each worker's LISTEN connection comes back by itself, so hints flow to
// the sockets opened before the outage and to new ones.
//
// Stops the test stack's PostgreSQL: a zz_ file, run alone.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, register, befriend, assertError, stack, ROOT } = require('../lib.js');
const { sendText, head, waitEvent, ofType } = require('../chat.js');
const { open, refused, subscribe, assertClosed, closeAll } = require('../ws.js');

test.after(closeAll);

const VAR = process.env.PARLEY_VAR || path.join(ROOT, 'var');
const GATEWAY_LOG = path.join(VAR, 'log', 'gateway.log');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let stopped = false;
test.after(() => {
  if (stopped) stack('pg-start');
});

function gatewayPid() {
  return fs.readFileSync(path.join(VAR, 'run', 'gateway.pid'), 'utf8').split(/\s+/)[0];
}

test('PostgreSQL stops and starts: sockets stay, refusals say unavailable, acks and hints resume', {
  skip: !process.env.PARLEY_URL || !process.env.PARLEY_VAR ? 'needs PARLEY_URL and PARLEY_VAR of the test stack' : false,
}, async (t) => {
  const [a, b] = await Promise.all([register('gda'), register('gdb')]);
  await befriend(a, b);
  const ha = await head(a);
  const hb = await head(b);
  const pid = gatewayPid();
  // b has a socket; a message reaches it.
  const sb = (await subscribe(b, hb)).s;
  const m0 = await sendText(a, b, 'before');
  const e0 = await sb.until(ofType('message', (d) => d.message.id === m0.id));
  // A socket that authenticated but has not subscribed yet.
  const hello = await open({ token: b.token });
  const logAt = fs.statSync(GATEWAY_LOG).size;

  stack('pg-stop');
  stopped = true;
  const t0 = Date.now();
  try {
    await sleep(500);
    // The upgrade needs the database for the token: 503, JSON, Retry-After.
    const r = await refused({ token: b.token });
    assertError(assert, r, 503, 'unavailable');
    assert.ok(Number(r.headers['retry-after']) > 0, 'Retry-After');
    // The token in the first frame: close 4503.
    const s1 = await open({});
    s1.send({ token: b.token, since: hb });
    await assertClosed(s1, 4503, 'unavailable');
    // Subscribing needs the database too.
    hello.send({ since: hb });
    await assertClosed(hello, 4503, 'unavailable');
    // The open socket stays open, and its ack is kept for later.
    sb.ack(e0.event.seq);
    await sleep(3000);
    assert.equal(sb.close, null, 'the subscribed socket is still open');
  } finally {
    stack('pg-start');
    stopped = false;
  }
  const down = Date.now() - t0;
  t.diagnostic(`PostgreSQL was down ${down} ms`);

  // The kept ack reaches a as a receipt once the database is back.
  const d = await waitEvent(a, ha, ofType('message.delivered', (x) => x.seq === m0.seq), 15000);
  assert.equal(d.event.data.user_id, b.user.id);
  // Hints flow again to the socket from before the outage...
  const t1 = Date.now();
  let m1;
  for (;;) {
    m1 = await sendText(a, b, 'after');
    try {
      await sb.until(ofType('message', (x) => x.message.id === m1.id), 3000);
      break;
    } catch (e) {
      assert.ok(Date.now() - t1 < 15000, 'the old socket gets live events again within 15 s: ' + e.message);
    }
  }
  t.diagnostic(`live again on the old socket ${Date.now() - t1} ms after pg-start`);
  // ... and a socket opened afterwards works and gets live events.
  const { s: s2, first } = await subscribe(b, null);
  assert.deepEqual(first.events, []);
  const m2 = await sendText(a, b, 'new socket');
  const got = await s2.until(ofType('message', (x) => x.message.id === m2.id), 5000);
  assert.equal(got.event.data.message.body.text, 'new socket');
  await sb.until(ofType('message', (x) => x.message.id === m2.id), 5000);
  // Both workers are back on LISTEN: sockets on either get hints (the
  // accept lock makes placement uneven, so open several).
  const many = await Promise.all(Array.from({ length: 6 }, () => subscribe(b, null)));
  const m3 = await sendText(a, b, 'to all');
  for (const { s } of many) await s.until(ofType('message', (x) => x.message.id === m3.id), 5000);

  assert.equal(gatewayPid(), pid, 'the gateway was not restarted');
  // An outage is logged, not a line per tick.
  const log = fs.readFileSync(GATEWAY_LOG, 'utf8').slice(logAt);
  const lines = log.split('\n').filter((l) => / gateway (warn|error)/.test(l));
  t.diagnostic(`${lines.length} warnings during the outage`);
  assert.ok(lines.length < 30, `${lines.length} warnings for an outage of ${down} ms:\n${lines.slice(0, 40).join('\n')}`);
  assert.doesNotMatch(log, /AddressSanitizer|runtime error/);
  await Promise.all([sb.shut(), s2.shut(), ...many.map(({ s }) => s.shut())]);
});
