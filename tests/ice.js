// The ICE servers Parley hands out ({ice_servers, ttl}), checked against
// the test stack's settings: the STUN and TURN URIs, and a coturn TURN
// REST credential recomputed here (username "<expiry>:<user id>" for
// GET /ice-servers, "<expiry>:<user id>:c<call id>" or ":r<room id>" for
// one call or room; credential base64(HMAC-SHA1(secret, username))).
'use strict';
const crypto = require('node:crypto');

const SECRET = process.env.PARLEY_TURN_SECRET || '';
const csv = (s) => (s || '').split(',').map((x) => x.trim()).filter(Boolean);
const TURN_URIS = csv(process.env.PARLEY_TURN_URIS);
const STUN_URIS = csv(process.env.PARLEY_STUN_URIS);
const RING = Number(process.env.PARLEY_CALL_RING_TIMEOUT || 30);
// A call's credential lasts the ring time and this margin (calls.h).
const CALL_MARGIN = 60;
const CALL_TTL = RING + CALL_MARGIN;
const PLAIN_TTL = Number(process.env.PARLEY_TURN_TTL || 600);

function hmacCredential(username, secret = SECRET) {
  return crypto.createHmac('sha1', secret).update(username).digest('base64');
}

// The TURN entry of an {ice_servers} object (the one with a username).
function turnEntry(ice) {
  return ice.ice_servers.find((s) => s.username !== undefined);
}

// Checks `ice` is {ice_servers: [STUN, TURN], ttl} with a credential for
// `userId`, bound to `scope` ('c' call, 'r' room, '' none) `id`, expiring
// `ttl` s after a moment in [t0, t1] (ms). Returns the TURN entry.
function checkIce(assert, ice, { userId, scope = '', id, ttl, t0, t1 }) {
  assert.ok(ice && Array.isArray(ice.ice_servers), 'an {ice_servers, ttl} object: ' + JSON.stringify(ice));
  assert.deepEqual(Object.keys(ice).sort(), ['ice_servers', 'ttl']);
  assert.equal(ice.ttl, ttl);
  assert.equal(ice.ice_servers.length, 2, JSON.stringify(ice));
  const [stun, turn] = ice.ice_servers;
  assert.deepEqual(stun, { urls: STUN_URIS });
  assert.deepEqual(Object.keys(turn).sort(), ['credential', 'urls', 'username']);
  assert.deepEqual(turn.urls, TURN_URIS);
  const m = /^(\d+):(\d+)(?::([cr])(\d+))?$/.exec(turn.username);
  assert.ok(m, 'username is <expiry>:<user id>[:<c|r><id>]: ' + turn.username);
  assert.equal(Number(m[2]), userId, 'the credential names its user: ' + turn.username);
  assert.equal(m[3] || '', scope, 'bound to the call or room: ' + turn.username);
  if (scope) assert.equal(Number(m[4]), id, 'names the call or room: ' + turn.username);
  const expiry = Number(m[1]);
  const lo = Math.floor(t0 / 1000) + ttl - 1;
  const hi = Math.ceil(t1 / 1000) + ttl + 1;
  assert.ok(expiry >= lo && expiry <= hi, `expiry ${expiry} is now + ${ttl} (${lo}..${hi})`);
  assert.equal(turn.credential, hmacCredential(turn.username), 'base64(HMAC-SHA1(secret, username))');
  return turn;
}

module.exports = {
  SECRET, TURN_URIS, STUN_URIS, RING, CALL_MARGIN, CALL_TTL, PLAIN_TTL, hmacCredential, turnEntry, checkIce,
};
