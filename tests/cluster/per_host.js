// What is per host, not shared (docs/CLUSTER.md, "Not stateless across
// hosts"): not a test of `make test` (it shows limits, it asserts
// nothing). Run it against a cluster left up with small caps:
//   PARLEY_GATEWAY_MAX_PER_USER=2 PARLEY_GATEWAY_MAX_PER_SESSION=2 \
//   PARLEY_POLL_MAX_PER_USER=2 PARLEY_POLL_MAX_PER_SESSION=2 \
//       scripts/test-cluster.sh __up
//   ip netns exec plc-edge env PARLEY_URL=http://10.77.0.5:8080 \
//       CLUSTER_B=http://10.77.0.5:8081 CLUSTER_C=http://10.77.0.5:8082 \
//       CLUSTER_VAR=$PWD/var/cluster CLUSTER_B_ADDR=10.77.0.3 \
//       CLUSTER_C_ADDR=10.77.0.4 node tests/cluster/per_host.js
//   scripts/test-cluster.sh __clean
'use strict';
const http = require('node:http');
const WebSocket = require('ws');
const h = require('./hosts.js');

function raw(base, method, p, token, body, type) {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: 'Bearer ' + token };
    if (body) Object.assign(headers, { 'Content-Type': type, 'Content-Length': body.length });
    const req = http.request({ host: base.hostname, port: base.port, method, path: p, headers, agent: false }, (res) => {
      const c = [];
      res.on('data', (d) => c.push(d));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(c).toString() }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// Opens a socket and subscribes: resolves 'open' or the refusal.
function socket(base, token) {
  return new Promise((resolve) => {
    const s = new WebSocket(`ws://${base.host}/api/v1/stream`, ['parley', 'token.' + token]);
    s.on('open', () => s.send(JSON.stringify({ since: null })));
    s.once('message', (d) => resolve(d.toString().includes('"error"') ? 'refused ' + JSON.parse(d).error.code : 'open'));
    s.on('close', (code) => resolve('closed ' + code));
    s.on('error', () => {});
  });
}

(async () => {
  const u = await h.register('ph');
  const sockets = [];
  for (const [name, door] of [['B', h.onB], ['B', h.onB], ['B', h.onB], ['C', h.onC], ['C', h.onC]]) {
    sockets.push(`${name}: ${await socket(door.base, u.token)}`);
    await h.sleep(200);
  }
  console.log('WebSockets of one user, one after another:', sockets.join(', '));

  const v = await h.register('ph');
  const since = (await h.onB.poll(v, { timeout: 0 })).json.next;
  const polls = [];
  for (const [name, door] of [['B', h.onB], ['B', h.onB], ['C', h.onC], ['C', h.onC], ['B', h.onB]]) {
    const t0 = Date.now();
    polls.push(door.poll(v, { since, timeout: 4 }).then((r) => `${name}: ${r.status} after ${Date.now() - t0} ms`));
    await h.sleep(300);
  }
  console.log('parked polls of one user (4 s each; a displaced one answers at once):', (await Promise.all(polls)).join(', '));

  for (const [via, door] of [['C', h.onC], ['B', h.onB]]) {
    const up = await raw(door.base, 'POST', '/api/v1/uploads?name=a.txt', u.token, Buffer.from('per host ' + via + Date.now()), 'text/plain');
    const id = JSON.parse(up.text).upload.id;
    const got = [];
    for (const [name, d] of [['B', h.onB], ['C', h.onC], ['edge', h.edge]])
      got.push(`${name} ${(await raw(d.base, 'GET', `/api/v1/uploads/${id}`, u.token)).status}`);
    console.log(`upload through ${via} (${up.status}), downloads:`, got.join(', '));
  }
  process.exit(0);
})();
