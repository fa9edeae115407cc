// Webhooks are fair across sites: a site whose receiver never answers
// holds at most PARLEY_WEBHOOK_PER_SITE deliveries in flight and does not
// delay another site's; a site whose receiver keeps failing is paused,
// and one success resumes it.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { stack } = require('../lib');
const { newSite, siteUser, receiver, until } = require('../sites');

const PER_SITE = Number(process.env.PARLEY_WEBHOOK_PER_SITE || 4);
const sql = (q) => stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', q).trim();

// A receiver that accepts connections, reads what comes and never
// answers. Counts connections: accepted, open now, most open at once.
function blackhole() {
  const socks = new Set();
  const st = { accepted: 0, open: 0, maxOpen: 0 };
  const srv = net.createServer((s) => {
    st.accepted++;
    st.open++;
    st.maxOpen = Math.max(st.maxOpen, st.open);
    socks.add(s);
    s.on('error', () => {});
    s.on('close', () => { st.open--; socks.delete(s); });
    s.resume();
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${srv.address().port}`,
    st,
    close: () => { srv.close(); for (const s of socks) s.destroy(); },
  })));
}

// A site whose webhook (message.offline only) is `hook(site)`'s URL, with
// two friends of its own; send(text) queues one delivery (b is offline).
async function hookedSite(prefix, hook) {
  const site = newSite(prefix);
  const url = await hook(site);
  const put = await site.req('PUT', '/api/v1/server/webhook', { url, events: ['message.offline'] });
  assert.equal(put.status, 200, put.text);
  const a = await siteUser(site, prefix + 'a');
  const b = await siteUser(site, prefix + 'b');
  assert.equal((await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext })).status, 201);
  const send = async (text) => {
    const r = await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text } });
    assert.equal(r.status, 201, r.text);
  };
  return { site, send };
}

const textOf = (g) => g.event.data.message.body.text;

test('a site whose receiver never answers does not delay another site\'s deliveries', async (t) => {
  const hole = await blackhole();
  let rx;
  const A = await hookedSite('fa', async () => hole.url + '/never');
  const B = await hookedSite('fb', async (site) => (rx = await receiver(site)).url + '/b');
  // From queueing one event of B's to its arrival.
  const deliverB = async (text) => {
    const t0 = Date.now();
    await B.send(text);
    await until(() => rx.got.some((g) => textOf(g) === text), 60000, 'B\'s delivery: ' + text);
    return Date.now() - t0;
  };
  try {
    const unloaded = await deliverB('unloaded');
    // 64 deliveries for A, whose receiver holds every connection.
    for (let i = 0; i < 64; i += 8) {
      await Promise.all(Array.from({ length: 8 }, (_, j) => A.send('for A ' + (i + j))));
    }
    await until(() => hole.st.accepted >= 1, 10000, 'A\'s deliveries in flight');
    const loaded = await deliverB('while A hangs');
    t.diagnostic(`B delivered in ${unloaded} ms alone, ${loaded} ms with 64 of A's queued`);
    assert.ok(loaded < 3000, `B's delivery took ${loaded} ms with A's queue (${unloaded} ms without)`);
    assert.ok(hole.st.maxOpen <= PER_SITE, `A had ${hole.st.maxOpen} connections at once (limit ${PER_SITE})`);
    assert.ok(rx.got.every((g) => g.verified));

    // What A is told about its hung receiver, once the first attempts
    // time out: "timeout", nothing more.
    let ds;
    await until(async () => {
      ds = (await A.site.req('GET', '/api/v1/server/webhook/deliveries?limit=500')).json.deliveries;
      return ds.some((d) => d.last_error);
    }, 40000, 'A\'s first attempts to time out');
    const errors = [...new Set(ds.map((d) => d.last_error).filter((e) => e))];
    assert.deepEqual(errors, ['timeout'], JSON.stringify(ds.filter((d) => d.last_error)[0]));
    assert.ok(hole.st.maxOpen <= PER_SITE, `A had ${hole.st.maxOpen} connections at once (limit ${PER_SITE})`);
  } finally {
    // A's backlog fails at once without a URL.
    await A.site.req('DELETE', '/api/v1/server/webhook');
    hole.close();
    rx.close();
  }
});

test('a site whose receiver keeps failing is paused; one success resumes it', async () => {
  let status = 500;
  const at = [];		// when each request arrived (rx.got's order)
  let rx;
  const S = await hookedSite('fp', async (site) => (rx = await receiver(site, () => { at.push(Date.now()); return status; })).url + '/p');
  const id = sql(`SELECT id FROM sites WHERE name = '${S.site.name}'`);
  const state = () => {
    const [streak, pauses, untilMs] = sql(`SELECT fail_streak, pauses,
      coalesce(extract(epoch FROM paused_until) * 1000, 0)::bigint
      FROM webhook_sites WHERE site_id = ${id}`).split('|').map(Number);
    return { streak, pauses, untilMs };
  };
  try {
    for (let i = 0; i < 3; i++) await S.send('fail ' + i);
    await until(() => state().streak >= 3, 15000, 'three failures in a row');
    const paused = state();
    assert.ok(paused.pauses >= 1 && paused.untilMs > 0, 'paused after three failures: ' + JSON.stringify(paused));
    // A new event of a paused site waits for the pause to end.
    await S.send('during a pause');
    await until(() => rx.got.some((g) => textOf(g) === 'during a pause'), 30000, 'the event sent during a pause');
    const first = at[rx.got.findIndex((g) => textOf(g) === 'during a pause')];
    assert.ok(first >= paused.untilMs - 50, `attempted ${paused.untilMs - first} ms before the pause ended`);

    // The receiver is back: the first success ends the streak and the
    // pauses, and the backlog goes out.
    status = 204;
    const texts = ['fail 0', 'fail 1', 'fail 2', 'during a pause'];
    await until(() => texts.every((x) => rx.got.some((g) => textOf(g) === x && g.status === 204)), 30000, 'every delivery once the receiver is back');
    assert.deepEqual(state(), { streak: 0, pauses: 0, untilMs: 0 });
  } finally {
    rx.close();
  }
});
