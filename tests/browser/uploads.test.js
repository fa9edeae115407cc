// Uploads in the web client, two real pages (sender and friend):
// a photo picked with the file button goes up with a progress bar
// (XHR2; the upload is throttled so the bar moves) and shows as a
// thumbnail on the friend's page, loaded from Parley, with a larger view
// on click; a file dropped on the conversation arrives as a download
// link; with XHR2 taken away from the page the same photo goes through
// the hidden-iframe form; a voice message is recorded with Chromium's
// fake microphone and played with <audio> on the other side.
// Inside a cross-site frame (bearer token, no cookie) uploads go up with
// the token and show from blob: URLs fetched with it.
// Screenshots: tests/artifacts/upload-*.png.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { api, register, befriend, BASE } = require('../lib.js');
const { launch, closeBrowser, ARTIFACTS } = require('./lib.js');
const up = require('../uploads.js');

const PASSWORD = 'correct horse 1';

async function waitIn(p, what, fn, arg, timeout = 30000) {
  try {
    const h = await p.page.waitForFunction(fn, arg, { timeout, polling: 100 });
    return await h.jsonValue();
  } catch (e) {
    const log = await p.page.evaluate(() => JSON.stringify(window.PA && PA.uploads && PA.uploads.log.slice(-15))).catch(() => '');
    throw new Error(`[${p.label}] timed out after ${timeout} ms waiting for ${what}\nuploads log: ${log}\n` +
      `page logs:\n${p.logs.slice(-20).join('\n')}\n${e.message}`);
  }
}

// The web client, signed in as `user`, with the conversation with `peer`
// open (a text message makes it exist).
async function openClient(browser, user, peer, label, init) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const p = { label, context, page, logs: [], requests: [] };
  page.on('console', (m) => p.logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => p.logs.push(`pageerror: ${e.message}`));
  page.on('request', (r) => { if (r.url().includes('/api/v1/uploads') && r.method() === 'POST') p.requests.push({ url: r.url(), type: r.resourceType(), ct: r.headers()['content-type'] || '' }); });
  if (init) await page.addInitScript(init);
  await page.goto(BASE.origin + '/');
  await waitIn(p, 'the login form', () => document.body.getAttribute('data-screen') === 'auth');
  await page.fill('#login-username', user.user.username);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await waitIn(p, 'the conversation list', () => window.PA && PA.state.convsLoaded &&
    document.querySelectorAll('#conv-list li.conv').length >= 1);
  await page.click('#conv-list li.conv');
  await waitIn(p, 'the conversation', () => !!PA.state.view && PA.state.view.convId > 0);
  return p;
}

async function pair(prefix) {
  const a = await register(prefix + 'a', PASSWORD);
  const b = await register(prefix + 'b', PASSWORD);
  await befriend(a, b);
  const r = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'text', body: { text: 'hi, a photo follows' } } });
  assert.equal(r.status, 201, r.text);
  return [a, b];
}

function shot(p, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return p.page.screenshot({ path: path.join(ARTIFACTS, name + '.png') });
}

// The friend's page shows the image message as a thumbnail loaded from
// Parley; resolves its upload id.
async function seesThumbnail(p, name) {
  return waitIn(p, `the thumbnail of ${name}`, (n) => {
    const img = document.querySelector('#messages .msg-row[data-type=image] img[data-test=upload-thumbnail]');
    return img && img.complete && img.naturalWidth > 0 && img.alt === n &&
      /\/api\/v1\/uploads\/\d+\/thumbnail$/.test(img.src) && img.src.indexOf(location.origin) === 0 &&
      +img.src.match(/uploads\/(\d+)/)[1];
  }, name);
}

test('a photo picked in one page is uploaded with progress and shows as a thumbnail on the friend\'s page; a click opens it larger', async () => {
  const [a, b] = await pair('bup');
  const browser = await launch();
  try {
    const pa = await openClient(browser, a, b, 'sender');
    const pb = await openClient(browser, b, a, 'friend');
    // A noisy picture of about 1.5 MB, sent over a 512 KiB/s uplink.
    const photo = up.png(800, 640, { seed: 11 });
    const noisy = Buffer.from(photo);
    const cdp = await pa.context.newCDPSession(pa.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 512 * 1024 });
    // Every percentage the bar shows, as the page draws it.
    await pa.page.evaluate(() => {
      window.seenPercents = [];
      new MutationObserver(() => {
        const row = document.querySelector('[data-test=upload-progress]');
        if (row) window.seenPercents.push(+row.getAttribute('data-percent') || 0);
      }).observe(document.getElementById('upload-list'), { subtree: true, attributes: true, childList: true });
    });
    await pa.page.setInputFiles('#upload-input', { name: 'beach.png', mimeType: 'image/png', buffer: noisy });
    await waitIn(pa, 'the progress bar', () => !!document.querySelector('[data-test=upload-progress]'));
    await shot(pa, 'upload-progress');
    await waitIn(pa, 'the upload', () => PA.uploads.log.some((e) => e.what === 'uploaded'), null, 60000);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const progress = await pa.page.evaluate(() => PA.uploads.log.filter((e) => e.what === 'progress'));
    assert.ok(progress.length >= 2, 'several progress events: ' + JSON.stringify(progress));
    assert.equal(progress[progress.length - 1].loaded, noisy.length);
    assert.ok(progress.some((e) => e.loaded < e.total), 'the bar moved before the end: ' + JSON.stringify(progress));
    const percents = await pa.page.evaluate(() => window.seenPercents);
    assert.ok(percents.some((x) => x > 0 && x < 100), 'the bar showed a part done: ' + JSON.stringify(percents));
    assert.equal(await pa.page.evaluate(() => !!document.querySelector('[data-test=upload-progress]')), false, 'the bar is gone when done');
    assert.deepEqual(pa.requests.map((r) => r.type), ['xhr'], 'XHR2, not the form');

    const id = await seesThumbnail(pb, 'beach.png');
    await seesThumbnail(pa, 'beach.png');
    const msg = (await api.get(`/api/v1/conversations/${await pb.page.evaluate(() => PA.state.view.convId)}/messages`, { token: b.token })).json.messages.pop();
    assert.equal(msg.type, 'image');
    assert.equal(msg.body.upload_id, id);
    assert.equal(msg.body.width, 800);
    await shot(pb, 'upload-thumbnail');
    await pb.page.click('#messages [data-test=upload-image]');
    const full = await waitIn(pb, 'the larger view', () => {
      const img = document.querySelector('[data-test=viewer] img[data-test=viewer-image]');
      return img && img.complete && img.naturalWidth > 0 && img.naturalWidth;
    });
    assert.equal(full, 800, 'the larger view is the image itself');
    await shot(pb, 'upload-viewer');
    await pb.page.keyboard.press('Escape');
    await waitIn(pb, 'the view to close', () => !document.querySelector('[data-test=viewer]'));

    // A file dropped on the conversation arrives as a download link.
    await pa.page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['meeting notes\n'], 'notes.txt', { type: 'text/plain' }));
      const zone = document.getElementById('conv');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const href = await waitIn(pb, 'the dropped file', () => {
      const a = document.querySelector('#messages .msg-row[data-type=file] [data-test=upload-file]');
      return a && /notes\.txt/.test(a.textContent) && a.getAttribute('href');
    });
    const got = await pb.page.evaluate((h) => fetch(h).then((r) => r.text()), href);
    assert.equal(got, 'meeting notes\n', 'the friend downloads the bytes (cookie session)');
    assert.deepEqual([...pa.logs, ...pb.logs].filter((l) => /pageerror/.test(l)), []);
  } finally {
    await closeBrowser(browser);
  }
});

test('without XHR2 the photo goes through the hidden iframe form (CSRF field) and shows on the friend\'s page', async () => {
  const [a, b] = await pair('bui');
  const browser = await launch();
  try {
    // An old browser: no FormData, no upload progress.
    const pa = await openClient(browser, a, b, 'old', () => { delete window.FormData; });
    const pb = await openClient(browser, b, a, 'friend');
    assert.equal(await pa.page.evaluate(() => PA.uploads.xhr2), false);
    assert.equal(await pa.page.evaluate(() => PA.uploads.voice), false, 'no recorder without XHR2');
    await pa.page.setInputFiles('#upload-input', { name: 'old-browser.png', mimeType: 'image/png', buffer: up.png(120, 90, { seed: 5 }) });
    await waitIn(pa, 'the upload', () => PA.uploads.log.some((e) => e.what === 'uploaded'));
    const starts = await pa.page.evaluate(() => PA.uploads.log.filter((e) => e.what === 'start'));
    assert.equal(starts[0].path, 'iframe');
    assert.equal(pa.requests.length, 1, JSON.stringify(pa.requests));
    assert.equal(pa.requests[0].type, 'document', 'a form post into the frame');
    assert.match(pa.requests[0].url, /\/api\/v1\/uploads\?iframe=1$/);
    assert.match(pa.requests[0].ct, /^multipart\/form-data; boundary=/);
    await seesThumbnail(pb, 'old-browser.png');
    await shot(pb, 'upload-iframe');
    // A second file through the same frame (the input was replaced).
    await pa.page.setInputFiles('#upload-input', { name: 'second.txt', mimeType: 'text/plain', buffer: Buffer.from('second\n') });
    await waitIn(pb, 'the second file', () => !!document.querySelector('#messages .msg-row[data-type=file] [data-test=upload-file]'));
    // A refusal reaches the user as a message, not a silent nothing.
    await pa.page.setInputFiles('#upload-input', { name: 'tool.exe', mimeType: 'application/octet-stream', buffer: fs.readFileSync('/bin/true') });
    await waitIn(pa, 'the refusal', () => PA.uploads.log.some((e) => e.what === 'failed' && e.code === 'unsupported_type'));
  } finally {
    await closeBrowser(browser);
  }
});

test('a voice message recorded with the fake microphone plays with <audio> on the other side', async () => {
  const [a, b] = await pair('buv');
  const browser = await launch();
  try {
    const pa = await openClient(browser, a, b, 'speaker');
    const pb = await openClient(browser, b, a, 'listener');
    assert.equal(await pa.page.evaluate(() => PA.uploads.voice), true, 'MediaRecorder is there');
    await pa.page.click('#voice-record');
    await waitIn(pa, 'the recorder', () => PA.uploads.log.some((e) => e.what === 'voice-start'));
    await new Promise((r) => setTimeout(r, 2500));
    await shot(pa, 'upload-voice-recording');
    await pa.page.click('#voice-stop');
    const rec = await waitIn(pa, 'the recording', () => PA.uploads.log.filter((e) => e.what === 'voice-recorded')[0]);
    assert.ok(rec.size > 1000, JSON.stringify(rec));
    await waitIn(pa, 'the upload', () => PA.uploads.log.some((e) => e.what === 'uploaded' && e.kind === 'audio'));
    await waitIn(pb, 'the audio element', () => !!document.querySelector('#messages .msg-row[data-type=audio] audio[data-test=upload-audio]'));
    const played = await waitIn(pb, 'playback', () => {
      const au = document.querySelector('#messages audio[data-test=upload-audio]');
      if (!au.dataset.started) {
        au.dataset.started = '1';
        au.muted = true;
        au.play().catch((e) => { au.dataset.error = e.message; });
      }
      return au.error ? 'error ' + au.error.code : au.dataset.error ? au.dataset.error : au.currentTime > 0.5 && au.currentTime;
    });
    assert.equal(typeof played, 'number', 'it played: ' + played);
    const msgs = (await api.get(`/api/v1/conversations/${await pb.page.evaluate(() => PA.state.view.convId)}/messages`, { token: b.token })).json.messages;
    const voice = msgs.find((m) => m.type === 'audio');
    assert.equal(voice.body.mime, 'audio/webm');
    assert.match(voice.body.name, /^voice-message\.webm$/);
    assert.ok(voice.body.duration > 1 && voice.body.duration < 30, 'the server read its duration: ' + voice.body.duration);
    // Old browsers still get a download link beside the player.
    assert.ok(await pb.page.evaluate(() => !!document.querySelector('#messages .msg-row[data-type=audio] [data-test=upload-file]')));
    await shot(pb, 'upload-voice-received');
  } finally {
    await closeBrowser(browser);
  }
});

test('in a cross-site frame (bearer token, no cookie) uploads go up with the token and show through blob: URLs', async () => {
  const [a, b] = await pair('buf');
  const sent = (await up.upload(up.png(64, 48, { seed: 21 }), { token: b.token, name: 'to-the-frame.png', type: 'image/png' })).json.upload;
  assert.equal((await api.post('/api/v1/messages', { token: b.token, json: { to: a.user.id, type: 'image', body: { upload_id: sent.id } } })).status, 201);
  // The host site, another site than Parley (localhost vs 127.0.0.1).
  const page = `<!DOCTYPE html><html><body><div id="box"></div><script src="${BASE.origin}/embed.js"></script>` +
    `<script>ParleyEmbed.frame({server: ${JSON.stringify(BASE.origin)}, container: 'box', width: 1000, height: 640, token: ${JSON.stringify(a.token)}});</script></body></html>`;
  const host = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise((r) => host.listen(0, '127.0.0.1', r));
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const hp = await context.newPage();
    const p = { label: 'framed', page: hp, logs: [] };
    hp.on('pageerror', (e) => p.logs.push('pageerror: ' + e.message));
    await hp.goto(`http://localhost:${host.address().port}/`);
    const frame = await (await hp.waitForSelector('iframe.parley-embed-frame')).contentFrame();
    const f = { label: 'frame', page: frame, logs: p.logs };
    await waitIn(f, 'the framed client', () => window.PA && PA.tokenMode && PA.state.convsLoaded &&
      document.querySelectorAll('#conv-list li.conv').length >= 1);
    await frame.click('#conv-list li.conv');
    const src = await waitIn(f, 'the thumbnail from a blob: URL', () => {
      const img = document.querySelector('#messages img[data-test=upload-thumbnail]');
      return img && img.complete && img.naturalWidth === 64 && img.src;
    });
    assert.match(src, /^blob:/, 'fetched with the token, shown from a blob: URL');
    await frame.setInputFiles('#upload-input', { name: 'from-the-frame.txt', mimeType: 'text/plain', buffer: Buffer.from('framed\n') });
    await waitIn(f, 'the upload, sent', () => PA.uploads.log.some((e) => e.what === 'uploaded') &&
      !!document.querySelector('#messages .msg-row[data-type=file][data-id]'));
    const conv = await frame.evaluate(() => PA.state.view.convId);
    const last = (await api.get(`/api/v1/conversations/${conv}/messages`, { token: b.token })).json.messages.pop();
    assert.equal(last.type, 'file');
    assert.equal(last.body.name, 'from-the-frame.txt');
    await hp.screenshot({ path: path.join(ARTIFACTS, 'upload-frame.png') });
    // A file link in the frame downloads with the token too.
    const [dl] = await Promise.all([hp.waitForEvent('download'), frame.click('#messages .msg-row[data-type=file] [data-test=upload-file]')]);
    assert.equal(dl.suggestedFilename(), 'from-the-frame.txt');
    assert.equal(fs.readFileSync(await dl.path(), 'utf8'), 'framed\n');
    assert.deepEqual(p.logs, []);
  } finally {
    await closeBrowser(browser);
    await new Promise((r) => host.close(r));
  }
});
