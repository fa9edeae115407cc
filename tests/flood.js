// A registration flood, run as its own process so that the test measuring
// latency beside it has an idle event loop:
//   node tests/flood.js <concurrency> <milliseconds> [taken-username]
// <concurrency> clients keep registering fresh usernames (each request from
// its own loopback address, so no per-address rule hides the server's own
// limits) until the time is up: the next request as soon as the last one
// is answered, or after the Retry-After of a 503 (plus up to half a second
// of jitter), as any client that means to get through does. (A client that ignores Retry-After is a plain
// request flood, which costs the same whatever the route: nginx's
// per-address limits are for that.) With a taken username every other
// request registers that one instead. Prints "started" at once, then one
// JSON line of statuses ({"201": n, "503": n, "409 taken": n, ...}).
'use strict';
const crypto = require('node:crypto');
const { api, uniqueName } = require('./lib.js');

const conc = Number(process.argv[2] || 64);
const ms = Number(process.argv[3] || 3000);
const taken = process.argv[4] || null;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function randomAddr() {
  const b = crypto.randomBytes(3);
  return `127.${1 + (b[0] % 254)}.${b[1]}.${1 + (b[2] % 254)}`;
}

async function main() {
  const end = Date.now() + ms;
  const counts = {};
  let n = 0;
  const one = async () => {
    while (Date.now() < end) {
      const username = taken && n++ % 2 === 1 ? taken : uniqueName('flood');
      const r = await api.post('/api/v1/auth/register', {
        json: { username, password: 'flood password ' + n },
        localAddress: randomAddr(),
        timeout: 60000,
      }).catch((e) => ({ status: 'error ' + e.message }));
      const key = String(r.status) + (username === taken ? ' taken' : '');
      counts[key] = (counts[key] || 0) + 1;
      const retry = r.status === 503 ? Number(r.headers['retry-after']) : 0;
      if (retry > 0) await sleep(Math.min(retry, 5) * 1000 + Math.random() * 500);
    }
  };
  process.stdout.write('started\n');
  await Promise.all(Array.from({ length: conc }, one));
  process.stdout.write(JSON.stringify(counts) + '\n');
}

main().catch((e) => { process.stderr.write(String(e.stack || e) + '\n'); process.exit(1); });
