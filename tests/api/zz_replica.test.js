// A streaming replica for history pages (PARLEY_READ_DATABASE_URL,
// services/messages/messages_replica.c): the replica answers when it has
// the conversation's head and recalls, the primary otherwise; readers
// never see less than the primary had (read-your-writes for the sender).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { api, register, befriend, stack } = require('../lib');

// psql on the replica as its superuser (pause/resume replay) or as the
// services' role.
function onReplica(url, role, sql) {
  const u = url.replace('postgresql://parley@', `postgresql://${role}@`);
  return execFileSync('psql', [u, '-qXtA', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    { stdio: 'pipe', env: process.env }).toString().trim();
}

function withEnv(vars, fn) {
  const saved = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
  try { return fn(); } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }
}

async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function send(from, to, text) {
  const r = await api.post('/api/v1/messages', { token: from.token,
    json: { to: to.user.id, type: 'text', body: { text } } });
  assert.equal(r.status, 201, r.text);
  return r.json.message;
}

async function history(who, conv) {
  const r = await api.get(`/api/v1/conversations/${conv}/messages`, { token: who.token });
  assert.equal(r.status, 200, r.text);
  return r.json.messages;
}

test('history pages come from the replica when it is current, from the primary when it lags or is down', async (t) => {
  const url = stack('replica-start').trim().split('\n').pop();
  assert.match(url, /^postgresql:\/\/parley@\/parley\?host=/);
  withEnv({ PARLEY_READ_DATABASE_URL: url }, () => stack('restart-service', 'messages'));
  let paused = false;
  t.after(() => {
    if (paused) {
      try { onReplica(url, 'parley_admin', 'SELECT pg_wal_replay_resume()'); } catch { /* stopped */ }
    }
    withEnv({ PARLEY_READ_DATABASE_URL: undefined }, () => stack('restart-service', 'messages'));
    stack('replica-stop');
  });

  const alice = await register('rpa');
  const bob = await register('rpb');
  await befriend(alice, bob);
  const m1 = await send(alice, bob, 'first');
  const conv = m1.conversation_id;
  // The replica has it once it replayed that far.
  await until('the replica to replay the first message', () =>
    onReplica(url, 'parley', `SELECT count(*) FROM messages WHERE id = ${m1.id}`) === '1');

  // Replay paused, the primary gets a change no check covers (an owner's
  // direct UPDATE of the body): an answer with the old text came from
  // the replica.
  onReplica(url, 'parley_admin', 'SELECT pg_wal_replay_pause()');
  paused = true;
  stack('psql', '-qXtA', '-c', `UPDATE messages SET body = '{"text":"primary only"}' WHERE id = ${m1.id}`);
  let page = await history(bob, conv);
  assert.deepEqual(page.map((m) => m.body.text), ['first'], 'served by the replica');
  const apps = onReplica(url, 'parley_admin',
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'messages-replica'");
  assert.ok(Number(apps) >= 1, 'the messages service is connected to the replica');

  // Read-your-writes: the replica is behind this conversation's head, so
  // the primary answers, with the new message (and the primary's body).
  const m2 = await send(alice, bob, 'second');
  page = await history(alice, conv);
  assert.deepEqual(page.map((m) => m.id), [m1.id, m2.id]);
  assert.equal(page[0].body.text, 'primary only', 'served by the primary');

  // A recall is never undone by a lagging replica.
  onReplica(url, 'parley_admin', 'SELECT pg_wal_replay_resume()');
  paused = false;
  await until('the replica to replay the second message', () =>
    onReplica(url, 'parley', `SELECT count(*) FROM messages WHERE id = ${m2.id}`) === '1');
  onReplica(url, 'parley_admin', 'SELECT pg_wal_replay_pause()');
  paused = true;
  const rc = await api.post(`/api/v1/messages/${m2.id}/recall`, { token: alice.token });
  assert.equal(rc.status, 200, rc.text);
  page = await history(bob, conv);
  assert.equal(page[1].id, m2.id);
  assert.equal(page[1].recalled, true, 'the recall shows: ' + JSON.stringify(page[1]));
  assert.equal(page[1].body, null);

  // The replica down: the primary answers, no error.
  onReplica(url, 'parley_admin', 'SELECT pg_wal_replay_resume()');
  paused = false;
  stack('replica-stop');
  page = await history(bob, conv);
  assert.deepEqual(page.map((m) => m.id), [m1.id, m2.id]);
  // A stranger still gets the same 404 as for a missing conversation.
  const eve = await register('rpe');
  const r = await api.get(`/api/v1/conversations/${conv}/messages`, { token: eve.token });
  assert.equal(r.status, 404);
});
