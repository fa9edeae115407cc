// The authorization matrix (issue 12; tests/authz_tables.js): every id
// in a path, and the ids in bodies that name conversations, groups and
// users, tried with another user's id, must be answered exactly as a
// surely-missing id asked in the same test (status, headers and body,
// the id itself masked); a blocked user reaching the blocker is answered
// exactly as any other non-friend, and a party with the wrong role gets
// the documented refusal.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { ROWS, MISSING } = require('../authz_tables.js');
const { send, report, assertRefusal, fx, assertUntouched, assertSame, probeRequest, online } = require('../authz.js');

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
