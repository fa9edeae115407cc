// Backpressure on the WebSocket gateway: a client that stops reading while
// large messages keep coming is dropped once its queue in the gateway
// passes PARLEY_GATEWAY_MAX_UNSENT (1 MiB), never buffered without bound;
// everyone else is served meanwhile; and a fresh socket from the last
// event the client processed gets the rest exactly once. Runs with the
// default limit (no restart): the kernel's and nginx's buffers fill first,
// so it takes a few megabytes of 8 KiB messages.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, register, befriend, ROOT } = require('../lib.js');
const { sendText, drain, ofType } = require('../chat.js');
const { subscribe, closeAll } = require('../ws.js');

test.after(closeAll);

const VAR = process.env.PARLEY_VAR || path.join(ROOT, 'var');
const GATEWAY_LOG = path.join(VAR, 'log', 'gateway.log');
const MAX_UNSENT = Number(process.env.PARLEY_GATEWAY_MAX_UNSENT || 1024 * 1024);
const TEXT_MAX = 8192;	// shared/msgbody.h: bytes of body.text

function logSince(offset) {
  const fd = fs.openSync(GATEWAY_LOG, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

test('a socket that stops reading is dropped at the queue limit; others are served; a resume gets the rest once', async (t) => {
  const [a, b] = await Promise.all([register('sra'), register('srb')]);
  const c = await register('src');
  await befriend(a, b);
  await befriend(c, b);
  const { s, first } = await subscribe(a, null);
  const h = first.next;
  const other = (await subscribe(c, null)).s;
  const logAt = fs.statSync(GATEWAY_LOG).size;
  const dropLine = new RegExp(`user ${a.user.id} session ${a.session}: (\\d+) bytes unsent, dropping the socket`);

  // a stops reading: the socket stays open, nothing is consumed.
  s.ws._socket.pause();
  const text = 'z'.repeat(TEXT_MAX);
  let sent = 0;
  let dropped = null;
  const lat = [];
  const flood = async () => {
    while (!dropped && sent < 4000) {
      sent++;
      const r = await api.post('/api/v1/messages', { token: b.token, json: { to: a.user.id, type: 'text', body: { text } } });
      assert.equal(r.status, 201, r.text);
      if (sent % 25 === 0) {
        const m = dropLine.exec(logSince(logAt));
        if (m) dropped = Number(m[1]);
      }
    }
  };
  // Meanwhile c gets small messages live, well within a second or two.
  const probe = async () => {
    for (let i = 0; !dropped && i < 200; i++) {
      const t0 = Date.now();
      const m = await sendText(b, c, `probe ${i}`);
      await other.until(ofType('message', (d) => d.message.id === m.id), 5000);
      lat.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const t0 = Date.now();
  await Promise.all([flood(), flood(), flood(), probe()]);
  t.diagnostic(`dropped after ${sent} messages, ${Date.now() - t0} ms`);
  assert.ok(dropped, `the gateway dropped the stalled socket (${sent} messages of ${TEXT_MAX} bytes sent)`);
  // Bounded: the limit plus at most the one batch that crossed it.
  assert.ok(dropped > MAX_UNSENT && dropped < MAX_UNSENT + 100 * (TEXT_MAX + 512),
    `queue at the drop: ${dropped} bytes (limit ${MAX_UNSENT})`);
  assert.ok(lat.length > 0, 'the other socket was probed');
  lat.sort((x, y) => x - y);
  assert.ok(lat[lat.length - 1] < 3000, `the other socket's messages took up to ${lat[lat.length - 1]} ms`);

  // a reads again: what was already on its way, then the end without a
  // close frame (none fits behind a full queue).
  s.ws._socket.resume();
  const t1 = Date.now();
  const end = await s.ended(30000);
  t.diagnostic(`the dropped socket ended ${Date.now() - t1} ms after reading again`);
  assert.equal(end.code, 1006);
  const seen = s.seen;
  assert.ok(seen.length > 0, 'some events reached a before the drop');
  for (let i = 0; i < seen.length; i++) assert.equal(seen[i].seq, h + 1 + i, 'in order, no gap, no repeat');
  const all = (await drain(a, h)).events;
  assert.equal(all.length, sent);
  assert.ok(seen.length < all.length, `not everything arrived before the drop (${seen.length} of ${all.length})`);

  t.diagnostic(`drained ${Date.now() - t1} ms after reading again`);
  // Resumed from the last processed event: the rest, each once.
  const last = seen[seen.length - 1].seq;
  const r = await subscribe(a, last);
  let rest = r.first.events.slice();
  while (rest.length < all.length - seen.length) {
    const f = await r.s.next(20000);
    rest = rest.concat(f.events);
  }
  t.diagnostic(`resumed ${Date.now() - t1} ms after reading again`);
  assert.deepEqual(seen.concat(rest), all, 'everything exactly once, in seq order');
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(r.s.frames.length, r.s.pos, 'nothing more after the end of the stream');
  await Promise.all([r.s.shut(), other.shut()]);
});
