// tests/contract.js (the check of every API test response against
// docs/openapi.json) must fail on what it is there to catch: synthetic
// responses with a wrong body, a missing required header, an undocumented
// status or content type, a bad event in a poll reply, a bad stream frame.
// No stack needed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Contract } = require('../contract.js');

const SPEC = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8'));
const fresh = () => new Contract(SPEC);
const JSON_CT = { 'content-type': 'application/json' };
const res = (status, body, headers = JSON_CT) => ({
  status, headers, text: body === undefined ? '' : JSON.stringify(body),
  json: body === undefined ? null : body,
});
const user = { id: 7, username: 'bob', display_name: 'Bob' };
const err = (code) => ({ error: { code, message: 'Something.' } });
const msg = {
  id: 901, conversation_id: 12, seq: 57, from: 42, type: 'text', body: { text: 'hi' },
  created_at: '2024-05-01T12:00:00.000Z', client_id: null, recalled: false,
};

test('a response that fits passes, and is counted', () => {
  const c = fresh();
  assert.deepEqual(c.check('GET', '/api/v1/auth/me', res(200, { user, session_id: 3 })), []);
  assert.deepEqual(c.check('GET', '/api/v1/users?q=bo', res(401, err('unauthorized'))), []);
  assert.equal(c.stats.validated, 2);
});

test('a wrong body fails, naming method, path, status and the JSON path', () => {
  const c = fresh();
  const p = c.check('GET', '/api/v1/auth/me', res(200, { user: { id: 'seven', username: 'bob', display_name: 'Bob' } }));
  assert.equal(p.length, 1, p.join('\n'));
  assert.match(p[0], /^GET \/api\/v1\/auth\/me -> 200 \(GET \/api\/v1\/auth\/me\): body: .*\/user\/id/);
  assert.equal(c.check('GET', '/api/v1/auth/me', res(200, { nope: 1 })).length, 1);
  // An error body that is not the Error shape.
  assert.equal(c.check('GET', '/api/v1/auth/me', res(401, { message: 'no' })).length, 1);
  // Not JSON at all.
  assert.match(c.check('GET', '/api/v1/auth/me',
    { status: 200, headers: JSON_CT, text: 'oops', json: undefined })[0], /not JSON/);
});

test('a missing or malformed required header fails (Retry-After on 429 and 503)', () => {
  const c = fresh();
  const login = '/api/v1/auth/login';
  assert.match(c.check('POST', login, res(429, err('too_many_attempts')))[0],
    /required header Retry-After is missing/);
  assert.deepEqual(c.check('POST', login, res(429, err('too_many_attempts'),
    { ...JSON_CT, 'retry-after': '30' })), []);
  assert.match(c.check('POST', login, res(429, err('too_many_attempts'),
    { ...JSON_CT, 'retry-after': 'soon' }))[0], /header Retry-After: soon/);
  assert.match(c.check('GET', '/api/v1/auth/me', res(503, err('busy')))[0], /Retry-After/);
  // A signal cap never resets: its 429 promises no Retry-After.
  assert.deepEqual(c.check('POST', '/api/v1/calls/5/signal', res(429, err('too_many_signals'))), []);
});

test('an undocumented status or content type fails', () => {
  const c = fresh();
  assert.match(c.check('GET', '/api/v1/health', res(418, err('teapot')))[0],
    /status 418 is not documented/);
  assert.match(c.check('GET', '/api/v1/auth/me',
    { status: 200, headers: { 'content-type': 'text/plain' }, text: 'hi', json: undefined })[0],
  /content type 'text\/plain' not documented/);
  // 204 is documented without a body.
  assert.deepEqual(c.check('POST', '/api/v1/auth/logout', res(204)), []);
  assert.match(c.check('POST', '/api/v1/auth/logout', res(204, { x: 1 }))[0], /without a body/);
});

test('undocumented paths and methods must be JSON errors', () => {
  const c = fresh();
  assert.deepEqual(c.check('GET', '/api/v1/nope', res(404, err('not_found'))), []);
  assert.deepEqual(c.check('PATCH', '/api/v1/auth/me', res(405, err('method_not_allowed'))), []);
  assert.match(c.check('GET', '/api/v1/nope', res(200, {}))[0], /path not in docs\/openapi.json/);
  assert.match(c.check('GET', '/api/v1/nope',
    { status: 404, headers: { 'content-type': 'text/html' }, text: '<h1>404</h1>', json: undefined })[0],
  /content type 'text\/html' not documented/);
  assert.match(c.check('GET', '/api/v1/nope', res(503, err('unavailable')))[0], /Retry-After/);
  // Outside /api/: the web client's files, counted apart.
  assert.deepEqual(c.check('GET', '/index.html',
    { status: 200, headers: { 'content-type': 'text/html' }, text: '<html>', json: undefined }), []);
  assert.equal(c.stats.outside, 1);
});

test('literal paths win over templated ones', () => {
  const c = fresh();
  assert.equal(c.operation('GET', '/api/v1/friends/requests?state=x').template, '/api/v1/friends/requests');
  assert.equal(c.operation('DELETE', '/api/v1/friends/9').template, '/api/v1/friends/{id}');
  assert.equal(c.operation('GET', '/api/v1/nope'), null);
});

test('events in a poll reply are checked one by one, by type', () => {
  const c = fresh();
  const ev = (type, data) => ({ seq: 3, type, data, created_at: '2024-05-01T12:00:00.000Z' });
  const ok = { events: [ev('message', { message: msg }), ev('presence', { user_id: 7, online: true })], next: 3 };
  assert.deepEqual(c.check('GET', '/api/v1/events?since=0', res(200, ok)), []);
  assert.equal(c.stats.events, 2);
  // presence without `online`.
  const bad = { events: [ev('presence', { user_id: 7 })], next: 3 };
  assert.ok(c.check('GET', '/api/v1/events?since=0', res(200, bad)).some((p) => /online/.test(p)));
  // A type the description does not know fits Event (clients skip it), but
  // this server must send only documented ones.
  const other = { events: [ev('future.thing', { x: 1 })], next: 3 };
  assert.ok(c.validator(['components', 'schemas', 'Event'])(other.events[0]));
  assert.ok(c.check('GET', '/api/v1/events?since=0', res(200, other)).some((p) => /events\[0\] \(future.thing\)/.test(p)));
  // A known type with the data of another fails Event as a whole too.
  assert.ok(!c.validator(['components', 'schemas', 'Event'])(ev('presence', { message: msg })));
});

test('JSONP replies: the payload must be one of the JSON answers', () => {
  const c = fresh();
  const js = (text) => ({ status: 200, headers: { 'content-type': 'application/javascript' }, text, json: undefined });
  assert.deepEqual(c.check('GET', '/api/v1/events?callback=cb', js('/**/cb({"events":[],"next":4});')), []);
  assert.deepEqual(c.check('GET', '/api/v1/events?callback=cb',
    js('/**/cb({"error":{"code":"invalid_token","message":"No."},"status":401});')), []);
  assert.equal(c.check('GET', '/api/v1/events?callback=cb', js('/**/cb({"events":5});')).length, 1);
  assert.equal(c.check('GET', '/api/v1/events?callback=cb', js('alert(1)')).length, 1);
});

test('stream frames: a batch or an error, nothing else', () => {
  const c = fresh();
  assert.deepEqual(c.checkFrame({ events: [], next: 0 }), []);
  assert.deepEqual(c.checkFrame({ error: { code: 'cursor_expired', message: 'Gone.' }, oldest: 1, next: 9 }), []);
  assert.equal(c.checkFrame({ hello: 1 }).length, 1);
  assert.equal(c.checkFrame({ events: [{ seq: 1, type: 'message', data: {}, created_at: 'x' }], next: 1 }).length, 1);
});

test('the fallback for unknown event types excludes exactly the known ones', () => {
  const S = SPEC.components.schemas;
  const known = Object.keys(S.KnownEvent.discriminator.mapping).sort();
  assert.deepEqual(S.OtherEvent.properties.type.not.enum.slice().sort(), known);
  // Every branch of KnownEvent is in the mapping, and the mapping's
  // targets are the branches (ajv checks each target admits its value).
  const targets = new Set(Object.values(S.KnownEvent.discriminator.mapping));
  assert.deepEqual([...targets].sort(), S.KnownEvent.oneOf.map((r) => r.$ref).sort());
});

test('webhook deliveries: headers and body against the description', () => {
  const c = fresh();
  const site = { id: 58, username: 'bob', display_name: 'Bob', external_id: '43' };
  const ev = {
    id: 311, type: 'message.offline', created_at: '2024-05-01T12:00:00.000Z', site: 'shop',
    data: { user: { ...site, id: 57, external_id: '42' }, from: null, message: { ...msg, from: null, type: 'system' } },
  };
  const h = {
    'content-type': 'application/json', 'x-parley-site': 'shop', 'x-parley-timestamp': '1714564800',
    'x-parley-nonce': 'abcdefghijklmnop', 'x-parley-signature': 'v1=' + 'a'.repeat(64),
    'x-parley-event-id': '311', 'x-parley-event': 'message.offline',
  };
  assert.deepEqual(c.checkWebhook(h, JSON.stringify(ev)), []);
  const noId = { ...h }; delete noId['x-parley-event-id'];
  assert.match(c.checkWebhook(noId, JSON.stringify(ev))[0], /X-Parley-Event-Id is missing/);
  // message.offline's data under the call.missed type: the discriminator
  // picks the call.missed schema, which this data does not fit.
  assert.equal(c.checkWebhook(h, JSON.stringify({ ...ev, type: 'call.missed' })).length, 1);
});
