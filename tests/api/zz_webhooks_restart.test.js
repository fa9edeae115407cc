// Deliveries wait in PostgreSQL: events queued while the dispatcher is down
// go out once it is back (serial: it stops the stack's dispatcher).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { stack } = require('../lib');
const { newSite, siteUser, receiver, until } = require('../sites');

test('events queued while parley-webhooks is stopped are delivered after it starts', async () => {
  const site = newSite('wz');
  const rx = await receiver(site);
  await site.req('PUT', '/api/v1/server/webhook', { url: rx.url + '/after-restart' });
  const a = await siteUser(site, 'za');
  const b = await siteUser(site, 'zb');
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  const pidFile = path.join(process.env.PARLEY_VAR, 'run', 'webhooks.pid');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  process.kill(pid, 'SIGKILL');               // no clean shutdown at all
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
  const { spawn } = require('node:child_process');
  const site = newSite('wp');
  const rx = await receiver(site);
  await site.req('PUT', '/api/v1/server/webhook', { url: rx.url.replace('127.0.0.1', 'localhost') + '/internal' });
  const a = await siteUser(site, 'pa');
  const b = await siteUser(site, 'pb');
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  const pidFile = path.join(process.env.PARLEY_VAR, 'run', 'webhooks.pid');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  process.kill(pid, 'SIGTERM');
  await until(() => { try { process.kill(pid, 0); return false; } catch (e) { return true; } }, 15000, 'the dispatcher to stop');
  let log = '';
  const strict = spawn(path.join(process.env.PARLEY_BIN, 'parley-webhooks'), [], {
    env: Object.assign({}, process.env, {
      PARLEY_WEBHOOK_PRIVATE: 'deny',
      DATABASE_URL: `postgresql://parley@/parley?host=${process.env.PARLEY_VAR}/pg/sock`,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  strict.stderr.on('data', (d) => { log += d; });
  try {
    const r = await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text: 'to an internal hook' } });
    assert.equal(r.status, 201);
    let d;
    await until(async () => {
      d = (await site.req('GET', '/api/v1/server/webhook/deliveries')).json.deliveries[0];
      return d && d.attempts >= 1 && d.last_error;
    }, 10000, 'a refused attempt');
    assert.match(d.last_error, /internal address/, JSON.stringify(d));
    assert.equal(d.state, 'pending');
    assert.equal(rx.got.length, 0, 'the receiver on 127.0.0.1 was never reached');
    assert.match(log, /internal addresses refused/);
  } finally {
    strict.kill('SIGTERM');
    await new Promise((r) => strict.once('exit', r));
  }
  stack('restart-service', 'webhooks');
  await until(() => rx.got.length >= 1, 10000, 'the delivery once internal addresses are allowed');
  assert.equal(rx.got[0].event.data.message.body.text, 'to an internal hook');
  rx.close();
});
