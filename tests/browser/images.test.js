// Image previews must not tell the sender's chosen host the viewer's
// address: someone else's image message shows a placeholder naming the
// host ("Show image from <host>") and the browser asks that host for
// nothing until the viewer clicks it (counted by a tiny image server
// here); then the image loads, without a Referer, and stays shown.
// Screenshot: tests/artifacts/image-placeholder.png.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { api, register, befriend, BASE } = require('../lib.js');
const { launch, closeBrowser, ARTIFACTS } = require('./lib.js');

const PASSWORD = 'correct horse 1';
// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

let images;
let IMG;
const hits = [];

test.before(async () => {
  images = http.createServer((req, res) => {
    hits.push({ url: req.url, referer: req.headers.referer });
    res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': PNG.length, 'Cache-Control': 'no-store' });
    res.end(PNG);
  });
  await new Promise((resolve) => images.listen(0, '127.0.0.1', resolve));
  IMG = `127.0.0.1:${images.address().port}`;
});
test.after(() => new Promise((resolve) => images.close(resolve)));

async function waitIn(page, logs, what, fn, arg, timeout = 20000) {
  try {
    const h = await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    return await h.jsonValue();
  } catch (e) {
    throw new Error(`timed out after ${timeout} ms waiting for ${what}\nlogs:\n${logs.slice(-20).join('\n')}\n${e.message}`);
  }
}

test('an image message loads nothing from its host until the viewer clicks "Show image from <host>"', async () => {
  const sender = await register('ims', PASSWORD);
  const viewer = await register('imv', PASSWORD);
  await befriend(sender, viewer);
  const url = `http://${IMG}/pics/tracker.png?who=viewer`;
  const sent = await api.post('/api/v1/messages', {
    token: sender.token,
    json: { to: viewer.user.id, type: 'image', client_id: 'img-1', body: { url, name: 'holiday.png', size: PNG.length, mime: 'image/png' } },
  });
  assert.equal(sent.status, 201, sent.text);

  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const page = await context.newPage();
    const logs = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(BASE.origin + '/');
    await waitIn(page, logs, 'the login form', () => document.body.getAttribute('data-screen') === 'auth');
    await page.fill('#login-username', viewer.user.username);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await waitIn(page, logs, 'the conversation list', () => window.PA && PA.state.convsLoaded &&
      document.querySelectorAll('#conv-list li.conv').length === 1);
    await page.click('#conv-list li.conv');
    await waitIn(page, logs, 'the image message', () => !!document.querySelector('#messages .msg-row[data-type=image]'));
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(hits, [], 'nothing asked of the image host before the click');
    assert.equal(await page.evaluate(() => document.querySelectorAll('#messages img').length), 0, 'no <img> yet');
    const button = page.locator('#messages [data-test=image-placeholder] [data-test=show-image]');
    assert.equal(await button.textContent(), `Show image from ${IMG}`);
    assert.match(await page.textContent('#messages [data-test=image-placeholder]'), /holiday\.png/);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'image-placeholder.png') });

    // The host is the one the browser would ask, whatever stands before an @.
    assert.equal(await page.evaluate(() => PA.urlHost('https://bank.example@evil.example:8443/x.png')), 'evil.example:8443');
    assert.equal(await page.evaluate(() => PA.urlHost('HTTP://Files.Example/a@b.png')), 'files.example');

    await button.click();
    await waitIn(page, logs, 'the image', () => {
      const img = document.querySelector('#messages a.attach-image img');
      return img && img.complete && img.naturalWidth === 1;
    });
    assert.equal(hits.length, 1, JSON.stringify(hits));
    assert.equal(hits[0].url, '/pics/tracker.png?who=viewer');
    assert.equal(hits[0].referer, undefined, 'no Referer to the image host');
    assert.equal(await page.getAttribute('#messages a.attach-image', 'href'), url);

    // Shown once asked: also after leaving the conversation and coming back.
    await page.evaluate(() => PA.go('#/'));
    await page.click('#conv-list li.conv');
    await waitIn(page, logs, 'the image again', () => !!document.querySelector('#messages a.attach-image img') &&
      !document.querySelector('#messages [data-test=image-placeholder]'));
    assert.deepEqual(logs.filter((l) => /pageerror/.test(l)), []);
  } finally {
    await closeBrowser(browser);
  }
});
