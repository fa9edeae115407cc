// The tables of the authorization matrix (tests/api/authz_*.test.js, issue
// 12): one row per operation of docs/openapi.json (how it is
// authenticated, whose ids to try, which wrong roles to refuse), and the
// wrong credentials tried on user and on /server/ operations. The
// machinery that runs them is tests/authz.js.
'use strict';
const crypto = require('node:crypto');
const { uniqueName } = require('./lib.js');

// An id nobody has (the largest integer JSON carries exactly).
const MISSING = 9007199254740991;
// An external id no site has, as long as the ones siteUser makes.
const MISSING_EXT = 'ext-' + crypto.randomBytes(6).toString('hex');

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

module.exports = {
  ROWS, USER_CREDS, SITE_CREDS, MISSING, MISSING_EXT, UNAUTH, INVALID, CSRF,
  SITE_AUTH, cookie, b64url, now, text,
};
