// Helpers for the messaging, groups and event-stream tests (on top of
// lib.js): sending, history, and reading a user's event stream the way a
// client does.
'use strict';
const assert = require('node:assert/strict');
const { api } = require('./lib.js');

// POST /messages; resolves the raw response.
function send(from, body) {
  return api.post('/api/v1/messages', { token: from.token, json: body });
}

// A text message that must be stored: resolves the message object.
async function sendText(from, to, text, extra = {}) {
  const r = await send(from, Object.assign({ to: to.user.id, type: 'text', body: { text } }, extra));
  assert.equal(r.status, 201, r.text);
  return r.json.message;
}

async function sendGroup(from, groupId, text, extra = {}) {
  const r = await send(from, Object.assign({ group_id: groupId, type: 'text', body: { text } }, extra));
  assert.equal(r.status, 201, r.text);
  return r.json.message;
}

// GET /conversations as a list.
async function conversations(u) {
  const r = await api.get('/api/v1/conversations', { token: u.token });
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json.conversations), r.text);
  return r.json.conversations;
}

async function conversation(u, id) {
  const c = (await conversations(u)).find((x) => x.id === id);
  assert.ok(c, `conversation ${id} is listed for ${u.user.username}`);
  return c;
}

// One history page; query is an object ({before, limit}).
async function history(u, convId, query = {}) {
  const qs = new URLSearchParams(query).toString();
  const r = await api.get(`/api/v1/conversations/${convId}/messages${qs ? '?' + qs : ''}`, { token: u.token });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// Every message of a conversation, oldest first, through all pages.
async function allMessages(u, convId, limit = 200) {
  let out = [];
  let before;
  for (;;) {
    const q = { limit };
    if (before !== undefined) q.before = before;
    const page = await history(u, convId, q);
    out = page.messages.concat(out);
    if (!page.has_more) return out;
    before = page.next_before;
  }
}

// GET /events; query is an object (since, timeout, limit, ...). Resolves
// the raw response.
function poll(u, query = {}, opts = {}) {
  const qs = new URLSearchParams(query).toString();
  return api.get('/api/v1/events' + (qs ? '?' + qs : ''), Object.assign({ token: u.token }, opts));
}

// The stream's head as a client learns it (a poll without a cursor).
async function head(u) {
  const r = await poll(u);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.events, []);
  assert.equal(typeof r.json.next, 'number');
  return r.json.next;
}

// Every event after `since` that exists now (short polls until empty).
// Resolves {events, next}.
async function drain(u, since) {
  let events = [];
  let next = since;
  for (;;) {
    const r = await poll(u, { since: next, timeout: 0, limit: 500 });
    assert.equal(r.status, 200, r.text);
    if (r.json.events.length === 0) return { events, next };
    events = events.concat(r.json.events);
    next = r.json.next;
  }
}

// Long-polls from `since` until an event matching `pred` arrives (or
// `ms` pass: then fails). Resolves {event, events (all seen, up to and
// including it), next (the cursor after it)}.
async function waitEvent(u, since, pred, ms = 10000) {
  const end = Date.now() + ms;
  const seen = [];
  let next = since;
  for (;;) {
    const left = end - Date.now();
    assert.ok(left > 0, `no matching event for ${u.user.username} within ${ms} ms; saw ${JSON.stringify(seen)}`);
    const r = await poll(u, { since: next, timeout: Math.max(1, Math.min(5, Math.ceil(left / 1000))) });
    assert.equal(r.status, 200, r.text);
    for (const e of r.json.events) {
      seen.push(e);
      if (pred(e)) return { event: e, events: seen, next: e.seq };
    }
    next = r.json.next;
  }
}

const ofType = (type, extra = () => true) => (e) => e.type === type && extra(e.data);

module.exports = {
  send, sendText, sendGroup, conversations, conversation, history, allMessages,
  poll, head, drain, waitEvent, ofType,
};
