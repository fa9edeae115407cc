// A WebSocket whose session expires is closed with 4401 within a third of
// the presence window (the gateway's periodic refresh finds it no longer
// live), even when no event arrives that would show it; a long poll of the
// same session is refused the same way.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { api, register, stack, BASE } = require('../lib.js');

const WINDOW = Number(process.env.PARLEY_ONLINE_WINDOW || 60);

function open(token) {
  const ws = new WebSocket(`ws://${BASE.host}/api/v1/stream`, ['parley', 'token.' + token]);
  const frames = [];
  const closed = new Promise((resolve) => ws.on('close', (code, reason) =>
    resolve({ code, reason: reason.toString() })));
  ws.on('message', (m) => frames.push(JSON.parse(m.toString())));
  return { ws, frames, closed, opened: new Promise((r, j) => { ws.on('open', r); ws.on('error', j); }) };
}

test('an expired session\'s socket is closed with 4401 without any event', async () => {
  const a = await register('exp');
  const s = open(a.token);
  await s.opened;
  s.ws.send(JSON.stringify({ since: null }));
  for (let i = 0; i < 50 && s.frames.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(Array.isArray(s.frames[0]?.events), 'subscribed: ' + JSON.stringify(s.frames));
  // Expire it the way time would: no revocation, so no trigger, no hint.
  stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c',
    `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ${Number(a.session)}`);
  const t0 = Date.now();
  const timer = new Promise((r) => setTimeout(() => r('timeout'), (WINDOW / 3) * 1000 + 5000));
  const got = await Promise.race([s.closed, timer]);
  if (got === 'timeout') s.ws.terminate();
  assert.notEqual(got, 'timeout', 'socket still open after ' + (Date.now() - t0) + ' ms');
  assert.equal(got.code, 4401);
  assert.equal(got.reason, 'invalid_token');
  const last = s.frames[s.frames.length - 1];
  assert.equal(last?.error?.code, 'invalid_token');
  const r = await api.get('/api/v1/events?timeout=0', { token: a.token });
  assert.equal(r.status, 401);
});
