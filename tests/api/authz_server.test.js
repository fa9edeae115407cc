// The authorization matrix (issue 12; tests/authz_tables.js): every
// /api/v1/server/ operation tried unsigned, badly signed, with a user's
// token, with another site's secret, replayed and out of the clock
// window; each must be the documented 401, the same bytes on every route.
// (Another site's users and groups answered as missing ones are probes
// of authz_ids.test.js.)
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { request } = require('../lib.js');
const { signed } = require('../sites.js');
const { ROWS, SITE_CREDS, SITE_AUTH, now } = require('../authz_tables.js');
const { urlFor, runChecks, report, assertRefusal, fx } = require('../authz.js');

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
