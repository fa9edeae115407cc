// Liveness on the WebSocket gateway with short timers (the gateway is
// restarted with PARLEY_GATEWAY_PING=2 and PARLEY_GATEWAY_AUTH_TIMEOUT=2,
// then with the defaults again): the server pings every interval; a
// client that answers and says nothing else stays as long as it likes; a
// peer that answers no ping is closed after two intervals and 5 s; a socket
// without a token is closed 4408 after the auth timeout.
//
// Restarts the gateway: a zz_ file, run alone.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { register, stack } = require('../lib.js');
const { open, subscribe, assertClosed, closeAll } = require('../ws.js');

test.after(closeAll);

const PING = 2;
const AUTH = 2;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function restartGateway(env) {
  const saved = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    stack('restart-service', 'gateway');
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

let changed = false;
test.after(() => {
  if (changed) restartGateway({ PARLEY_GATEWAY_PING: undefined, PARLEY_GATEWAY_AUTH_TIMEOUT: undefined });
});

test('pings: answered, a silent socket stays; unanswered, it is closed after 2 pings + 5 s; no token: 4408', {
  skip: !process.env.PARLEY_VAR ? 'needs PARLEY_VAR of the test stack' : false,
}, async (t) => {
  restartGateway({ PARLEY_GATEWAY_PING: String(PING), PARLEY_GATEWAY_AUTH_TIMEOUT: String(AUTH) });
  changed = true;
  const idle = 2 * PING + 5;
  const u = await register('lv');
  const t0 = Date.now();
  const quiet = (await subscribe(u, null)).s;
  const deaf = (await subscribe(u, null, { autoPong: false })).s;
  let pings = 0;
  quiet.ws.on('ping', () => pings++);
  const noToken = await open({});
  await assertClosed(noToken, 4408, 'auth_timeout', (AUTH + 5) * 1000);
  const authTook = (Date.now() - t0) / 1000;
  assert.ok(authTook >= AUTH - 0.5 && authTook < AUTH + 3, `4408 after ${authTook} s`);

  // The deaf one goes once its idle time has passed (Kore's timer runs
  // every 0.5 s); the one that answers stays.
  const end = await deaf.ended((idle + 8) * 1000);
  const took = (Date.now() - t0) / 1000;
  t.diagnostic(`the deaf socket ended after ${took} s with ${end.code}`);
  assert.ok(took >= idle - PING - 1 && took < idle + 4, `closed after ${took} s (idle limit ${idle} s)`);
  await sleep(Math.max(0, (idle + 4) * 1000 - (Date.now() - t0)));
  assert.equal(quiet.close, null, 'the socket that answers pings is still open');
  const secs = (Date.now() - t0) / 1000;
  assert.ok(pings >= Math.floor(secs / PING) - 1, `${pings} pings in ${secs} s`);
  // And still works.
  const again = (await subscribe(u, null)).s;
  await Promise.all([quiet.shut(), again.shut()]);

  restartGateway({ PARLEY_GATEWAY_PING: undefined, PARLEY_GATEWAY_AUTH_TIMEOUT: undefined });
  changed = false;
});
