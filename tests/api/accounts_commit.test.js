// A session that fails to commit hands out no cookie. Register and ticket
// redemption make the session inside a transaction; when its COMMIT fails
// the answer is 503 (with Retry-After), and must not carry a Set-Cookie
// for a session that does not exist.
//
// The COMMIT is made to fail by a deferred constraint trigger on sessions
// that raises a serialization failure, only for rows with this file's
// User-Agent: other tests' sessions are untouched. Removed at the end.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, uniqueName, assertError, stack, untilNotBusy } = require('../lib.js');
const { newSite, siteUser } = require('../sites.js');

const AGENT = 'parley-test/commit-fails';

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

test.before(() => {
  psql(`CREATE OR REPLACE FUNCTION parley_test_refuse_commit() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
          RAISE EXCEPTION 'test: this commit is refused' USING ERRCODE = '40001';
        END $$`);
  psql(`DROP TRIGGER IF EXISTS parley_test_refuse_commit ON sessions;
        CREATE CONSTRAINT TRIGGER parley_test_refuse_commit AFTER INSERT ON sessions
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.user_agent = '${AGENT}')
        EXECUTE FUNCTION parley_test_refuse_commit()`);
});

test.after(() => {
  psql('DROP TRIGGER IF EXISTS parley_test_refuse_commit ON sessions; DROP FUNCTION IF EXISTS parley_test_refuse_commit()');
});

function assertNoCookie(r) {
  assert.equal(r.headers['set-cookie'], undefined, 'no Set-Cookie: ' + JSON.stringify(r.headers['set-cookie']));
}

test('register whose COMMIT fails: 503 with Retry-After and no cookie; nothing was created', async () => {
  const username = uniqueName('cf');
  const body = { username, password: 'correct horse 1' };
  const r = await api.post('/api/v1/auth/register', { json: body, headers: { 'User-Agent': AGENT } });
  assertError(assert, r, 503, 'busy');
  assert.ok(r.headers['retry-after'], 'Retry-After');
  assertNoCookie(r);
  // The user was rolled back with the session: the name is still free.
  const ok = await untilNotBusy(() => api.post('/api/v1/auth/register', { json: body }));
  assert.equal(ok.status, 201, ok.text);
  assert.equal((ok.headers['set-cookie'] || []).length, 2, 'a committed session gets its cookies');
});

test('ticket redemption whose COMMIT fails: 503 and no cookie; the ticket stays usable', async () => {
  const site = newSite('cf');
  const u = await siteUser(site, 'cf');
  const t = await site.req('POST', `/api/v1/server/users/${u.ext}/login-tickets`);
  assert.equal(t.status, 201, t.text);
  const r = await api.post('/api/v1/auth/ticket', { json: { ticket: t.json.ticket }, headers: { 'User-Agent': AGENT } });
  assertError(assert, r, 503, 'busy');
  assertNoCookie(r);
  const ok = await api.post('/api/v1/auth/ticket', { json: { ticket: t.json.ticket } });
  assert.equal(ok.status, 200, ok.text);
  const cookies = ok.headers['set-cookie'] || [];
  assert.ok(cookies.some((c) => c.startsWith(`parley_session=${ok.json.token};`)), JSON.stringify(cookies));
});

test('login (no transaction around the session) whose insert fails: 503 and no cookie', async () => {
  const username = uniqueName('cl');
  const reg = await untilNotBusy(() => api.post('/api/v1/auth/register', { json: { username, password: 'correct horse 1' } }));
  assert.equal(reg.status, 201, reg.text);
  const r = await api.post('/api/v1/auth/login', { json: { username, password: 'correct horse 1' }, headers: { 'User-Agent': AGENT } });
  assertError(assert, r, 503, 'busy');
  assertNoCookie(r);
});
