// The authorization matrix (issue 12; tests/authz_tables.js): every
// /api/v1/admin/ operation, asked with every wrong credential and with a
// plain user's, is answered exactly as a path no service has (404, same
// bytes and headers): nothing tells a non-admin the console exists.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { signed } = require('../sites.js');
const { ROWS, USER_CREDS, cookie } = require('../authz_tables.js');
const { urlFor, send, runChecks, report, fx, assertUntouched, userRequest, headerList } = require('../authz.js');

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
