// Deliveries wait in PostgreSQL: events queued while the dispatcher is down
// go out once it is back. Internal addresses are refused unless allowed,
// by default too, in every spelling, and through a proxy (serial: these
// restart the stack's dispatcher with other settings).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { stack, ROOT } = require('../lib');
const { newSite, siteUser, receiver, until } = require('../sites');

// Restarts the stack's dispatcher with the test environment changed by
// `changes` (a value of undefined removes the variable).
function restartWebhooks(changes) {
  const env = Object.assign({}, process.env);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  execFileSync(path.join(ROOT, 'scripts/parley'), ['restart-service', 'webhooks'], { stdio: 'pipe', env });
}

// A site whose webhook is `url`, with two friends; send(text) queues one
// message.offline delivery.
async function hookedSite(prefix, url) {
  const site = newSite(prefix);
  const put = await site.req('PUT', '/api/v1/server/webhook', { url: typeof url === 'function' ? await url(site) : url, events: ['message.offline'] });
  assert.equal(put.status, 200, put.text);
  const a = await siteUser(site, prefix + 'a');
  const b = await siteUser(site, prefix + 'b');
  assert.equal((await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext })).status, 201);
  site.send = async (text) => {
    const r = await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text } });
    assert.equal(r.status, 201, r.text);
  };
  return site;
}

// The site's newest delivery once it has had an attempt.
async function attempted(site, what) {
  let d;
  await until(async () => {
    d = (await site.req('GET', '/api/v1/server/webhook/deliveries')).json.deliveries[0];
    return d && d.attempts >= 1 && (d.last_error || d.state === 'delivered');
  }, 15000, what);
  return d;
}

// Points the site's webhook at `url` (a new URL also ends any pause of
// the site's deliveries), queues one delivery and resolves it after its
// first attempt.
async function attemptAt(site, url) {
  const put = await site.req('PUT', '/api/v1/server/webhook', { url, events: ['message.offline'] });
  assert.equal(put.status, 200, put.text);
  await site.send('to ' + url);
  return attempted(site, 'an attempt at ' + url);
}

test('events queued while parley-webhooks is stopped are delivered after it starts', async () => {
  const site = newSite('wz');
  const rx = await receiver(site);
  await site.req('PUT', '/api/v1/server/webhook', { url: rx.url + '/after-restart' });
  const a = await siteUser(site, 'za');
  const b = await siteUser(site, 'zb');
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  // The dispatcher and its supervisor die (otherwise the supervisor would
  // start it again at once): no clean shutdown at all.
  const run = path.join(process.env.PARLEY_VAR, 'run');
  const pidIn = (f) => Number(fs.readFileSync(path.join(run, f), 'utf8').split(/\s+/)[0]);
  const sup = pidIn('webhooks.super');
  const pid = pidIn('webhooks.pid');
  process.kill(sup, 'SIGKILL');
  process.kill(pid, 'SIGKILL');
  await until(() => { try { process.kill(pid, 0); return false; } catch (e) { return true; } }, 5000, 'the dispatcher to die');
  for (let i = 0; i < 3; i++) {
    const r = await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text: 'queued ' + i } });
    assert.equal(r.status, 201);
  }
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(rx.got.length, 0, 'nothing is delivered while the dispatcher is down');
  const pending = (await site.req('GET', '/api/v1/server/webhook/deliveries?state=pending')).json.deliveries;
  assert.equal(pending.length, 3);
  stack('restart-service', 'webhooks');
  await until(() => rx.got.length >= 3, 10000, 'the queued deliveries');
  assert.deepEqual(rx.got.map((g) => g.event.data.message.body.text).sort(), ['queued 0', 'queued 1', 'queued 2']);
  assert.ok(rx.got.every((g) => g.verified));
  rx.close();
});

test('PARLEY_WEBHOOK_PRIVATE=deny: no delivery reaches an internal address; allow lets the queued one through', async () => {
  const site = newSite('wp');
  const rx = await receiver(site);
  await site.req('PUT', '/api/v1/server/webhook', { url: rx.url.replace('127.0.0.1', 'localhost') + '/internal' });
  const a = await siteUser(site, 'pa');
  const b = await siteUser(site, 'pb');
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  // The stack's dispatcher, restarted by its supervisor with
  // PARLEY_WEBHOOK_PRIVATE=deny (restart-service passes its environment).
  const logFile = path.join(process.env.PARLEY_VAR, 'log', 'webhooks.log');
  const logStart = fs.statSync(logFile).size;
  restartWebhooks({ PARLEY_WEBHOOK_PRIVATE: 'deny' });
  let d, reached;
  try {
    const r = await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text: 'to an internal hook' } });
    assert.equal(r.status, 201);
    await until(async () => {
      d = (await site.req('GET', '/api/v1/server/webhook/deliveries')).json.deliveries[0];
      return d && d.attempts >= 1 && d.last_error;
    }, 10000, 'a refused attempt');
    reached = rx.got.length;
  } finally {
    stack('restart-service', 'webhooks');
  }
  try {
    assert.equal(d.last_error, 'refused: internal address', JSON.stringify(d));
    assert.equal(d.state, 'pending');
    assert.equal(reached, 0, 'the receiver on 127.0.0.1 was never reached');
    const log = fs.readFileSync(logFile, 'utf8').slice(logStart);
    assert.match(log, /internal addresses refused/);
    await until(() => rx.got.length >= 1, 10000, 'the delivery once internal addresses are allowed');
    assert.equal(rx.got[0].event.data.message.body.text, 'to an internal hook');
  } finally {
    rx.close();
  }
});

test('by default (PARLEY_WEBHOOK_PRIVATE unset) every spelling of an internal address is refused', async () => {
  const site = await hookedSite('wd', 'https://example.com/none-yet');
  const rx = await receiver(site);
  const port = new URL(rx.url).port;
  const hosts = ['127.0.0.1', 'localhost', '0.0.0.0', '2130706433', '0x7f.1', '017700000001', '127.1',
    '[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[64:ff9b::7f00:1]', '[2002:7f00:1::1]',
    '169.254.169.254', '10.255.255.1', '192.168.255.1', '172.31.255.1', '100.64.0.1', '[fd00::1]', '[fe80::1]'];
  const logFile = path.join(process.env.PARLEY_VAR, 'log', 'webhooks.log');
  const logStart = fs.statSync(logFile).size;
  restartWebhooks({ PARLEY_WEBHOOK_PRIVATE: undefined });
  try {
    for (const h of hosts) {
      const d = await attemptAt(site, `http://${h}:${port}/internal`);
      assert.equal(d.last_error, 'refused: internal address', h + ': ' + JSON.stringify(d));
      assert.equal(d.last_status, null);
      assert.equal(d.state, 'pending');
    }
    assert.equal(rx.got.length, 0, 'the receiver on 127.0.0.1 was never reached');
    assert.match(fs.readFileSync(logFile, 'utf8').slice(logStart), /internal addresses refused/);
  } finally {
    await site.req('DELETE', '/api/v1/server/webhook');
    restartWebhooks({});
    rx.close();
  }
});

// A stand-in for a forward proxy: records what it is asked for (a
// proxied request names the whole target URL) and answers 204.
function fakeProxy() {
  const got = [];
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got.push({ method: req.method, url: req.url, headers: req.headers });
      res.writeHead(204);
      res.end();
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${srv.address().port}`, got, close: () => srv.close(),
  })));
}

test('proxy variables in the environment are ignored; PARLEY_WEBHOOK_PROXY checks the target, not the proxy', async () => {
  const proxy = await fakeProxy();
  const envProxy = { http_proxy: proxy.url, HTTP_PROXY: proxy.url, https_proxy: proxy.url, HTTPS_PROXY: proxy.url, all_proxy: proxy.url, ALL_PROXY: proxy.url };
  let rx;
  const direct = await hookedSite('wx', async (site) => (rx = await receiver(site)).url + '/direct');
  try {
    // With internal addresses allowed and every proxy variable set, the
    // delivery still goes straight to the receiver.
    restartWebhooks(Object.assign({ PARLEY_WEBHOOK_PRIVATE: 'allow' }, envProxy));
    await direct.send('not through the proxy');
    await until(() => rx.got.length >= 1, 10000, 'the direct delivery');
    assert.equal(rx.got[0].url, '/direct');
    assert.ok(rx.got[0].verified);
    assert.equal(proxy.got.length, 0, 'the proxy was not used: ' + JSON.stringify(proxy.got));

    // An explicit proxy, internal addresses refused (the default): the
    // target is checked, however it is spelled, and never reaches the
    // proxy; a public target goes through it, signed.
    restartWebhooks({ PARLEY_WEBHOOK_PRIVATE: undefined, PARLEY_WEBHOOK_PROXY: proxy.url });
    const port = new URL(rx.url).port;
    for (const h of ['127.0.0.1', '2130706433', 'localhost', '[::ffff:127.0.0.1]', '[64:ff9b::a00:1]']) {
      const d = await attemptAt(direct, `http://${h}:${port}/through-proxy`);
      assert.equal(d.last_error, 'refused: internal address', h + ': ' + JSON.stringify(d));
    }
    await direct.req('DELETE', '/api/v1/server/webhook');
    const d = await attemptAt(await hookedSite('wo', 'https://example.com/none-yet'), 'http://203.0.113.7/public-hook?x=1');
    assert.equal(d.state, 'delivered', JSON.stringify(d));
    assert.equal(proxy.got.length, 1, JSON.stringify(proxy.got.map((g) => g.url)));
    assert.equal(proxy.got[0].method, 'POST');
    assert.equal(proxy.got[0].url, 'http://203.0.113.7/public-hook?x=1');
    assert.match(proxy.got[0].headers['x-parley-site'], /^wo-/);
    assert.ok(proxy.got[0].headers['x-parley-signature']);
    assert.equal(rx.got.length, 1, 'the internal receiver was reached only directly, before');
  } finally {
    restartWebhooks({});
    proxy.close();
    rx.close();
  }
});

test('a stopping dispatcher hands back what it has in flight: the restart is quick and the next one retries at once', async () => {
  // A receiver that accepts and never answers (PARLEY_WEBHOOK_TIMEOUT is 10 s).
  const socks = new Set();
  let accepted = 0;
  const hole = net.createServer((c) => { accepted++; socks.add(c); c.on('error', () => {}); c.resume(); });
  await new Promise((r) => hole.listen(0, '127.0.0.1', r));
  const site = await hookedSite('wh', `http://127.0.0.1:${hole.address().port}/hang`);
  try {
    await site.send('in flight at the stop');
    await until(() => accepted >= 1, 10000, 'the delivery to be in flight');
    const t0 = Date.now();
    restartWebhooks({});
    const took = Date.now() - t0;
    assert.ok(took < 5000, `the restart took ${took} ms`);
    await until(() => accepted >= 2, 5000, 'the handed-back delivery to be tried again');
    const d = (await site.req('GET', '/api/v1/server/webhook/deliveries')).json.deliveries[0];
    assert.equal(d.state, 'pending');
    assert.equal(d.attempts, 2);
  } finally {
    await site.req('DELETE', '/api/v1/server/webhook');
    hole.close();
    for (const c of socks) c.destroy();
  }
});

test('a dispatcher killed mid-attempt: the next one takes its deliveries back at once and the site is not held at its limit', async () => {
  const perSite = Number(process.env.PARLEY_WEBHOOK_PER_SITE || 4);
  const socks = new Set();
  let accepted = 0;
  const hole = net.createServer((c) => { accepted++; socks.add(c); c.on('error', () => {}); c.resume(); });
  await new Promise((r) => hole.listen(0, '127.0.0.1', r));
  const site = await hookedSite('wk', `http://127.0.0.1:${hole.address().port}/hang`);
  try {
    for (let i = 0; i < perSite + 2; i++) await site.send('queued ' + i);
    await until(() => accepted >= perSite, 10000, 'the site\'s limit of deliveries in flight');
    // kill -9: nothing is handed back; its supervisor starts a new one.
    const pidFile = path.join(process.env.PARLEY_VAR, 'run', 'webhooks.pid');
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split(/\s+/)[0]);
    process.kill(pid, 'SIGKILL');
    for (const c of socks) c.destroy();
    const before = accepted;
    // Its leases run for 50 s; the next dispatcher must not wait for them.
    await until(() => accepted >= before + perSite, 8000, 'the next dispatcher to try again');
  } finally {
    await site.req('DELETE', '/api/v1/server/webhook');
    hole.close();
    for (const c of socks) c.destroy();
  }
});
