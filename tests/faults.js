// Helpers of the fault-injection test (tests/api/zz_faults.test.js): the
// test stack's files, its processes (pid files, nginx's workers,
// PostgreSQL's immediate stop, scripts/parley status), log tails, how a
// failed request is classed, and the checks of streams and histories after
// the load.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { api, stackAsync, ROOT } = require('./lib.js');
const { poll } = require('./chat.js');

const VAR = process.env.PARLEY_VAR || path.join(ROOT, 'var');
const RUN = path.join(VAR, 'run');
const LOGDIR = path.join(VAR, 'log');
const PGDATA = path.join(VAR, 'pg', 'data');
const PGLOG = path.join(VAR, 'pg', 'postgres.log');
const SERVICES = ['accounts', 'friends', 'messages', 'poll', 'calls', 'sites'];
const PROCS = [...SERVICES, 'webhooks'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now();

// ------------------------------------------------------------ processes

function pidOf(name) {
  try { return Number(fs.readFileSync(path.join(RUN, name + '.pid'), 'utf8').split(/\s+/)[0]) || 0; } catch (e) { return 0; }
}
function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return false; }
}
function nginxMaster() {
  return Number(fs.readFileSync(path.join(RUN, 'nginx.pid'), 'utf8').trim());
}
// The master's children (its workers), from /proc.
function nginxWorkers() {
  const master = nginxMaster();
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let st;
    try { st = fs.readFileSync(`/proc/${d}/stat`, 'utf8'); } catch (e) { continue; }
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    if (Number(f[1]) === master) out.push(Number(d));
  }
  return out.sort((x, y) => x - y);
}
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}
// pg_ctl -m immediate stop, as the cluster's owner.
function pgImmediateStop() {
  const v = fs.readdirSync('/usr/lib/postgresql').filter((x) => /^\d+$/.test(x)).sort((x, y) => x - y).pop();
  const pgctl = `/usr/lib/postgresql/${v}/bin/pg_ctl`;
  const args = ['-D', PGDATA, '-m', 'immediate', '-w', 'stop'];
  return process.getuid() === 0 ? run('runuser', ['-u', 'postgres', '--', pgctl, ...args]) : run(pgctl, args);
}
async function psql(sql) {
  return (await stackAsync('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql)).trim();
}
async function deadlocks() {
  return Number(await psql("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"));
}
// {name: {pid, restarts, line}} from scripts/parley status.
async function status() {
  const out = await stackAsync('status');
  const m = {};
  for (const line of out.split('\n')) {
    const x = /^(\w+): (.*)$/.exec(line);
    if (!x) continue;
    const r = /^running \(pid (\d+)\)(?: restarts=(\d+))?$/.exec(x[2]);
    m[x[1]] = { line, running: /^running/.test(x[2]), pid: r ? Number(r[1]) : 0, restarts: r && r[2] ? Number(r[2]) : 0 };
  }
  return m;
}
function fileSize(f) {
  try { return fs.statSync(f).size; } catch (e) { return 0; }
}
function readFrom(f, offset) {
  const fd = fs.openSync(f, 'r');
  try {
    const len = fs.fstatSync(fd).size - offset;
    if (len <= 0) return '';
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, offset);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

const TRANSIENT = new Set([502, 503, 504]);
function failKind(res, err) {
  if (err) return err.code || err.message;
  const code = res.json && res.json.error ? res.json.error.code : '';
  return `${res.status}${code ? ' ' + code : ''}`;
}
const pick = (m) => ({
  id: m.id, conversation_id: m.conversation_id, seq: m.seq, from: m.from, type: m.type, body: m.body, client_id: m.client_id,
});

// Every event of a stream from `since` on, and the whole history of a
// conversation, oldest first.
async function drainAll(u, since) {
  let events = [];
  let next = since;
  for (;;) {
    const r = await poll(u, { since: next, timeout: 0, limit: 500 });
    assert.equal(r.status, 200, r.text);
    if (r.json.events.length === 0) return events;
    events = events.concat(r.json.events);
    next = r.json.next;
  }
}
async function historyAll(u, conv) {
  let out = [];
  let before;
  for (;;) {
    const q = new URLSearchParams({ limit: 200 });
    if (before !== undefined) q.set('before', before);
    const r = await api.get(`/api/v1/conversations/${conv}/messages?${q}`, { token: u.token });
    assert.equal(r.status, 200, r.text);
    out = r.json.messages.concat(out);
    if (!r.json.has_more) return out;
    before = r.json.next_before;
  }
}

// The acknowledged messages of a lane, in send order, and the message
// list `got` restricted to that lane: the same ids, once each, in order.
function checkLane(l, got, where) {
  const mine = got.filter((m) => m.from === l.from.user.id && m.conversation_id === l.acked[0].conversation_id);
  const ids = mine.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, `${where}: no message of ${l.name} twice`);
  assert.deepEqual(ids, l.acked.map((m) => m.id), `${where}: every acknowledged message of ${l.name}, in send order`);
  assert.deepEqual(mine.map(pick), l.acked.map(pick), `${where}: ${l.name}'s messages as acknowledged`);
}

// The deadlocks in a stretch of the PostgreSQL log, each with the
// statements of the processes in its cycle.
function deadlockLines(pglog) {
  const dlLines = [];
  const lines = pglog.split('\n');
  lines.forEach((x, j) => {
    if (!/ERROR:  deadlock detected/.test(x)) return;
    const stmts = [];
    for (let k = j + 1; k < lines.length && k < j + 20 && !/ HINT: /.test(lines[k]); k++) {
      const m = /Process \d+: (.*)$/.exec(lines[k]);
      if (!m) continue;
      const f = /(\w+)\(\$1/.exec(m[1]);
      stmts.push(f ? f[1] : m[1].slice(0, 60));
    }
    dlLines.push(`${x.slice(0, 23)} ${stmts.join(' / ')}`);
  });
  return dlLines;
}

module.exports = {
  VAR, RUN, LOGDIR, PGLOG, PROCS, sleep, now, pidOf, alive, nginxMaster,
  nginxWorkers, pgImmediateStop, psql, deadlocks, status, fileSize, readFrom,
  TRANSIENT, failKind, pick, drainAll, historyAll, checkLane, deadlockLines,
};
