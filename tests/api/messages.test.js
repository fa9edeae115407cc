// Messages service, black box: direct messages between friends, delivery
// through the event stream, idempotent resends, history pages, read and
// delivered receipts, recall, and the refusals. Every test uses fresh users.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, assertError, stack } = require('../lib.js');
const { assertSameAnswer } = require('../same.js');
const {
  send, sendText, conversations, conversation, history, allMessages,
  poll, head, drain, waitEvent, ofType,
} = require('../chat.js');

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const BIG_ID = 9007199254740991; // 2^53 - 1: valid, but nothing has it
const MESSAGE_KEYS = ['body', 'client_id', 'conversation_id', 'created_at', 'from', 'id', 'recalled', 'seq', 'type'];

async function friends2(p = 'm') {
  const [a, b] = await Promise.all([register(p + 'a'), register(p + 'b')]);
  await befriend(a, b);
  return [a, b];
}

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql);
}

// --- sending and receiving ----------------------------------------------------

test('a message to a friend reaches their waiting long poll at once', async () => {
  const [a, b] = await friends2();
  const since = await head(b);

  const t0 = Date.now();
  const polling = poll(b, { since, timeout: 20 });
  await new Promise((r) => setTimeout(r, 300)); // let the poll park
  const sentAt = Date.now();
  const m = await sendText(a, b, 'hello, Bob 👋');
  const r = await polling;
  const waited = Date.now() - sentAt;

  assert.equal(r.status, 200, r.text);
  assert.ok(Date.now() - t0 >= 300, 'the poll waited for the message');
  assert.ok(waited < 3000, `the poll answered ${waited} ms after the send (timeout 20 s)`);
  const got = r.json.events.filter((e) => e.type === 'message');
  assert.equal(got.length, 1, r.text);
  const ev = got[0];
  assert.ok(ev.seq > since);
  assert.match(ev.created_at, ISO);
  assert.deepEqual(ev.data, { message: m });
  assert.equal(r.json.next, r.json.events[r.json.events.length - 1].seq);

  // What the sender got back.
  assert.deepEqual(Object.keys(m).sort(), MESSAGE_KEYS);
  assert.equal(typeof m.id, 'number');
  assert.equal(typeof m.conversation_id, 'number');
  assert.equal(m.seq, 1);
  assert.equal(m.from, a.user.id);
  assert.equal(m.type, 'text');
  assert.deepEqual(m.body, { text: 'hello, Bob 👋' });
  assert.equal(m.client_id, null);
  assert.equal(m.recalled, false);
  assert.match(m.created_at, ISO);

  // The sender's other devices see their own message on their stream too.
  const mine = await drain(a, 0);
  assert.deepEqual(mine.events.filter((e) => e.type === 'message').map((e) => e.data.message), [m]);

  // Both sides list the conversation; only the recipient has it unread.
  const cb = await conversation(b, m.conversation_id);
  assert.equal(cb.kind, 'direct');
  assert.equal(cb.name, null);
  assert.deepEqual(cb.peer, { id: a.user.id, username: a.user.username, display_name: a.user.display_name });
  assert.deepEqual(cb.last_message, m);
  assert.equal(cb.unread, 1);
  assert.equal(cb.read_seq, 0);
  assert.equal(cb.head, 1);
  const ca = await conversation(a, m.conversation_id);
  assert.deepEqual(ca.peer, { id: b.user.id, username: b.user.username, display_name: b.user.display_name });
  assert.equal(ca.unread, 0);
  assert.deepEqual(ca.last_message, m);

  // A reply lands in the same conversation, next seq.
  const reply = await sendText(b, a, 'hi Alice');
  assert.equal(reply.conversation_id, m.conversation_id);
  assert.equal(reply.seq, 2);
  const h = await history(a, m.conversation_id);
  assert.deepEqual(h.messages, [m, reply]);
  assert.equal(h.has_more, false);
});

test('media messages keep exactly the allowed body fields', async () => {
  const [a, b] = await friends2();
  const body = { url: 'https://cdn.example.com/p/cat.png?x=1', name: 'cat.png', size: 12345, mime: 'image/png' };
  for (const type of ['image', 'file', 'audio', 'video']) {
    const r = await send(a, { to: b.user.id, type, body: Object.assign({ extra: 'dropped' }, body) });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.message.type, type);
    assert.deepEqual(r.json.message.body, body);
  }
  // A text body keeps only its text; newlines and tabs are fine.
  const t = await send(a, { to: b.user.id, type: 'text', body: { text: 'two\nlines\tand a tab', url: 'https://x.example/' } });
  assert.equal(t.status, 201, t.text);
  assert.deepEqual(t.json.message.body, { text: 'two\nlines\tand a tab' });
  // 8192 bytes of text is the most (2-byte characters count as bytes).
  const max = await send(a, { to: b.user.id, type: 'text', body: { text: 'é'.repeat(4096) } });
  assert.equal(max.status, 201, max.text);
  assert.equal(max.json.message.body.text.length, 4096);

  const all = await allMessages(b, t.json.message.conversation_id);
  assert.deepEqual(all.map((m) => m.type), ['image', 'file', 'audio', 'video', 'text', 'text']);
  assert.deepEqual(all.map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
});

test('same client_id again: 200 with the original, nothing new stored or delivered', async () => {
  const [a, b] = await friends2();
  const since = await head(b);
  const first = await send(a, { to: b.user.id, client_id: 'c-1', type: 'text', body: { text: 'once' } });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.json.message.client_id, 'c-1');

  const again = await send(a, { to: b.user.id, client_id: 'c-1', type: 'text', body: { text: 'once' } });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.json.message, first.json.message);
  // A retry is recognized by its client_id alone, even with another body.
  const other = await send(a, { to: b.user.id, client_id: 'c-1', type: 'text', body: { text: 'twice?' } });
  assert.equal(other.status, 200, other.text);
  assert.deepEqual(other.json.message, first.json.message);

  // Concurrent retries of a new client_id: exactly one is created.
  const burst = await Promise.all(Array.from({ length: 6 }, () =>
    send(a, { to: b.user.id, client_id: 'c-2', type: 'text', body: { text: 'burst' } })));
  assert.deepEqual(burst.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 201], burst.map((r) => r.text).join('\n'));
  assert.equal(new Set(burst.map((r) => r.json.message.id)).size, 1);

  // Another sender may use the same client_id: it is per sender.
  const theirs = await send(b, { to: a.user.id, client_id: 'c-1', type: 'text', body: { text: 'mine' } });
  assert.equal(theirs.status, 201, theirs.text);
  assert.notEqual(theirs.json.message.id, first.json.message.id);

  const conv = first.json.message.conversation_id;
  const all = await allMessages(a, conv);
  assert.deepEqual(all.map((m) => m.body.text), ['once', 'burst', 'mine']);
  assert.deepEqual(all.map((m) => m.seq), [1, 2, 3]);
  const got = (await drain(b, since)).events.filter((e) => e.type === 'message');
  assert.deepEqual(got.map((e) => e.data.message.body.text), ['once', 'burst', 'mine']);
  assert.equal((await conversation(b, conv)).unread, 2);
});

test('history: pages of 10, 10, 5 oldest first, no gaps or duplicates', async () => {
  const [a, b] = await friends2();
  const sent = [];
  for (let i = 0; i < 25; i++) sent.push(await sendText(i % 3 ? a : b, i % 3 ? b : a, 'msg ' + i));
  const conv = sent[0].conversation_id;

  const p1 = await history(b, conv, { limit: 10 });
  assert.deepEqual(p1.messages.map((m) => m.seq), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
  assert.equal(p1.has_more, true);
  assert.equal(p1.next_before, 16);
  const p2 = await history(b, conv, { limit: 10, before: p1.next_before });
  assert.deepEqual(p2.messages.map((m) => m.seq), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  assert.equal(p2.has_more, true);
  const p3 = await history(b, conv, { limit: 10, before: p2.next_before });
  assert.deepEqual(p3.messages.map((m) => m.seq), [1, 2, 3, 4, 5]);
  assert.equal(p3.has_more, false);

  // Together: every message exactly once, as sent, in order.
  assert.deepEqual([...p3.messages, ...p2.messages, ...p1.messages], sent);
  // Both members read the same history; the default page holds all 25.
  const whole = await history(a, conv);
  assert.deepEqual(whole.messages, sent);
  assert.equal(whole.has_more, false);
  // A cursor in the middle, and one below the first message.
  assert.deepEqual((await history(a, conv, { before: 3, limit: 10 })).messages, sent.slice(0, 2));
  const none = await history(a, conv, { before: 1 });
  assert.deepEqual(none.messages, []);
  assert.equal(none.has_more, false);
});

test('the conversation list: newest activity first, limit', async () => {
  const [a, b] = await friends2();
  const c = await register('mc');
  await befriend(a, c);
  const mb = await sendText(a, b, 'to b');
  const mc = await sendText(c, a, 'from c');
  let list = await conversations(a);
  assert.deepEqual(list.map((x) => x.id), [mc.conversation_id, mb.conversation_id]);
  assert.deepEqual(list.map((x) => x.peer.id), [c.user.id, b.user.id]);
  assert.deepEqual(list.map((x) => x.unread), [1, 0]);
  // A reply in the older conversation moves it to the top.
  const mb2 = await sendText(b, a, 'back to a');
  list = await conversations(a);
  assert.deepEqual(list.map((x) => x.id), [mb.conversation_id, mc.conversation_id]);
  assert.deepEqual(list[0].last_message, mb2);
  assert.deepEqual(list.map((x) => x.head), [2, 1]);
  const one = await api.get('/api/v1/conversations?limit=1', { token: a.token });
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.json.conversations.map((x) => x.id), [mb.conversation_id]);
  for (const q of ['limit=0', 'limit=501', 'limit=x']) {
    assertError(assert, await api.get('/api/v1/conversations?' + q, { token: a.token }), 400, 'invalid_parameter');
  }
});

// --- receipts ---------------------------------------------------------------

test('read receipts: the sender is told, unread drops to 0, never backwards', async () => {
  const [a, b] = await friends2();
  const m = [];
  for (let i = 1; i <= 3; i++) m.push(await sendText(a, b, 'm' + i));
  const conv = m[0].conversation_id;
  const sinceA = await head(a);
  assert.equal((await conversation(b, conv)).unread, 3);

  let r = await api.post(`/api/v1/conversations/${conv}/read`, { token: b.token, json: { seq: 2 } });
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  let w = await waitEvent(a, sinceA, ofType('message.read'));
  assert.deepEqual(w.event.data, { conversation_id: conv, user_id: b.user.id, seq: 2 });
  let cb = await conversation(b, conv);
  assert.equal(cb.unread, 1);
  assert.equal(cb.read_seq, 2);

  r = await api.post(`/api/v1/conversations/${conv}/read`, { token: b.token, json: { seq: 3 } });
  assert.equal(r.status, 204, r.text);
  w = await waitEvent(a, w.next, ofType('message.read'));
  assert.deepEqual(w.event.data, { conversation_id: conv, user_id: b.user.id, seq: 3 });
  cb = await conversation(b, conv);
  assert.equal(cb.unread, 0);
  assert.equal(cb.read_seq, 3);
  // The sender sees the peer's marks in the list too (a new device has
  // not seen the events).
  const ca = await conversation(a, conv);
  assert.equal(ca.peer_read_seq, 3);
  assert.equal(typeof ca.peer_delivered_seq, 'number');
  assert.equal(cb.peer_read_seq, 0);

  // Lower, equal and beyond-the-head marks change nothing and tell no one.
  for (const seq of [1, 0, 3, 1000]) {
    r = await api.post(`/api/v1/conversations/${conv}/read`, { token: b.token, json: { seq } });
    assert.equal(r.status, 204, r.text);
  }
  cb = await conversation(b, conv);
  assert.equal(cb.read_seq, 3);
  assert.equal(cb.unread, 0);
  const after = await drain(a, w.next);
  assert.deepEqual(after.events.filter((e) => e.type === 'message.read'), []);

  // The reader's own devices learn the read mark as well.
  const own = (await drain(b, 0)).events.filter((e) => e.type === 'message.read');
  assert.deepEqual(own.map((e) => e.data.seq), [2, 3]);
  // The sender's own messages never count as unread for them.
  assert.equal((await conversation(a, conv)).unread, 0);

  // A new message counts again; reading past the head clamps to it.
  await sendText(a, b, 'm4');
  assert.equal((await conversation(b, conv)).unread, 1);
  r = await api.post(`/api/v1/conversations/${conv}/read`, { token: b.token, json: { seq: 99 } });
  assert.equal(r.status, 204);
  cb = await conversation(b, conv);
  assert.equal(cb.read_seq, 4);
  assert.equal(cb.unread, 0);
  w = await waitEvent(a, after.next, ofType('message.read'));
  assert.equal(w.event.data.seq, 4);
});

test('delivered receipts: sent once the recipient\'s poll acknowledges the message event', async () => {
  const [a, b] = await friends2();
  const sinceB = await head(b);
  const m = await sendText(a, b, 'are you there?');
  const sinceA = await head(a);

  // Polling from before the event returns it but does not acknowledge it.
  let r = await poll(b, { since: sinceB, timeout: 0 });
  assert.equal(r.status, 200, r.text);
  const ev = r.json.events.find((e) => e.type === 'message');
  assert.equal(ev.data.message.id, m.id);
  assert.deepEqual((await drain(a, sinceA)).events.filter((e) => e.type === 'message.delivered'), []);
  assert.equal((await conversation(b, m.conversation_id)).delivered_seq, 0);

  // The next poll, from a cursor covering the event, acknowledges it.
  r = await poll(b, { since: ev.seq, timeout: 0 });
  assert.equal(r.status, 200, r.text);
  const w = await waitEvent(a, sinceA, ofType('message.delivered'));
  assert.deepEqual(w.event.data, { conversation_id: m.conversation_id, user_id: b.user.id, seq: m.seq });
  assert.equal((await conversation(b, m.conversation_id)).delivered_seq, m.seq);

  // Acknowledging again (same or older cursor) tells nobody anything new.
  await poll(b, { since: ev.seq, timeout: 0 });
  await poll(b, { since: sinceB, timeout: 0 });
  assert.deepEqual((await drain(a, w.next)).events.filter((e) => e.type === 'message.delivered'), []);

  // Two more messages, one acknowledgement: one receipt with the newest seq.
  const m2 = await sendText(a, b, 'hello?');
  const m3 = await sendText(a, b, 'hello??');
  const d = await drain(b, ev.seq);
  await poll(b, { since: d.next, timeout: 0 });
  const w2 = await waitEvent(a, w.next, ofType('message.delivered'));
  assert.deepEqual(w2.event.data, { conversation_id: m.conversation_id, user_id: b.user.id, seq: m3.seq });
  assert.equal(m2.seq + 1, m3.seq);
  // The sender's own messages give the sender no receipts when it polls.
  const own = await drain(a, w2.next);
  await poll(a, { since: own.next, timeout: 0 });
  assert.deepEqual((await drain(b, d.next)).events.filter((e) => e.type === 'message.delivered'), []);
});

// --- recall -----------------------------------------------------------------

test('recall: sender only, everyone is told, history keeps a recalled stub', async () => {
  const [a, b] = await friends2();
  const c = await register('mc');
  const m = await sendText(a, b, 'oops, wrong chat');
  const sinceB = await head(b);

  assertError(assert, await api.post(`/api/v1/messages/${m.id}/recall`, { token: b.token }), 403, 'not_sender');
  assertError(assert, await api.post(`/api/v1/messages/${m.id}/recall`, { token: c.token }), 404, 'message_not_found');
  assertError(assert, await api.post(`/api/v1/messages/${BIG_ID}/recall`, { token: a.token }), 404, 'message_not_found');
  assertError(assert, await api.post('/api/v1/messages/abc/recall', { token: a.token }), 400, 'invalid_id');

  const r = await api.post(`/api/v1/messages/${m.id}/recall`, { token: a.token });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.message, Object.assign({}, m, { recalled: true, body: null }));
  // Recalling again answers the same.
  const again = await api.post(`/api/v1/messages/${m.id}/recall`, { token: a.token });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.json.message, r.json.message);

  const w = await waitEvent(b, sinceB, ofType('message.recalled'));
  assert.deepEqual(w.event.data, { message_id: m.id, conversation_id: m.conversation_id, seq: m.seq });
  // Only one event, though recalled twice; the sender's stream has it too.
  assert.deepEqual((await drain(b, w.next)).events.filter((e) => e.type === 'message.recalled'), []);
  assert.equal((await drain(a, 0)).events.filter((e) => e.type === 'message.recalled').length, 1);

  for (const u of [a, b]) {
    const h = await history(u, m.conversation_id);
    assert.deepEqual(h.messages, [r.json.message]);
    assert.equal(h.messages[0].body, null);
    assert.deepEqual((await conversation(u, m.conversation_id)).last_message, r.json.message);
  }
});

test('recall after 2 minutes: 409 recall_window_passed, the message stays', async () => {
  const [a, b] = await friends2();
  const m = await sendText(a, b, 'old news');
  psql(`UPDATE messages SET created_at = now() - interval '3 minutes' WHERE id = ${m.id}`);
  assertError(assert, await api.post(`/api/v1/messages/${m.id}/recall`, { token: a.token }), 409, 'recall_window_passed');
  const h = await history(b, m.conversation_id);
  assert.equal(h.messages.length, 1);
  assert.equal(h.messages[0].recalled, false);
  assert.deepEqual(h.messages[0].body, { text: 'old news' });
  // Just inside the window still works.
  const m2 = await sendText(a, b, 'recent');
  psql(`UPDATE messages SET created_at = now() - interval '110 seconds' WHERE id = ${m2.id}`);
  const r = await api.post(`/api/v1/messages/${m2.id}/recall`, { token: a.token });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.message.recalled, true);
});

// --- who may message whom ---------------------------------------------------

test('not friends -> 403, unknown user -> 404; a block is told only to the blocker', async () => {
  const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((p) => register('n' + p)));
  assertError(assert, await send(a, { to: b.user.id, type: 'text', body: { text: 'hi' } }), 403, 'not_friends');
  assertError(assert, await send(a, { to: BIG_ID, type: 'text', body: { text: 'hi' } }), 404, 'user_not_found');

  await befriend(a, c);
  await befriend(a, d);
  await sendText(a, c, 'we are friends');
  // c blocks a: neither may write to the other. c, who blocked, is told
  // why (unblock first); a is answered exactly as b, a stranger, is: the
  // block stays secret, as a friend request to c would.
  let r = await api.post('/api/v1/blocks', { token: c.token, json: { user_id: a.user.id } });
  assert.equal(r.status, 201, r.text);
  const toBlocker = await send(a, { to: c.user.id, type: 'text', body: { text: 'hey' } });
  assertError(assert, toBlocker, 403, 'not_friends');
  assertSameAnswer(assert, toBlocker, await send(a, { to: b.user.id, type: 'text', body: { text: 'hey' } }),
    'the blocked user writes to the blocker, and to a stranger');
  assertError(assert, await send(c, { to: a.user.id, type: 'text', body: { text: 'hey' } }), 403, 'blocked');
  // Blocked both ways: each is a blocker, each is told.
  assert.equal((await api.post('/api/v1/blocks', { token: a.token, json: { user_id: c.user.id } })).status, 201);
  assertError(assert, await send(a, { to: c.user.id, type: 'text', body: { text: 'hey' } }), 403, 'blocked');
  assert.equal((await api.del(`/api/v1/blocks/${c.user.id}`, { token: a.token })).status, 204);
  // Ending a friendship ends messaging too.
  r = await api.del(`/api/v1/friends/${a.user.id}`, { token: d.token });
  assert.equal(r.status, 204, r.text);
  assertError(assert, await send(a, { to: d.user.id, type: 'text', body: { text: 'hey' } }), 403, 'not_friends');
  assertError(assert, await send(d, { to: a.user.id, type: 'text', body: { text: 'hey' } }), 403, 'not_friends');

  // Nothing was stored: b and d have no conversation at all, c only the first.
  assert.deepEqual(await conversations(b), []);
  assert.deepEqual(await conversations(d), []);
  const cc = await conversations(c);
  assert.equal(cc.length, 1);
  assert.equal(cc[0].head, 1);
});

test('conversations: unknown or not mine -> 404 for history and read', async () => {
  const [a, b] = await friends2();
  const c = await register('mc');
  const m = await sendText(a, b, 'private');
  const conv = m.conversation_id;
  for (const [path, opts] of [
    [`/api/v1/conversations/${conv}/messages`, {}],
    [`/api/v1/conversations/${BIG_ID}/messages`, {}],
  ]) assertError(assert, await api.get(path, Object.assign({ token: c.token }, opts)), 404, 'conversation_not_found');
  assertError(assert, await api.get(`/api/v1/conversations/${BIG_ID}/messages`, { token: a.token }), 404, 'conversation_not_found');
  assertError(assert, await api.post(`/api/v1/conversations/${conv}/read`, { token: c.token, json: { seq: 1 } }), 404, 'conversation_not_found');
  assertError(assert, await api.post(`/api/v1/conversations/${BIG_ID}/read`, { token: a.token, json: { seq: 1 } }), 404, 'conversation_not_found');
  assertError(assert, await api.get('/api/v1/conversations/0/messages', { token: a.token }), 400, 'invalid_id');
  assertError(assert, await api.get('/api/v1/conversations/x1/messages', { token: a.token }), 400, 'invalid_id');
  assert.deepEqual(await conversations(c), []);
  // The outsider's attempts left the conversation untouched.
  assert.equal((await conversation(b, conv)).unread, 1);
});

test('bad input: 400 for every malformed send, nothing stored', async () => {
  const [a, b] = await friends2();
  const [g] = await Promise.all([register('mg')]);
  const to = b.user.id;
  const media = { url: 'https://x.example/a.png', name: 'a.png', size: 1, mime: 'image/png' };
  const bad = [
    [{ to: a.user.id, type: 'text', body: { text: 'me' } }, 'invalid_field'], // to myself
    [{ to, group_id: 1, type: 'text', body: { text: 'both' } }, 'invalid_field'],
    [{ type: 'text', body: { text: 'neither' } }, 'invalid_field'],
    [{ to: String(to), type: 'text', body: { text: 'x' } }, 'invalid_field'],
    [{ to: 0, type: 'text', body: { text: 'x' } }, 'invalid_field'],
    [{ to: -to, type: 'text', body: { text: 'x' } }, 'invalid_field'],
    [{ to: to + 0.5, type: 'text', body: { text: 'x' } }, 'invalid_field'],
    [{ to: 2 ** 60, type: 'text', body: { text: 'x' } }, 'invalid_field'],
    [{ group_id: 'g', type: 'text', body: { text: 'x' } }, 'invalid_field'],
    [{ to, body: { text: 'no type' } }, 'missing_field'],
    [{ to, type: 'sticker', body: { text: 'x' } }, 'invalid_field'],
    [{ to, type: 'system', body: { text: 'x' } }, 'invalid_field'],
    [{ to, type: 'call', body: { text: 'x' } }, 'invalid_field'],
    [{ to, type: 'TEXT', body: { text: 'x' } }, 'invalid_field'],
    [{ to, type: 7, body: { text: 'x' } }, 'invalid_field'],
    [{ to, type: '', body: { text: 'x' } }, 'invalid_field'],
    [{ to, type: 'text' }, 'missing_field'],
    [{ to, type: 'text', body: 'just a string' }, 'invalid_field'],
    [{ to, type: 'text', body: ['x'] }, 'invalid_field'],
    [{ to, type: 'text', body: {} }, 'missing_field'],
    [{ to, type: 'text', body: { text: '' } }, 'invalid_field'],
    [{ to, type: 'text', body: { text: 42 } }, 'invalid_field'],
    [{ to, type: 'text', body: { text: 'x'.repeat(8193) } }, 'invalid_field'],
    [{ to, type: 'text', body: { text: 'é'.repeat(4097) } }, 'invalid_field'], // 8194 bytes
    [{ to, type: 'text', body: { text: 'bell\u0007' } }, 'invalid_field'],
    [{ to, type: 'text', body: { text: 'x' }, client_id: '' }, 'invalid_field'],
    [{ to, type: 'text', body: { text: 'x' }, client_id: 'c'.repeat(65) }, 'invalid_field'],
    [{ to, type: 'text', body: { text: 'x' }, client_id: 12 }, 'invalid_field'],
    [{ to, type: 'image', body: { text: 'an image?' } }, 'missing_field'],
    [{ to, type: 'image', body: Object.assign({}, media, { url: undefined }) }, 'missing_field'],
    [{ to, type: 'image', body: Object.assign({}, media, { url: 'javascript:alert(1)' }) }, 'invalid_field'],
    [{ to, type: 'image', body: Object.assign({}, media, { url: 'JAVASCRIPT:alert(1)' }) }, 'invalid_field'],
    [{ to, type: 'image', body: Object.assign({}, media, { url: 'data:image/png;base64,AAAA' }) }, 'invalid_field'],
    [{ to, type: 'image', body: Object.assign({}, media, { url: 'ftp://x.example/a.png' }) }, 'invalid_field'],
    [{ to, type: 'image', body: Object.assign({}, media, { url: '//x.example/a.png' }) }, 'invalid_field'],
    [{ to, type: 'image', body: Object.assign({}, media, { url: 'https://x.example/a b.png' }) }, 'invalid_field'],
    [{ to, type: 'image', body: Object.assign({}, media, { url: 'https://x.example/"><script>' }) }, 'invalid_field'],
    [{ to, type: 'file', body: Object.assign({}, media, { url: 'https://x.example/' + 'a'.repeat(2048) }) }, 'invalid_field'],
    [{ to, type: 'file', body: Object.assign({}, media, { name: undefined }) }, 'missing_field'],
    [{ to, type: 'file', body: Object.assign({}, media, { name: '' }) }, 'invalid_field'],
    [{ to, type: 'file', body: Object.assign({}, media, { size: -1 }) }, 'invalid_field'],
    [{ to, type: 'file', body: Object.assign({}, media, { size: '1' }) }, 'invalid_field'],
    [{ to, type: 'file', body: Object.assign({}, media, { size: 1.5 }) }, 'invalid_field'],
    [{ to, type: 'audio', body: Object.assign({}, media, { mime: 'audio' }) }, 'invalid_field'],
    [{ to, type: 'audio', body: Object.assign({}, media, { mime: 'audio/ogg; x=1' }) }, 'invalid_field'],
    [{ to, type: 'video', body: Object.assign({}, media, { mime: undefined }) }, 'missing_field'],
  ];
  for (const [body, code] of bad) {
    const r = await send(a, body);
    assertError(assert, r, 400, code);
  }
  // Bodies that are not a JSON object, or not JSON.
  assertError(assert, await api.post('/api/v1/messages', { token: a.token, body: '[1]' }), 400);
  assertError(assert, await api.post('/api/v1/messages', { token: a.token, body: '{"to":' }), 400, 'invalid_json');
  assertError(assert, await api.post('/api/v1/messages', { token: a.token }), 400);
  assertError(assert, await api.post('/api/v1/messages', { token: a.token, body: 'to=1', contentType: 'application/x-www-form-urlencoded' }), 415);
  // History and read parameters.
  const m = await sendText(a, b, 'the only one');
  for (const q of ['limit=0', 'limit=201', 'limit=x', 'before=0', 'before=-5', 'before=abc', 'limit=']) {
    assertError(assert, await api.get(`/api/v1/conversations/${m.conversation_id}/messages?${q}`, { token: a.token }), 400, 'invalid_parameter');
  }
  for (const seq of [-1, 'x', 1.5, null]) {
    assertError(assert, await api.post(`/api/v1/conversations/${m.conversation_id}/read`, { token: b.token, json: { seq } }), 400);
  }
  assertError(assert, await api.post(`/api/v1/conversations/${m.conversation_id}/read`, { token: b.token, json: {} }), 400, 'missing_field');
  // Without a session.
  assertError(assert, await api.post('/api/v1/messages', { json: { to, type: 'text', body: { text: 'x' } } }), 401);
  assertError(assert, await api.get('/api/v1/conversations'), 401);
  assertError(assert, await api.get(`/api/v1/conversations/${m.conversation_id}/messages`), 401);
  assertError(assert, await api.post(`/api/v1/messages/${m.id}/recall`), 401);

  // Only the one good message exists.
  assert.deepEqual((await allMessages(b, m.conversation_id)).map((x) => x.id), [m.id]);
  assert.deepEqual(await conversations(g), []);
});
