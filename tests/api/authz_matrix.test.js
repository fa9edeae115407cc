// The authorization matrix (issue 12): every operation of docs/openapi.json
// has a row below saying how it is authenticated (public, user, user with
// the JSONP stream token, site-signed) and, when it takes ids, whose ids
// to try. From the rows:
//   - every user operation gets every wrong credential (none, garbage,
//     malformed, another scheme, a revoked and an expired session, a
//     stream token where only a session token counts, tokens in the URL,
//     the cookie without or with a wrong X-CSRF-Token, a revoked or expired
//     session's cookie, a stream token as the cookie, a site signature),
//     and GET /events also every JSONP variant; each must be the
//     documented 401/403 with a JSON error body, the same bytes on every
//     route;
//   - every id in a path (and the ids in bodies that name conversations,
//     groups and users) is tried with another user's id, and must be
//     answered exactly as a surely-missing id asked in the same test
//     (status, headers and body, the id itself masked);
//   - a blocked user reaching the blocker is answered exactly as any other
//     non-friend, and a party with the wrong role gets the documented
//     refusal;
//   - every /server/ operation is tried unsigned, badly signed, with a
//     user's token, with another site's secret, replayed and out of the
//     clock window; another site's users and groups are answered as
//     missing ones.
// The first test fails when an operation of the description has no row,
// or a row names an operation the description lacks.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { api, request, register, befriend, uniqueName, stack, ROOT } = require('../lib.js');
const { head } = require('../chat.js');
const { newSite, signed, siteUser, login: siteLogin } = require('../sites.js');
const up = require('../uploads.js');

const SPEC_FILE = path.join(ROOT, 'docs', 'openapi.json');
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
// An id nobody has (the largest integer JSON carries exactly).
const MISSING = 9007199254740991;
// An external id no site has, as long as the ones siteUser makes.
const MISSING_EXT = 'ext-' + crypto.randomBytes(6).toString('hex');
const BATCH = 16;

const b64url = (n) => crypto.randomBytes(n).toString('base64url');

// --- the table: one row per operation --------------------------------------
//
// auth: 'public' | 'user' | 'stream' (user, plus stream tokens and JSONP on
// GET /events) | 'site' (signed, /api/v1/server/).
// params/query/body (fixtures => value): the request the credential checks
// send, with the ids of user A (or of site A), so that a credential wrongly
// taken would act on real things. For 'site' rows it is a harmless request
// (a missing user, an empty body) that a correct signature gets a 4xx or a
// no-op for.
// probes: ids of someone else. Each names the path parameter (param) or
// body field (field) it tries, who asks (as), the other user's id (id) and
// the id it is compared with (ref: default the missing id), the answer the
// reference must get (want: [status, code]) and, if they differ from the
// row's, params/body for the asker. The answer to `id` must equal the
// answer to `ref`.
// refusals: a party with the wrong role (or the blocker) gets a documented
// refusal: [status, code], the code named in the operation's description.

const text = (t) => ({ type: 'text', body: { text: t } });
const signal = { kind: 'candidate', data: { candidate: '' } };

const ROWS = {
  'GET /api/v1/openapi.json': { auth: 'public' },
  'GET /api/v1/health': { auth: 'public' },
  'POST /api/v1/auth/register': { auth: 'public', body: () => ({}) },
  'POST /api/v1/auth/login': { auth: 'public', body: () => ({}) },
  'POST /api/v1/auth/ticket': { auth: 'public', body: () => ({}) },

  'POST /api/v1/auth/logout': { auth: 'user' },
  'GET /api/v1/auth/me': { auth: 'user' },
  'GET /api/v1/auth/sessions': { auth: 'user' },
  'DELETE /api/v1/auth/sessions/{id}': {
    auth: 'user', params: (f) => ({ id: f.A.session }),
    probes: [
      { what: "user A's session", as: 'S', param: 'id', id: (f) => f.A.session, want: [404, 'not_found'] },
      { what: 'its own revoked session', as: 'A', param: 'id', id: (f) => f.rev.session, want: [404, 'not_found'] },
    ],
  },
  'POST /api/v1/auth/stream-token': { auth: 'user' },
  'GET /api/v1/users': {
    auth: 'user', query: (f) => ({ q: f.B.user.username }),
    probes: [{
      what: 'the blocked user searching for the blocker, as for a non-friend', as: 'Bd', field: 'q',
      id: (f) => f.K.user.username, ref: (f) => f.N.user.username, query: (f, q) => ({ q }),
      want: [200, null], compare: 'users',
    }],
  },

  'POST /api/v1/friends/requests': {
    auth: 'user', body: (f) => ({ user_id: f.C.user.id }),
    probes: [{
      what: 'a request from the blocked user to the blocker, as to a non-friend', as: 'Bd', field: 'user_id',
      id: (f) => f.K.user.id, ref: (f) => f.N.user.id, body: (f, id) => ({ user_id: id }),
      want: [201, null], compare: 'shape',
    }],
    refusals: [{ what: 'the blocker asks the blocked user', as: 'K', body: (f) => ({ user_id: f.Bd.user.id }), want: [403, 'blocked'] }],
  },
  'GET /api/v1/friends/requests': { auth: 'user' },
  'POST /api/v1/friends/requests/{id}/accept': {
    auth: 'user', params: (f) => ({ id: f.req }),
    probes: [{ what: "A's request to C", as: 'S', param: 'id', id: (f) => f.req, want: [404, 'request_not_found'] }],
    refusals: [{ what: 'the sender accepts', as: 'A', want: [403, 'not_recipient'] }],
  },
  'POST /api/v1/friends/requests/{id}/reject': {
    auth: 'user', params: (f) => ({ id: f.req }),
    probes: [{ what: "A's request to C", as: 'S', param: 'id', id: (f) => f.req, want: [404, 'request_not_found'] }],
    refusals: [{ what: 'the sender rejects', as: 'A', want: [403, 'not_recipient'] }],
  },
  'DELETE /api/v1/friends/requests/{id}': {
    auth: 'user', params: (f) => ({ id: f.req }),
    probes: [{ what: "A's request to C", as: 'S', param: 'id', id: (f) => f.req, want: [404, 'request_not_found'] }],
    refusals: [{ what: 'the recipient cancels', as: 'C', want: [403, 'not_sender'] }],
  },
  'GET /api/v1/friends': { auth: 'user' },
  'DELETE /api/v1/friends/{id}': {
    auth: 'user', params: (f) => ({ id: f.B.user.id }),
    probes: [
      { what: 'user A, no friend of the asker', as: 'S', param: 'id', id: (f) => f.A.user.id, want: [404, 'not_friends'] },
      { what: 'the blocker, as a non-friend', as: 'Bd', param: 'id', id: (f) => f.K.user.id, ref: (f) => f.N.user.id, want: [404, 'not_friends'] },
    ],
  },
  'POST /api/v1/blocks': { auth: 'user', body: (f) => ({ user_id: f.A.user.id }) },
  'GET /api/v1/blocks': { auth: 'user' },
  'DELETE /api/v1/blocks/{id}': {
    auth: 'user', params: (f) => ({ id: f.S.user.id }),
    probes: [
      { what: 'user A, not blocked by the asker', as: 'S', param: 'id', id: (f) => f.A.user.id, want: [404, 'not_blocked'] },
      { what: 'the blocker, as a non-friend', as: 'Bd', param: 'id', id: (f) => f.K.user.id, ref: (f) => f.N.user.id, want: [404, 'not_blocked'] },
    ],
  },

  'POST /api/v1/messages': {
    auth: 'user', body: (f) => Object.assign({ to: f.B.user.id }, text('matrix')),
    probes: [
      { what: "A's group", as: 'S', field: 'group_id', id: (f) => f.group,
        body: (f, id) => Object.assign({ group_id: id }, text('hi')), want: [404, 'group_not_found'] },
      { what: 'the group it left', as: 'L', field: 'group_id', id: (f) => f.group,
        body: (f, id) => Object.assign({ group_id: id }, text('hi')), want: [404, 'group_not_found'] },
      { what: 'the blocked user to the blocker, as to a non-friend', as: 'Bd', field: 'to',
        id: (f) => f.K.user.id, ref: (f) => f.N.user.id, body: (f, id) => Object.assign({ to: id }, text('hi')),
        want: [403, 'not_friends'] },
      { what: "A's upload, sent to the asker's friend", as: 'Bd', field: 'upload_id', id: (f) => f.upload,
        body: (f, id) => ({ to: f.F.user.id, type: 'image', body: { upload_id: id } }), want: [404, 'upload_not_found'] },
    ],
    refusals: [
      { what: 'a non-friend', as: 'S', body: (f) => Object.assign({ to: f.A.user.id }, text('hi')), want: [403, 'not_friends'] },
      { what: 'the blocker to the blocked user', as: 'K', body: (f) => Object.assign({ to: f.Bd.user.id }, text('hi')), want: [403, 'blocked'] },
    ],
  },
  'POST /api/v1/messages/{id}/recall': {
    auth: 'user', params: (f) => ({ id: f.msg }),
    probes: [
      { what: "A's message to B", as: 'S', param: 'id', id: (f) => f.msg, want: [404, 'message_not_found'] },
      { what: 'its own message in the group it left', as: 'L', param: 'id', id: (f) => f.lMsg, want: [404, 'message_not_found'] },
    ],
    refusals: [{ what: 'the recipient recalls', as: 'B', want: [403, 'not_sender'] }],
  },
  'GET /api/v1/conversations': { auth: 'user' },
  'GET /api/v1/conversations/{id}/messages': {
    auth: 'user', params: (f) => ({ id: f.conv }),
    probes: [
      { what: "A and B's conversation", as: 'S', param: 'id', id: (f) => f.conv, want: [404, 'conversation_not_found'] },
      { what: "A's group", as: 'S', param: 'id', id: (f) => f.group, want: [404, 'conversation_not_found'] },
      { what: 'the group it left', as: 'L', param: 'id', id: (f) => f.group, want: [404, 'conversation_not_found'] },
    ],
  },
  'POST /api/v1/conversations/{id}/read': {
    auth: 'user', params: (f) => ({ id: f.conv }), body: () => ({ seq: 1 }),
    probes: [
      { what: "A and B's conversation", as: 'S', param: 'id', id: (f) => f.conv, want: [404, 'conversation_not_found'] },
      { what: "A's group", as: 'S', param: 'id', id: (f) => f.group, want: [404, 'conversation_not_found'] },
      { what: 'the group it left', as: 'L', param: 'id', id: (f) => f.group, want: [404, 'conversation_not_found'] },
    ],
  },
  'POST /api/v1/groups': {
    auth: 'user', body: (f) => ({ name: 'matrix', members: [f.B.user.id] }),
    probes: [
      { what: 'user A, no friend of the asker', as: 'S', field: 'members', id: (f) => f.A.user.id,
        body: (f, id) => ({ name: 'g', members: [id] }), want: [403, 'not_friends'] },
      { what: 'the blocker, as a non-friend', as: 'Bd', field: 'members', id: (f) => f.K.user.id, ref: (f) => f.N.user.id,
        body: (f, id) => ({ name: 'g', members: [f.F.user.id, id] }), want: [403, 'not_friends'] },
    ],
  },
  'GET /api/v1/groups/{id}': {
    auth: 'user', params: (f) => ({ id: f.group }),
    probes: [
      { what: "A's group", as: 'S', param: 'id', id: (f) => f.group, want: [404, 'group_not_found'] },
      { what: 'the group it left', as: 'L', param: 'id', id: (f) => f.group, want: [404, 'group_not_found'] },
      { what: "A and B's conversation", as: 'S', param: 'id', id: (f) => f.conv, want: [404, 'group_not_found'] },
    ],
  },
  'PATCH /api/v1/groups/{id}': {
    auth: 'user', params: (f) => ({ id: f.group }), body: () => ({ name: 'renamed' }),
    probes: [{ what: "A's group", as: 'S', param: 'id', id: (f) => f.group, want: [404, 'group_not_found'] }],
    refusals: [{ what: 'a plain member renames', as: 'B', want: [403, 'forbidden'] }],
  },
  'POST /api/v1/groups/{id}/members': {
    auth: 'user', params: (f) => ({ id: f.group }), body: (f) => ({ members: [f.B.user.id] }),
    probes: [
      { what: "A's group", as: 'S', param: 'id', id: (f) => f.group, want: [404, 'group_not_found'] },
      { what: 'user A, no friend of the asker, into its own group', as: 'S', field: 'members', id: (f) => f.A.user.id,
        params: (f) => ({ id: f.sGroup }), body: (f, id) => ({ members: [id] }), want: [403, 'not_friends'] },
      { what: 'the blocker, as a non-friend, into its own group', as: 'Bd', field: 'members', id: (f) => f.K.user.id,
        ref: (f) => f.N.user.id, params: (f) => ({ id: f.bdGroup }), body: (f, id) => ({ members: [id] }), want: [403, 'not_friends'] },
    ],
    refusals: [{ what: 'a plain member adds', as: 'B', want: [403, 'forbidden'] }],
  },
  'DELETE /api/v1/groups/{id}/members/{user_id}': {
    auth: 'user', params: (f) => ({ id: f.group, user_id: f.B.user.id }),
    probes: [
      { what: "A's group", as: 'S', param: 'id', id: (f) => f.group, want: [404, 'group_not_found'] },
      { what: 'user A, not in the asker\'s group', as: 'S', param: 'user_id', id: (f) => f.A.user.id,
        params: (f) => ({ id: f.sGroup }), want: [404, 'not_member'] },
    ],
    refusals: [{ what: 'a plain member removes the owner', as: 'B', params: (f) => ({ id: f.group, user_id: f.A.user.id }), want: [403, 'forbidden'] }],
  },
  'PATCH /api/v1/groups/{id}/members/{user_id}': {
    auth: 'user', params: (f) => ({ id: f.group, user_id: f.B.user.id }), body: () => ({ role: 'admin' }),
    probes: [
      { what: "A's group", as: 'S', param: 'id', id: (f) => f.group, want: [404, 'group_not_found'] },
      { what: 'user A, not in the asker\'s group', as: 'S', param: 'user_id', id: (f) => f.A.user.id,
        params: (f) => ({ id: f.sGroup }), want: [404, 'not_member'] },
    ],
    refusals: [{ what: 'a plain member sets a role', as: 'B', params: (f) => ({ id: f.group, user_id: f.B.user.id }), want: [403, 'forbidden'] }],
  },
  'POST /api/v1/groups/{id}/leave': {
    auth: 'user', params: (f) => ({ id: f.group }),
    probes: [
      { what: "A's group", as: 'S', param: 'id', id: (f) => f.group, want: [404, 'group_not_found'] },
      { what: 'the group it left', as: 'L', param: 'id', id: (f) => f.group, want: [404, 'group_not_found'] },
    ],
  },

  'GET /api/v1/events': { auth: 'stream', query: () => ({ timeout: 0 }) },
  // The WebSocket upgrade (the gateway): public at the HTTP level, since a
  // client may send its credential in the first frame; a plain GET gets
  // 426 whatever it carries. Its credentials: tests/api/stream*.test.js.
  'GET /api/v1/stream': { auth: 'public' },

  'POST /api/v1/calls': {
    auth: 'user', body: (f) => ({ to: f.B.user.id }),
    probes: [{ what: 'the blocked user calls the blocker, as a non-friend', as: 'Bd', field: 'to', online: true,
      id: (f) => f.K.user.id, ref: (f) => f.N.user.id, body: (f, id) => ({ to: id }), want: [403, 'not_friends'] }],
    refusals: [
      { what: 'a non-friend', as: 'S', online: true, body: (f) => ({ to: f.A.user.id }), want: [403, 'not_friends'] },
      { what: 'the blocker calls the blocked user', as: 'K', online: true, body: (f) => ({ to: f.Bd.user.id }), want: [403, 'blocked'] },
    ],
  },
  'GET /api/v1/calls': { auth: 'user' },
  'GET /api/v1/calls/{id}': {
    auth: 'user', params: (f) => ({ id: f.call }),
    probes: [{ what: "A's call to B", as: 'S', param: 'id', id: (f) => f.call, want: [404, 'call_not_found'] }],
  },
  'POST /api/v1/calls/{id}/accept': {
    auth: 'user', params: (f) => ({ id: f.call }),
    probes: [{ what: "A's call to B", as: 'S', param: 'id', id: (f) => f.call, want: [404, 'call_not_found'] }],
    refusals: [{ what: 'the caller accepts', as: 'A', want: [403, 'not_callee'] }],
  },
  'POST /api/v1/calls/{id}/reject': {
    auth: 'user', params: (f) => ({ id: f.call }),
    probes: [{ what: "A's call to B", as: 'S', param: 'id', id: (f) => f.call, want: [404, 'call_not_found'] }],
    refusals: [{ what: 'the caller rejects', as: 'A', want: [403, 'not_callee'] }],
  },
  'POST /api/v1/calls/{id}/cancel': {
    auth: 'user', params: (f) => ({ id: f.call }),
    probes: [{ what: "A's call to B", as: 'S', param: 'id', id: (f) => f.call, want: [404, 'call_not_found'] }],
    refusals: [{ what: 'the callee cancels', as: 'B', want: [403, 'not_caller'] }],
  },
  'POST /api/v1/calls/{id}/hangup': {
    auth: 'user', params: (f) => ({ id: f.call }),
    probes: [{ what: "A's call to B", as: 'S', param: 'id', id: (f) => f.call, want: [404, 'call_not_found'] }],
  },
  'POST /api/v1/calls/{id}/signal': {
    auth: 'user', params: (f) => ({ id: f.call }), body: () => signal,
    probes: [{ what: "A's call to B", as: 'S', param: 'id', id: (f) => f.call, want: [404, 'call_not_found'] }],
  },
  'POST /api/v1/rooms': {
    auth: 'user', body: (f) => ({ invite: [f.B.user.id] }),
    probes: [{ what: 'the blocker invited by the blocked user, as a non-friend', as: 'Bd', field: 'invite',
      id: (f) => f.K.user.id, ref: (f) => f.N.user.id, body: (f, id) => ({ invite: [f.F.user.id, id] }), want: [403, 'not_friends'] }],
    refusals: [{ what: 'a non-friend invited', as: 'S', body: (f) => ({ invite: [f.A.user.id] }), want: [403, 'not_friends'] }],
  },
  'GET /api/v1/rooms/{id}': {
    auth: 'user', params: (f) => ({ id: f.room }),
    probes: [{ what: "A's room", as: 'S', param: 'id', id: (f) => f.room, want: [404, 'room_not_found'] }],
  },
  'POST /api/v1/rooms/{id}/join': {
    auth: 'user', params: (f) => ({ id: f.room }),
    probes: [{ what: "A's room, not invited", as: 'S', param: 'id', id: (f) => f.room, want: [404, 'room_not_found'] }],
  },
  'POST /api/v1/rooms/{id}/leave': {
    auth: 'user', params: (f) => ({ id: f.room }),
    probes: [{ what: "A's room", as: 'S', param: 'id', id: (f) => f.room, want: [404, 'room_not_found'] }],
    refusals: [{ what: 'invited, not joined', as: 'B', want: [409, 'not_in_room'] }],
  },
  'POST /api/v1/rooms/{id}/signal': {
    auth: 'user', params: (f) => ({ id: f.room }), body: (f) => Object.assign({ to: f.B.user.id }, signal),
    probes: [{ what: "A's room", as: 'S', param: 'id', id: (f) => f.room, want: [404, 'room_not_found'] }],
    refusals: [{ what: 'invited, not joined', as: 'B', body: (f) => Object.assign({ to: f.A.user.id }, signal), want: [403, 'not_in_room'] }],
  },
  'GET /api/v1/ice-servers': { auth: 'user' },

  'POST /api/v1/uploads': { auth: 'user' },
  'GET /api/v1/uploads/{id}': {
    auth: 'user', params: (f) => ({ id: f.upload }),
    probes: [
      { what: "A's upload, never sent", as: 'S', param: 'id', id: (f) => f.upload, want: [404, 'upload_not_found'] },
      { what: "A's upload sent to the group the asker left", as: 'L', param: 'id', id: (f) => f.sentUpload, want: [404, 'upload_not_found'] },
    ],
  },
  'GET /api/v1/uploads/{id}/thumbnail': {
    auth: 'user', params: (f) => ({ id: f.upload }),
    probes: [
      { what: "A's upload, never sent", as: 'S', param: 'id', id: (f) => f.upload, want: [404, 'upload_not_found'] },
      { what: "A's upload in the group the asker left", as: 'L', param: 'id', id: (f) => f.groupUpload, want: [404, 'upload_not_found'] },
    ],
  },

  'PUT /api/v1/server/users/{external_id}': {
    auth: 'site', params: () => ({ external_id: MISSING_EXT }), body: () => ({}),
    probes: [{ what: "site B's user (site A gets a user of its own)", as: 'siteA', param: 'external_id',
      id: (f) => f.b2.ext, ref: () => 'ext-' + crypto.randomBytes(6).toString('hex'),
      body: () => ({ username: uniqueName('mx') }), want: [201, null], compare: 'newUser' }],
  },
  'GET /api/v1/server/users/{external_id}': {
    auth: 'site', params: () => ({ external_id: MISSING_EXT }),
    probes: [{ what: "site B's user", as: 'siteA', param: 'external_id', id: (f) => f.b1.ext, ref: () => MISSING_EXT, want: [404, 'unknown_user'] }],
  },
  'POST /api/v1/server/users/{external_id}/login-tickets': {
    auth: 'site', params: () => ({ external_id: MISSING_EXT }),
    probes: [{ what: "site B's user", as: 'siteA', param: 'external_id', id: (f) => f.b1.ext, ref: () => MISSING_EXT, want: [404, 'unknown_user'] }],
  },
  'POST /api/v1/server/friendships': {
    auth: 'site', body: () => ({}),
    probes: [{ what: "site B's user", as: 'siteA', field: 'b', id: (f) => f.b1.ext, ref: () => MISSING_EXT,
      body: (f, id) => ({ a: f.a1.ext, b: id }), want: [404, 'unknown_user'] }],
  },
  'DELETE /api/v1/server/friendships': {
    auth: 'site', body: () => ({}),
    probes: [{ what: "site B's user", as: 'siteA', field: 'b', id: (f) => f.b1.ext, ref: () => MISSING_EXT,
      body: (f, id) => ({ a: f.a1.ext, b: id }), want: [404, 'unknown_user'] }],
  },
  'POST /api/v1/server/messages': {
    auth: 'site', body: () => ({}),
    probes: [
      { what: "site B's user as `to`", as: 'siteA', field: 'to', id: (f) => f.b1.ext, ref: () => MISSING_EXT,
        body: (f, id) => Object.assign({ from: f.a1.ext, to: id }, text('hi')), want: [404, 'unknown_user'] },
      { what: "site B's user, a system message", as: 'siteA', field: 'to', id: (f) => f.b1.ext, ref: () => MISSING_EXT,
        body: (f, id) => ({ to: id, type: 'system', body: { text: 'hi' } }), want: [404, 'unknown_user'] },
      { what: "site B's user as `from`", as: 'siteA', field: 'from', id: (f) => f.b1.ext, ref: () => MISSING_EXT,
        body: (f, id) => Object.assign({ from: id, to: f.a1.ext }, text('hi')), want: [404, 'unknown_user'] },
      { what: "site B's group, a system message", as: 'siteA', field: 'group_id', id: (f) => f.bGroup,
        body: (f, id) => ({ group_id: id, type: 'system', body: { text: 'hi' } }), want: [404, 'group_not_found'] },
      { what: "site B's group, from site A's user", as: 'siteA', field: 'group_id', id: (f) => f.bGroup,
        body: (f, id) => Object.assign({ from: f.a1.ext, group_id: id }, text('hi')), want: [404, 'group_not_found'] },
    ],
  },
  'POST /api/v1/server/push': {
    auth: 'site', body: () => ({}),
    probes: [
      { what: "site B's user", as: 'siteA', field: 'users', id: (f) => f.b1.ext, ref: () => MISSING_EXT,
        body: (f, id) => ({ users: [id], event: { matrix: 1 } }), want: [202, null] },
      { what: "site B's group", as: 'siteA', field: 'group_id', id: (f) => f.bGroup,
        body: (f, id) => ({ group_id: id, event: { matrix: 1 } }), want: [404, 'group_not_found'] },
    ],
  },
  'GET /api/v1/server/webhook': { auth: 'site' },
  'PUT /api/v1/server/webhook': { auth: 'site', body: () => ({}) },
  'DELETE /api/v1/server/webhook': { auth: 'site' },
  'GET /api/v1/server/webhook/deliveries': { auth: 'site' },

  // The operator console: to anyone but an admin, exactly what a path no
  // service has gets. The ids are A's, so a credential wrongly taken
  // would act on real things.
  'GET /api/v1/admin/online': { auth: 'admin' },
  'GET /api/v1/admin/users': { auth: 'admin', query: (f) => ({ q: f.A.user.username }) },
  'POST /api/v1/admin/users/{id}/kick': { auth: 'admin', params: (f) => ({ id: f.A.user.id }) },
  'POST /api/v1/admin/users/{id}/suspend': { auth: 'admin', params: (f) => ({ id: f.A.user.id }) },
  'POST /api/v1/admin/users/{id}/restore': { auth: 'admin', params: (f) => ({ id: f.A.user.id }) },
  'GET /api/v1/admin/groups': { auth: 'admin' },
  'GET /api/v1/admin/groups/{id}': { auth: 'admin', params: (f) => ({ id: f.group }) },
  'DELETE /api/v1/admin/groups/{id}': { auth: 'admin', params: (f) => ({ id: f.group }) },
  'DELETE /api/v1/admin/groups/{id}/members/{user_id}': { auth: 'admin', params: (f) => ({ id: f.group, user_id: f.B.user.id }) },
  'DELETE /api/v1/admin/messages/{id}': { auth: 'admin', params: (f) => ({ id: f.msg }) },
  'GET /api/v1/admin/health': { auth: 'admin' },
  'GET /api/v1/admin/audit': { auth: 'admin' },
};

// --- the description ------------------------------------------------------

const SPEC = JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8'));

// [{ key, method, path, op, schemes: [security scheme names], public }]
function specOperations(spec) {
  const ops = [];
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of HTTP_METHODS) {
      if (!item[m]) continue;
      const op = item[m];
      const sec = op.security !== undefined ? op.security : spec.security || [];
      ops.push({
        key: `${m.toUpperCase()} ${p}`, method: m.toUpperCase(), path: p, op,
        schemes: sec.flatMap((req) => Object.keys(req)), public: sec.length === 0 ||
          sec.some((req) => Object.keys(req).length === 0),
      });
    }
  }
  return ops;
}

const OPS = specOperations(SPEC);
const pathParams = (p) => [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);

// What the table must satisfy against the description; [] when it does.
function tableProblems(ops, rows) {
  const out = [];
  const keys = new Set(ops.map((o) => o.key));
  for (const o of ops) if (!rows[o.key]) out.push(`${o.key}: operation of docs/openapi.json has no row in the matrix`);
  for (const k of Object.keys(rows)) if (!keys.has(k)) out.push(`${k}: row names an operation docs/openapi.json lacks`);
  for (const o of ops) {
    const row = rows[o.key];
    if (!row) continue;
    const desc = o.op.description || '';
    const resp = o.op.responses || {};
    const want = o.public ? 'public' : o.schemes.includes('siteSignature') ? 'site'
      : o.schemes.includes('accessTokenQuery') ? 'stream' : o.op['x-parley-admin'] === true ? 'admin' : 'user';
    if (row.auth !== want) out.push(`${o.key}: row says ${row.auth}, the description's security says ${want}`);
    if ((want === 'site') !== o.path.startsWith('/api/v1/server/'))
      out.push(`${o.key}: site signing and /api/v1/server/ must go together`);
    if (want === 'user' || want === 'stream') {
      if (!resp['401'] || resp['401'].$ref !== '#/components/responses/Unauthorized')
        out.push(`${o.key}: 401 is not the documented Unauthorized response`);
      if ((o.method !== 'GET' || want === 'stream') && !(resp['403'] && /csrf_failed/.test(desc + JSON.stringify(resp['403']))))
        out.push(`${o.key}: 403 csrf_failed is not documented`);
    }
    if (want === 'site' && (!resp['401'] || resp['401'].$ref !== '#/components/responses/SiteUnauthorized'))
      out.push(`${o.key}: 401 is not the documented SiteUnauthorized response`);
    if (want === 'admin' && (!resp['404'] || resp['404'].$ref !== '#/components/responses/AdminNotFound'))
      out.push(`${o.key}: 404 is not the documented AdminNotFound response`);
    if ((want === 'admin') !== o.path.startsWith('/api/v1/admin/'))
      out.push(`${o.key}: admin only and /api/v1/admin/ must go together`);
    const probes = row.probes || [];
    // An admin may name anyone's ids: there is no other user's id to try.
    if (want !== 'admin') for (const p of pathParams(o.path))
      if (!probes.some((pr) => pr.param === p)) out.push(`${o.key}: no probe with another user's {${p}}`);
    for (const pr of probes.concat(row.refusals || [])) {
      const [status, code] = pr.want;
      if (!resp[String(status)]) out.push(`${o.key}: ${pr.what}: status ${status} is not documented`);
      if (code && !desc.includes('`' + code + '`')) out.push(`${o.key}: ${pr.what}: code ${code} is not in the description`);
      if (pr.param && !pathParams(o.path).includes(pr.param)) out.push(`${o.key}: ${pr.what}: no {${pr.param}} in the path`);
    }
  }
  return out;
}

test('the matrix has exactly one row per operation of docs/openapi.json, consistent with it', (t) => {
  const problems = tableProblems(OPS, ROWS);
  assert.deepEqual(problems, [], problems.join('\n'));
  // The check itself: an operation without a row, and a row without an
  // operation, are both caught.
  const extra = OPS.concat([{ key: 'GET /api/v1/nowhere/{id}', method: 'GET', path: '/api/v1/nowhere/{id}', op: {}, schemes: [], public: false }]);
  assert.ok(tableProblems(extra, ROWS).some((p) => p.startsWith('GET /api/v1/nowhere/{id}: operation') ), 'a new operation without a row fails');
  const fewer = Object.assign({}, ROWS);
  delete fewer['GET /api/v1/auth/me'];
  assert.ok(tableProblems(OPS, fewer).some((p) => p.startsWith('GET /api/v1/auth/me: operation')), 'a removed row fails');
  const more = Object.assign({ 'GET /api/v1/ghost': { auth: 'user' } }, ROWS);
  assert.ok(tableProblems(OPS, more).some((p) => p.startsWith('GET /api/v1/ghost: row')), 'a row without an operation fails');
  const counts = {};
  for (const r of Object.values(ROWS)) counts[r.auth] = (counts[r.auth] || 0) + 1;
  t.diagnostic(`authz matrix: ${OPS.length} operations (${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')})`);
});

// --- requests ---------------------------------------------------------------

function urlFor(p, params, query) {
  const u = p.replace(/\{([^}]+)\}/g, (_, name) => {
    if (params[name] === undefined) throw new Error(`no value for {${name}} in ${p}`);
    return encodeURIComponent(String(params[name]));
  });
  const qs = new URLSearchParams(query || {}).toString();
  return qs ? `${u}${u.includes('?') ? '&' : '?'}${qs}` : u;
}

// A request as `spec` says: { method, path, params, query, body, token,
// headers, site (signs it), signOpts }.
function send(spec) {
  const url = urlFor(spec.path, spec.params || {}, spec.query);
  if (spec.site) return signed(spec.site, spec.method, url, spec.body, spec.signOpts || {});
  const opts = { headers: Object.assign({}, spec.headers || {}) };
  if (spec.token) opts.token = spec.token;
  if (spec.body !== undefined) opts.json = spec.body;
  return request(spec.method, url, opts);
}

async function inBatches(items, fn) {
  const out = [];
  for (let i = 0; i < items.length; i += BATCH)
    out.push(...await Promise.all(items.slice(i, i + BATCH).map(fn)));
  return out;
}

// Runs checks ({what, run}) in batches; resolves the failures' messages.
async function runChecks(checks) {
  const fails = [];
  await inBatches(checks, async (c) => {
    try { await c.run(); } catch (e) { fails.push(`${c.what}: ${e.message}`); }
  });
  return fails;
}

// Checks run, by kind, for the summary.
const TALLY = {};

function report(t, name, checks, fails) {
  TALLY[name] = checks.length;
  t.diagnostic(`${name}: ${checks.length} checks, ${fails.length} failed`);
  assert.deepEqual(fails, [], `${fails.length} of ${checks.length} checks failed:\n` + fails.slice(0, 60).join('\n\n'));
}

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

// A JSONP reply (callback `cb`) as the object the callback gets.
function unwrap(res) {
  const m = /^\/\*\*\/cb\(([\s\S]*)\);$/.exec(res.text);
  if (!m) throw new Error(`not a JSONP reply to cb: ${res.status} ${res.text}`);
  return JSON.parse(m[1]);
}

// The documented refusal: status, code, a JSON error body; for JSONP the
// wrapped error with the real status inside.
function assertRefusal(res, status, code, { jsonp = false, authenticate } = {}) {
  const got = `${res.status} ${res.headers['content-type']} ${res.text}`;
  let err;
  if (jsonp) {
    assert.equal(res.status, 200, `JSONP replies are 200: ${got}`);
    assert.match(res.headers['content-type'] || '', /^application\/javascript/, got);
    const v = unwrap(res);
    assert.equal(v.status, status, got);
    err = v.error;
  } else {
    assert.equal(res.status, status, `want ${status} ${code}, got ${got}`);
    assert.match(res.headers['content-type'] || '', /^application\/json/, got);
    assert.ok(res.json && res.json.error, `a JSON error body: ${got}`);
    err = res.json.error;
  }
  assert.ok(err && typeof err.message === 'string' && err.message.length > 0, `error with a message: ${got}`);
  assert.equal(err.code, code, `want ${status} ${code}, got ${got}`);
  if (authenticate) assert.match(res.headers['www-authenticate'] || '', authenticate, `WWW-Authenticate: ${got}`);
}

// --- fixtures -----------------------------------------------------------------

async function login(u) {
  const r = await api.post('/api/v1/auth/login', { json: { username: u.user.username, password: u.password } });
  assert.equal(r.status, 200, r.text);
  return { token: r.json.token, csrf: r.json.csrf_token, session: r.json.session_id };
}

async function streamToken(token) {
  const r = await api.post('/api/v1/auth/stream-token', { token });
  assert.equal(r.status, 201, r.text);
  return r.json.stream_token;
}

async function ok(res, status, what) {
  const r = await res;
  assert.equal(r.status, status, `${what}: ${r.text}`);
  return r.json;
}

let fixtures;
function fx() {
  if (!fixtures) fixtures = makeFixtures();
  return fixtures;
}

// A: owns the things others probe; B: A's friend; C: has A's pending
// request; S: the stranger who probes; K blocked Bd (they were friends);
// N: a plain non-friend of Bd; F: Bd's friend; L: A's friend who left A's
// group. Sites A and B with users.
async function makeFixtures() {
  const names = ['A', 'B', 'C', 'S', 'K', 'Bd', 'N', 'F', 'L'];
  const users = await Promise.all(names.map((n) => register('mx' + n.toLowerCase())));
  const f = Object.fromEntries(names.map((n, i) => [n, users[i]]));
  await Promise.all([befriend(f.A, f.B), befriend(f.A, f.L), befriend(f.K, f.Bd), befriend(f.Bd, f.F)]);
  await ok(api.post('/api/v1/blocks', { token: f.K.token, json: { user_id: f.Bd.user.id } }), 201, 'block');

  const m = (await ok(api.post('/api/v1/messages', { token: f.A.token, json: Object.assign({ to: f.B.user.id }, text('hi B')) }), 201, 'message')).message;
  f.msg = m.id;
  f.conv = m.conversation_id;
  const groups = await Promise.all([
    api.post('/api/v1/groups', { token: f.A.token, json: { name: 'A group', members: [f.B.user.id, f.L.user.id] } }),
    api.post('/api/v1/groups', { token: f.S.token, json: { name: 'S alone', members: [] } }),
    api.post('/api/v1/groups', { token: f.Bd.token, json: { name: 'Bd group', members: [f.F.user.id] } }),
  ]);
  for (const g of groups) assert.equal(g.status, 201, g.text);
  [f.group, f.sGroup, f.bdGroup] = groups.map((g) => g.json.group.id);
  // L wrote to A's group, then left it.
  f.lMsg = (await ok(api.post('/api/v1/messages', { token: f.L.token, json: Object.assign({ group_id: f.group }, text('bye')) }), 201, 'group message')).message.id;
  assert.equal((await api.post(`/api/v1/groups/${f.group}/leave`, { token: f.L.token })).status, 204);
  // A's uploads: one never sent, two sent to A's group after L left it.
  const img = (seed) => up.upload(up.png(16, 16, { seed }), { token: f.A.token, type: 'image/png' });
  f.upload = (await ok(img(1), 201, 'upload')).upload.id;
  f.groupUpload = (await ok(img(2), 201, 'upload')).upload.id;
  await ok(api.post('/api/v1/messages', { token: f.A.token, json: { group_id: f.group, type: 'image', body: { upload_id: f.groupUpload } } }), 201, 'group upload');
  f.sentUpload = (await ok(img(3), 201, 'upload')).upload.id;
  await ok(api.post('/api/v1/messages', { token: f.A.token, json: { group_id: f.group, type: 'file', body: { upload_id: f.sentUpload } } }), 201, 'sent upload');
  f.req = (await ok(api.post('/api/v1/friends/requests', { token: f.A.token, json: { user_id: f.C.user.id } }), 201, 'request')).request.id;
  f.room = (await ok(api.post('/api/v1/rooms', { token: f.A.token, json: { invite: [f.B.user.id] } }), 201, 'room')).room.id;
  await head(f.B);
  f.call = (await ok(api.post('/api/v1/calls', { token: f.A.token, json: { to: f.B.user.id } }), 201, 'call')).call.id;

  // A's other sessions: one revoked, one expired, one whose stream token
  // expired; each worked before.
  const [rev, exp, stx] = await Promise.all([login(f.A), login(f.A), login(f.A)]);
  for (const s of [rev, exp, stx]) await ok(api.get('/api/v1/auth/me', { token: s.token }), 200, 'fresh session');
  f.st = await streamToken(f.A.token);
  rev.st = await streamToken(rev.token);
  exp.st = await streamToken(exp.token);
  stx.st = await streamToken(stx.token);
  for (const st of [f.st, rev.st, exp.st, stx.st])
    await ok(api.get(`/api/v1/events?timeout=0&access_token=${st}`), 200, 'fresh stream token');
  assert.equal((await api.del(`/api/v1/auth/sessions/${rev.session}`, { token: f.A.token })).status, 204);
  psql(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ${Number(exp.session)}`);
  psql(`UPDATE stream_tokens SET expires_at = now() - interval '1 second' WHERE session_id = ${Number(stx.session)}`);
  Object.assign(f, { rev, exp, stx });

  // Sites: A with users a1, a2; B with b1, b2 and a group of b1's.
  f.siteA = newSite('mxa');
  f.siteB = newSite('mxb');
  [f.a1, f.a2, f.b1, f.b2] = await Promise.all([siteUser(f.siteA, 'mxa1'), siteUser(f.siteA, 'mxa2'),
    siteUser(f.siteB, 'mxb1'), siteUser(f.siteB, 'mxb2')]);
  await ok(f.siteB.req('POST', '/api/v1/server/friendships', { a: f.b1.ext, b: f.b2.ext }), 201, 'site friendship');
  await siteLogin(f.siteB, f.b1);
  f.bGroup = (await ok(api.post('/api/v1/groups', { token: f.b1.token, json: { name: 'B site group', members: [f.b2.user.id] } }), 201, 'site group')).group.id;
  return f;
}

const asker = (f, who) => f[who];

// Nothing the refused requests aimed at changed: A is signed in, its
// message, group, friendship and request are as they were.
async function assertUntouched(f) {
  const t = { token: f.A.token };
  const me = await ok(api.get('/api/v1/auth/me', t), 200, 'A still signed in');
  assert.equal(me.user.id, f.A.user.id);
  const sessions = await ok(api.get('/api/v1/auth/sessions', t), 200, "A's sessions");
  assert.ok(sessions.sessions.some((x) => x.id === f.A.session), "A's session is live");
  const hist = await ok(api.get(`/api/v1/conversations/${f.conv}/messages`, t), 200, "A's conversation");
  // (The call's record, type call, joins the conversation when it ends.)
  const texts = hist.messages.filter((m) => m.type !== 'call');
  assert.deepEqual(texts.map((m) => [m.id, m.recalled]), [[f.msg, false]], JSON.stringify(hist.messages));
  const g = await ok(api.get(`/api/v1/groups/${f.group}`, t), 200, "A's group");
  assert.equal(g.group.name, 'A group');
  assert.deepEqual(g.group.members.map((x) => x.id).sort(), [f.A.user.id, f.B.user.id].sort());
  assert.ok(g.group.members.some((x) => x.id === f.A.user.id && x.role === 'owner'), JSON.stringify(g.group));
  assert.ok(g.group.members.some((x) => x.id === f.B.user.id && x.role === 'member'), JSON.stringify(g.group));
  const friends = await ok(api.get('/api/v1/friends', t), 200, "A's friends");
  assert.ok(friends.friends.some((x) => x.id === f.B.user.id), 'A and B are friends');
  assert.deepEqual((await ok(api.get('/api/v1/blocks', t), 200, "A's blocks")).blocks, []);
  const reqs = await ok(api.get('/api/v1/friends/requests', { token: f.C.token }), 200, "C's requests");
  assert.ok(reqs.incoming.some((r) => r.id === f.req), "A's request is still pending");
}

// --- wrong credentials on user operations -------------------------------------

const UNAUTH = [401, 'unauthorized', /^Bearer$/];
const INVALID = [401, 'invalid_token', /^Bearer error="invalid_token"$/];
const CSRF = [403, 'csrf_failed', null];
const cookie = (token) => `parley_session=${token}`;

// Each: name, headers/query (f => ...), and the answer: want(row) is
// [status, code, WWW-Authenticate] or null when the credential is good for
// that row (it is not a refusal there). A cookie is never read for JSONP:
// a cookie credential's JSONP variant is answered as no credential.
const USER_CREDS = [
  { name: 'no credentials', want: () => UNAUTH },
  { name: 'a garbage bearer token', headers: () => ({ Authorization: `Bearer ${b64url(32)}` }), want: () => INVALID },
  { name: 'a malformed bearer token', headers: () => ({ Authorization: 'Bearer abc' }), want: () => UNAUTH },
  { name: 'a valid token with a character appended', headers: (f) => ({ Authorization: `Bearer ${f.A.token}A` }), want: () => UNAUTH },
  { name: 'a valid token cut short', headers: (f) => ({ Authorization: `Bearer ${f.A.token.slice(0, -1)}` }), want: () => UNAUTH },
  { name: 'a Basic authorization', headers: () => ({ Authorization: 'Basic ' + Buffer.from('a:b').toString('base64') }), want: () => UNAUTH },
  { name: 'a revoked session', headers: (f) => ({ Authorization: `Bearer ${f.rev.token}` }), want: () => INVALID },
  { name: 'an expired session', headers: (f) => ({ Authorization: `Bearer ${f.exp.token}` }), want: () => INVALID },
  { name: 'a stream token as bearer', headers: (f) => ({ Authorization: `Bearer ${f.st}` }), want: (row) => (row.auth === 'stream' ? null : UNAUTH) },
  { name: 'the session token in access_token', query: (f) => ({ access_token: f.A.token }), want: (row) => (row.auth === 'stream' ? INVALID : UNAUTH) },
  { name: 'a stream token in access_token', query: (f) => ({ access_token: f.st }), want: (row) => (row.auth === 'stream' ? null : UNAUTH) },
  { name: 'a garbage stream token in access_token', query: () => ({ access_token: 'st_' + b64url(32) }), want: (row) => (row.auth === 'stream' ? INVALID : UNAUTH) },
  { name: "a revoked session's stream token", query: (f) => ({ access_token: f.rev.st }), want: (row) => (row.auth === 'stream' ? INVALID : UNAUTH) },
  { name: "an expired session's stream token", query: (f) => ({ access_token: f.exp.st }), want: (row) => (row.auth === 'stream' ? INVALID : UNAUTH) },
  { name: 'an expired stream token', query: (f) => ({ access_token: f.stx.st }), want: (row) => (row.auth === 'stream' ? INVALID : UNAUTH) },
  { name: 'a stream token as bearer of a revoked session', headers: (f) => ({ Authorization: `Bearer ${f.rev.st}` }), want: (row) => (row.auth === 'stream' ? INVALID : UNAUTH) },
  { name: 'the cookie without X-CSRF-Token', cookie: true, headers: (f) => ({ Cookie: cookie(f.A.token) }),
    want: (row, m) => (row.auth === 'stream' || m !== 'GET' ? CSRF : null) },
  { name: 'the cookie with a wrong X-CSRF-Token', cookie: true, headers: (f) => ({ Cookie: cookie(f.A.token), 'X-CSRF-Token': f.rev.csrf }),
    want: (row, m) => (row.auth === 'stream' || m !== 'GET' ? CSRF : null) },
  { name: 'the cookie with the session token as X-CSRF-Token', cookie: true, headers: (f) => ({ Cookie: cookie(f.A.token), 'X-CSRF-Token': f.A.token }),
    want: (row, m) => (row.auth === 'stream' || m !== 'GET' ? CSRF : null) },
  { name: 'the cookie with an empty X-CSRF-Token', cookie: true, headers: (f) => ({ Cookie: cookie(f.A.token), 'X-CSRF-Token': '' }),
    want: (row, m) => (row.auth === 'stream' || m !== 'GET' ? CSRF : null) },
  { name: "a revoked session's cookie and CSRF token", cookie: true, headers: (f) => ({ Cookie: cookie(f.rev.token), 'X-CSRF-Token': f.rev.csrf }), want: () => INVALID },
  { name: "an expired session's cookie and CSRF token", cookie: true, headers: (f) => ({ Cookie: cookie(f.exp.token), 'X-CSRF-Token': f.exp.csrf }), want: () => INVALID },
  { name: 'a stream token as the cookie', cookie: true, headers: (f) => ({ Cookie: cookie(f.st), 'X-CSRF-Token': f.A.csrf }), want: () => UNAUTH },
  { name: 'the cookie and its CSRF token (JSONP only)', cookie: true, jsonpOnly: true, headers: (f) => ({ Cookie: cookie(f.A.token), 'X-CSRF-Token': f.A.csrf }), want: () => null },
  { name: "site A's signature", site: true, want: () => UNAUTH },
];

function userRequest(row, key, f) {
  const [method, p] = key.split(' ');
  return { method, path: p, params: row.params ? row.params(f) : {}, query: row.query ? row.query(f) : {}, body: row.body ? row.body(f) : undefined };
}

test('every user operation refuses every wrong credential with the documented 401 or 403', async (t) => {
  const f = await fx();
  // The credentials that must work do: the refusals below are not for a
  // broken fixture.
  await ok(api.get('/api/v1/auth/me', { token: f.A.token }), 200, 'bearer');
  await ok(api.get('/api/v1/auth/me', { headers: { Cookie: cookie(f.A.token) } }), 200, 'cookie GET');
  await ok(api.get('/api/v1/events?timeout=0', { headers: { Cookie: cookie(f.A.token), 'X-CSRF-Token': f.A.csrf } }), 200, 'cookie poll + CSRF');
  await ok(api.get(`/api/v1/events?timeout=0&callback=cb&access_token=${f.st}`), 200, 'JSONP stream token');
  assert.ok(Array.isArray(unwrap(await api.get(`/api/v1/events?timeout=0&callback=cb&access_token=${f.st}`)).events));

  const checks = [];
  const seen = new Map();	// credential + variant -> the refusal's bytes
  for (const [key, row] of Object.entries(ROWS)) {
    if (row.auth !== 'user' && row.auth !== 'stream') continue;
    for (const cred of USER_CREDS) {
      for (const jsonp of row.auth === 'stream' ? [false, true] : [false]) {
        if (cred.jsonpOnly && !jsonp) continue;
        const base = userRequest(row, key, f);
        let want = cred.want(row, base.method);
        if (jsonp && cred.cookie && !cred.query) want = UNAUTH;	// never read with callback=
        if (!want) continue;
        const what = `${key} with ${cred.name}${jsonp ? ' (JSONP)' : ''}`;
        checks.push({ what, run: async () => {
          const spec = Object.assign(base, { headers: cred.headers ? cred.headers(f) : {} });
          spec.query = Object.assign({}, spec.query, cred.query ? cred.query(f) : {}, jsonp ? { callback: 'cb' } : {});
          let res;
          if (cred.site) {
            const url = urlFor(spec.path, spec.params, spec.query);
            res = await signed(f.siteA, spec.method, url, spec.body);
          } else {
            res = await send(spec);
          }
          assertRefusal(res, want[0], want[1], { jsonp, authenticate: want[2] || undefined });
          // The same refusal, byte for byte, on every operation.
          const k = `${cred.name} ${jsonp} ${want[1]}`;
          if (!seen.has(k)) seen.set(k, { key, text: res.text });
          const first = seen.get(k);
          assert.equal(res.text, first.text, `differs from the answer to ${first.key}`);
        } });
      }
    }
  }
  report(t, 'wrong credentials on user operations', checks, await runChecks(checks));
  await assertUntouched(f);
});

test('public operations need no credentials, and a wrong one does not change their answer', async (t) => {
  const checks = [];
  for (const [key, row] of Object.entries(ROWS)) {
    if (row.auth !== 'public') continue;
    const [method, p] = key.split(' ');
    checks.push({ what: key, run: async () => {
      const body = row.body ? row.body() : undefined;
      const plain = await send({ method, path: p, body });
      assert.ok(plain.status !== 401 && plain.status !== 403, `${plain.status} ${plain.text}`);
      const garbage = await send({ method, path: p, body, headers: { Authorization: `Bearer ${b64url(32)}` } });
      assert.equal(garbage.status, plain.status, garbage.text);
    } });
  }
  report(t, 'public operations', checks, await runChecks(checks));
});

// --- another user's ids ---------------------------------------------------------

// Headers a client sees, but the date (and the length when the masked ids
// differ in length).
function headerList(res, skipLength) {
  return Object.entries(res.headers)
    .filter(([k]) => k !== 'date' && !(skipLength && k === 'content-length'))
    .map(([k, v]) => `${k}: ${v}`).sort();
}

function mask(s, id) {
  const esc = String(id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return s.replace(new RegExp(`(?<![A-Za-z0-9_-])${esc}(?![A-Za-z0-9_-])`, 'g'), '<id>');
}

// Every leaf replaced by its type: the shape of a reply.
function shape(v) {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape(v[k])]));
  return v === null ? null : typeof v;
}

// `got` (the other user's id) answers as `ref` (the missing id, or the
// plain non-friend).
function assertSame(got, ref, ids, compare, f) {
  const why = `\n  got ${got.status} ${got.text}\n  ref ${ref.status} ${ref.text}`;
  assert.equal(got.status, ref.status, why);
  if (compare === 'shape') {
    assert.deepEqual(shape(got.json), shape(ref.json), why);
    if (got.json && got.json.request) assert.equal(got.json.request.state, ref.json.request.state, why);
    assert.deepEqual(Object.keys(got.headers).sort(), Object.keys(ref.headers).sort(), why);
    return;
  }
  if (compare === 'newUser') {
    assert.deepEqual(shape(got.json), shape(ref.json), why);
    assert.notEqual(got.json.user.id, f.b2.user.id, 'site A must not reach site B\'s user' + why);
    return;
  }
  let g = mask(got.text, ids[0]);
  let r = mask(ref.text, ids[1]);
  if (compare === 'users') {
    const [gu, ru] = [got.json.users[0], ref.json.users[0]];
    assert.ok(gu && ru, 'both are found' + why);
    g = mask(mask(g, gu.id), gu.username);
    r = mask(mask(r, ru.id), ru.username);
  }
  assert.equal(g, r, why);
  assert.deepEqual(headerList(got, g.length !== got.text.length || r.length !== ref.text.length), headerList(ref, g.length !== got.text.length || r.length !== ref.text.length), why);
}

function probeRequest(row, key, f, pr, id) {
  const [method, p] = key.split(' ');
  const params = Object.assign({}, row.params ? row.params(f) : {}, pr.params ? pr.params(f) : {});
  if (pr.param) params[pr.param] = id;
  const query = pr.query ? pr.query(f, id) : row.query ? row.query(f) : {};
  const body = pr.body ? pr.body(f, id) : row.body ? row.body(f) : undefined;
  const spec = { method, path: p, params, query, body };
  if (pr.as.startsWith('site')) spec.site = f[pr.as];
  else spec.token = asker(f, pr.as).token;
  return spec;
}

async function online(f, ...who) {
  await Promise.all(who.map((w) => head(f[w])));
}

test("another user's ids are answered as missing ones; a blocked user as a non-friend; wrong roles get the documented refusal", async (t) => {
  const f = await fx();
  const checks = [];
  for (const [key, row] of Object.entries(ROWS)) {
    for (const pr of row.probes || []) {
      checks.push({ what: `${key} (${pr.param ? '{' + pr.param + '}' : pr.field}): ${pr.what}, as ${pr.as}`, run: async () => {
        if (pr.online) await online(f, 'K', 'N', 'Bd');
        const id = pr.id(f);
        const refId = pr.ref ? pr.ref(f) : MISSING;
        const ref = await send(probeRequest(row, key, f, pr, refId));
        const got = await send(probeRequest(row, key, f, pr, id));
        const [status, code] = pr.want;
        // The reference is what the description says (else the check
        // would compare two wrong answers).
        assert.equal(ref.status, status, `reference (${refId}): ${ref.status} ${ref.text}`);
        if (code) assertRefusal(ref, status, code);
        assertSame(got, ref, [id, refId], pr.compare, f);
      } });
    }
    for (const rf of row.refusals || []) {
      checks.push({ what: `${key}: ${rf.what}, as ${rf.as}`, run: async () => {
        if (rf.online) await online(f, 'A', 'Bd', 'K', 'S');
        const spec = probeRequest(row, key, f, Object.assign({ as: rf.as }, rf), undefined);
        assertRefusal(await send(spec), rf.want[0], rf.want[1]);
      } });
    }
  }
  // Sequentially: probes of one thing (the call, the block) must not race.
  const fails = [];
  for (const c of checks) {
    try { await c.run(); } catch (e) { fails.push(`${c.what}: ${e.message}`); }
  }
  report(t, "other users' ids, blocks and roles", checks, fails);
  await assertUntouched(f);
});

// --- /server/ operations ----------------------------------------------------------

const SITE_AUTH = /^Parley-HMAC-SHA256$/;
const now = () => Math.floor(Date.now() / 1000);

// Each: name, signOpts / headers for signed(), or unsigned (plain request
// with these headers), and the code.
const SITE_CREDS = [
  { name: 'unsigned', unsigned: () => ({}), code: 'signature_required' },
  { name: "a user's bearer token, unsigned", unsigned: (f) => ({ Authorization: `Bearer ${f.A.token}` }), code: 'signature_required' },
  { name: "a user's cookie and CSRF token, unsigned", unsigned: (f) => ({ Cookie: cookie(f.A.token), 'X-CSRF-Token': f.A.csrf }), code: 'signature_required' },
  { name: 'no nonce', sign: () => ({ drop: ['X-Parley-Nonce'] }), code: 'signature_required' },
  { name: 'no signature', sign: () => ({ drop: ['X-Parley-Signature'] }), code: 'signature_required' },
  { name: 'a malformed signature', sign: () => ({ headers: { 'X-Parley-Signature': 'v1=' + 'z'.repeat(64) } }), code: 'signature_required' },
  { name: 'a wrong secret', sign: () => ({ secret: b64url(24) }), code: 'bad_signature' },
  { name: "a user's token as the secret", sign: (f) => ({ secret: f.A.token }), code: 'bad_signature' },
  { name: "site B's secret", sign: (f) => ({ secret: f.siteB.secret }), code: 'bad_signature' },
  { name: "site B's secret, the bearer token too", sign: (f) => ({ secret: f.siteB.secret, headers: { Authorization: `Bearer ${f.A.token}` } }), code: 'bad_signature' },
  { name: 'signed for another path', sign: (f, url) => ({ signPath: url + 'x' }), code: 'bad_signature' },
  { name: 'signed for another method', sign: (f, url, m) => ({ signMethod: m === 'GET' ? 'POST' : 'GET' }), code: 'bad_signature' },
  { name: 'signed for another body', sign: () => ({ signBody: '{"x":1}' }), code: 'bad_signature' },
  { name: 'an unknown site', sign: () => ({ site: 'mx-' + crypto.randomBytes(8).toString('hex') }), code: 'unknown_site' },
  { name: 'an hour old', sign: () => ({ ts: now() - 3600 }), code: 'request_expired' },
  { name: 'an hour ahead', sign: () => ({ ts: now() + 3600 }), code: 'request_expired' },
  { name: 'replayed', replay: true, code: 'replayed' },
];

test('every /server/ operation refuses unsigned, badly signed, user-token, other-site and replayed requests with the documented 401', async (t) => {
  const f = await fx();
  const checks = [];
  const seen = new Map();
  for (const [key, row] of Object.entries(ROWS)) {
    if (row.auth !== 'site') continue;
    const [method, p] = key.split(' ');
    const url = urlFor(p, row.params ? row.params(f) : {}, row.query ? row.query(f) : {});
    const body = row.body ? row.body(f) : undefined;
    for (const cred of SITE_CREDS) {
      checks.push({ what: `${key}: ${cred.name}`, run: async () => {
        let res;
        if (cred.unsigned) {
          res = await request(method, url, body === undefined ? { headers: cred.unsigned(f) } : { headers: cred.unsigned(f), json: body });
        } else if (cred.replay) {
          const opts = { nonce: crypto.randomBytes(16).toString('hex'), ts: now() };
          const first = await signed(f.siteA, method, url, body, opts);
          assert.ok(first.status !== 401, `the first is signed correctly: ${first.status} ${first.text}`);
          res = await signed(f.siteA, method, url, body, opts);
        } else {
          res = await signed(f.siteA, method, url, body, cred.sign(f, url, method));
        }
        assertRefusal(res, 401, cred.code, { authenticate: SITE_AUTH });
        if (!seen.has(cred.name)) seen.set(cred.name, { key, text: res.text });
        assert.equal(res.text, seen.get(cred.name).text, `differs from the answer to ${seen.get(cred.name).key}`);
      } });
    }
  }
  report(t, 'wrong signatures on /server/ operations', checks, await runChecks(checks));
});

// --- admin operations --------------------------------------------------------------

test('every admin operation refuses every non-admin credential exactly as a path no service has', async (t) => {
  const f = await fx();
  const others = USER_CREDS.concat([
    { name: "user A's session token", headers: (x) => ({ Authorization: `Bearer ${x.A.token}` }) },
    { name: "user A's cookie and CSRF token", cookie: true, headers: (x) => ({ Cookie: cookie(x.A.token), 'X-CSRF-Token': x.A.csrf }) },
  ]);
  const checks = [];
  for (const [key, row] of Object.entries(ROWS)) {
    if (row.auth !== 'admin') continue;
    const base = userRequest(row, key, f);
    for (const cred of others) {
      if (cred.jsonpOnly) continue;
      checks.push({ what: `${key} with ${cred.name}`, run: async () => {
        const spec = Object.assign({}, base, { headers: cred.headers ? cred.headers(f) : {} });
        spec.query = Object.assign({}, spec.query, cred.query ? cred.query(f) : {});
        const missing = Object.assign({}, spec, { path: '/api/v1/zz-missing' + base.path.slice('/api/v1/admin'.length) });
        let res, ref;
        if (cred.site) {
          [res, ref] = await Promise.all([signed(f.siteA, spec.method, urlFor(spec.path, spec.params, spec.query), spec.body),
            signed(f.siteA, spec.method, urlFor(missing.path, missing.params, missing.query), spec.body)]);
        } else {
          [res, ref] = await Promise.all([send(spec), send(missing)]);
        }
        const why = `\n  got ${res.status} ${res.text}\n  ref ${ref.status} ${ref.text}`;
        assert.equal(ref.status, 404, why);
        assert.equal(res.status, 404, why);
        assert.equal(res.text, ref.text, why);
        assert.deepEqual(headerList(res), headerList(ref), why);
      } });
    }
  }
  report(t, 'non-admin credentials on admin operations', checks, await runChecks(checks));
  await assertUntouched(f);
});

test('summary', (t) => {
  const total = Object.values(TALLY).reduce((a, b) => a + b, 0);
  t.diagnostic(`authz matrix: ${OPS.length} operations, ${USER_CREDS.length} user credentials, ${SITE_CREDS.length} site signatures; ` +
    `${total} checks (${Object.entries(TALLY).map(([k, v]) => `${v} ${k}`).join(', ')})`);
});
