// Login CSRF through the fragment: any page can open Parley at
// /#ticket=<a ticket for the attacker's account> or /#token=<a token>.
// A hand-off is taken only where it is meant:
//   - a signed-in tab keeps its session: the fragment is dropped unused
//     (a ticket is not even redeemed), and a notice says so; the cookie
//     session of the browser's other tabs stays as it was;
//   - a fresh top-level tab asks first, naming the account; "no" leaves
//     no session behind (the ticket's one is revoked);
//   - inside a frame (ParleyEmbed.frame) it is used at once, for that
//     frame only, also where the top-level tabs are signed in as someone
//     else.
// Screenshots: tests/artifacts/handoff-*.png.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { api, register, BASE } = require('../lib.js');
const { newSite, siteUser, login } = require('../sites.js');
const { launch, closeBrowser, ARTIFACTS } = require('./lib.js');

const PARLEY = BASE.origin;
const PASSWORD = 'correct horse 1';

let browser;
let site;
let host;
let HOST;
const hostPages = new Map();

test.before(async () => {
  browser = await launch();
  site = newSite('handoff');
  // The embedding site: another site than Parley (localhost, not 127.0.0.1).
  host = http.createServer((req, res) => {
    const page = hostPages.get(req.url.split('?')[0]);
    res.writeHead(page ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(page || 'not found');
  });
  await new Promise((resolve) => host.listen(0, '127.0.0.1', resolve));
  HOST = `http://localhost:${host.address().port}`;
});
test.after(async () => {
  await closeBrowser(browser);
  await new Promise((resolve) => host.close(resolve));
});

async function ticketFor(u) {
  const t = await site.req('POST', `/api/v1/server/users/${encodeURIComponent(u.ext)}/login-tickets`);
  assert.equal(t.status, 201, t.text);
  return t.json.ticket;
}

function track(page, label) {
  const logs = [];
  page.on('console', (m) => logs.push(`[${label}] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[${label}] pageerror: ${e.message}`));
  return logs;
}

async function waitIn(page, logs, what, fn, arg, timeout = 20000) {
  try {
    const h = await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    return await h.jsonValue();
  } catch (e) {
    const state = await page.evaluate(() => document.body.getAttribute('data-screen') + ': ' +
      document.body.innerText.slice(0, 300)).catch(() => '(gone)');
    throw new Error(`timed out after ${timeout} ms waiting for ${what}\nscreen: ${state}\n` +
      `logs:\n${logs.slice(-20).join('\n')}\n${e.message}`);
  }
}

const appReady = () => document.body.getAttribute('data-screen') === 'app' &&
  window.PA && PA.state.me && PA.loop && PA.loop.ready;

// A context (own cookies) with a tab signed in by the login form: a
// cookie session, as after a normal visit.
async function signedInContext(u) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  const logs = track(page, u.user.username);
  await page.goto(PARLEY + '/');
  await waitIn(page, logs, 'the login form', () => document.body.getAttribute('data-screen') === 'auth');
  await page.fill('#login-username', u.user.username);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await waitIn(page, logs, 'the app', appReady);
  return { context, page, logs };
}

// Who the browser's cookie session belongs to (null: none), asked by a
// same-origin fetch that sends the cookie and no token.
function cookieUser(page) {
  return page.evaluate(async () => {
    const r = await fetch('/api/v1/auth/me', { credentials: 'same-origin' });
    return r.status === 200 ? (await r.json()).user.id : null;
  });
}

function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: path.join(ARTIFACTS, name + '.png') });
}

test('a signed-in tab opened at /#ticket= or /#token= of another account keeps its session, drops the fragment, says so', async () => {
  const victim = await register('hov', PASSWORD);
  const mallory = await siteUser(site, 'hom');
  const { context, page, logs } = await signedInContext(victim);

  // A new tab at the attacker's link (as another page would open it).
  const ticket = await ticketFor(mallory);
  const tab = await context.newPage();
  const tabLogs = track(tab, 'ticket-tab');
  await tab.goto(`${PARLEY}/#ticket=${encodeURIComponent(ticket)}`);
  await waitIn(tab, tabLogs, 'the app', appReady);
  assert.equal(await tab.evaluate(() => PA.state.me.id), victim.user.id, 'still the victim');
  assert.doesNotMatch(tab.url(), /ticket=/, 'the fragment is gone');
  await waitIn(tab, tabLogs, 'the notice', () => !document.getElementById('notice').classList.contains('hidden'));
  const notice = await tab.textContent('#notice-text');
  assert.match(notice, /sign-in link was not used/);
  assert.ok(notice.indexOf('@' + victim.user.username) >= 0, notice);
  await shot(tab, 'handoff-refused');
  assert.equal(await tab.evaluate(() => sessionStorage.getItem('parley.token')), null, 'no token mode');
  assert.equal(await cookieUser(tab), victim.user.id, 'the cookie session is the victim\'s');
  // The ticket was not even redeemed: it still works (and is used up here).
  const redeem = await api.post('/api/v1/auth/ticket', { json: { ticket } });
  assert.equal(redeem.status, 200, 'the ticket was left unused: ' + redeem.text);
  const malloryToken = redeem.json.token;

  // #token=: the same, and the notice names the account it would have been.
  const tab2 = await context.newPage();
  const tab2Logs = track(tab2, 'token-tab');
  await tab2.goto(`${PARLEY}/#token=${encodeURIComponent(malloryToken)}`);
  await waitIn(tab2, tab2Logs, 'the app', appReady);
  assert.equal(await tab2.evaluate(() => PA.state.me.id), victim.user.id);
  assert.doesNotMatch(tab2.url(), /token=/);
  await waitIn(tab2, tab2Logs, 'the notice naming the other account', (name) =>
    document.getElementById('notice-text').textContent.indexOf(name) >= 0, '@' + mallory.user.username);
  assert.equal(await tab2.evaluate(() => sessionStorage.getItem('parley.token')), null);

  // A tab already open gets the hand-off by a fragment change alone.
  const t2 = await ticketFor(mallory);
  await page.evaluate((t) => { window.stillHere = true; window.location.hash = '#ticket=' + encodeURIComponent(t); }, t2);
  await waitIn(page, logs, 'the notice in the open tab', () =>
    /sign-in link was not used/.test(document.getElementById('notice-text').textContent) &&
    !/ticket=/.test(window.location.href));
  assert.equal(await page.evaluate(() => window.stillHere && PA.state.me.id), victim.user.id);
  const again = await api.post('/api/v1/auth/ticket', { json: { ticket: t2 } });
  assert.equal(again.status, 200, 'that ticket was left unused too');

  // Every tab: still the victim, after a reload too.
  await page.reload();
  await waitIn(page, logs, 'the app after a reload', appReady);
  assert.equal(await page.evaluate(() => PA.state.me.id), victim.user.id);
  assert.equal(await cookieUser(page), victim.user.id);
  assert.deepEqual([...logs, ...tabLogs, ...tab2Logs].filter((l) => /pageerror/.test(l)), []);
  await context.close();
});

test('a fresh tab asks before a hand-off signs it in, naming the account; "no" leaves no session', async () => {
  const u = await siteUser(site, 'hof');
  await login(site, u); // a session to look at the account's sessions with
  const sessions = async () => (await api.get('/api/v1/auth/sessions', { token: u.token })).json.sessions.length;
  const before = await sessions();

  // Declined: back at the login form; no cookie, no kept token; the
  // session the ticket made is revoked.
  let context = await browser.newContext();
  let page = await context.newPage();
  let logs = track(page, 'fresh');
  await page.goto(`${PARLEY}/#ticket=${encodeURIComponent(await ticketFor(u))}`);
  await waitIn(page, logs, 'the question', () => document.body.getAttribute('data-screen') === 'handoff');
  assert.doesNotMatch(page.url(), /ticket=/);
  assert.ok(await page.isVisible('#handoff-account'));
  assert.equal(await page.textContent('#handoff-account'), `${u.user.display_name} (@${u.user.username})`);
  assert.match(await page.textContent('#handoff-accept'), new RegExp('Continue as @' + u.user.username));
  await shot(page, 'handoff-question');
  assert.equal(await cookieUser(page), null, 'no cookie session while asking');
  assert.equal(await page.evaluate(() => !!sessionStorage.getItem('parley.token') || !!(window.PA && PA.state.me)), false);
  await page.click('#handoff-cancel');
  await waitIn(page, logs, 'the login form', () => document.body.getAttribute('data-screen') === 'auth');
  assert.equal(await cookieUser(page), null);
  for (let i = 0; i < 50 && (await sessions()) !== before; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await sessions(), before, 'the declined ticket\'s session is revoked');
  await page.reload();
  await waitIn(page, logs, 'the login form after a reload', () => document.body.getAttribute('data-screen') === 'auth');
  await context.close();

  // Accepted: signed in as that account, in this tab (token mode).
  context = await browser.newContext();
  page = await context.newPage();
  logs = track(page, 'accept');
  await page.goto(`${PARLEY}/#ticket=${encodeURIComponent(await ticketFor(u))}`);
  await waitIn(page, logs, 'the question', () => document.body.getAttribute('data-screen') === 'handoff');
  await page.click('#handoff-accept');
  await waitIn(page, logs, 'the app', appReady);
  assert.equal(await page.evaluate(() => PA.state.me.id), u.user.id);
  assert.equal(await page.evaluate(() => PA.tokenMode && !!sessionStorage.getItem('parley.token')), true);
  await page.reload();
  await waitIn(page, logs, 'the app after a reload', appReady);
  assert.equal(await page.evaluate(() => PA.state.me.id), u.user.id);
  await context.close();

  // #token= asks the same way.
  context = await browser.newContext();
  page = await context.newPage();
  logs = track(page, 'token');
  await page.goto(`${PARLEY}/#token=${encodeURIComponent(u.token)}`);
  await waitIn(page, logs, 'the question', () => document.body.getAttribute('data-screen') === 'handoff');
  assert.doesNotMatch(page.url(), /token=/);
  assert.match(await page.textContent('#handoff-account'), new RegExp('@' + u.user.username));
  await page.click('#handoff-accept');
  await waitIn(page, logs, 'the app', appReady);
  assert.equal(await page.evaluate(() => PA.state.me.id), u.user.id);
  // A token that is no good: a plain message, no question.
  const p2 = await context.newPage();
  const logs2 = track(p2, 'bad-token');
  await p2.goto(`${PARLEY}/#token=not-a-token`);
  await waitIn(p2, logs2, 'the refusal', () => document.body.getAttribute('data-screen') === 'auth' &&
    /no longer valid/.test(document.getElementById('auth-error').textContent));
  assert.deepEqual([...logs, ...logs2].filter((l) => /pageerror/.test(l)), []);
  await context.close();
});

test('frame: a ticket signs the framed client in at once, without touching the browser\'s cookie session', async () => {
  const victim = await register('hob', PASSWORD);
  const framedUser = await siteUser(site, 'hoe');
  const { context, page, logs } = await signedInContext(victim);
  hostPages.set('/embed', '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><div id="box"></div>' +
    `<script src="${PARLEY}/embed.js"></script><script>ParleyEmbed.frame({server: ${JSON.stringify(PARLEY)}, ` +
    `container: 'box', width: 900, height: 560, ticket: ${JSON.stringify(await ticketFor(framedUser))}});</script></body></html>`);
  const hostTab = await context.newPage();
  const hostLogs = track(hostTab, 'host');
  await hostTab.goto(HOST + '/embed');
  const frame = await (await hostTab.waitForSelector('iframe.parley-embed-frame')).contentFrame();
  await waitIn(frame, hostLogs, 'the framed client signed in', appReady);
  assert.equal(await frame.evaluate(() => PA.state.me.id), framedUser.user.id, 'the frame took the hand-off');
  assert.ok(!/ticket=/.test(frame.url()));
  assert.equal(await frame.evaluate(() => document.body.getAttribute('data-screen')), 'app', 'no question in a frame');
  // The browser's own tabs are still the victim's.
  assert.equal(await cookieUser(page), victim.user.id);
  await page.reload();
  await waitIn(page, logs, 'the app after a reload', appReady);
  assert.equal(await page.evaluate(() => PA.state.me.id), victim.user.id);
  assert.deepEqual([...logs, ...hostLogs].filter((l) => /pageerror/.test(l)), []);
  await context.close();
});

test('old engines (no fetch): the question works the same; "no" revokes the ticket\'s session and its cookie', async () => {
  const u = await siteUser(site, 'hox');
  await login(site, u);
  const sessions = async () => (await api.get('/api/v1/auth/sessions', { token: u.token })).json.sessions.length;
  const before = await sessions();
  const context = await browser.newContext();
  await context.addInitScript(() => { delete window.fetch; window.fetch = undefined; });
  const page = await context.newPage();
  const logs = track(page, 'nofetch');
  await page.goto(`${PARLEY}/#ticket=${encodeURIComponent(await ticketFor(u))}`);
  await waitIn(page, logs, 'the question', () => document.body.getAttribute('data-screen') === 'handoff');
  assert.equal(await page.evaluate(() => typeof window.fetch), 'undefined');
  assert.match(await page.textContent('#handoff-account'), new RegExp('@' + u.user.username));
  await page.click('#handoff-cancel');
  await waitIn(page, logs, 'the login form', () => document.body.getAttribute('data-screen') === 'auth');
  for (let i = 0; i < 50 && (await sessions()) !== before; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await sessions(), before, 'the declined ticket\'s session is revoked');
  await page.reload();
  await waitIn(page, logs, 'the login form after a reload (no cookie session left)', () =>
    document.body.getAttribute('data-screen') === 'auth');
  // And yes: signed in, this tab.
  await page.goto(`${PARLEY}/#ticket=${encodeURIComponent(await ticketFor(u))}`);
  await waitIn(page, logs, 'the question again', () => document.body.getAttribute('data-screen') === 'handoff');
  await page.click('#handoff-accept');
  await waitIn(page, logs, 'the app', appReady);
  assert.equal(await page.evaluate(() => PA.state.me.id), u.user.id);
  assert.deepEqual(logs.filter((l) => /pageerror/.test(l)), []);
  await context.close();
});
