// Signing out and in as someone else in the same page of the web client
// (a shared computer): the second account sees only its own
// conversations and friends, nothing of the first, and its own messages
// arrive live. The client's state is one object for the page's life,
// emptied at each login (PA.resetState in web/js/app-session.js), so
// this is what shows that nothing of the first login stays in it.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend } = require('../lib.js');
const { launch, closeBrowser } = require('./lib.js');
const { PASSWORD, openClient, waitFor, uiLogin, convItem, assertNoPageErrors } = require('./webclient.js');

const text = (t) => ({ type: 'text', body: { text: t } });

test('after signing out, the next account in the same page sees only its own conversations and friends', { timeout: 90000 }, async (t) => {
  const [a, b, c] = await Promise.all([register('rla', PASSWORD), register('rlb', PASSWORD), register('rlc', PASSWORD)]);
  await befriend(a, b);
  await befriend(c, b);
  const ab = await api.post('/api/v1/messages', { token: b.token, json: Object.assign({ to: a.user.id }, text('for A only')) });
  assert.equal(ab.status, 201, ab.text);
  const abConv = ab.json.message.conversation_id;

  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const p = await openClient(browser, 'shared');

  // A signs in, opens the conversation with B, and signs out.
  await uiLogin(p, a.user.username);
  await p.page.click(convItem(abConv));
  await waitFor(p, "A's conversation open", (id) =>
    document.getElementById('conv').getAttribute('data-conv-id') === String(id) &&
    /for A only/.test(document.getElementById('messages').textContent), abConv);
  await p.page.click('#logout');
  await waitFor(p, 'the login screen', () => document.body.getAttribute('data-screen') === 'auth');
  // Nothing of A stays in the document behind the login screen (a shared
  // computer's next user could read it with the developer tools).
  const left = await p.page.evaluate((names) => {
    const html = document.documentElement.outerHTML;
    return { message: html.indexOf('for A only') >= 0, me: html.indexOf(names[0]) >= 0, friend: html.indexOf(names[1]) >= 0 };
  }, [a.user.username, b.user.username]);
  assert.deepEqual(left, { message: false, me: false, friend: false },
    "A's conversation, name or friend is still in the page after signing out");

  // C signs in on the same page: none of A's list, view or friends.
  await uiLogin(p, c.user.username);
  const seen = await p.page.evaluate(() => ({
    me: PA.state.me.id,
    convs: Object.keys(PA.state.convs).length,
    listed: document.querySelectorAll('#conv-list li.conv').length,
    view: PA.state.view,
    friends: Object.keys(PA.state.friends).map(Number),
    hash: location.hash,
    shown: document.body.innerText.indexOf('for A only') >= 0,   // innerText: what is displayed
  }));
  assert.deepEqual(seen, { me: c.user.id, convs: 0, listed: 0, view: null, friends: [b.user.id], hash: '#/', shown: false });

  // C's own message arrives live in C's list.
  const cb = await api.post('/api/v1/messages', { token: b.token, json: Object.assign({ to: c.user.id }, text('for C')) });
  assert.equal(cb.status, 201, cb.text);
  await waitFor(p, "C's conversation listed", (id) =>
    document.querySelectorAll('#conv-list li.conv').length === 1 &&
    !!document.querySelector(`#conv-list li.conv[data-conv-id="${id}"]`), cb.json.message.conversation_id);
  assertNoPageErrors(p);
});
