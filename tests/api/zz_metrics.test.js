// Metrics (README "Metrics"): every service's Prometheus exposition on
// nginx's loopback metrics server, well-formed (promtool, Prometheus's own
// checker), and counters that move with the load this test makes.
// A zz_ file (run alone on the stack): the counters are per service, so
// exact deltas (6 sends counted, one more socket) only hold when no other
// test file sends or connects at the same time; beside others they failed
// (7 !== 6) in a parallel run.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { execFileSync } = require('node:child_process');
const { api, register, befriend, BASE } = require('../lib');
const ws = require('../ws');

const METRICS_PORT = Number(BASE.port) + 2;
const SERVICES = ['accounts', 'friends', 'messages', 'poll', 'calls', 'sites', 'uploads', 'admin', 'gateway'];

function scrapeRaw(service) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: METRICS_PORT, path: '/metrics/' + service, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'],
        text: Buffer.concat(chunks).toString('utf8') }));
    }).on('error', reject);
  });
}

// {"name{labels}": value}
async function scrape(service) {
  const r = await scrapeRaw(service);
  assert.equal(r.status, 200, `${service}: ${r.status} ${r.text}`);
  const m = {};
  for (const line of r.text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m[line.slice(0, sp)] = Number(line.slice(sp + 1));
  }
  return m;
}
const v = (m, k) => m[k] || 0;

test('every service exposes metrics promtool accepts, on the loopback metrics server only', async () => {
  for (const s of SERVICES) {
    const r = await scrapeRaw(s);
    assert.equal(r.status, 200, s);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    assert.match(r.text, new RegExp(`parley_service_info\\{service="${s}"\\} 1`));
    // promtool exits non-zero on a malformed exposition or a lint problem.
    execFileSync('promtool', ['check', 'metrics'], { input: r.text, stdio: ['pipe', 'pipe', 'pipe'] });
  }
  // The public server has no such path, and a client's header is not
  // nginx's parameter.
  const pub = await api.get('/metrics/accounts');
  assert.equal(pub.status, 404);
  const h = await api.get('/api/v1/health', { headers: { 'PARLEY-METRICS': '1', 'Parley_Metrics': '1' } });
  assert.equal(h.status, 200);
  assert.equal(h.json.status, 'ok');
  assert.equal((await scrapeRaw('nosuch')).status, 404);
});

test('request, send, hint, poll and event counters move under load', async () => {
  const m0 = await scrape('messages');
  const p0 = await scrape('poll');
  const a0 = await scrape('admin');
  const alice = await register('mta');
  const bob = await register('mtb');
  await befriend(alice, bob);
  const N = 6;
  for (let i = 0; i < N; i++) {
    const r = await api.post('/api/v1/messages', { token: alice.token,
      json: { to: bob.user.id, type: 'text', body: { text: 'm' + i }, client_id: 'mt-' + i } });
    assert.equal(r.status, 201, r.text);
  }
  const bad = await api.post('/api/v1/messages', { token: alice.token, json: { to: bob.user.id } });
  assert.equal(bad.status, 400);
  const poll = await api.get('/api/v1/events?since=0&timeout=0', { token: bob.token });
  assert.equal(poll.status, 200, poll.text);

  const m1 = await scrape('messages');
  const sent = 'parley_http_requests_total{route="POST /api/v1/messages",status="201"}';
  assert.equal(v(m1, sent) - v(m0, sent), N, 'sends counted by route and status');
  const refused = 'parley_http_requests_total{route="POST /api/v1/messages",status="400"}';
  assert.equal(v(m1, refused) - v(m0, refused), 1);
  const stored = 'parley_messages_sent_total{via="api"}';
  assert.equal(v(m1, stored) - v(m0, stored), N, 'messages stored');
  const cnt = 'parley_http_request_duration_seconds_count{route="POST /api/v1/messages"}';
  assert.equal(v(m1, cnt) - v(m0, cnt), N + 1, 'the latency histogram counts every answer');
  const inf = 'parley_http_request_duration_seconds_bucket{route="POST /api/v1/messages",le="+Inf"}';
  assert.equal(v(m1, inf), v(m1, cnt));
  assert.ok(v(m1, 'parley_notify_hints_total') > v(m0, 'parley_notify_hints_total'), 'hints sent');

  // A parked poll shows in the gauge, and the hint that wakes it counts.
  const p0b = await scrape('poll');
  const parked = api.get(`/api/v1/events?since=${poll.json.next}&timeout=20`, { token: bob.token });
  let pp;
  for (let i = 0; i < 100; i++) {
    pp = await scrape('poll');
    if (v(pp, 'parley_poll_parked') > v(p0b, 'parley_poll_parked')) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(v(pp, 'parley_poll_parked') > v(p0b, 'parley_poll_parked'), 'the parked poll is counted');
  // Parked past the histogram's 0.5 s bound: its answer, written by
  // another thread from the compact parked record, is counted under its
  // route (the record carries it), not as unmatched.
  await new Promise((res) => setTimeout(res, 700));
  const w = await api.post('/api/v1/messages', { token: alice.token,
    json: { to: bob.user.id, type: 'text', body: { text: 'wake' } } });
  assert.equal(w.status, 201);
  assert.equal((await parked).status, 200);
  const p1 = await scrape('poll');
  assert.ok(v(p1, 'parley_poll_hints_total') > v(p0b, 'parley_poll_hints_total'), 'hints received');
  assert.ok(v(p1, 'parley_poll_woken_total') > v(p0b, 'parley_poll_woken_total'), 'a parked poll woken');
  const polled = 'parley_http_requests_total{route="GET /api/v1/events",status="200"}';
  assert.ok(v(p1, polled) - v(p0, polled) >= 1, 'the poll is counted');
  const slow = (m) => v(m, 'parley_http_request_duration_seconds_bucket{route="GET /api/v1/events",le="+Inf"}') -
    v(m, 'parley_http_request_duration_seconds_bucket{route="GET /api/v1/events",le="0.5"}');
  assert.ok(slow(p1) - slow(p0b) >= 1, 'the parked poll is counted under GET /api/v1/events');

  const a1 = await scrape('admin');
  // Each send writes the message into both streams.
  assert.ok(v(a1, 'parley_events_total') - v(a0, 'parley_events_total') >= 2 * N, 'events written');
  assert.equal(v(a1, 'parley_database_up'), 1);
  assert.ok('parley_webhook_queue_depth' in a1 && 'parley_webhook_oldest_pending_seconds' in a1);
});

test('the gateway counts sockets, frames, hints and closes across its workers', async (t) => {
  t.after(() => ws.closeAll());
  const g0 = await scrape('gateway');
  const alice = await register('mga');
  const bob = await register('mgb');
  await befriend(alice, bob);
  const { s } = await ws.subscribe(bob, null);
  const r = await api.post('/api/v1/messages', { token: alice.token,
    json: { to: bob.user.id, type: 'text', body: { text: 'over the socket' } } });
  assert.equal(r.status, 201);
  for (;;) {
    const f = await s.next();
    if (f.events && f.events.some((e) => e.type === 'message')) break;
  }
  const g1 = await scrape('gateway');
  assert.equal(v(g1, 'parley_gateway_sockets') - v(g0, 'parley_gateway_sockets'), 1, 'one more socket open');
  assert.ok(v(g1, 'parley_gateway_sockets_opened_total') > v(g0, 'parley_gateway_sockets_opened_total'));
  assert.ok(v(g1, 'parley_gateway_frames_sent_total') - v(g0, 'parley_gateway_frames_sent_total') >= 2);
  assert.ok(v(g1, 'parley_gateway_hints_total') > v(g0, 'parley_gateway_hints_total'));
  s.send({ bogus: 1 });
  await ws.assertClosed(s, 4400, 'bad_frame');
  // The socket is gone once the gateway has the client's close frame.
  let g2;
  for (let i = 0; i < 100; i++) {
    g2 = await scrape('gateway');
    if (v(g2, 'parley_gateway_sockets') === v(g0, 'parley_gateway_sockets')) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  const closed = 'parley_gateway_closed_total{code="4400"}';
  assert.equal(v(g2, closed) - v(g0, closed), 1, 'the close is counted by code');
  assert.equal(v(g2, 'parley_gateway_sockets'), v(g0, 'parley_gateway_sockets'), 'and the socket is gone');
});
