// scripts/parley migrate and sql/functions (docs/DESIGN.md, "SQL:
// migrations and functions"): a file is applied again when it changed,
// replacing its functions in place; an unchanged one is left alone (its
// triggers' tables are not locked on every `site add`); migrators running
// at once all succeed. Replaces functions of the running stack, so it runs
// with the other zz_* files, one at a time.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const { api, stack, ROOT } = require('../lib.js');

const skip = !process.env.PARLEY_URL || !process.env.PARLEY_VAR ? 'needs PARLEY_URL and PARLEY_VAR of the test stack' : false;
const parley = path.join(ROOT, 'scripts/parley');
const psql = (sql) => stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();

function migrate() {
  const r = spawnSync(parley, ['migrate'], { env: process.env });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stderr.toString().split('\n').filter((l) => l.startsWith('parley: functions ')).map((l) => l.slice(18));
}

function migrateAsync() {
  return new Promise((resolve) => {
    const p = spawn(parley, ['migrate'], { env: process.env });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => resolve({ code, err }));
  });
}

test('an unchanged sql/functions file is not applied again', { skip }, () => {
  migrate();
  assert.deepEqual(migrate(), []);
});

test('a changed file is applied again, replacing its functions in place', { skip }, async () => {
  // A function changed by hand and its file "changed" since it was applied.
  psql('CREATE OR REPLACE FUNCTION receipt_max_ids() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 7 $$');
  psql("UPDATE schema_functions SET checksum = 'changed' WHERE file = '00_pure'");
  assert.deepEqual(migrate(), ['00_pure']);
  assert.equal(psql('SELECT receipt_max_ids()'), '500');
  assert.deepEqual(migrate(), []);
  const health = await api.get('/api/v1/health');
  assert.equal(health.status, 200, health.text);
});

test('PARLEY_FUNCTIONS=all applies every file, undoing a change made by hand', { skip }, () => {
  psql('CREATE OR REPLACE FUNCTION receipt_max_ids() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 7 $$');
  assert.deepEqual(migrate(), []);
  assert.equal(psql('SELECT receipt_max_ids()'), '7');
  const r = spawnSync(parley, ['migrate'], { env: { ...process.env, PARLEY_FUNCTIONS: 'all' } });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(r.stderr.toString(), /functions 90_admin/);
  assert.equal(psql('SELECT receipt_max_ids()'), '500');
});

test('migrators applying the same files at once all succeed', { skip, timeout: 120000 }, async () => {
  psql("UPDATE schema_functions SET checksum = 'changed'");
  const runs = await Promise.all([migrateAsync(), migrateAsync(), migrateAsync()]);
  for (const r of runs) assert.equal(r.code, 0, r.err);
  assert.deepEqual(migrate(), []);
});
