// Kept FastCGI connections (issue 14): nginx keeps its connections to the
// short-request services open between requests, each pinning a worker
// thread that waits for the connection's next request. SIGTERM must still
// end such a service at once and cleanly (its workers wake from the kept
// connection), and nginx must carry on with the new process. A zz_ file:
// it restarts a service.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, register, stack, ROOT } = require('../lib.js');

const LOG = path.join(process.env.PARLEY_VAR || path.join(ROOT, 'var'), 'log', 'friends.log');

test('a service with idle kept connections stops cleanly and nginx uses the new one', async () => {
  const u = await register('kc');
  const list = () => api.get('/api/v1/friends', { token: u.token });
  // Enough at once that every nginx worker keeps some connections.
  let rs = await Promise.all(Array.from({ length: 24 }, list));
  assert.deepEqual([...new Set(rs.map((r) => r.status))], [200]);
  rs = await Promise.all(Array.from({ length: 24 }, list));
  assert.deepEqual([...new Set(rs.map((r) => r.status))], [200]);

  const before = fs.statSync(LOG).size;
  // Without the wake-up, the workers stay blocked reading their kept
  // connections and scripts/parley kills the process after 20 s.
  const out = stack('restart-service', 'friends');
  assert.doesNotMatch(out, /did not stop/, out);
  const log = fs.readFileSync(LOG, 'utf8').slice(before);
  assert.match(log, /signal 15: finishing requests in progress[\s\S]*info: stopped/, log);

  rs = await Promise.all(Array.from({ length: 24 }, list));
  assert.deepEqual([...new Set(rs.map((r) => r.status))], [200], rs.map((r) => r.text).join('\n'));
});
