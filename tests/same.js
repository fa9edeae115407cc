// A refusal must not tell an attacker more than a missing id would: the
// two answers are compared in everything a client can see, but the clock.
'use strict';

// Headers but Date (and Content-Length, when ids of different lengths
// are masked), lower-cased names, as one sorted list.
function headers(res, skipLength) {
  return Object.entries(res.headers)
    .filter(([k]) => k.toLowerCase() !== 'date' && !(skipLength && k.toLowerCase() === 'content-length'))
    .map(([k, v]) => `${k.toLowerCase()}: ${v}`)
    .sort();
}

// The body with each id the client itself sent (and the answer may quote)
// replaced by <id>, so two requests for different ids can be compared.
function masked(text, ids) {
  let out = text;
  for (const id of ids || []) out = out.replace(new RegExp(`\\b${id}\\b`, 'g'), '<id>');
  return out;
}

// `got` (the refusal) answers exactly as `want` (the missing id, or the
// non-friend): status, headers and body bytes. `ids`: [the id in the
// request of got, the id in the request of want], masked in the bodies.
function assertSameAnswer(assert, got, want, what, ids = [[], []]) {
  const why = `${what}:\n  got  ${got.status} ${got.text}\n  want ${want.status} ${want.text}`;
  assert.equal(got.status, want.status, why);
  assert.equal(masked(got.text, ids[0]), masked(want.text, ids[1]), why);
  const skip = ids[0].length > 0 && String(ids[0]).length !== String(ids[1]).length;
  assert.deepEqual(headers(got, skip), headers(want, skip), why);
}

module.exports = { assertSameAnswer };
