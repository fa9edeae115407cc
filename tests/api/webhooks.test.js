// Webhooks: which events are queued, how deliveries are signed, retried,
// acknowledged and given up. A receiver in this process checks every
// signature with the site's secret.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { api, assertError } = require('../lib');
const { head } = require('../chat');
const { newSite, siteUser, login, receiver, until } = require('../sites');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('message.offline, friend.request and call.missed arrive signed, once acknowledged', async () => {
  const site = newSite('wh');
  const rx = await receiver(site);
  const put = await site.req('PUT', '/api/v1/server/webhook', { url: rx.url + '/hooks/parley?src=test' });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.json.webhook.events, ['message.offline', 'call.missed', 'friend.request']);
  const a = await login(site, await siteUser(site, 'wa'));
  const b = await siteUser(site, 'wb');          // never online
  const c = await login(site, await siteUser(site, 'wc'));
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: c.ext });
  await head(c);                                 // c polled: online now
  await head(a);

  const m = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'text', body: { text: 'you there?' } } });
  assert.equal(m.status, 201, m.text);
  const mc = await api.post('/api/v1/messages', { token: a.token, json: { to: c.user.id, type: 'text', body: { text: 'online one' } } });
  assert.equal(mc.status, 201);
  await until(() => rx.got.some((g) => g.event.type === 'message.offline'), 10000, 'message.offline');
  const off = rx.got.find((g) => g.event.type === 'message.offline');
  assert.ok(off.verified, 'signature verifies with the site secret');
  assert.equal(off.url, '/hooks/parley?src=test');
  assert.equal(off.headers['x-parley-site'], site.name);
  assert.equal(off.headers['x-parley-event'], 'message.offline');
  assert.equal(off.headers['x-parley-event-id'], String(off.event.id));
  assert.equal(off.headers['content-type'], 'application/json');
  assert.equal(off.event.site, site.name);
  assert.equal(off.event.data.user.external_id, b.ext);
  assert.equal(off.event.data.user.id, b.user.id);
  assert.equal(off.event.data.from.external_id, a.ext);
  assert.equal(off.event.data.message.id, m.json.message.id);
  assert.equal(off.event.data.message.body.text, 'you there?');
  assert.match(off.event.created_at, /^\d{4}-\d\d-\d\dT/);

  // A friend request to b (a user-made request, not an import).
  const d = await login(site, await siteUser(site, 'wd'));
  const fr = await api.post('/api/v1/friends/requests', { token: d.token, json: { user_id: b.user.id, memo: 'hello b' } });
  assert.equal(fr.status, 201, fr.text);
  await until(() => rx.got.some((g) => g.event.type === 'friend.request'), 10000, 'friend.request');
  const fre = rx.got.find((g) => g.event.type === 'friend.request');
  assert.ok(fre.verified);
  assert.equal(fre.event.data.user.external_id, b.ext);
  assert.equal(fre.event.data.from.external_id, d.ext);
  assert.equal(fre.event.data.request.memo, 'hello b');

  // A call to b, who is offline: refused at once, and missed.
  const call = await api.post('/api/v1/calls', { token: a.token, json: { to: b.user.id, media: 'video' } });
  assert.equal(call.status, 409, call.text);
  await until(() => rx.got.some((g) => g.event.type === 'call.missed'), 10000, 'call.missed');
  const cm = rx.got.find((g) => g.event.type === 'call.missed');
  assert.ok(cm.verified);
  assert.equal(cm.event.data.user.external_id, b.ext);
  assert.equal(cm.event.data.from.external_id, a.ext);
  assert.equal(cm.event.data.call.media, 'video');
  assert.equal(cm.event.data.call.reason, 'callee_offline');

  // c was online: no message.offline for c; the call record did not
  // count as a message.offline either.
  await sleep(800);
  assert.equal(rx.got.filter((g) => g.event.type === 'message.offline').length, 1,
    JSON.stringify(rx.got.map((g) => [g.event.type, g.event.data.user.external_id])));
  const dl = await site.req('GET', '/api/v1/server/webhook/deliveries?state=delivered');
  assert.equal(dl.status, 200);
  assert.equal(dl.json.deliveries.length, 3);
  assert.ok(dl.json.deliveries.every((x) => x.state === 'delivered' && x.attempts === 1 && x.last_status === 200));
  rx.close();
});

test('a failed delivery is retried with the same event id until a 2xx', async () => {
  const site = newSite('wr');
  // 500 first, then a refused status, then yes.
  const rx = await receiver(site, (ev, n) => (n === 1 ? 500 : n === 2 ? 404 : 204));
  await site.req('PUT', '/api/v1/server/webhook', { url: rx.url + '/h', events: ['message.offline'] });
  const a = await siteUser(site, 'ra');
  const b = await siteUser(site, 'rb');
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  const sent = await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text: 'retry me' } });
  assert.equal(sent.status, 201);
  await until(() => rx.got.some((g) => g.status === 204), 15000, 'the third attempt');
  const tries = rx.got.filter((g) => g.event.data.user.external_id === b.ext);
  assert.deepEqual(tries.map((g) => g.status), [500, 404, 204]);
  assert.equal(new Set(tries.map((g) => g.event.id)).size, 1, 'one event id for every attempt');
  assert.ok(tries.every((g) => g.verified));
  assert.equal(new Set(tries.map((g) => g.headers['x-parley-nonce'])).size, 3, 'a new nonce per attempt');
  await sleep(300);
  const d = await site.req('GET', '/api/v1/server/webhook/deliveries');
  assert.equal(d.json.deliveries.length, 1);
  assert.equal(d.json.deliveries[0].state, 'delivered');
  assert.equal(d.json.deliveries[0].attempts, 3);
  // Only message.offline was asked for: a friend request is not sent.
  const u = await login(site, await siteUser(site, 'rc'));
  assert.equal((await api.post('/api/v1/friends/requests', { token: u.token, json: { user_id: b.user.id } })).status, 201);
  await sleep(800);
  assert.equal(rx.got.filter((g) => g.event.type === 'friend.request').length, 0);
  rx.close();
});

test('a receiver that never answers 2xx is given up after PARLEY_WEBHOOK_GIVE_UP', async () => {
  const site = newSite('wg');
  const rx = await receiver(site, () => 503);
  await site.req('PUT', '/api/v1/server/webhook', { url: rx.url + '/down' });
  const a = await siteUser(site, 'ga');
  const b = await siteUser(site, 'gb');
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text: 'nobody home' } });
  const giveUp = Number(process.env.PARLEY_WEBHOOK_GIVE_UP || 8);
  let last;
  await until(async () => {
    last = (await site.req('GET', '/api/v1/server/webhook/deliveries')).json.deliveries[0];
    return last && last.state === 'failed';
  }, (giveUp + 10) * 1000, 'the delivery to be given up');
  assert.ok(last.attempts >= 3, JSON.stringify(last));
  assert.equal(last.last_status, 503);
  assert.equal(last.last_error, 'HTTP 503');
  const n = rx.got.length;
  await sleep(1000);
  assert.equal(rx.got.length, n, 'no attempts after giving up');
  rx.close();
});

test('webhook settings: validation, events, removal stops new deliveries', async () => {
  const site = newSite('ws');
  assert.deepEqual((await site.req('GET', '/api/v1/server/webhook')).json, { webhook: null });
  for (const url of ['ftp://x/y', 'http://', 'javascript:alert(1)', 'http://a b/', 'x'.repeat(10)]) {
    assertError(assert, await site.req('PUT', '/api/v1/server/webhook', { url }), 400, 'invalid_field');
  }
  assertError(assert, await site.req('PUT', '/api/v1/server/webhook', { url: 'https://example.com/h', events: ['message.sent'] }), 400);
  assertError(assert, await site.req('PUT', '/api/v1/server/webhook', { url: 'https://example.com/h', events: [] }), 400);
  const ok = await site.req('PUT', '/api/v1/server/webhook', { url: 'https://example.com/h', events: ['call.missed', 'friend.request'] });
  assert.deepEqual(ok.json.webhook, { url: 'https://example.com/h', events: ['call.missed', 'friend.request'] });
  assert.deepEqual((await site.req('GET', '/api/v1/server/webhook')).json, ok.json);
  assert.deepEqual((await site.req('DELETE', '/api/v1/server/webhook')).json, { webhook: null });
  const a = await login(site, await siteUser(site, 'sa'));
  const b = await siteUser(site, 'sb');
  assert.equal((await api.post('/api/v1/friends/requests', { token: a.token, json: { user_id: b.user.id } })).status, 201);
  assert.deepEqual((await site.req('GET', '/api/v1/server/webhook/deliveries')).json.deliveries, []);
  assertError(assert, await site.req('GET', '/api/v1/server/webhook/deliveries?state=lost'), 400);
});

test('a failed attempt is reported coarsely: no libcurl text, no host, no port', async () => {
  const site = newSite('we');
  const a = await siteUser(site, 'ea');
  const b = await siteUser(site, 'eb');
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  // A port nobody listens on (the test stack allows internal addresses).
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const port = srv.address().port;
  await new Promise((r) => srv.close(r));
  const cases = [
    [`http://127.0.0.1:${port}/closed`, 'connection failed'],
    ['http://[::1/unclosed', 'invalid URL'],
  ];
  for (const [url, want] of cases) {
    assert.equal((await site.req('PUT', '/api/v1/server/webhook', { url, events: ['message.offline'] })).status, 200);
    await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text: url } });
    let d;
    await until(async () => {
      d = (await site.req('GET', '/api/v1/server/webhook/deliveries')).json.deliveries[0];
      return d && d.attempts >= 1 && d.last_error;
    }, 10000, 'an attempt at ' + url);
    assert.equal(d.last_error, want, url + ': ' + JSON.stringify(d));
    assert.equal(d.last_status, null);
    assert.equal(d.state, 'pending');
  }
  await site.req('DELETE', '/api/v1/server/webhook');
});
