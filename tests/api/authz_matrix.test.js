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
// This file: the table against the description, wrong credentials on
// user operations, and the public ones. Other users' ids are in
// authz_ids.test.js, /server/ operations in authz_server.test.js, admin
// operations in authz_admin.test.js; the table is tests/authz_tables.js,
// the machinery tests/authz.js.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api } = require('../lib.js');
const { signed } = require('../sites.js');
const { ROWS, USER_CREDS, SITE_CREDS, UNAUTH, cookie, b64url } = require('../authz_tables.js');
const { OPS, tableProblems, urlFor, send, runChecks, TALLY, report, unwrap, assertRefusal, ok, fx, assertUntouched, userRequest } = require('../authz.js');

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

test('summary', (t) => {
  const total = Object.values(TALLY).reduce((a, b) => a + b, 0);
  t.diagnostic(`authz matrix: ${OPS.length} operations, ${USER_CREDS.length} user credentials, ${SITE_CREDS.length} site signatures; ` +
    `${total} checks (${Object.entries(TALLY).map(([k, v]) => `${v} ${k}`).join(', ')})`);
});
