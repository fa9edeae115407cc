// Single sign-on in the web client itself: a page opened at /#ticket=...
// comes up signed in (token mode) once the user confirms the account, a site's system messages show as a
// read-only "notices" conversation named after the site, a friendship the
// site imports appears live, and a used ticket gives a clear message.
// Screenshot: tests/artifacts/sso-notices.png.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { BASE } = require('../lib.js');
const { newSite, siteUser } = require('../sites.js');
const { launch, closeBrowser, screenshot } = require('./lib.js');

let browser;
test.before(async () => { browser = await launch(); });
test.after(async () => { await closeBrowser(browser); });

test('a #ticket= page signs in; notices are read-only; friend.added shows live; a used ticket is refused', async () => {
  const site = newSite('sso');
  const a = await siteUser(site, 'ssa');
  const b = await siteUser(site, 'ssb');
  const sys = await site.req('POST', '/api/v1/server/messages', { to: a.ext, body: { text: 'Welcome to the shop chat' } });
  assert.equal(sys.status, 201, sys.text);
  const t = await site.req('POST', `/api/v1/server/users/${a.ext}/login-tickets`);
  assert.equal(t.status, 201);

  const context = await browser.newContext();
  const page = await context.newPage();
  const logs = [];
  page.on('pageerror', (e) => logs.push('pageerror: ' + e.message));
  await page.goto(`${BASE.origin}/#ticket=${encodeURIComponent(t.json.ticket)}`);
  // A top-level tab without a session asks first, naming the account
  // (tests/browser/handoff.test.js has the rest of that rule).
  await page.waitForFunction(() => document.body.getAttribute('data-screen') === 'handoff', undefined, { timeout: 20000 });
  assert.match(await page.textContent('#handoff-account'), new RegExp('@' + a.user.username));
  await page.click('#handoff-accept');
  await page.waitForFunction((name) => {
    const el = document.getElementById('me-username');
    return el && el.textContent.indexOf(name) >= 0;
  }, a.user.username, { timeout: 20000 });
  assert.doesNotMatch(page.url(), /ticket=/, 'the ticket is removed from the address');
  assert.ok(await page.evaluate(() => !!sessionStorage.getItem('parley.token')), 'token mode');

  // The notices conversation: named after the site, no composer.
  const item = page.locator('li.conv[data-kind="system"]');
  await item.waitFor({ timeout: 10000 });
  assert.match(await item.textContent(), new RegExp(site.name));
  assert.match(await item.textContent(), /Welcome to the shop chat/);
  await item.click();
  await page.waitForFunction((name) => document.getElementById('conv-title').textContent === name, site.name);
  await page.getByText('Welcome to the shop chat').last().waitFor();
  assert.equal(await page.locator('#composer').isVisible(), false);
  assert.equal(await page.locator('#composer-blocked').isVisible(), true);
  assert.match(await page.locator('#composer-blocked').textContent(), /cannot be answered/);
  await screenshot({ page }, 'sso-notices');

  // The site imports a friendship: the page learns it live.
  const add = await site.req('POST', '/api/v1/server/friendships', { a: a.ext, b: b.ext });
  assert.equal(add.status, 201);
  await page.locator('#nav-people').click();
  await page.locator('#friend-list').getByText(b.user.username).first().waitFor({ timeout: 15000 });

  // The same ticket again, in a fresh tab: refused with a clear message.
  const other = await browser.newContext();
  const p2 = await other.newPage();
  await p2.goto(`${BASE.origin}/#ticket=${encodeURIComponent(t.json.ticket)}`);
  await p2.locator('#auth-error').waitFor({ state: 'visible', timeout: 15000 });
  assert.match(await p2.locator('#auth-error').textContent(), /already used or has expired/);
  await other.close();
  await context.close();
  assert.deepEqual(logs, []);
});
