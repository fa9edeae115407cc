// The operator console (web/admin/) in headless Chromium against the real
// stack: an operator (made with `scripts/parley admin grant`) signs in,
// sees who is online, and a kick signs the victim's web client out at
// once; a normal user who opens /admin/ is told they are no operator and
// sees nothing else. Screenshots: tests/artifacts/admin-*.png.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, register, stack, BASE } = require('../lib.js');
const { launch, closeBrowser, ARTIFACTS } = require('./lib.js');

const PASSWORD = 'correct horse 1';

async function openPage(browser, label, url, viewport = { width: 1200, height: 760 }) {
  const context = await browser.newContext({ baseURL: BASE.origin, viewport });
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`[${label}] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[${label}] pageerror: ${e.message}`));
  const p = { label, context, page, logs };
  await page.goto(BASE.origin + url);
  return p;
}

async function waitFor(p, what, fn, arg, timeout = 20000) {
  try {
    const h = await p.page.waitForFunction(fn, arg, { timeout, polling: 50 });
    return await h.jsonValue();
  } catch (e) {
    throw new Error(`[${p.label}] timed out after ${timeout} ms waiting for ${what}\n` +
      `logs:\n${p.logs.slice(-25).join('\n')}\n${e.message}`);
  }
}

async function shot(p, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await p.page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: true });
}

function assertNoPageErrors(...pages) {
  for (const p of pages) assert.deepEqual(p.logs.filter((l) => /pageerror/.test(l)), [], `[${p.label}] page errors`);
}

// The web client, logged in through its own form, its event loop running.
async function clientPage(browser, u, label) {
  const p = await openPage(browser, label, '/');
  await waitFor(p, 'the login screen', () => document.body.getAttribute('data-screen') === 'auth');
  await p.page.click('#tab-login');
  await p.page.fill('#login-username', u.user.username);
  await p.page.fill('#login-password', PASSWORD);
  await p.page.click('#login-submit');
  await waitFor(p, 'the app, polling', () => document.body.getAttribute('data-screen') === 'app' &&
    window.PA && PA.loop && PA.loop.ready);
  return p;
}

async function consoleLogin(p, u) {
  await waitFor(p, 'the console\'s sign-in', () => document.body.getAttribute('data-screen') === 'auth');
  await p.page.fill('#login-username', u.user.username);
  await p.page.fill('#login-password', PASSWORD);
  await p.page.click('#login-submit');
}

test('the admin page lists who is online, and a kick signs the other page out at once', { timeout: 90000 }, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const [op, victim, bystander] = await Promise.all([register('bop', PASSWORD), register('bvi', PASSWORD), register('bby', PASSWORD)]);
  stack('admin', 'grant', op.user.username);

  const V = await clientPage(browser, victim, 'victim');
  const W = await clientPage(browser, bystander, 'bystander');
  const A = await openPage(browser, 'operator', '/admin/');
  await consoleLogin(A, op);
  await waitFor(A, 'the console', () => document.body.getAttribute('data-screen') === 'console');
  const row = (id) => `#online-rows tr[data-user-id="${id}"]`;
  // The list refreshes every 5 s; both clients poll, so both show up.
  await A.page.waitForSelector(row(victim.user.id), { timeout: 15000 });
  await A.page.waitForSelector(row(bystander.user.id), { timeout: 15000 });
  const shown = await A.page.textContent(row(victim.user.id));
  assert.match(shown, new RegExp(victim.user.username));
  assert.match(shown, /poll|websocket/, 'the transport is shown');
  await A.page.fill('#reason', 'browser test');
  await shot(A, 'admin-online');

  // Kick: the button arms, the second click acts.
  const kick = `${row(victim.user.id)} button[data-action="kick"]`;
  await A.page.click(kick);
  assert.match(await A.page.textContent(kick), /Confirm kick/);
  await shot(A, 'admin-kick-armed');
  const t0 = Date.now();
  await A.page.click(kick);
  await waitFor(V, 'the victim signed out', () => document.body.getAttribute('data-screen') === 'auth', null, 10000);
  const ms = Date.now() - t0;
  const said = await V.page.textContent('#auth-error');
  assert.match(said, /session has ended/i);
  assert.ok(ms < 5000, `the victim's page was signed out ${ms} ms after the kick`);
  t.diagnostic(`kick to the victim's login screen: ${ms} ms`);
  await shot(V, 'admin-victim-signed-out');
  await waitFor(A, 'the notice', () => /Signed .* out of 2 session/.test(document.getElementById('notice').textContent));
  await waitFor(A, 'the victim gone from the list', (id) => !document.querySelector(`#online-rows tr[data-user-id="${id}"]`), victim.user.id);
  assert.ok(await A.page.$(row(bystander.user.id)), 'the bystander is still online');
  assert.equal(await W.page.evaluate(() => document.body.getAttribute('data-screen')), 'app', 'the bystander stays signed in');
  await shot(A, 'admin-after-kick');

  // The log has it, from the page too.
  await A.page.click('#tab-audit');
  await A.page.waitForSelector('#audit-rows tr');
  const first = await A.page.textContent('#audit-rows tr');
  assert.match(first, /user\.kick/);
  assert.match(first, /browser test/);
  await A.page.click('#tab-health');
  await A.page.waitForSelector('#health-rows tr[data-process="poll"]');
  assert.match(await A.page.textContent('#health-rows tr[data-process="poll"]'), /up/);
  await shot(A, 'admin-health');
  assertNoPageErrors(A, V, W);
  // Every session of the victim ended, the one register() made too.
  assert.equal((await api.get('/api/v1/auth/me', { token: victim.token })).status, 401);
});

test('a normal user who opens /admin/ is told they are no operator, and the page gets nothing', { timeout: 60000 }, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const u = await register('bno', PASSWORD);
  const P = await openPage(browser, 'normal', '/admin/');
  const statuses = [];
  P.page.on('response', (res) => { if (res.url().includes('/api/v1/admin/')) statuses.push(res.status()); });
  await consoleLogin(P, u);
  await waitFor(P, 'the not-an-operator notice', () => document.body.getAttribute('data-screen') === 'not-admin');
  assert.match(await P.page.textContent('#not-admin'), new RegExp(u.user.username));
  assert.ok(statuses.length > 0 && statuses.every((s) => s === 404), `admin API answers: ${statuses}`);
  assert.equal(await P.page.isVisible('#console'), false);
  await shot(P, 'admin-not-operator');
  // The page is never framed and loads nothing from elsewhere.
  const res = await api.get('/admin/');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-security-policy'] || '', /frame-ancestors 'none'/);
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assertNoPageErrors(P);
});
