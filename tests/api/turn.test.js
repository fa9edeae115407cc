// TURN and STUN against a real coturn, black box. The calls service mints
// TURN REST credentials (GET /api/v1/ice-servers, valid PARLEY_TURN_TTL,
// 600 s by default; and one per call and party, handed out with the call,
// valid for the ring time plus 60 s); this file starts coturn
// (/usr/bin/turnserver, Debian package coturn) with the same secret
// (use-auth-secret) and shows with coturn's own client, turnutils_uclient,
// that a minted credential allocates relays on it and moves data through
// them, while a wrong credential and an expired one are refused with 401.
// The test stack (scripts/test.sh) exports PARLEY_TURN_PORT, _SECRET, _URIS
// and PARLEY_STUN_URIS to the services and to this process.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFile } = require('node:child_process');
const { api, register, befriend, assertError } = require('../lib.js');
const { head, waitEvent, ofType } = require('../chat.js');

const TURNSERVER = '/usr/bin/turnserver';
const UCLIENT = '/usr/bin/turnutils_uclient';
const SECRET = process.env.PARLEY_TURN_SECRET || '';
const PORT = Number(process.env.PARLEY_TURN_PORT || 13478);
const TTL = Number(process.env.PARLEY_TURN_TTL || 600);
const csv = (s) => (s || '').split(',').map((x) => x.trim()).filter(Boolean);
const TURN_URIS = csv(process.env.PARLEY_TURN_URIS);
const STUN_URIS = csv(process.env.PARLEY_STUN_URIS);
const REALM = 'parley.test';
const START_MS = 5000; // coturn must answer STUN within this
const CLIENT_MS = 15000; // one turnutils_uclient run (it idles 1-6 s before sending)

const skip = !SECRET || TURN_URIS.length === 0 || STUN_URIS.length === 0
  ? 'needs PARLEY_TURN_SECRET, PARLEY_TURN_URIS and PARLEY_STUN_URIS (scripts/test.sh sets them)'
  : false;

// coturn's state: its process, directory (log, pid file, sqlite db), and
// the promise every coturn test awaits (rejected if it did not start).
const turn = { proc: null, dir: null, log: null, stderr: '', ready: null };
const clients = new Set(); // turnutils_uclient processes still running

// coturn's REST credential for `username`, computed here independently.
function hmacCredential(username, secret = SECRET) {
  return crypto.createHmac('sha1', secret).update(username).digest('base64');
}

// "turn:127.0.0.1:13478?transport=tcp" -> {scheme, host, port, transport}.
function parseUri(uri) {
  const m = /^(stuns?|turns?):([^:?]+|\[[^\]]+\]):(\d+)(?:\?transport=(udp|tcp))?$/.exec(uri);
  assert.ok(m, 'ICE server URI has the form scheme:host:port[?transport=udp|tcp]: ' + uri);
  return { scheme: m[1], host: m[2], port: Number(m[3]), transport: m[4] || 'udp' };
}

// Resolves true when nothing listens on 127.0.0.1:port (UDP and TCP), so
// whatever answers there later is the coturn this file started.
async function portFree(port) {
  const tcp = await new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  const udp = await new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => { s.close(); resolve(false); });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  return tcp && udp;
}

// One STUN Binding request (RFC 5389) over UDP. Resolves the mapped
// address {address, port, local} from XOR-MAPPED-ADDRESS; rejects after ms.
function stunBinding(host, port, ms = 1000) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const txid = crypto.randomBytes(12);
    const req = Buffer.alloc(20);
    req.writeUInt16BE(0x0001, 0); // Binding request
    req.writeUInt16BE(0, 2);
    req.writeUInt32BE(0x2112a442, 4); // magic cookie
    txid.copy(req, 8);
    const timer = setTimeout(() => { sock.close(); reject(new Error('no STUN answer')); }, ms);
    sock.on('error', (e) => { clearTimeout(timer); sock.close(); reject(e); });
    sock.on('message', (msg) => {
      if (msg.length < 20 || !msg.subarray(8, 20).equals(txid)) return;
      clearTimeout(timer);
      const local = sock.address().port;
      sock.close();
      if (msg.readUInt16BE(0) !== 0x0101) return reject(new Error('STUN answer type 0x' + msg.readUInt16BE(0).toString(16)));
      for (let off = 20; off + 4 <= msg.length;) {
        const type = msg.readUInt16BE(off);
        const len = msg.readUInt16BE(off + 2);
        if (type === 0x0020 && len >= 8 && msg[off + 5] === 0x01) { // XOR-MAPPED-ADDRESS, IPv4
          const xport = msg.readUInt16BE(off + 6) ^ 0x2112;
          const xaddr = (msg.readUInt32BE(off + 8) ^ 0x2112a442) >>> 0;
          const address = [24, 16, 8, 0].map((s) => (xaddr >>> s) & 255).join('.');
          return resolve({ address, port: xport, local });
        }
        off += 4 + len + ((4 - (len % 4)) % 4);
      }
      reject(new Error('STUN answer without XOR-MAPPED-ADDRESS'));
    });
    sock.send(req, port, host);
  });
}

// TCP connect to host:port; resolves true/false.
function tcpOpen(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(500, () => { s.destroy(); resolve(false); });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readLog() {
  try { return fs.readFileSync(turn.log, 'utf8'); } catch (e) { return ''; }
}

// Starts coturn with Parley's secret: no config file, loopback only, no
// CLI/TLS/DTLS, per-session logging into turn.dir. Resolves once it
// answers STUN over UDP and accepts TCP.
async function startCoturn() {
  if (!fs.existsSync(TURNSERVER) || !fs.existsSync(UCLIENT))
    throw new Error(`${TURNSERVER} or ${UCLIENT} missing: install coturn (scripts/deps.sh test)`);
  if (!(await portFree(PORT)))
    throw new Error(`127.0.0.1:${PORT} is already in use (a coturn left over from an earlier run?)`);
  // One directory per port (the port is ours now): each run replaces the
  // last run's log instead of piling up directories.
  turn.dir = path.join(process.env.PARLEY_VAR || os.tmpdir(), `coturn-${PORT}`);
  fs.rmSync(turn.dir, { recursive: true, force: true });
  fs.mkdirSync(turn.dir, { recursive: true });
  turn.log = path.join(turn.dir, 'turnserver.log');
  // The shared secret goes in a configuration file (0600), as in
  // production: on the command line every local account could read it
  // in ps (tests/api/privilege.test.js looks).
  const conf = path.join(turn.dir, 'turnserver.conf');
  fs.writeFileSync(conf, `static-auth-secret=${SECRET}\n`, { mode: 0o600 });
  const args = [
    '-c', conf, // only the secret; everything else is in these flags
    '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${PORT}`,
    '--use-auth-secret', `--realm=${REALM}`,
    '--no-cli', '--no-tls', '--no-dtls',
    // The relays are on 127.0.0.1 and uclient's peers are those relays;
    // production keeps loopback (and private ranges) denied.
    '--allow-loopback-peers',
    '--verbose', // one line per request: "... ALLOCATE processed, success"
    `--log-file=${turn.log}`, '--simple-log', '--no-stdout-log',
    `--pidfile=${path.join(turn.dir, 'turnserver.pid')}`,
    `--db=${path.join(turn.dir, 'turndb')}`, // its sqlite file, not /var/lib/turn
  ];
  turn.proc = spawn(TURNSERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  turn.proc.stderr.on('data', (d) => { turn.stderr += d; });
  const exited = new Promise((resolve) => turn.proc.once('exit', (code, sig) => resolve({ code, sig })));
  turn.proc.once('error', (e) => { turn.stderr += String(e); });
  const deadline = Date.now() + START_MS;
  for (;;) {
    if (turn.proc.exitCode !== null || turn.proc.signalCode !== null) {
      const { code, sig } = await exited;
      throw new Error(`turnserver exited (${code ?? sig}): ${turn.stderr}\n${readLog().slice(-2000)}`);
    }
    let up = false;
    try { await stunBinding('127.0.0.1', PORT, 200); up = await tcpOpen('127.0.0.1', PORT); } catch (e) { up = false; }
    if (up) return;
    if (Date.now() > deadline)
      throw new Error(`turnserver did not answer on 127.0.0.1:${PORT} within ${START_MS} ms; log ${turn.log}:\n${readLog().slice(-2000)}`);
    await sleep(100);
  }
}

async function stopCoturn() {
  const p = turn.proc;
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  await new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 2000);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  });
}

// Last resort if after() never runs (a crash, the runner's timeout, ^C):
// leave no coturn behind, nor a uclient (orphaned, it outlives coturn).
function killChildren() {
  for (const c of clients) c.kill('SIGKILL');
  if (turn.proc && turn.proc.exitCode === null && turn.proc.signalCode === null) turn.proc.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => { killChildren(); process.kill(process.pid, sig); });
}

test.before(() => {
  if (skip) return;
  turn.ready = startCoturn();
  turn.ready.catch(() => {}); // reported by the tests that need it
});

test.after(async () => {
  await stopCoturn();
  // Logs stay under PARLEY_VAR for inspection; a temporary fallback goes.
  if (turn.dir && !process.env.PARLEY_VAR) fs.rmSync(turn.dir, { recursive: true, force: true });
});

// Runs turnutils_uclient in client-to-client mode: two allocations (-y),
// no RTCP ones (-c), one 100-byte message each way (-n 1) sent from one
// relay to the other through coturn; -t uses TCP to the server. Resolves
// {code, out} (stdout and stderr together); killed after CLIENT_MS.
function uclient({ host, port, transport }, username, credential) {
  const args = ['-v', '-y', '-c', '-n', '1', '-m', '1', '-p', String(port), '-u', username, '-w', credential];
  if (transport === 'tcp') args.push('-t');
  args.push(host);
  return new Promise((resolve) => {
    const child = execFile(UCLIENT, args, { timeout: CLIENT_MS, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      clients.delete(child);
      const code = err ? (err.killed ? 'timeout' : err.code) : 0;
      resolve({ code, out: `${stdout}${stderr}`, cmd: `turnutils_uclient ${args.join(' ')}` });
    });
    clients.add(child);
  });
}

// coturn's verbose log line for a request of `username`, e.g.
// "user <1700000000:42>: incoming packet ALLOCATE processed, success".
function logRe(username, what) {
  const u = username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`user <${u}>: incoming packet ${what}`);
}

// Waits (briefly: coturn writes its log line as it answers) until the log
// matches re; returns the log either way.
async function logMatching(re, ms = 3000) {
  const deadline = Date.now() + ms;
  let log = readLog();
  while (!re.test(log) && Date.now() < deadline) {
    await sleep(100);
    log = readLog();
  }
  return log;
}

async function iceServers(u) {
  const r = await api.get('/api/v1/ice-servers', { token: u.token });
  assert.equal(r.status, 200, r.text);
  return r;
}

function turnEntry(json) {
  return json.ice_servers.find((s) => s.username !== undefined);
}

// --- the endpoint -----------------------------------------------------------

test('ice-servers needs a valid bearer token', { skip }, async () => {
  assertError(assert, await api.get('/api/v1/ice-servers'), 401, 'unauthorized');
  const bogus = crypto.randomBytes(32).toString('base64url');
  assertError(assert, await api.get('/api/v1/ice-servers', { token: bogus }), 401, 'invalid_token');
});

test('ice-servers lists the STUN and TURN URIs with a coturn REST credential', { skip }, async () => {
  const u = await register('ice');
  const t0 = Math.floor(Date.now() / 1000);
  const r = await iceServers(u);
  const t1 = Math.ceil(Date.now() / 1000);

  assert.match(r.headers['content-type'] || '', /application\/json/);
  const cc = (r.headers['cache-control'] || '').split(',').map((s) => s.trim());
  assert.ok(cc.includes('no-store'), 'Cache-Control: no-store, got ' + r.headers['cache-control']);
  assert.deepEqual(Object.keys(r.json).sort(), ['ice_servers', 'ttl']);
  assert.equal(r.json.ttl, TTL);
  assert.equal(r.json.ice_servers.length, 2, r.text);

  const [stun, turnSrv] = r.json.ice_servers;
  assert.deepEqual(Object.keys(stun), ['urls'], 'the STUN entry carries no credential');
  assert.deepEqual(stun.urls, STUN_URIS);
  assert.deepEqual(Object.keys(turnSrv).sort(), ['credential', 'urls', 'username']);
  assert.deepEqual(turnSrv.urls, TURN_URIS);
  for (const uri of [...stun.urls, ...turnSrv.urls]) parseUri(uri);

  // username "<expiry>:<user id>", expiry = now + ttl.
  const m = /^(\d+):(\d+)$/.exec(turnSrv.username);
  assert.ok(m, 'username is <expiry>:<user id>: ' + turnSrv.username);
  assert.equal(Number(m[2]), u.user.id);
  const expiry = Number(m[1]);
  assert.ok(expiry >= t0 + TTL - 1 && expiry <= t1 + TTL + 1,
    `expiry ${expiry} is now + ${TTL} (${t0 + TTL}..${t1 + TTL})`);

  // credential = base64(HMAC-SHA1(secret, username)), recomputed here.
  assert.match(turnSrv.credential, /^[A-Za-z0-9+/]{27}=$/, 'base64 of 20 bytes');
  assert.equal(turnSrv.credential, hmacCredential(turnSrv.username));
  assert.notEqual(turnSrv.credential, hmacCredential(turnSrv.username, SECRET + 'x'));

  // Each user gets their own credential.
  const v = await register('ice');
  const other = turnEntry((await iceServers(v)).json);
  assert.equal(other.username.split(':')[1], String(v.user.id));
  assert.notEqual(other.credential, turnSrv.credential);
});

// --- against coturn ---------------------------------------------------------

test('coturn answers STUN at the advertised STUN URI', { skip }, async () => {
  await turn.ready;
  for (const uri of STUN_URIS) {
    const { host, port } = parseUri(uri);
    const mapped = await stunBinding(host, port, 2000);
    assert.equal(mapped.address, '127.0.0.1');
    assert.equal(mapped.port, mapped.local, 'XOR-MAPPED-ADDRESS is our own UDP port');
  }
});

test('a minted credential allocates relays on coturn and relays data (UDP and TCP)', { skip }, async () => {
  await turn.ready;
  const u = await register('turn');
  const { username, credential } = turnEntry((await iceServers(u)).json);
  const runs = await Promise.all(TURN_URIS.map((uri) => uclient(parseUri(uri), username, credential)));
  for (const [i, run] of runs.entries()) {
    const why = `${TURN_URIS[i]}: ${run.cmd}\n${run.out}`;
    assert.equal(run.code, 0, 'uclient exits 0: ' + why);
    const relays = run.out.match(/Received relay addr: 127\.0\.0\.1:\d+/g) || [];
    assert.ok(relays.length >= 2, 'two relay addresses allocated: ' + why);
    // Both 100-byte messages went relay -> coturn -> other relay and back.
    assert.match(run.out, /tot_send_msgs=2, tot_recv_msgs=2/, why);
    assert.doesNotMatch(run.out, /ERROR|Cannot complete/, why);
  }
  const log = await logMatching(logRe(username, 'ALLOCATE processed, success'));
  assert.match(log, logRe(username, 'ALLOCATE processed, success'), 'coturn log ' + turn.log);
  assert.doesNotMatch(log, logRe(username, '\\S+ processed, error 401'), 'coturn log ' + turn.log);
});

test('coturn refuses a wrong credential and an expired one (401, no relay)', { skip }, async () => {
  await turn.ready;
  const [a, b] = [await register('turna'), await register('turnb')];
  const ta = turnEntry((await iceServers(a)).json);
  const tb = turnEntry((await iceServers(b)).json);
  const now = Math.floor(Date.now() / 1000);
  const expiredName = `${now - 60}:${b.user.id}`;
  const udp = parseUri(TURN_URIS[0]);
  const cases = [
    // A valid credential only fits its own username.
    { name: "another user's credential", username: tb.username, credential: ta.credential },
    { name: 'a credential made with another secret', username: tb.username, credential: hmacCredential(tb.username, SECRET + '-wrong') },
    // Correctly signed, but its expiry is a minute ago.
    { name: 'an expired credential', username: expiredName, credential: hmacCredential(expiredName) },
  ];
  const runs = await Promise.all(cases.map((c) => uclient(udp, c.username, c.credential)));
  for (const [i, run] of runs.entries()) {
    const why = `${cases[i].name}: ${run.cmd}\n${run.out}`;
    assert.ok(run.code !== 0 && run.code !== 'timeout', `uclient fails (exit ${run.code}): ${why}`);
    assert.match(run.out, /Cannot complete Allocation/, why);
    assert.doesNotMatch(run.out, /Received relay addr/, why);
  }
  for (const c of [{ username: tb.username }, { username: expiredName }]) {
    const log = await logMatching(logRe(c.username, 'message processed, error 401: Unauthorized'));
    assert.match(log, logRe(c.username, 'message processed, error 401: Unauthorized'), 'coturn log ' + turn.log);
    assert.doesNotMatch(log, logRe(c.username, 'ALLOCATE processed, success'), 'coturn log ' + turn.log);
  }
});

// --- credentials handed out with a call -------------------------------------

// A ringing call from a to b, both online: {a, b, call, callerIce, calleeIce}.
async function ringingCall(prefix) {
  const a = await register(prefix + 'a');
  const b = await register(prefix + 'b');
  await befriend(a, b);
  await head(a);
  const curB = await head(b);
  const r = await api.post('/api/v1/calls', { token: a.token, json: { to: b.user.id, media: 'audio' } });
  assert.equal(r.status, 201, r.text);
  const inv = await waitEvent(b, curB, ofType('call.invite', (d) => d.call.id === r.json.call.id));
  return { a, b, call: r.json.call, callerIce: turnEntry(r.json.ice), calleeIce: turnEntry(inv.event.data.ice) };
}

test("a call's own credentials (caller's from the reply, callee's from call.invite) allocate relays on coturn", { skip }, async () => {
  await turn.ready;
  const c = await ringingCall('tc');
  for (const [who, cred] of [['caller', c.callerIce], ['callee', c.calleeIce]]) {
    assert.match(cred.username, new RegExp(`^\\d+:${who === 'caller' ? c.a.user.id : c.b.user.id}:c${c.call.id}$`));
  }
  const runs = await Promise.all([
    uclient(parseUri(TURN_URIS[0]), c.callerIce.username, c.callerIce.credential),
    uclient(parseUri(TURN_URIS[1]), c.calleeIce.username, c.calleeIce.credential),
  ]);
  for (const [i, run] of runs.entries()) {
    const why = `${TURN_URIS[i]}: ${run.cmd}\n${run.out}`;
    assert.equal(run.code, 0, 'uclient exits 0: ' + why);
    assert.ok((run.out.match(/Received relay addr: 127\.0\.0\.1:\d+/g) || []).length >= 2, 'relays allocated: ' + why);
    assert.match(run.out, /tot_send_msgs=2, tot_recv_msgs=2/, why);
  }
  for (const cred of [c.callerIce, c.calleeIce]) {
    const log = await logMatching(logRe(cred.username, 'ALLOCATE processed, success'));
    assert.match(log, logRe(cred.username, 'ALLOCATE processed, success'), 'coturn log ' + turn.log);
  }
  // It may have rung out meanwhile (the test stack rings 4 s).
  await api.post(`/api/v1/calls/${c.call.id}/cancel`, { token: c.a.token });
});

test("coturn refuses a call's credential once expired, and one moved to another call", { skip }, async () => {
  await turn.ready;
  const c = await ringingCall('tx');
  const [expiry, user, bound] = c.callerIce.username.split(':');
  assert.ok(Number(expiry) > Date.now() / 1000, 'minted in the future: ' + c.callerIce.username);
  // The same name as the server mints, expired a minute ago, correctly
  // signed: what a leaked call credential becomes after the call rang.
  const expiredName = `${Math.floor(Date.now() / 1000) - 60}:${user}:${bound}`;
  const cases = [
    { name: 'an expired call credential', username: expiredName, credential: hmacCredential(expiredName) },
    // The credential of this call under another call's name.
    { name: 'a credential moved to another call', username: `${expiry}:${user}:c${c.call.id + 1}`, credential: c.callerIce.credential },
  ];
  const runs = await Promise.all(cases.map((x) => uclient(parseUri(TURN_URIS[0]), x.username, x.credential)));
  for (const [i, run] of runs.entries()) {
    const why = `${cases[i].name}: ${run.cmd}\n${run.out}`;
    assert.ok(run.code !== 0 && run.code !== 'timeout', `uclient fails (exit ${run.code}): ${why}`);
    assert.match(run.out, /Cannot complete Allocation/, why);
    assert.doesNotMatch(run.out, /Received relay addr/, why);
    const log = await logMatching(logRe(cases[i].username, 'message processed, error 401: Unauthorized'));
    assert.match(log, logRe(cases[i].username, 'message processed, error 401: Unauthorized'), 'coturn log ' + turn.log);
    assert.doesNotMatch(log, logRe(cases[i].username, 'ALLOCATE processed, success'), 'coturn log ' + turn.log);
  }
  // It may have rung out meanwhile (the test stack rings 4 s).
  await api.post(`/api/v1/calls/${c.call.id}/cancel`, { token: c.a.token });
});
