// The server-to-server API: request signing and its refusals, linked
// users, login tickets, friendships, messages and push.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { api, register, assertError, stack } = require('../lib');
const { conversations, head, waitEvent, drain, ofType } = require('../chat');
const { newSite, siteUser, login } = require('../sites');

const site = newSite('sa');
const other = newSite('sb');

test('signing: a good request passes, and every way of getting it wrong is a clear 401', async () => {
  const u = await siteUser(site);
  const path = `/api/v1/server/users/${u.ext}`;
  assert.equal((await site.req('GET', path)).status, 200);

  const cases = [
    ['no headers at all', { drop: ['X-Parley-Site', 'X-Parley-Timestamp', 'X-Parley-Nonce', 'X-Parley-Signature'] }, 'signature_required'],
    ['no signature', { drop: ['X-Parley-Signature'] }, 'signature_required'],
    ['no nonce', { drop: ['X-Parley-Nonce'] }, 'signature_required'],
    ['short nonce', { nonce: 'abc' }, 'signature_required'],
    ['nonce with a space', { nonce: 'abcdefgh ijklmnopq' }, 'signature_required'],
    ['timestamp not a number', { ts: '17e8' }, 'signature_required'],
    ['unknown site', { site: 'no-such-site-here' }, 'unknown_site'],
    ['bad site name', { site: 'Bad Name' }, 'signature_required'],
    ['wrong secret', { secret: 'not-the-secret-at-all-123' }, 'bad_signature'],
    ['another site\'s secret', { secret: other.secret }, 'bad_signature'],
    ['signed another method', { signMethod: 'PUT' }, 'bad_signature'],
    ['signed another path', { signPath: path + 'x' }, 'bad_signature'],
    ['signed a query that was not sent', { signPath: path + '?a=1' }, 'bad_signature'],
    ['signed a body that was not sent', { signBody: '{}' }, 'bad_signature'],
    ['ten minutes old', { ts: Math.floor(Date.now() / 1000) - 600 }, 'request_expired'],
    ['ten minutes ahead', { ts: Math.floor(Date.now() / 1000) + 600 }, 'request_expired'],
  ];
  for (const [what, opts, code] of cases) {
    const r = await site.req('GET', path, undefined, opts);
    assertError(assert, r, 401, code);
    assert.match(r.headers['www-authenticate'] || '', /Parley-HMAC-SHA256/, what);
  }
  // A malformed signature value.
  const bad = await site.req('GET', path, undefined, { headers: { 'X-Parley-Signature': 'v1=xyz' } });
  assertError(assert, bad, 401, 'signature_required');
  // Within the window either way is fine (clocks drift).
  assert.equal((await site.req('GET', path, undefined, { ts: Math.floor(Date.now() / 1000) - 250 })).status, 200);
  assert.equal((await site.req('GET', path, undefined, { ts: Math.floor(Date.now() / 1000) + 250 })).status, 200);
});

test('signing: a replayed request is refused, even with a body; a new nonce is not', async () => {
  const u = await siteUser(site);
  const path = `/api/v1/server/users/${u.ext}`;
  const nonce = crypto.randomBytes(16).toString('hex');
  const ts = Math.floor(Date.now() / 1000);
  const body = { display_name: 'Once' };
  const first = await site.req('PUT', path, body, { nonce, ts });
  assert.equal(first.status, 200, first.text);
  assertError(assert, await site.req('PUT', path, body, { nonce, ts }), 401, 'replayed');
  // The nonce belongs to the site: another site may use the same one.
  const v = await siteUser(other);
  assert.equal((await other.req('GET', `/api/v1/server/users/${v.ext}`, undefined, { nonce })).status, 200);
  // A bad signature does not use up a nonce.
  const n2 = crypto.randomBytes(16).toString('hex');
  assertError(assert, await site.req('GET', path, undefined, { nonce: n2, secret: 'x'.repeat(20) }), 401, 'bad_signature');
  assert.equal((await site.req('GET', path, undefined, { nonce: n2 })).status, 200);
  // The body is covered: the same headers with another body fail.
  const n3 = crypto.randomBytes(16).toString('hex');
  const tampered = await site.req('PUT', path, undefined, { nonce: n3, raw: '{"display_name":"Evil"}', signBody: JSON.stringify(body) });
  assertError(assert, tampered, 401, 'bad_signature');
});

test('signing: after a rotation both secrets work for a while', async () => {
  const s = newSite('rot');
  const u = await siteUser(s);
  const old = s.secret;
  const out = stack('site', 'rotate', s.name);
  s.secret = /secret: (\S+)/.exec(out)[1];
  assert.notEqual(s.secret, old);
  assert.equal((await s.req('GET', `/api/v1/server/users/${u.ext}`)).status, 200);
  assert.equal((await s.req('GET', `/api/v1/server/users/${u.ext}`, undefined, { secret: old })).status, 200);
  stack('psql', '-qc', `UPDATE sites SET secret_prev_until = now() WHERE name = '${s.name}'`);
  assertError(assert, await s.req('GET', `/api/v1/server/users/${u.ext}`, undefined, { secret: old }), 401, 'bad_signature');
});

test('users: create, update, validation, and each site sees only its own', async () => {
  const ext = 'shop:user+1@example.com';
  const name = 'sa_' + crypto.randomBytes(5).toString('hex');
  const path = `/api/v1/server/users/${encodeURIComponent(ext)}`;
  assertError(assert, await site.req('PUT', path, { display_name: 'No name' }), 400, 'missing_field');
  const c = await site.req('PUT', path, { username: name.toUpperCase(), display_name: 'Ann' });
  assert.equal(c.status, 201, c.text);
  assert.deepEqual(c.json.user, { id: c.json.user.id, username: name, display_name: 'Ann', external_id: ext });
  const up = await site.req('PUT', path, { display_name: 'Ann B.' });
  assert.equal(up.status, 200);
  assert.equal(up.json.user.display_name, 'Ann B.');
  assert.equal(up.json.user.username, name);
  // Someone else's username, bad usernames, bad external ids.
  const someone = await register('taken');
  assertError(assert, await site.req('PUT', path, { username: someone.user.username }), 409, 'username_taken');
  assertError(assert, await site.req('PUT', path, { username: 'a b' }), 400, 'invalid_field');
  assertError(assert, await site.req('PUT', '/api/v1/server/users/has%20space', { username: 'xyz_abc' }), 400);
  assertError(assert, await site.req('PUT', `/api/v1/server/users/${'x'.repeat(129)}`, { username: 'xyz_abc' }), 400);
  assertError(assert, await site.req('PUT', path, undefined, { raw: '{"username":', headers: { 'Content-Type': 'application/json' } }), 400, 'invalid_json');
  // The other site does not see it; its own user with the same external id is another user.
  assertError(assert, await other.req('GET', path), 404, 'unknown_user');
  const mine = await other.req('PUT', path, { username: 'sb_' + crypto.randomBytes(5).toString('hex') });
  assert.equal(mine.status, 201);
  assert.notEqual(mine.json.user.id, c.json.user.id);
  // A site user has no password: password login is not a way in.
  const pw = await api.post('/api/v1/auth/login', { json: { username: name, password: '' } });
  assert.ok([400, 401].includes(pw.status), pw.text);
});

test('tickets: one use, then ticket_used; forged is invalid_ticket; expired is ticket_expired', async () => {
  const u = await siteUser(site);
  const t = await site.req('POST', `/api/v1/server/users/${u.ext}/login-tickets`);
  assert.equal(t.status, 201, t.text);
  assert.equal(t.json.expires_in, 60);
  assert.equal(t.json.user.external_id, u.ext);
  assert.match(t.json.ticket, /^[A-Za-z0-9_-]{43}$/);
  const s = await api.post('/api/v1/auth/ticket', { json: { ticket: t.json.ticket } });
  assert.equal(s.status, 200, s.text);
  assert.equal(s.json.user.id, u.user.id);
  assert.ok(s.json.token && s.json.csrf_token && s.json.session_id);
  assert.match(String(s.headers['set-cookie']), /parley_session=/);
  const me = await api.get('/api/v1/auth/me', { token: s.json.token });
  assert.equal(me.status, 200);
  assert.equal(me.json.user.id, u.user.id);
  assertError(assert, await api.post('/api/v1/auth/ticket', { json: { ticket: t.json.ticket } }), 401, 'ticket_used');
  assertError(assert, await api.post('/api/v1/auth/ticket', { json: { ticket: crypto.randomBytes(32).toString('base64url') } }), 401, 'invalid_ticket');
  assertError(assert, await api.post('/api/v1/auth/ticket', { json: {} }), 400);
  const t2 = await site.req('POST', `/api/v1/server/users/${u.ext}/login-tickets`);
  stack('psql', '-qc', `UPDATE login_tickets SET expires_at = now() - interval '1 second' WHERE user_id = ${u.user.id} AND used_at IS NULL`);
  assertError(assert, await api.post('/api/v1/auth/ticket', { json: { ticket: t2.json.ticket } }), 401, 'ticket_expired');
  // Only the site's own users get tickets.
  assertError(assert, await other.req('POST', `/api/v1/server/users/${u.ext}/login-tickets`), 404, 'unknown_user');
  // The ticket is stored hashed.
  const stored = stack('psql', '-tAc', `SELECT count(*) FROM login_tickets WHERE encode(hash, 'escape') LIKE '%${t2.json.ticket.slice(0, 20)}%'`).trim();
  assert.equal(stored, '0');
});

test('friendships: imported without a request, announced, idempotent, removable; blocks win', async () => {
  const a = await login(site, await siteUser(site, 'fa'));
  const b = await login(site, await siteUser(site, 'fb'));
  const since = await head(b);
  // A pending request between them counts as accepted.
  const req = await api.post('/api/v1/friends/requests', { token: a.token, json: { user_id: b.user.id } });
  assert.equal(req.status, 201, req.text);
  const add = await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  assert.equal(add.status, 201, add.text);
  assert.deepEqual(add.json, { created: true });
  const ev = await waitEvent(b, since, ofType('friend.added'));
  assert.deepEqual(ev.event.data.users, [a.user.id, b.user.id]);
  assert.equal(ev.event.data.profiles.length, 2);
  const again = await site.req('POST', '/api/v1/server/friendships', { a: b.ext, b: a.ext });
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, { created: false });
  const fr = await api.get('/api/v1/friends', { token: a.token });
  assert.deepEqual(fr.json.friends.map((f) => f.id), [b.user.id]);
  const pending = await api.get('/api/v1/friends/requests', { token: b.token });
  assert.ok(Array.isArray(pending.json.incoming), pending.text);
  assert.deepEqual(pending.json.incoming, []);
  const del = await site.req('DELETE', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  assert.equal(del.status, 200);
  assert.deepEqual(del.json, { removed: true });
  await waitEvent(a, since, ofType('friend.removed'));
  assert.deepEqual((await api.get('/api/v1/friends', { token: a.token })).json.friends, []);
  assert.deepEqual((await site.req('DELETE', '/api/v1/server/friendships', { a: a.ext, b: b.ext })).json, { removed: false });
  // Blocks are the user's choice: the site cannot override them.
  assert.equal((await api.post('/api/v1/blocks', { token: b.token, json: { user_id: a.user.id } })).status, 201);
  assertError(assert, await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext }), 409, 'blocked');
  // Bad input.
  assertError(assert, await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: a.ext }), 400);
  assertError(assert, await site.req('POST', '/api/v1/server/friendships', { a: a.ext }), 400, 'missing_field');
  assertError(assert, await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: 'nobody-here' }), 404, 'unknown_user');
  // Another site cannot touch them.
  assertError(assert, await other.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext }), 404, 'unknown_user');
});

test('messages: on behalf of a user under the user\'s rules; system messages to a user and a group', async () => {
  const a = await login(site, await siteUser(site, 'ma'));
  const b = await login(site, await siteUser(site, 'mb'));
  const c = await login(site, await siteUser(site, 'mc'));
  assertError(assert, await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text: 'hi' } }), 403, 'not_friends');
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  const since = await head(b);
  const m = await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text: 'hello from the site' }, client_id: 'k1' });
  assert.equal(m.status, 201, m.text);
  assert.equal(m.json.message.from, a.user.id);
  const ev = await waitEvent(b, since, ofType('message'));
  assert.equal(ev.event.data.message.body.text, 'hello from the site');
  const dup = await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, body: { text: 'hello from the site' }, client_id: 'k1' });
  assert.equal(dup.status, 200);
  assert.equal(dup.json.message.id, m.json.message.id);
  assertError(assert, await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext, type: 'sticker', body: {} }), 400);
  assertError(assert, await site.req('POST', '/api/v1/server/messages', { from: a.ext, to: b.ext }), 400, 'missing_field');
  assertError(assert, await site.req('POST', '/api/v1/server/messages', { from: a.ext, body: { text: 'x' } }), 400);

  // A system message to one user: a read-only notices conversation named after the site.
  const sys = await site.req('POST', '/api/v1/server/messages', { to: c.ext, body: { text: 'Your order shipped' } });
  assert.equal(sys.status, 201, sys.text);
  assert.equal(sys.json.message.from, null);
  assert.equal(sys.json.message.type, 'system');
  const sys2 = await site.req('POST', '/api/v1/server/messages', { to: c.ext, type: 'system', body: { text: 'Again' } });
  assert.equal(sys2.json.message.conversation_id, sys.json.message.conversation_id);
  const list = await conversations(c);
  const notices = list.find((x) => x.id === sys.json.message.conversation_id);
  assert.equal(notices.kind, 'system');
  assert.equal(notices.name, site.name);
  assert.equal(notices.unread, 2);
  const reply = await api.post('/api/v1/messages', { token: c.token, json: { group_id: notices.id, type: 'text', body: { text: 'can I reply?' } } });
  assertError(assert, reply, 404, 'group_not_found');
  assertError(assert, await site.req('POST', '/api/v1/server/messages', { to: c.ext, type: 'text', body: { text: 'x' } }), 400);
  assertError(assert, await site.req('POST', '/api/v1/server/messages', { to: c.ext, body: { text: 'x' }, client_id: 'z' }), 400);

  // A system message to a group with the site's users in it.
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: c.ext });
  const g = await api.post('/api/v1/groups', { token: a.token, json: { name: 'Site group', members: [b.user.id, c.user.id] } });
  assert.equal(g.status, 201, g.text);
  const gid = g.json.group.id;
  const sinceC = await head(c);
  const gs = await site.req('POST', '/api/v1/server/messages', { group_id: gid, body: { text: 'Meeting at 5' } });
  assert.equal(gs.status, 201, gs.text);
  const gev = await waitEvent(c, sinceC, ofType('message', (d) => d.message.conversation_id === gid));
  assert.equal(gev.event.data.message.type, 'system');
  const ga = await site.req('POST', '/api/v1/server/messages', { from: b.ext, group_id: gid, body: { text: 'as b' } });
  assert.equal(ga.status, 201);
  // Groups without the site's users do not exist for the site.
  const x = await register('gx');
  const y = await register('gy');
  const { befriend } = require('../lib');
  await befriend(x, y);
  const g2 = await api.post('/api/v1/groups', { token: x.token, json: { name: 'Foreign', members: [y.user.id] } });
  assertError(assert, await site.req('POST', '/api/v1/server/messages', { group_id: g2.json.group.id, body: { text: 'spam' } }), 404, 'group_not_found');
  assertError(assert, await other.req('POST', '/api/v1/server/messages', { group_id: gid, body: { text: 'spam' } }), 404, 'group_not_found');
});

test('push: to users, to a group, to all of the site\'s users and nobody else', async () => {
  const a = await login(site, await siteUser(site, 'pa'));
  const b = await login(site, await siteUser(site, 'pb'));
  const o = await login(other, await siteUser(other, 'po'));
  const plain = await register('pz');
  const [sa, sb, so, sp] = [await head(a), await head(b), await head(o), await head(plain)];
  const event = { kind: 'order', id: 7, items: ['a', 'b'], nested: { ok: true, n: null } };
  const r = await site.req('POST', '/api/v1/server/push', { users: [a.ext, 'nobody-at-all'], event });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(r.json, { recipients: 1, unknown: ['nobody-at-all'] });
  const ea = await waitEvent(a, sa, ofType('push'));
  assert.deepEqual(ea.event.data, { site: site.name, event });
  // Any JSON: a bare string too.
  const all = await site.req('POST', '/api/v1/server/push', { all: true, event: 'maintenance at 22:00' });
  assert.equal(all.status, 202);
  assert.ok(all.json.recipients >= 2);
  const eb = await waitEvent(b, sb, ofType('push'));
  assert.equal(eb.event.data.event, 'maintenance at 22:00');
  // A group: only its members who are the site's users.
  await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  const g = await api.post('/api/v1/groups', { token: a.token, json: { name: 'Push group', members: [b.user.id] } });
  const gp = await site.req('POST', '/api/v1/server/push', { group_id: g.json.group.id, event: { g: 1 } });
  assert.equal(gp.status, 202, gp.text);
  assert.equal(gp.json.recipients, 2);
  await waitEvent(b, sb, ofType('push', (d) => d.event && d.event.g === 1));
  // Nobody outside the site got anything.
  assert.deepEqual((await drain(o, so)).events.filter((e) => e.type === 'push'), []);
  assert.deepEqual((await drain(plain, sp)).events.filter((e) => e.type === 'push'), []);
  // Bad input.
  assertError(assert, await site.req('POST', '/api/v1/server/push', { event: 1 }), 400);
  assertError(assert, await site.req('POST', '/api/v1/server/push', { all: true, users: [a.ext], event: 1 }), 400);
  assertError(assert, await site.req('POST', '/api/v1/server/push', { all: false, event: 1 }), 400);
  assertError(assert, await site.req('POST', '/api/v1/server/push', { users: [a.ext] }), 400, 'missing_field');
  assertError(assert, await site.req('POST', '/api/v1/server/push', { users: [], event: 1 }), 400);
  assertError(assert, await site.req('POST', '/api/v1/server/push', { users: ['bad id'], event: 1 }), 400);
  assertError(assert, await site.req('POST', '/api/v1/server/push', { users: [a.ext], event: 'x'.repeat(17000) }), 400);
  assertError(assert, await site.req('POST', '/api/v1/server/push', { group_id: 999999999, event: 1 }), 404, 'group_not_found');
  const many = Array.from({ length: 1001 }, (_, i) => 'e' + i);
  assertError(assert, await site.req('POST', '/api/v1/server/push', { users: many, event: 1 }), 400);
});

test('the server API is not reachable with a user token, and users cannot call it', async () => {
  const u = await register('nt');
  assertError(assert, await api.post('/api/v1/server/push', { token: u.token, json: { all: true, event: 1 } }), 401, 'signature_required');
  assertError(assert, await api.get('/api/v1/server/webhook', { token: u.token }), 401, 'signature_required');
  assertError(assert, await site.req('GET', '/api/v1/server/nope'), 404, 'not_found');
  assertError(assert, await site.req('PATCH', '/api/v1/server/webhook'), 405);
});

test('scripts/parley site: list shows the site, remove ends its access and keeps its users', async () => {
  const s = newSite('rm');
  const u = await login(s, await siteUser(s));
  await s.req('PUT', '/api/v1/server/webhook', { url: 'https://example.com/rm-hook' });
  const list = stack('site', 'list');
  assert.match(list, new RegExp(s.name + '\\s*\\|\\s*https://example.com/rm-hook'));
  assert.throws(() => stack('site', 'add', 'Not A Name'), /NAME/);
  assert.throws(() => stack('site', 'add', s.name), /exist/);
  assert.throws(() => stack('site', 'add', 'okname-' + Date.now().toString(36), 'ftp://x'), /http/);
  stack('site', 'remove', s.name);
  assertError(assert, await s.req('GET', `/api/v1/server/users/${u.ext}`), 401, 'unknown_site');
  assert.doesNotMatch(stack('site', 'list'), new RegExp(s.name));
  // The user stays, signed in; no longer linked to any site.
  const me = await api.get('/api/v1/auth/me', { token: u.token });
  assert.equal(me.status, 200);
  assert.equal(me.json.user.id, u.user.id);
  assert.throws(() => stack('site', 'remove', s.name), /no site/);
});
