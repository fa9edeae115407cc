// The web client (web/index.html + web/js/app*.js) in a headless Chromium
// page of its own (own cookies), with what tests of it share: log in
// through the UI, send, read what is shown. Each page also records the
// WebSockets it opened (p.sockets: url, frames sent, closed) and how many
// long polls it made (p.polls), so a test can tell which transport the
// event loop used.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { register, BASE } = require('../lib.js');
const { ARTIFACTS, watchTransports } = require('./lib.js');

const PASSWORD = 'correct horse 1';

// A fresh page in its own context (own cookies) showing the client.
// opts.websocket false: a browser without WebSocket (IE9-like), which
// long-polls.
async function openClient(browser, label, viewport = { width: 1200, height: 760 }, opts = {}) {
  const context = await browser.newContext({ baseURL: BASE.origin, viewport });
  if (opts.websocket === false) await context.addInitScript(() => { delete window.WebSocket; window.WebSocket = undefined; });
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`[${label}] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[${label}] pageerror: ${e.message}`));
  const p = { label, context, page, logs };
  watchTransports(p);
  await page.goto(BASE.origin + '/');
  await waitFor(p, 'the login or app screen', () =>
    document.body.getAttribute('data-screen') === 'auth' || document.body.getAttribute('data-screen') === 'app');
  return p;
}

// Waits until fn(arg) is truthy in the page; a timeout names what was
// awaited and shows the page's recent log lines.
async function waitFor(p, what, fn, arg, timeout = 20000) {
  try {
    const h = await p.page.waitForFunction(fn, arg, { timeout, polling: 100 });
    return await h.jsonValue();
  } catch (e) {
    const pageErrors = p.logs.filter((l) => /pageerror/.test(l));
    throw new Error(`[${p.label}] timed out after ${timeout} ms waiting for ${what}\n` +
      `page errors: ${pageErrors.join('\n') || 'none'}\nlogs:\n${p.logs.slice(-25).join('\n')}\n${e.message}`);
  }
}

async function shot(p, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await p.page.screenshot({ path: path.join(ARTIFACTS, name + '.png') });
}

async function uiRegister(p, username, display) {
  await p.page.click('#tab-register');
  await p.page.fill('#reg-username', username);
  if (display) await p.page.fill('#reg-display', display);
  await p.page.fill('#reg-password', PASSWORD);
  await p.page.click('#reg-submit');
  await waitFor(p, 'the app after registering', () => document.body.getAttribute('data-screen') === 'app');
  await waitReady(p);
}

async function uiLogin(p, username, password = PASSWORD) {
  await p.page.click('#tab-login');
  await p.page.fill('#login-username', username);
  await p.page.fill('#login-password', password);
  await p.page.click('#login-submit');
  await waitFor(p, 'the app after logging in', () => document.body.getAttribute('data-screen') === 'app');
  await waitReady(p);
}

// The loop holds its cursor (the user is online) and the list is loaded.
function waitReady(p) {
  return waitFor(p, 'the event loop and the conversation list', () =>
    window.PA && PA.loop && PA.loop.ready && PA.state.convsLoaded && PA.state.friendsLoaded);
}

// Registered through the API, logged in through the UI.
async function apiUserPage(browser, prefix, label, viewport, opts) {
  const u = await register(prefix, PASSWORD);
  const p = await openClient(browser, label, viewport, opts);
  await uiLogin(p, u.user.username);
  p.user = u;
  return p;
}

async function sendText(p, text) {
  await p.page.fill('#composer-input', text);
  await p.page.press('#composer-input', 'Enter');
}

// Texts of the stored messages shown in the open conversation, in order.
function shownTexts(p) {
  return p.page.evaluate(() => Array.prototype.map.call(
    document.querySelectorAll('#messages .msg-row[data-id] .msg-text'), (n) => n.textContent));
}

function convItem(convId) {
  return `#conv-list li.conv[data-conv-id="${convId}"]`;
}

async function openConvFromList(p, convId) {
  await p.page.click(convItem(convId));
  await waitFor(p, `conversation ${convId} open`, (id) =>
    document.getElementById('conv').getAttribute('data-conv-id') === String(id) &&
    PA.state.view && PA.state.view.loaded, convId);
}

// The status (sending, sent, delivered, read) of my message `text`.
function statusOf(p, text) {
  return p.page.evaluate((t) => {
    const rows = document.querySelectorAll('#messages .msg-row[data-mine="true"][data-id]');
    for (const r of rows) {
      const m = r.querySelector('.msg-text');
      if (m && m.textContent === t) return r.querySelector('.msg-status').getAttribute('data-status');
    }
    return null;
  }, text);
}

// No page error may have happened in any page of the test.
function assertNoPageErrors(...pages) {
  for (const p of pages) {
    const errs = p.logs.filter((l) => /pageerror/.test(l));
    assert.deepEqual(errs, [], `[${p.label}] page errors`);
  }
}

module.exports = {
  PASSWORD, openClient, waitFor, shot, uiRegister, uiLogin, waitReady, apiUserPage,
  sendText, shownTexts, convItem, openConvFromList, statusOf, assertNoPageErrors,
};
