// Names other people see cannot reorder text: the bidirectional formatting
// characters (Unicode Bidi_Control: U+061C, U+200E, U+200F, U+202A-U+202E,
// U+2066-U+2069) are stripped from display names (registration, a site's
// PUT /server/users) and group names (create, rename) before they are
// checked and stored. "\u202Elive" would show as "evil"; it is stored as
// "live". A name of nothing but such characters is empty: 400. The
// database refuses them too (constraints of sql/017), whatever path
// writes.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, assertError, stack, uniqueName, untilNotBusy } = require('../lib.js');
const { head, waitEvent, ofType } = require('../chat.js');
const { newSite } = require('../sites.js');

const BIDI = ['\u061C', '\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E',
  '\u2066', '\u2067', '\u2068', '\u2069'];
const BIDI_RE = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

function registerAs(display) {
  const json = { username: uniqueName('bd'), password: 'correct horse 1', display_name: display };
  return untilNotBusy(() => api.post('/api/v1/auth/register', { json }));
}

test('registration strips every bidi control from the display name', async () => {
  const r = await registerAs('\u202Elive');
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.user.display_name, 'live');
  const me = await api.get('/api/v1/auth/me', { token: r.json.token });
  assert.equal(me.json.user.display_name, 'live');

  // All twelve, around and inside a name with letters of both directions
  // (Arabic and Hebrew letters are text, and stay).
  const all = await registerAs(BIDI.join('A') + 'B \u0633\u0644\u0627\u0645 \u05e9');
  assert.equal(all.status, 201, all.text);
  assert.equal(all.json.user.display_name, 'AAAAAAAAAAAB \u0633\u0644\u0627\u0645 \u05e9');
  // Other invisible characters are not Bidi_Control: a zero width joiner
  // (emoji sequences) stays.
  const zwj = await registerAs('\u{1F469}\u200D\u{1F4BB}');
  assert.equal(zwj.json.user.display_name, '\u{1F469}\u200D\u{1F4BB}');

  // The limit counts what is stored: 64 letters wrapped in isolates fit.
  const long = await registerAs('\u2066' + 'x'.repeat(64) + '\u2069');
  assert.equal(long.status, 201, long.text);
  assert.equal(long.json.user.display_name, 'x'.repeat(64));
  // Nothing but controls: as empty as "".
  assertError(assert, await registerAs('\u202E\u202C'), 400, 'invalid_field');
  assertError(assert, await registerAs(''), 400, 'invalid_field');
});

test('group names are stripped on create and rename; members see the clean name', async () => {
  const a = await register('bg');
  const b = await register('bg');
  await befriend(a, b);
  const hb = await head(b);
  let r = await api.post('/api/v1/groups', { token: a.token, json: { name: '\u202Eevil\u202C club', members: [b.user.id] } });
  assert.equal(r.status, 201, r.text);
  const g = r.json.group;
  assert.equal(g.name, 'evil club');
  const ev = await waitEvent(b, hb, ofType('group.created', (d) => d.group_id === g.id));
  assert.equal(ev.event.data.name, 'evil club');

  r = await api.request('PATCH', `/api/v1/groups/${g.id}`, { token: a.token, json: { name: '\u2067new\u2069 \u200Fname' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.group.name, 'new name');
  const rn = await waitEvent(b, ev.next, ofType('group.renamed'));
  assert.equal(rn.event.data.name, 'new name');
  const conv = (await api.get('/api/v1/conversations', { token: b.token })).json.conversations.find((c) => c.id === g.id);
  assert.equal(conv.name, 'new name');

  assertError(assert, await api.request('PATCH', `/api/v1/groups/${g.id}`, { token: a.token, json: { name: '\u061C' } }), 400, 'invalid_field');
  assertError(assert, await api.post('/api/v1/groups', { token: a.token, json: { name: '\u2066\u2069', members: [b.user.id] } }), 400, 'invalid_field');
});

test("a site's display names are stripped too (PUT /server/users/{ext})", async () => {
  const site = newSite('bs');
  const ext = 'bidi-' + Date.now();
  let r = await site.req('PUT', `/api/v1/server/users/${ext}`, { username: uniqueName('bs'), display_name: '\u202Egnp.exe' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.user.display_name, 'gnp.exe');
  r = await site.req('PUT', `/api/v1/server/users/${ext}`, { display_name: 'Ann \u200E\u2068Lee\u2069' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.user.display_name, 'Ann Lee');
  r = await site.req('PUT', `/api/v1/server/users/${ext}`, { display_name: '\u202D' });
  assertError(assert, r, 400, 'invalid_field');
  assert.equal((await site.req('GET', `/api/v1/server/users/${ext}`)).json.user.display_name, 'Ann Lee');
});

test('the database keeps bidi controls out of display and group names, whoever writes', async () => {
  const u = await register('bdb');
  assert.throws(() => psql(`UPDATE users SET display_name = U&'\\202Eevil' WHERE id = ${u.user.id}`),
    /users_display_name_no_bidi/);
  assert.throws(() => psql("INSERT INTO conversations (kind, name) VALUES ('group', U&'x\\2066')"),
    /conversations_group_name_no_bidi/);
  // strip_bidi() is what the migration cleaned stored names with.
  assert.equal(psql(`SELECT strip_bidi(U&'${BIDI.map((c) => '\\' + c.charCodeAt(0).toString(16).padStart(4, '0')).join('a')}b')`), 'aaaaaaaaaaab');
  assert.equal(psql("SELECT count(*) FROM users WHERE strip_bidi(display_name) <> display_name"), '0');
  assert.ok(!BIDI_RE.test(u.user.display_name));
});
