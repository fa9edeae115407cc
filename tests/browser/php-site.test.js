// examples/php-site in headless Chromium: the demo PHP site runs under
// `php -S` at http://localhost:<port>/ (another site than Parley at
// PARLEY_URL = http://127.0.0.1:...). Alice signs in through the site's
// own login form; the page embeds Parley with a one-time login ticket, and
// the framed client must come up signed in as Alice, with no Parley login
// of its own. Screenshot: tests/artifacts/php-site.png.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { BASE, ROOT } = require('../lib.js');
const { newSite } = require('../sites.js');
const { launch, closeBrowser, ARTIFACTS } = require('./lib.js');

let php;
let SITE_URL;
let phpLog = '';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`php -S did not listen on ${port}:\n${phpLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test.before(async () => {
  const site = newSite('phpdemo');
  const port = await freePort();
  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-demo-'));
  php = spawn('php', ['-S', `127.0.0.1:${port}`, '-t', path.join(ROOT, 'examples/php-site')], {
    env: Object.assign({}, process.env, {
      PARLEY_URL: BASE.origin, PARLEY_SITE: site.name, PARLEY_SECRET: site.secret, DEMO_SITE_VAR: varDir,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  php.stdout.on('data', (d) => { phpLog += d; });
  php.stderr.on('data', (d) => { phpLog += d; });
  await waitForPort(port, 10000);
  SITE_URL = `http://localhost:${port}`;
});

test.after(() => {
  if (php) php.kill('SIGTERM');
});

test('php-site: the site\'s own login signs the embedded Parley client in as the same person', async () => {
  const browser = await launch();
  const logs = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    const why = () => `\nbrowser log:\n${logs.slice(-20).join('\n')}\nphp -S log:\n${phpLog.slice(-2000)}`;

    await page.goto(SITE_URL + '/');
    assert.ok(page.url().startsWith('http://localhost:'), 'the PHP site is another site than Parley');
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'demo-password');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.match(await page.textContent('body'), /Signed in as Alice/, 'the site signed Alice in' + why());

    const iframe = await page.waitForSelector('iframe.parley-embed-frame', { timeout: 20000 });
    const frame = await iframe.contentFrame();
    assert.ok(frame.url().startsWith(BASE.origin), 'the frame shows Parley: ' + frame.url());
    try {
      await frame.waitForFunction(() => document.body && document.body.getAttribute('data-screen') === 'app' &&
        window.PA && PA.state.me && PA.loop && PA.loop.ready, undefined, { timeout: 20000, polling: 100 });
    } catch (e) {
      const screen = await frame.evaluate(() => document.body && document.body.getAttribute('data-screen')).catch(() => '?');
      throw new Error(`the framed client did not sign in (screen: ${screen})${why()}\n${e.message}`);
    }
    const me = await frame.evaluate(() => PA.state.me);
    assert.equal(me.display_name, 'Alice', 'the framed client is Alice: ' + JSON.stringify(me));
    assert.match(me.username, /^alice/);
    assert.ok(!/ticket=|token=/.test(frame.url()), 'no credential left in the frame URL: ' + frame.url());

    // The site imported its friendships: Bob and Carol are Alice's friends.
    const friends = await frame.evaluate(async () => {
      const r = await fetch('/api/v1/friends', { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('parley.token') } });
      return (await r.json()).friends.map((f) => f.display_name).sort();
    });
    assert.deepEqual(friends, ['Bob', 'Carol']);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'php-site.png'), fullPage: true });
  } finally {
    await closeBrowser(browser);
  }
});
