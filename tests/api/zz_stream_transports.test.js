// Exactly-once across transports: a client moves between the WebSocket
// (GET /api/v1/stream) and long-polling (GET /api/v1/events?since=) again
// and again while three senders write all the time. It leaves a socket in
// different ways (a clean close, a dropped connection, in the middle of a
// frame it had only partly processed) and always resumes from the last
// event it processed. Afterwards its record must equal the whole stream
// read by short polls: every event once, in seq order, nothing missed.
//
// A zz_ file (alone, after the others): three senders at full speed would
// slow down the timing tests running beside it.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { register, befriend } = require('../lib.js');
const { send, poll, head, drain } = require('../chat.js');
const { subscribe, closeAll } = require('../ws.js');

test.after(closeAll);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a client alternating between WebSocket and long-poll under 3 senders gets every event once, in order', async (t) => {
  const r = await register('xr');
  const senders = await Promise.all([register('xa'), register('xb'), register('xc')]);
  for (const s of senders) await befriend(s, r);
  const start = await head(r);

  // Three senders, each writing as fast as the stack takes it.
  let writing = true;
  const sentIds = [];
  const writers = senders.map(async (s, k) => {
    for (let i = 0; writing; i++) {
      const res = await send(s, { to: r.user.id, type: 'text', body: { text: `s${k} #${i}` } });
      assert.equal(res.status, 201, res.text);
      sentIds.push(res.json.message.id);
      if (i % 7 === 0) await sleep(5);
    }
  });

  const got = [];	// events processed, in the order processed
  let cursor = start;
  const take = (events) => {
    for (const e of events) {
      assert.equal(e.seq, cursor + 1, `event ${e.seq} follows ${cursor} (no gap, no repeat)`);
      got.push(e);
      cursor = e.seq;
    }
  };
  const ways = ['close', 'drop', 'partial', 'close', 'partial', 'drop', 'close', 'partial'];
  let wsEvents = 0;
  let pollEvents = 0;
  let partials = 0;
  for (const [round, how] of ways.entries()) {
    // WebSocket: subscribe from the cursor, process frames for a while.
    if (how === 'partial') await sleep(300);	// a backlog: a big first frame
    const { s, first } = await subscribe(r, cursor);
    if (how === 'partial') {
      // Processes half of the first frame, then goes away: the rest was
      // never processed and must come again after the cursor.
      assert.ok(first.events.length > 1, `a backlog after 300 ms: ${first.events.length} events`);
      const part = first.events.slice(0, Math.ceil(first.events.length / 2));
      take(part);
      wsEvents += part.length;
      partials++;
      s.kill();
    } else {
      take(first.events);
      wsEvents += first.events.length;
      const until = Date.now() + 400 + round * 60;
      while (Date.now() < until) {
        let f;
        try {
          f = await s.next(Math.max(1, until - Date.now()));
        } catch (e) {
          if (/no frame within/.test(e.message)) break;
          throw e;
        }
        take(f.events);
        wsEvents += f.events.length;
        s.ack(cursor);
      }
      if (how === 'drop') s.kill();
      else await s.shut();
    }
    // Long-poll: a few polls from the cursor.
    for (let i = 0; i < 3; i++) {
      const p = await poll(r, { since: cursor, timeout: 1, limit: 50 + 20 * i });
      assert.equal(p.status, 200, p.text);
      take(p.json.events);
      pollEvents += p.json.events.length;
      if (p.json.events.length > 0) assert.equal(p.json.next, cursor);
    }
  }
  writing = false;
  await Promise.all(writers);
  // The end of the stream over one more socket.
  const end = (await drain(r, start)).next;
  const { s, first } = await subscribe(r, cursor);
  take(first.events);
  while (cursor < end) take((await s.next()).events);
  await s.shut();

  t.diagnostic(`${got.length} events: ${wsEvents} over WebSocket, ${pollEvents} over long-poll, ` +
    `${got.length - wsEvents - pollEvents} at the end; ${sentIds.length} messages sent; ${partials} frames half processed`);
  assert.ok(wsEvents > 0 && pollEvents > 0, 'both transports carried events');
  const all = (await drain(r, start)).events;
  assert.deepEqual(got, all, 'the client saw the whole stream, each event once, in seq order');
  const ids = got.filter((e) => e.type === 'message').map((e) => e.data.message.id);
  assert.equal(new Set(ids).size, ids.length, 'no message twice');
  assert.deepEqual([...ids].sort((x, y) => x - y), [...sentIds].sort((x, y) => x - y), 'every message sent arrived');
});
