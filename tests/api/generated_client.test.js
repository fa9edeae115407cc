// A client generated from docs/openapi.json by off-the-shelf tools works:
// openapi-typescript generates the types, openapi-fetch is the runtime
// client they type, tsc --strict checks tests/client/scenario.ts against
// them, and the compiled scenario runs against the live stack (register
// two users, befriend, send, poll and narrow the event by its type, read
// history, log out). Everything generated goes to build/client/, never
// committed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT } = require('../lib.js');

const OUT = path.join(ROOT, 'build', 'client');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const SCENARIO = path.join(ROOT, 'tests', 'client', 'scenario.ts');
const TSCONFIG = path.join(ROOT, 'tests', 'client', 'tsconfig.json');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, timeout: 300000, ...opts });
  if (r.error) throw r.error;
  return r;
}

function generate() {
  fs.mkdirSync(OUT, { recursive: true });
  const r = run(path.join(BIN, 'openapi-typescript'),
    [path.join(ROOT, 'docs', 'openapi.json'), '-o', path.join(OUT, 'openapi.d.ts')],
    // Not from the tree's root: openapi-typescript would take the linter's
    // redocly.yaml (its `apis`) for its own configuration and refuse it.
    { cwd: OUT });
  assert.equal(r.status, 0, `openapi-typescript failed:\n${r.stdout}\n${r.stderr}`);
}

test('a client generated from docs/openapi.json type-checks and runs the scenario', { timeout: 600000 }, () => {
  generate();
  const types = fs.readFileSync(path.join(OUT, 'openapi.d.ts'), 'utf8');
  assert.match(types, /"\/api\/v1\/messages": \{/, 'the generated types have no /api/v1/messages');

  fs.rmSync(path.join(OUT, 'js'), { recursive: true, force: true });
  const tsc = run(path.join(BIN, 'tsc'), ['-p', TSCONFIG]);
  assert.equal(tsc.status, 0, `tsc --strict refused the scenario:\n${tsc.stdout}${tsc.stderr}`);

  const r = run(process.execPath, [path.join(OUT, 'js', 'scenario.js')], { env: process.env, timeout: 60000 });
  assert.equal(r.status, 0, `the scenario failed:\n${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(out.friend_request.state, 'accepted');
  assert.equal(out.sent.type, 'text');
  assert.equal(out.received.id, out.sent.id, 'Bob\'s poll has Alice\'s message');
  assert.equal(typeof out.received.from, 'number');
  assert.deepEqual(out.received.body, { text: 'hello, Bob' });
  assert.ok(out.next > 0, `next ${out.next}`);
  assert.deepEqual(out.history, [{ id: out.sent.id, seq: out.sent.seq }]);
  assert.deepEqual(out.after_logout, { status: 401, code: 'invalid_token' });
});

test('the type check refuses a scenario using what the description does not have', { timeout: 600000 }, () => {
  if (!fs.existsSync(path.join(OUT, 'openapi.d.ts'))) generate();
  // The scenario with two mistakes a hand-written client would only find
  // at run time: a misspelt response field and a path that does not exist.
  const src = fs.readFileSync(SCENARIO, 'utf8');
  const bad = src
    .replace('path: { id: message.conversation_id }', 'path: { id: message.conversation }')
    .replace("alice.api.POST('/api/v1/auth/logout')", "alice.api.POST('/api/v1/auth/signout')");
  assert.notEqual(bad, src);
  const dir = path.join(OUT, 'typo');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'scenario.ts'), bad);
  const config = JSON.parse(fs.readFileSync(TSCONFIG, 'utf8'));
  config.compilerOptions.paths = { 'parley-openapi': [path.join(OUT, 'openapi.d.ts')] };
  config.compilerOptions.baseUrl = dir;
  config.compilerOptions.rootDir = dir;
  config.compilerOptions.outDir = path.join(dir, 'js');
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
  // Resolves openapi-fetch from the repository's node_modules.
  const tsc = run(path.join(BIN, 'tsc'), ['-p', path.join(dir, 'tsconfig.json'), '--noEmit']);
  const errors = tsc.stdout + tsc.stderr;
  assert.notEqual(tsc.status, 0, 'tsc accepted the misspelt scenario');
  const line = (text) => bad.split('\n').findIndex((l) => l.includes(text)) + 1;
  assert.match(errors, new RegExp(`scenario\\.ts\\(${line('message.conversation }')},\\d+\\): ` +
    "error TS\\d+: Property 'conversation' does not exist"), errors);
  // No such path: openapi-fetch's POST() has no overload for it.
  assert.match(errors, new RegExp(`scenario\\.ts\\(${line('/api/v1/auth/signout')},\\d+\\): error TS`), errors);
});
