// Helpers of the accounts tests (tests/api/accounts*.test.js): the login
// throttling limits the stack runs with, a fresh loopback address for tests
// that fail logins on purpose, raw register and login requests, cookies of a
// reply.
'use strict';
const crypto = require('node:crypto');
const { api, untilNotBusy } = require('./lib.js');

const PASSWORD = 'correct horse 1';
const FAILS_IP = Number(process.env.PARLEY_LOGIN_FAILS_IP || 40);
// Failed logins count per username and address (the low limit), per
// username from anywhere (a much higher ceiling) and per address.
const FAILS_USER_IP = Number(process.env.PARLEY_LOGIN_FAILS_USER_IP || 5);
const FAILS_USER = Number(process.env.PARLEY_LOGIN_FAILS_USER || 100);
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

// A loopback source address outside 127.0.0.0/24, fresh for each test that
// fails logins on purpose: failures count per client address for 15
// minutes, and 127.0.0.1 (every other test's address) must stay usable.
// 127.0.0.7 is reserved for the per-address throttling test.
function freshAddr() {
  const b = crypto.randomBytes(3);
  return `127.${1 + (b[0] % 254)}.${b[1]}.${1 + (b[2] % 254)}`;
}

function login(username, password, opts = {}) {
  return api.post('/api/v1/auth/login', Object.assign({ json: { username, password } }, opts));
}

// A 503 busy (the hashing pool's queue) is asked again; no test of these
// files expects one.
function registerRaw(json) {
  return untilNotBusy(() => api.post('/api/v1/auth/register', { json }));
}

function hexName(prefix, n = 10) {
  return (prefix + crypto.randomBytes(16).toString('hex')).slice(0, prefix.length + n);
}

function setCookies(res) {
  const sc = res.headers['set-cookie'];
  return Array.isArray(sc) ? sc : sc ? [sc] : [];
}

async function me(token) {
  return api.get('/api/v1/auth/me', { token });
}

module.exports = {
  PASSWORD, FAILS_IP, FAILS_USER_IP, FAILS_USER, TOKEN_RE,
  freshAddr, login, registerRaw, hexName, setCookies, me,
};
