// Who may frame the web client (clickjacking): nginx sends
// `Content-Security-Policy: frame-ancestors <PARLEY_FRAME_ANCESTORS>`
// (default 'self'), `X-Content-Type-Options: nosniff` and
// `Referrer-Policy: no-referrer` with the client's pages, and
// nginx/render.sh refuses a value that is not a list of origins.
//
// The test stack allows "'self' http://localhost:*" (scripts/test.sh), the
// host pages of embed.test.js and php-site.test.js: a page served by the
// same node server as http://127.0.0.1:<port> (another origin, not
// allowed) cannot frame the client; as http://localhost:<port> it can.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { api, BASE, ROOT } = require('../lib.js');
const { launch, closeBrowser } = require('./lib.js');

const PARLEY = BASE.origin;

// nginx/render.sh with PARLEY_FRAME_ANCESTORS=value (undefined: unset).
// Resolves {status, stderr, conf}.
function render(value) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-render-'));
  const env = Object.assign({}, process.env, {
    NGINX_VAR: dir, NGINX_ROOT: ROOT, NGINX_LISTEN: '127.0.0.1:1', NGINX_UPSTREAM: 'unix:/nonexistent/%s.sock',
  });
  delete env.PARLEY_FRAME_ANCESTORS;
  if (value !== undefined) env.PARLEY_FRAME_ANCESTORS = value;
  const r = spawnSync('sh', [path.join(ROOT, 'nginx/render.sh')], { env, encoding: 'utf8' });
  let conf = '';
  try { conf = fs.readFileSync(path.join(dir, 'nginx/nginx.conf'), 'utf8'); } catch (e) { /* refused */ }
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, stderr: r.stderr, conf };
}

test('render.sh: frame-ancestors defaults to \'self\' and takes only origins', () => {
  const dflt = render(undefined);
  assert.equal(dflt.status, 0, dflt.stderr);
  assert.match(dflt.conf, /add_header Content-Security-Policy "frame-ancestors 'self'" always;/);
  assert.match(dflt.conf, /add_header X-Frame-Options SAMEORIGIN always;/, 'old browsers without CSP');
  assert.match(dflt.conf, /add_header X-Content-Type-Options nosniff always;/);
  assert.match(dflt.conf, /add_header Referrer-Policy no-referrer always;/);

  const none = render("'none'");
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.conf, /"frame-ancestors 'none'"/);
  assert.match(none.conf, /X-Frame-Options DENY/);

  const list = render("'self'  https://shop.example.com http://localhost:*  https://*.example.org:8443");
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.conf, /"frame-ancestors 'self' https:\/\/shop\.example\.com http:\/\/localhost:\* https:\/\/\*\.example\.org:8443"/);
  // (The operator console's own location, /admin/, always denies framing.)
  const client = /\n {8}location \/ \{[\s\S]*?\n {8}\}/.exec(list.conf);
  assert.ok(client, 'the client\'s location / is in the configuration');
  assert.doesNotMatch(client[0], /add_header X-Frame-Options/, 'X-Frame-Options cannot name other origins');

  for (const bad of [
    "'self'; script-src *", "'self'\nadd_header X 1", 'https://a.example, https://b.example', '*', 'https:',
    'https://shop.example.com/path', 'javascript:alert(1)', "'self' 'none'", ' ', '"https://x.example"',
    'https://x.example|y', 'https://x.example&y', "'unsafe-inline'", 'ftp://x.example',
  ]) {
    const r = render(bad);
    assert.notEqual(r.status, 0, `refused: ${JSON.stringify(bad)}`);
    assert.match(r.stderr, /PARLEY_FRAME_ANCESTORS must be/, r.stderr);
    assert.equal(r.conf, '', 'no configuration written');
  }
});

test('the client\'s pages carry frame-ancestors, nosniff and no-referrer', async () => {
  for (const p of ['/', '/index.html']) {
    const r = await api.get(p);
    assert.equal(r.status, 200, p);
    assert.match(r.headers['content-type'], /^text\/html/);
    const csp = r.headers['content-security-policy'] || '';
    assert.match(csp, /^frame-ancestors 'self'( |$)/, `${p}: ${csp}`);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
    assert.equal(r.headers['referrer-policy'], 'no-referrer', p);
  }
});

let host;
let PORT;
test.before(async () => {
  host = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end('<!DOCTYPE html><html><body><h1>Some page</h1>' +
      `<iframe id="f" src="${PARLEY}/" width="800" height="500"></iframe></body></html>`);
  });
  await new Promise((resolve) => host.listen(0, '127.0.0.1', resolve));
  PORT = host.address().port;
});
test.after(() => new Promise((resolve) => host.close(resolve)));

// Opens `url` (a page that frames the client) and reports what the frame
// shows: the client's screen, or null when it has no client in it.
async function frameOf(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  await page.goto(url);
  const frame = await (await page.waitForSelector('#f')).contentFrame();
  let screen = null;
  try {
    await frame.waitForFunction(() => document.body && /^(auth|app)$/.test(document.body.getAttribute('data-screen') || ''),
      undefined, { timeout: 5000, polling: 100 });
    screen = await frame.evaluate(() => document.body.getAttribute('data-screen'));
  } catch (e) {
    screen = null;
  }
  const frameUrl = frame.url();
  await context.close();
  return { screen, logs, frameUrl };
}

test('a page on an origin not in PARLEY_FRAME_ANCESTORS cannot frame the client; an allowed one can', async () => {
  const browser = await launch();
  try {
    const blocked = await frameOf(browser, `http://127.0.0.1:${PORT}/`);
    assert.equal(blocked.screen, null, 'the frame shows no client: ' + blocked.frameUrl);
    assert.ok(!blocked.frameUrl.startsWith(PARLEY), 'the frame holds no Parley document: ' + blocked.frameUrl);
    assert.ok(blocked.logs.some((l) => /(Refused to frame|Framing) .*violates.*frame-ancestors/.test(l)),
      'chromium reports the CSP violation: ' + JSON.stringify(blocked.logs));

    const allowed = await frameOf(browser, `http://localhost:${PORT}/`);
    assert.equal(allowed.screen, 'auth', 'the allowed page frames the login form (is PARLEY_FRAME_ANCESTORS set ' +
      "to \"'self' http://localhost:*\" for the test stack?) " + JSON.stringify(allowed.logs));

    // 'self': Parley's own pages may frame it.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(PARLEY + '/api/v1/health');
    await page.evaluate(() => {
      const f = document.createElement('iframe');
      f.id = 'f';
      f.src = '/';
      document.body.appendChild(f);
    });
    const frame = await (await page.waitForSelector('#f')).contentFrame();
    await frame.waitForFunction(() => document.body && document.body.getAttribute('data-screen') === 'auth',
      undefined, { timeout: 10000, polling: 100 });
    await context.close();
  } finally {
    await closeBrowser(browser);
  }
});
