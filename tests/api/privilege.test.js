// Least privilege on the running test stack: who the processes run as,
// who may reach the database and the logs, and that no secret shows up on
// a command line (which `ps` shows to every local account).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { stack, ROOT } = require('../lib.js');

const VAR = process.env.PARLEY_VAR || path.join(ROOT, 'var');
const SOCK = path.join(VAR, 'pg', 'sock');
const isRoot = process.getuid() === 0;
const needStack = !process.env.PARLEY_URL || !process.env.PARLEY_VAR ?
  'needs PARLEY_URL and PARLEY_VAR of the test stack' : false;

// Runs argv as the `nobody` account: as root with runuser, otherwise with
// passwordless sudo if there is one. Returns null when neither is possible.
function asNobody(argv) {
  if (isRoot) return spawnSync('runuser', ['-u', 'nobody', '--', ...argv], { encoding: 'utf8' });
  const probe = spawnSync('sudo', ['-n', '-u', 'nobody', 'true']);
  if (probe.status !== 0) return null;
  return spawnSync('sudo', ['-n', '-u', 'nobody', ...argv], { encoding: 'utf8' });
}
const nobodyWorks = isRoot || spawnSync('sudo', ['-n', '-u', 'nobody', 'true']).status === 0;

function uidOf(pid) {
  const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)\s+(\d+)/m.exec(st)[2]);
}

function pidFrom(file) {
  return Number(fs.readFileSync(file, 'utf8').trim().split(/\s+/)[0]);
}

const SERVICES = ['accounts', 'friends', 'messages', 'poll', 'calls', 'sites', 'uploads', 'admin', 'webhooks'];

test('every service, the dispatcher and the nginx workers run unprivileged', { skip: needStack }, () => {
  const expected = isRoot ? Number(spawnSync('id', ['-u', process.env.PARLEY_USER || 'parley'],
    { encoding: 'utf8' }).stdout.trim()) : process.getuid();
  assert.ok(expected > 0, 'the service user is not root');
  for (const s of SERVICES) {
    const pid = pidFrom(path.join(VAR, 'run', s + '.pid'));
    assert.equal(uidOf(pid), expected, `${s} (pid ${pid}) runs as uid ${expected}`);
    const caps = /^CapEff:\s+([0-9a-f]+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1];
    assert.equal(BigInt('0x' + caps), 0n, `${s} has no effective capabilities`);
  }
  const master = pidFrom(path.join(VAR, 'run', 'nginx.pid'));
  const workers = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return / (\d+) /.exec(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1])[1] == master; } catch (e) { return false; }
  });
  assert.ok(workers.length >= 1, 'nginx has workers');
  for (const w of workers) assert.equal(uidOf(w), expected, `nginx worker ${w} runs as uid ${expected}`);
});

test('the nobody account can neither connect to the database nor read the logs', {
  skip: needStack || (!nobodyWorks ? 'needs root or passwordless sudo to act as nobody' : false),
}, () => {
  for (const role of ['parley', 'parley_owner', 'parley_admin']) {
    const r = asNobody(['psql', `postgresql://${role}@/parley?host=${SOCK}`, '-XAtc', 'SELECT 1']);
    assert.notEqual(r.status, 0, `nobody connected as ${role}: ${r.stdout}`);
    assert.match(r.stderr, /Permission denied|authentication failed/, r.stderr);
  }
  for (const f of ['accounts.log', 'poll.log', 'nginx-error.log', 'nginx-access.log']) {
    const r = asNobody(['cat', path.join(VAR, 'log', f)]);
    assert.notEqual(r.status, 0, `nobody read ${f}`);
    assert.match(r.stderr, /Permission denied/);
  }
  const ls = asNobody(['ls', path.join(VAR, 'log')]);
  assert.notEqual(ls.status, 0, 'nobody listed the log directory');
});

test('logs and state are private: 0700 directories, 0600 files', { skip: needStack }, () => {
  for (const d of ['log', 'run']) {
    const st = fs.statSync(path.join(VAR, d));
    assert.equal(st.mode & 0o077, 0, `${d}/ is ${(st.mode & 0o777).toString(8)}`);
  }
  for (const f of fs.readdirSync(path.join(VAR, 'log'))) {
    const st = fs.statSync(path.join(VAR, 'log', f));
    assert.equal(st.mode & 0o077, 0, `log/${f} is ${(st.mode & 0o777).toString(8)}`);
  }
  const pg = fs.statSync(path.join(VAR, 'pg'));
  assert.equal(pg.mode & 0o007, 0, `pg/ is ${(pg.mode & 0o777).toString(8)}: others may not enter`);
});

test('the services\' database role is not a superuser and cannot run programs or change the schema', { skip: needStack }, () => {
  // The role the services use (DATABASE_URL of the stack), reached the
  // way they reach it.
  const url = `postgresql://parley@/parley?host=${SOCK}`;
  const psql = (sql) => spawnSync('psql', [url, '-XAtv', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
  const who = psql('SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user');
  assert.equal(who.status, 0, who.stderr);
  assert.equal(who.stdout.trim(), 'f|f|f');
  const prog = psql("COPY (SELECT 1) TO PROGRAM 'id'");
  assert.notEqual(prog.status, 0, 'COPY TO PROGRAM ran');
  assert.match(prog.stderr, /permission denied|must be superuser|privileges/i);
  const ddl = psql('CREATE TABLE parley_should_not_exist (x int)');
  assert.notEqual(ddl.status, 0, 'the application role created a table');
  const drop = psql('DROP TABLE sites');
  assert.notEqual(drop.status, 0, 'the application role dropped a table');
  const owns = psql("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'parley'");
  assert.equal(owns.stdout.trim(), '0', 'the application role owns no tables');
  // It still does its job: reads and writes rows.
  assert.equal(psql('SELECT count(*) >= 0 FROM users').stdout.trim(), 't');
});

test('a site secret never appears on a command line', { skip: needStack }, () => {
  // A psql wrapper first in PATH records every command line it gets, as
  // `ps` would have shown it, then runs the real psql.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-argv-'));
  const real = spawnSync('sh', ['-c', 'command -v psql'], { encoding: 'utf8' }).stdout.trim();
  const logf = path.join(dir, 'argv.log');
  fs.writeFileSync(path.join(dir, 'psql'),
    `#!/bin/sh\nprintf '%s\\n' "$*" >>'${logf}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  const env = Object.assign({}, process.env, { PATH: dir + ':' + process.env.PATH });
  const name = 'argv-' + Date.now().toString(36);
  try {
    const add = spawnSync(path.join(ROOT, 'scripts/parley'), ['site', 'add', name], { env, encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
    const secret = /^secret: (\S+)$/m.exec(add.stdout)[1];
    const rot = spawnSync(path.join(ROOT, 'scripts/parley'), ['site', 'rotate', name], { env, encoding: 'utf8' });
    assert.equal(rot.status, 0, rot.stderr);
    const secret2 = /^secret: (\S+)$/m.exec(rot.stdout)[1];
    const lines = fs.readFileSync(logf, 'utf8');
    assert.ok(lines.split('\n').length > 2, 'the wrapper saw the psql calls');
    assert.ok(!lines.includes(secret), 'the new site\'s secret was on a psql command line');
    assert.ok(!lines.includes(secret2), 'the rotated secret was on a psql command line');
  } finally {
    stack('site', 'remove', name);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('no process of this stack shows a secret in its command line', { skip: needStack }, () => {
  const secrets = [process.env.PARLEY_TURN_SECRET].filter(Boolean);
  assert.ok(secrets.length > 0, 'the test stack has a TURN secret to look for');
  let seen = 0;
  for (const d of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    let cmd;
    try { cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8'); } catch (e) { continue; }
    // This checkout's processes: services, supervisors, nginx, the
    // cluster, and what the tests start (coturn) under this stack's var/.
    if (!cmd.includes(ROOT) && !cmd.includes(VAR)) continue;
    seen++;
    for (const s of secrets) assert.ok(!cmd.includes(s), `pid ${d} has a secret in argv: ${cmd.replace(/\0/g, ' ')}`);
  }
  assert.ok(seen >= 8, `looked at the stack's processes (${seen})`);
});
