// Deliveries wait in PostgreSQL: events queued while the dispatcher is down
// go out once it is back (serial: it stops the stack's dispatcher).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { stack, ROOT } = require('../lib');
const { newSite, siteUser, receiver, until } = require('../sites');

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
  const { execFileSync } = require('node:child_process');
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
  execFileSync(path.join(ROOT, 'scripts/parley'), ['restart-service', 'webhooks'],
    { stdio: 'pipe', env: Object.assign({}, process.env, { PARLEY_WEBHOOK_PRIVATE: 'deny' }) });
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
    const log = fs.readFileSync(logFile, 'utf8').slice(logStart);
    assert.match(log, /internal addresses refused/);
  } finally {
    stack('restart-service', 'webhooks');
  }
  await until(() => rx.got.length >= 1, 10000, 'the delivery once internal addresses are allowed');
  assert.equal(rx.got[0].event.data.message.body.text, 'to an internal hook');
  rx.close();
});
