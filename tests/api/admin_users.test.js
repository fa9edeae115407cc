// The operator console's API (services/admin, /api/v1/admin/) on users: who
// is online, with their last poll and transport; kick, suspend and restore,
// each ending or refusing sessions at once, with an audit row. Helpers in
// tests/admin.js.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { api, register, befriend, stackAsync } = require('../lib.js');
const { sendText, history, head, poll, waitEvent, ofType } = require('../chat.js');
const { newSite, siteUser, login: siteLogin } = require('../sites.js');
const {
  inTurn, newAdmin, onlineEntry, openSocket, until, sleep, login, auditRows,
  MISSING, psql,
} = require('../admin.js');

// --- who is online ------------------------------------------------------------

test('the online list shows users with live sessions, their last poll and transport, and drops them when kicked', async (t) => {
  const [admin, p, w] = await inTurn(() => newAdmin('ado'), () => register('adp'), () => register('adw'));
  assert.equal(await onlineEntry(admin, p.user.id), undefined, 'not online before polling');
  // p long-polls; w holds a WebSocket.
  const since = await head(p);
  const parked = poll(p, { since, timeout: 20 });
  const sock = await openSocket(w.token);
  // A failed assertion must not leave the socket holding the file open.
  t.after(() => sock.end());
  const pe = await until('the polling user online', () => onlineEntry(admin, p.user.id));
  assert.equal(pe.username, p.user.username);
  assert.equal(pe.sessions.length, 1);
  const s = pe.sessions[0];
  assert.equal(s.id, p.session);
  assert.equal(s.transport, 'poll');
  for (const k of ['last_poll_at', 'last_seen_at', 'created_at']) assert.match(s[k], /^\d{4}-\d\d-\d\dT/, k);
  assert.equal(typeof s.user_agent, 'string');
  assert.equal(typeof s.ip, 'string');
  const we = await until('the WebSocket user online', () => onlineEntry(admin, w.user.id));
  assert.equal(we.sessions[0].transport, 'websocket');

  // A kick takes both off the list at once.
  const k = await api.post(`/api/v1/admin/users/${p.user.id}/kick`, { token: admin.token });
  assert.equal(k.status, 200, k.text);
  assert.equal((await parked).status, 401);
  assert.equal(await onlineEntry(admin, p.user.id), undefined, 'kicked: not online');
  const kw = await api.post(`/api/v1/admin/users/${w.user.id}/kick`, { token: admin.token });
  assert.equal(kw.status, 200, kw.text);
  const code = await Promise.race([sock.closed, sleep(5000).then(() => 'still open')]);
  assert.equal(code, 4401, 'the gateway closes a kicked user\'s socket with 4401');
  assert.equal(await onlineEntry(admin, w.user.id), undefined);
});

// --- kick, suspend, restore ------------------------------------------------------

test('kick ends every session of the user at once: a parked poll answers 401, the friends see them offline', async () => {
  const [admin, v, f] = await inTurn(() => newAdmin('adk'), () => register('adv'), () => register('adf'));
  await befriend(v, f);
  const second = (await login(v)).json;
  const fSince = await head(f);
  const since = await head(v);
  const t0 = Date.now();
  const parked = [poll(v, { since, timeout: 25 }), poll({ token: second.token }, { since, timeout: 25 })];
  await sleep(600);
  const k0 = Date.now();
  const k = await api.post(`/api/v1/admin/users/${v.user.id}/kick`, { token: admin.token, json: { reason: 'spam' } });
  assert.equal(k.status, 200, k.text);
  assert.equal(k.json.user.id, v.user.id);
  assert.equal(k.json.sessions_ended, 2);
  assert.equal(k.json.user.sessions, 0);
  assert.equal(k.json.user.online, false);
  for (const p of parked) {
    const r = await p;
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error.code, 'invalid_token');
  }
  const ms = Date.now() - k0;
  assert.ok(ms < 3000, `the parked polls answered ${ms} ms after the kick (parked for ${k0 - t0} ms)`);
  assert.equal((await api.get('/api/v1/auth/me', { token: v.token })).status, 401);
  // The friend is told at once, not after the online window.
  const off = await waitEvent(f, fSince, ofType('presence', (d) => d.user_id === v.user.id && d.online === false), 4000);
  assert.ok(off.event);
  // A kicked user may log in again (a kick is not a suspension).
  assert.equal((await login(v)).status, 200);
  const rows = auditRows('user', v.user.id);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].action, 'user.kick');
  assert.equal(rows[0].admin_id, admin.user.id);
  assert.equal(rows[0].actor, admin.user.username);
  assert.deepEqual(rows[0].detail, { reason: 'spam', sessions: 2 });
  // A refused action writes nothing.
  const none = await api.post(`/api/v1/admin/users/${MISSING}/kick`, { token: admin.token });
  assert.equal(none.status, 404);
  assert.equal(none.json.error.code, 'user_not_found');
  assert.deepEqual(auditRows('user', MISSING), []);
  const badReason = await api.post(`/api/v1/admin/users/${v.user.id}/kick`, { token: admin.token, json: { reason: 'x'.repeat(501) } });
  assert.equal(badReason.status, 400, badReason.text);
  assert.equal(auditRows('user', v.user.id).length, 1, 'a refused kick is not logged');
});

test('a suspended user cannot log in (by password or ticket) and loses every session; their messages stay; restore lets them in', async () => {
  const [admin, s, f] = await inTurn(() => newAdmin('adx'), () => register('ads'), () => register('adt'));
  await befriend(s, f);
  const m = await sendText(s, f, 'a message that stays');
  const since = await head(s);
  const parked = poll(s, { since, timeout: 25 });
  await sleep(400);
  const r = await api.post(`/api/v1/admin/users/${s.user.id}/suspend`, { token: admin.token, json: { reason: 'abuse' } });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.user.suspended_at, /^\d{4}-/);
  assert.equal(r.json.sessions_ended, 1);
  assert.equal((await parked).status, 401);
  assert.equal((await api.get('/api/v1/auth/me', { token: s.token })).status, 401);
  const refused = await login(s);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json.error.code, 'account_suspended');
  assert.ok(!refused.headers['set-cookie'], 'no cookie for a refused login');
  // A wrong password says nothing about the account.
  const wrong = await login(s, 'not the password');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.error.code, 'invalid_credentials');
  assert.equal(psql(`SELECT count(*) FROM sessions WHERE user_id = ${s.user.id} AND revoked_at IS NULL`), '0');
  // Their message is still there for the friend.
  const h = await history(f, m.conversation_id);
  const kept = h.messages.find((x) => x.id === m.id);
  assert.equal(kept.body.text, 'a message that stays');
  assert.equal(kept.recalled, false);
  // Again: nothing changes, and it is logged as such.
  const again = await api.post(`/api/v1/admin/users/${s.user.id}/suspend`, { token: admin.token });
  assert.equal(again.status, 200);
  // An admin cannot suspend themselves.
  const self = await api.post(`/api/v1/admin/users/${admin.user.id}/suspend`, { token: admin.token });
  assert.equal(self.status, 409, self.text);
  assert.equal(self.json.error.code, 'cannot_suspend_self');
  // The list of suspended users has them.
  const list = await api.get(`/api/v1/admin/users?q=${s.user.username}&suspended=1`, { token: admin.token });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.users.map((u) => u.id), [s.user.id]);

  // Suspended behind the services' back (no session revoked): every
  // session lookup refuses the user anyway.
  const other = await register('adso');
  const ost = (await api.post('/api/v1/auth/stream-token', { token: other.token })).json.stream_token;
  psql(`UPDATE users SET suspended_at = now() WHERE id = ${other.user.id}`);
  assert.equal((await api.get('/api/v1/auth/me', { token: other.token })).status, 401);
  assert.equal((await poll(other, { timeout: 0 })).status, 401);
  assert.equal((await api.get(`/api/v1/events?timeout=0&access_token=${ost}`)).status, 401, 'their stream token');

  const back = await api.post(`/api/v1/admin/users/${s.user.id}/restore`, { token: admin.token, json: { reason: 'appeal' } });
  assert.equal(back.status, 200, back.text);
  assert.equal(back.json.user.suspended_at, null);
  const ok = await login(s);
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await api.get('/api/v1/auth/me', { token: ok.json.token })).status, 200);
  const rows = auditRows('user', s.user.id);
  assert.deepEqual(rows.map((x) => [x.action, x.detail]), [
    ['user.suspend', { reason: 'abuse', changed: true, sessions: 1 }],
    ['user.suspend', { changed: false, sessions: 0 }],
    ['user.restore', { reason: 'appeal', changed: true }],
  ]);
  assert.deepEqual(auditRows('user', admin.user.id).map((x) => x.action), ['admin.grant'], 'the refused self-suspension is not logged');
});

test('a suspended site user cannot trade a login ticket; the ticket stays unused', async () => {
  const admin = await newAdmin('adq');
  const site = newSite('adq');
  const u = await siteUser(site, 'adqu');
  const r = await api.post(`/api/v1/admin/users/${u.user.id}/suspend`, { token: admin.token });
  assert.equal(r.status, 200, r.text);
  const t = await site.req('POST', `/api/v1/server/users/${encodeURIComponent(u.ext)}/login-tickets`);
  assert.equal(t.status, 201, t.text);
  const s = await api.post('/api/v1/auth/ticket', { json: { ticket: t.json.ticket } });
  assert.equal(s.status, 403, s.text);
  assert.equal(s.json.error.code, 'account_suspended');
  assert.equal((await api.post(`/api/v1/admin/users/${u.user.id}/restore`, { token: admin.token })).status, 200);
  // Rolled back: the same ticket works now.
  const again = await api.post('/api/v1/auth/ticket', { json: { ticket: t.json.ticket } });
  assert.equal(again.status, 200, again.text);
  await siteLogin(site, u);
});

test('a login while a suspension is committing makes no session', async () => {
  const u = await register('adzr');
  // What admin_suspend() does, held open for 5 s: the users row, then the
  // sessions. A login in that time must wait for it and then see the
  // suspension; before the fix it made a session the suspension had
  // already missed.
  const mark = 'adzr-' + crypto.randomBytes(6).toString('hex');
  const suspending = stackAsync('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c',
    `BEGIN; UPDATE users SET suspended_at = now() WHERE id = ${u.user.id};
     UPDATE sessions SET revoked_at = now() WHERE user_id = ${u.user.id} AND revoked_at IS NULL;
     SELECT pg_sleep(5), '${mark}'; COMMIT;`);
  // Log in only once that transaction sleeps, its rows changed.
  await until('the suspension to hold its rows', () => psql(`SELECT count(*) FROM pg_stat_activity
    WHERE query LIKE '%${mark}%' AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()`) === '1', 15000);
  const t0 = Date.now();
  const r = await login(u);
  await suspending;
  assert.equal(r.status, 403, `${r.status} ${r.text} after ${Date.now() - t0} ms`);
  assert.equal(r.json.error.code, 'account_suspended');
  assert.equal(psql(`SELECT count(*) FROM sessions WHERE user_id = ${u.user.id} AND revoked_at IS NULL`), '0',
    'a session made while the suspension ran survived it');
});
