// The web client (web/index.html + web/js/app*.js) in real headless
// Chromium against the real stack: people register and log in through
// the UI, become friends, chat one-to-one and in a group, see unread
// badges, read marks and presence change live, survive a restart of the
// poll service without a lost or doubled message (pages without
// WebSocket; tests/browser/websocket.test.js has the WebSocket's side),
// call each other, and the narrow (320 px) layout works. Screenshots of
// the main screens go to tests/artifacts/.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { api, register, befriend, uniqueName, stackAsync, BASE } = require('../lib.js');
const { launch, closeBrowser } = require('./lib.js');
const {
  PASSWORD, openClient, waitFor, shot, uiRegister, uiLogin, waitReady, apiUserPage,
  sendText, shownTexts, convItem, openConvFromList, assertNoPageErrors,
} = require('./webclient.js');

// ---------------------------------------------------------------------------

test('register, befriend with a memo, chat both ways: unread, read marks and presence live', { timeout: 90000 }, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const A = await openClient(browser, 'A');
  const B = await openClient(browser, 'B');
  const an = uniqueName('ua'), bn = uniqueName('ub');

  await shot(A, 'web-login');
  await uiRegister(A, an, 'Alice Example');
  await uiRegister(B, bn, 'Bob Example');
  const aId = await A.page.evaluate(() => PA.state.me.id);
  const bId = await B.page.evaluate(() => PA.state.me.id);

  // A finds B and asks with a memo.
  await A.page.click('#nav-people');
  await A.page.fill('#user-search', bn.slice(0, 8));
  await A.page.waitForSelector(`#user-results li[data-user-id="${bId}"] [data-test=add-friend]`);
  await A.page.click(`#user-results li[data-user-id="${bId}"] [data-test=add-friend]`);
  await A.page.fill(`#user-results li[data-user-id="${bId}"] [data-test=memo]`, 'Hi Bob, it is Alice from the climbing club');
  await A.page.click(`#user-results li[data-user-id="${bId}"] [data-test=send-request]`);
  await A.page.waitForSelector(`#outgoing-requests li[data-user-id="${bId}"]`);

  // B sees it arrive live: badge, request with the memo; accepts.
  await waitFor(B, 'the requests badge', () => document.getElementById('requests-badge').textContent === '1');
  await B.page.click('#nav-people');
  const memo = await B.page.textContent(`#incoming-requests li[data-user-id="${aId}"] [data-test=memo]`);
  assert.match(memo, /Hi Bob, it is Alice from the climbing club/);
  await shot(B, 'web-friend-requests');
  await B.page.click(`#incoming-requests li[data-user-id="${aId}"] [data-test=accept]`);
  await B.page.waitForSelector(`#friend-list li[data-user-id="${aId}"]`);
  await waitFor(A, 'B in the friend list, online', (id) =>
    !!document.querySelector(`#friend-list li[data-user-id="${id}"] .presence[data-online="true"]`), bId);
  await waitFor(A, 'the outgoing request gone', () => document.querySelectorAll('#outgoing-requests li').length === 0);
  await waitFor(B, 'A online in the friend list', (id) =>
    !!document.querySelector(`#friend-list li[data-user-id="${id}"] .presence[data-online="true"]`), aId);
  await shot(A, 'web-friends');

  // A writes first, from the friend list (a conversation that does not exist yet).
  await A.page.click(`#friend-list li[data-user-id="${bId}"] [data-test=message]`);
  await A.page.waitForSelector('#conv:not(.hidden)');
  await sendText(A, 'Hello Bob!');
  const convId = await waitFor(A, 'the new conversation', () => PA.state.view && PA.state.view.convId);
  await waitFor(A, 'my message stored', () => document.querySelectorAll('#messages .msg-row[data-id][data-mine="true"]').length === 1);

  // B: the conversation appears in the list with an unread badge.
  await B.page.click('#nav-chats');
  await waitFor(B, 'the unread badge', (id) => {
    const b = document.querySelector(`#conv-list li[data-conv-id="${id}"] [data-test=unread]`);
    return b && b.textContent === '1';
  }, convId);
  await waitFor(B, 'the presence dot of A', (id) =>
    !!document.querySelector(`#conv-list li[data-conv-id="${id}"] .presence[data-online="true"]`), convId);
  // B's device fetched the message: A sees it delivered.
  await waitFor(A, 'delivered mark', () => {
    const s = document.querySelector('#messages .msg-row[data-mine="true"][data-id] .msg-status');
    return s && s.getAttribute('data-status') === 'delivered';
  });
  await shot(B, 'web-conversation-list');

  // B opens it: the badge clears, A sees "read".
  await openConvFromList(B, convId);
  assert.deepEqual(await shownTexts(B), ['Hello Bob!']);
  await waitFor(B, 'the badge cleared', (id) => !document.querySelector(`#conv-list li[data-conv-id="${id}"] [data-test=unread]`), convId);
  await waitFor(A, 'read mark', () => {
    const s = document.querySelector('#messages .msg-row[data-mine="true"][data-id] .msg-status');
    return s && s.getAttribute('data-status') === 'read';
  });

  // B replies; A has the conversation open: no badge there, the reply shows.
  await sendText(B, 'Hi Alice, good to hear from you.\nSee you at 7?');
  await waitFor(A, 'the reply', () => document.querySelectorAll('#messages .msg-row[data-mine="false"][data-id]').length === 1);
  assert.deepEqual(await shownTexts(A), ['Hello Bob!', 'Hi Alice, good to hear from you.\nSee you at 7?']);
  await waitFor(B, 'B\'s reply read by A', () => {
    const s = document.querySelectorAll('#messages .msg-row[data-mine="true"][data-id] .msg-status');
    return s.length === 1 && s[0].getAttribute('data-status') === 'read';
  });
  assert.equal(await A.page.$(`${convItem(convId)} [data-test=unread]`), null);

  // Links to files: an image preview and a plain file link.
  await A.page.click('#attach');
  await A.page.fill('#attach-url', 'https://files.example.com/u/7/route-map.pdf');
  await A.page.fill('#attach-size', '482113');
  await A.page.click('#attach-send');
  await waitFor(B, 'the file link', () => {
    const a = document.querySelector('#messages .msg-row[data-type="file"] a[data-test=attachment]');
    return a && a.getAttribute('href') === 'https://files.example.com/u/7/route-map.pdf' && /route-map\.pdf/.test(a.textContent);
  });

  // Recall within two minutes: gone for both.
  await sendText(A, 'oops, wrong chat');
  await waitFor(B, 'the message to recall', () => /oops/.test(document.getElementById('messages').textContent));
  const row = '#messages .msg-row[data-mine="true"][data-id]:last-of-type';
  await A.page.hover(row);
  await A.page.click(`${row} [data-test=recall]`);
  await waitFor(B, 'the recall', () => !/oops/.test(document.getElementById('messages').textContent) &&
    document.querySelectorAll('#messages .msg-row[data-recalled="true"]').length === 1);
  await waitFor(A, 'the recall (own)', () => document.querySelectorAll('#messages .msg-row[data-recalled="true"]').length === 1);
  await shot(A, 'web-conversation');

  // The session survives a reload: same user, same conversation (#/c/id).
  await A.page.reload();
  await waitFor(A, 'the app after reload', () => document.body.getAttribute('data-screen') === 'app');
  await waitReady(A);
  await waitFor(A, 'the conversation reopened', (id) =>
    document.getElementById('conv').getAttribute('data-conv-id') === String(id) &&
    document.querySelectorAll('#messages .msg-row[data-id]').length === 4, convId);
  assert.equal(await A.page.textContent('#me-name'), 'Alice Example');

  // Presence: B logs out -> A sees B offline; B logs in -> online again.
  await B.page.click('#logout');
  await waitFor(B, 'the login screen', () => document.body.getAttribute('data-screen') === 'auth');
  await waitFor(A, 'B offline', (id) =>
    document.querySelector(`#conv-list li[data-conv-id="${id}"] .presence`).getAttribute('data-online') === 'false' &&
    document.getElementById('conv-sub').getAttribute('data-online') === 'false', convId, 30000);
  await uiLogin(B, bn);
  await waitFor(A, 'B online again', (id) =>
    document.querySelector(`#conv-list li[data-conv-id="${id}"] .presence`).getAttribute('data-online') === 'true', convId, 30000);

  assertNoPageErrors(A, B);
});

test('friend requests rejected and canceled, a friend removed, blocked and unblocked', { timeout: 90000 }, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const P = await apiUserPage(browser, 'pm', 'P');
  const me = P.user;
  const [u2, u3] = await Promise.all([register('p2', PASSWORD), register('p3', PASSWORD)]);
  await P.page.click('#nav-people');

  // An incoming request arrives live and is rejected.
  const r = await api.post('/api/v1/friends/requests', { token: u2.token, json: { user_id: me.user.id, memo: 'remember me?' } });
  assert.equal(r.status, 201, r.text);
  await P.page.waitForSelector(`#incoming-requests li[data-user-id="${u2.user.id}"]`);
  await P.page.click(`#incoming-requests li[data-user-id="${u2.user.id}"] [data-test=reject]`);
  await waitFor(P, 'the request gone', () => document.querySelectorAll('#incoming-requests li').length === 0 &&
    document.getElementById('incoming-section').className.indexOf('hidden') >= 0);

  // An outgoing request (from the search) is canceled.
  await P.page.fill('#user-search', u3.user.username);
  await P.page.click(`#user-results li[data-user-id="${u3.user.id}"] [data-test=add-friend]`);
  await P.page.click(`#user-results li[data-user-id="${u3.user.id}"] [data-test=send-request]`);
  await P.page.waitForSelector(`#outgoing-requests li[data-user-id="${u3.user.id}"]`);
  await P.page.click(`#outgoing-requests li[data-user-id="${u3.user.id}"] [data-test=cancel]`);
  await waitFor(P, 'the outgoing request gone', () => document.querySelectorAll('#outgoing-requests li').length === 0);
  assert.deepEqual((await api.get('/api/v1/friends/requests', { token: u3.token })).json.incoming, []);
  await P.page.fill('#user-search', '');

  // A friend (made elsewhere, shown live) is removed: the button asks twice.
  await befriend(u2, me);
  const row2 = `#friend-list li[data-user-id="${u2.user.id}"]`;
  await P.page.waitForSelector(row2);
  await P.page.click(`${row2} [data-test=remove]`);
  assert.equal(await P.page.textContent(`${row2} [data-test=remove]`), 'Remove?');
  await P.page.click(`${row2} [data-test=remove]`);
  await waitFor(P, 'the friend gone', (id) => !document.querySelector(`#friend-list li[data-user-id="${id}"]`), u2.user.id);
  assert.deepEqual((await api.get('/api/v1/friends', { token: u2.token })).json.friends, []);

  // Block a friend, then unblock.
  await befriend(u3, me);
  const row3 = `#friend-list li[data-user-id="${u3.user.id}"]`;
  await P.page.waitForSelector(row3);
  await P.page.click(`${row3} [data-test=block]`);
  // A live event draws the list again between the two clicks (as the
  // friends' events of a real list do): the arming must survive it.
  await befriend(u2, me);
  await P.page.waitForSelector(`#friend-list li[data-user-id="${u2.user.id}"]`);
  assert.equal(await P.page.textContent(`${row3} [data-test=block]`), 'Block?');
  await P.page.click(`${row3} [data-test=block]`);
  await P.page.waitForSelector(`#block-list li[data-user-id="${u3.user.id}"]`);
  await waitFor(P, 'the blocked friend gone from friends', (id) => !document.querySelector(`#friend-list li[data-user-id="${id}"]`), u3.user.id);
  assert.equal((await api.get('/api/v1/blocks', { token: me.token })).json.blocks.length, 1);
  await P.page.click(`#block-list li[data-user-id="${u3.user.id}"] [data-test=unblock]`);
  await waitFor(P, 'the block gone', () => document.querySelectorAll('#block-list li').length === 0);
  assert.deepEqual((await api.get('/api/v1/blocks', { token: me.token })).json.blocks, []);
  assertNoPageErrors(P);
});

test('the long poll survives a restart of the poll service: no message lost or doubled', {
  timeout: 90000,
  // Restarting a service of a stack this run did not name would hit someone else's.
  skip: !process.env.PARLEY_URL || !process.env.PARLEY_VAR ? 'needs PARLEY_URL and PARLEY_VAR of the stack' : false,
}, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  // Browsers without WebSocket (as IE9): the event loop long-polls.
  const noWs = { websocket: false };
  const [A, B] = await Promise.all([
    apiUserPage(browser, 'ra', 'A', undefined, noWs), apiUserPage(browser, 'rb', 'B', undefined, noWs),
  ]);
  for (const p of [A, B]) {
    assert.equal(await p.page.evaluate(() => PA.loop.transport), 'poll', `[${p.label}]`);
    assert.deepEqual(p.sockets, [], `[${p.label}] no WebSocket`);
  }
  await befriend(A.user, B.user);
  const bId = B.user.user.id;
  await waitFor(A, 'B in the friend list', (id) => !!PA.state.friends[id], bId);

  const expected = [];
  const say = async (n) => {
    const text = 'm' + String(n).padStart(2, '0');
    expected.push(text);
    await sendText(A, text);
  };

  await A.page.evaluate((id) => { location.hash = '#/u/' + id; }, bId);
  await A.page.waitForSelector('#conv:not(.hidden)');
  for (let i = 1; i <= 10; i++) await say(i);
  const convId = await waitFor(A, 'the conversation', () => PA.state.view && PA.state.view.convId);
  await B.page.waitForSelector(convItem(convId));
  await openConvFromList(B, convId);

  // Restart the poll service while A keeps writing.
  const restart = stackAsync('restart-service', 'poll');
  for (let i = 11; i <= 20; i++) await say(i);
  await restart;
  for (let i = 21; i <= 30; i++) await say(i);

  await waitFor(B, 'all 30 messages', () => document.querySelectorAll('#messages .msg-row[data-id]').length >= 30, null, 45000);
  await sendText(B, 'got them all');
  expected.push('got them all');
  await waitFor(A, 'the answer', () => document.querySelectorAll('#messages .msg-row[data-id]').length >= 31, null, 45000);
  await waitFor(B, 'nothing pending', () => document.querySelectorAll('#messages .msg-row[data-pending]').length === 0);
  await waitFor(A, 'nothing pending', () => document.querySelectorAll('#messages .msg-row[data-pending]').length === 0);

  // Exactly the series, once each, in order, on both sides.
  assert.deepEqual(await shownTexts(B), expected);
  assert.deepEqual(await shownTexts(A), expected);
  const ids = await B.page.evaluate(() => Array.prototype.map.call(
    document.querySelectorAll('#messages .msg-row[data-id]'), (n) => n.getAttribute('data-id')));
  assert.equal(new Set(ids).size, ids.length, 'no message id twice');

  // If the outage was seen, the banner said so and then said it was back.
  const log = await B.page.evaluate(() => PA.bannerLog.slice());
  t.diagnostic('banner states on B: ' + log.join(' '));
  if (log.includes('down')) assert.ok(log.lastIndexOf('back') > log.indexOf('down'), 'banner came back: ' + log.join(' '));
  await waitFor(B, 'the banner hidden', () => document.getElementById('banner').getAttribute('data-state') !== 'down', null, 30000);

  // A cursor the server no longer knows (410 cursor_expired): the loop
  // jumps to the head, past this message's event; the client reloads
  // what it shows and still gets the message, once.
  await B.page.evaluate(() => { PA.loop.stop(); PA.loop.cursor += 1000000; });
  const r = await api.post('/api/v1/messages', {
    token: A.user.token, json: { to: bId, type: 'text', client_id: 'resync-1', body: { text: 'sent while B was away' } },
  });
  assert.equal(r.status, 201, r.text);
  await B.page.evaluate(() => { PA.loop.once('loop:resync', () => { window.resynced = true; }); PA.loop.start(); });
  expected.push('sent while B was away');
  await waitFor(B, 'the resync', () => window.resynced === true);
  await waitFor(B, 'the message after the resync', () => document.querySelectorAll('#messages .msg-row[data-id]').length >= 32);
  assert.deepEqual(await shownTexts(B), expected);
  await waitFor(A, 'the message in A\'s page too', () => document.querySelectorAll('#messages .msg-row[data-id]').length >= 32);
  assert.deepEqual(await shownTexts(A), expected);
  assertNoPageErrors(A, B);
});

test('a group of three: create it from friends, everyone chats, names and marks show', { timeout: 90000 }, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const [A, B, C] = await Promise.all([
    apiUserPage(browser, 'ga', 'A'), apiUserPage(browser, 'gb', 'B'), apiUserPage(browser, 'gc', 'C'),
  ]);
  await befriend(A.user, B.user);
  await befriend(A.user, C.user);
  const [bId, cId] = [B.user.user.id, C.user.user.id];
  await waitFor(A, 'both friends listed', (ids) => ids.every((id) => PA.state.friends[id]), [bId, cId]);

  // A makes the group in the dialog.
  await A.page.click('#new-group');
  await A.page.fill('#group-name', 'Climbing club');
  await A.page.check(`#group-friends input[data-friend-id="${bId}"]`);
  await A.page.check(`#group-friends input[data-friend-id="${cId}"]`);
  await A.page.click('#group-create');
  const gid = await waitFor(A, 'the group open', () => PA.state.view && PA.state.view.kind === 'group' && PA.state.view.convId);
  await waitFor(A, 'the member list', () => /3 members/.test(document.getElementById('conv-sub').textContent));

  // It shows up for B and C (group.created).
  await B.page.waitForSelector(convItem(gid));
  await C.page.waitForSelector(convItem(gid));
  assert.equal(await B.page.textContent(`${convItem(gid)} .conv-name`), 'Climbing club');

  await sendText(A, 'Welcome, both of you');
  for (const p of [B, C]) {
    await waitFor(p, 'the unread badge of the group', (id) => {
      const b = document.querySelector(`#conv-list li[data-conv-id="${id}"] [data-test=unread]`);
      return b && b.textContent === '1';
    }, gid);
  }

  await openConvFromList(B, gid);
  await sendText(B, 'Thanks!');
  await waitFor(A, 'B\'s answer', () => document.querySelectorAll('#messages .msg-row[data-id]').length === 2);
  // B read A's message: A's mark says read (by B).
  await waitFor(A, 'read by B', () => {
    const s = document.querySelector('#messages .msg-row[data-mine="true"][data-id] .msg-status');
    return s && s.getAttribute('data-status') === 'read';
  });

  await openConvFromList(C, gid);
  await waitFor(C, 'both messages', () => document.querySelectorAll('#messages .msg-row[data-id]').length === 2);
  assert.deepEqual(await shownTexts(C), ['Welcome, both of you', 'Thanks!']);
  const senders = await C.page.evaluate(() => Array.prototype.map.call(
    document.querySelectorAll('#messages .sender'), (n) => n.textContent));
  assert.deepEqual(senders, [A.user.user.username, B.user.user.username]);
  await sendText(C, 'Count me in');
  for (const p of [A, B]) {
    await waitFor(p, 'C\'s message', () => document.querySelectorAll('#messages .msg-row[data-id]').length === 3);
    assert.deepEqual(await shownTexts(p), ['Welcome, both of you', 'Thanks!', 'Count me in']);
  }
  await shot(C, 'web-group');

  // The owner adds a fourth friend from the header.
  const d = await register('gd', PASSWORD);
  await befriend(A.user, d);
  await waitFor(A, 'D a friend', (id) => !!PA.state.friends[id], d.user.id);
  await A.page.click('#add-members');
  assert.equal(await A.page.$(`#group-friends input[data-friend-id="${bId}"]`), null, 'members are not offered again');
  await A.page.check(`#group-friends input[data-friend-id="${d.user.id}"]`);
  await A.page.click('#group-create');
  for (const p of [A, B, C]) {
    await waitFor(p, 'four members in the header', () => /^4 members/.test(document.getElementById('conv-sub').textContent));
  }
  const g = await api.get('/api/v1/groups/' + gid, { token: d.token });
  assert.equal(g.status, 200, g.text);
  assert.equal(g.json.group.members.length, 4);
  assert.equal(await B.page.isVisible('#add-members'), false, 'plain members cannot add people');
  assertNoPageErrors(A, B, C);
});

test('320 px wide: one pane at a time, history pages load when scrolled up', { timeout: 90000 }, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const friend = await register('nf', PASSWORD);
  const u = await register('nu', PASSWORD);
  await befriend(friend, u);
  // 70 messages: two pages of history (50 per page).
  for (let i = 1; i <= 70; i++) {
    const r = await api.post('/api/v1/messages', {
      token: friend.token,
      json: { to: u.user.id, type: 'text', client_id: 'n-' + i, body: { text: 'history ' + i } },
    });
    assert.equal(r.status, 201, r.text);
  }
  await api.post('/api/v1/messages', {
    token: friend.token,
    json: { to: u.user.id, type: 'image', body: { url: 'https://example.invalid/pics/summit.jpg', name: 'summit.jpg', size: 204800, mime: 'image/jpeg' } },
  });

  const p = await openClient(browser, 'N', { width: 320, height: 640 });
  await shot(p, 'web-narrow-login');
  await uiLogin(p, u.user.username);
  const noOverflow = () => document.documentElement.scrollWidth <= 320 && document.body.scrollWidth <= 320;
  assert.ok(await p.page.evaluate(noOverflow), 'no horizontal scrolling on the list');
  assert.equal(await p.page.isVisible('#main'), false, 'the conversation pane is hidden on the list');
  await shot(p, 'web-narrow-list');

  const convId = await p.page.getAttribute('#conv-list li.conv', 'data-conv-id');
  await openConvFromList(p, Number(convId));
  assert.equal(await p.page.isVisible('#sidebar'), false, 'the list is hidden in the conversation');
  assert.ok(await p.page.isVisible('#back'));
  assert.ok(await p.page.evaluate(noOverflow), 'no horizontal scrolling in the conversation');
  await waitFor(p, 'the first page', () => document.querySelectorAll('#messages .msg-row[data-id]').length === 50);
  await sendText(p, 'Hi from a small screen');
  await waitFor(p, 'my message', () => document.querySelectorAll('#messages .msg-row[data-mine="true"][data-id]').length === 1);
  await shot(p, 'web-narrow-conversation');

  // Scrolling to the top loads the older pages, in order, until the start.
  for (let i = 0; i < 5; i++) {
    const n = await p.page.evaluate(() => document.querySelectorAll('#messages .msg-row[data-id]').length);
    if (n === 72) break;
    await p.page.evaluate(() => { document.getElementById('messages').scrollTop = 0; });
    await waitFor(p, 'an older page', (n) => document.querySelectorAll('#messages .msg-row[data-id]').length > n ||
      document.querySelector('[data-test=history-start]'), n);
  }
  await waitFor(p, 'the whole history', () => !!document.querySelector('[data-test=history-start]') &&
    document.querySelectorAll('#messages .msg-row[data-id]').length === 72);
  const texts = await shownTexts(p);
  const want = [];
  for (let i = 1; i <= 70; i++) want.push('history ' + i);
  want.push('Hi from a small screen');
  assert.deepEqual(texts, want);

  await p.page.click('#back');
  await waitFor(p, 'the list again', () => document.getElementById('sidebar').offsetWidth > 0 &&
    document.getElementById('main').offsetWidth === 0);
  assertNoPageErrors(p);
});

test('calls from the conversation: ring, accept, timer, mute, hang up; declined and missed records', { timeout: 90000 }, async (t) => {
  const browser = await launch();
  t.after(() => closeBrowser(browser));
  const [A, B] = await Promise.all([apiUserPage(browser, 'ca', 'A'), apiUserPage(browser, 'cb', 'B')]);
  await befriend(A.user, B.user);
  const bId = B.user.user.id;
  await waitFor(A, 'B online', (id) => PA.state.friends[id] && PA.state.friends[id].online, bId);
  await A.page.evaluate((id) => { location.hash = '#/u/' + id; }, bId);
  await A.page.waitForSelector('#call-video:not(.hidden)');

  // 1. A video call, answered, then hung up by A.
  await A.page.click('#call-video');
  await waitFor(A, 'calling', () => document.getElementById('call-overlay').getAttribute('data-state') === 'outgoing');
  await waitFor(B, 'the ring', () => document.getElementById('call-overlay').getAttribute('data-state') === 'incoming');
  assert.ok(await B.page.isVisible('#call-accept'));
  assert.ok(await B.page.isVisible('#call-reject'));
  assert.equal(await B.page.textContent('#call-name'), A.user.user.username);
  await shot(B, 'web-incoming-call');
  await B.page.click('#call-accept');
  for (const p of [A, B]) {
    await waitFor(p, 'the call active', () => document.getElementById('call-overlay').getAttribute('data-state') === 'active');
    await waitFor(p, 'the timer running', () => /^0:0[1-9]$/.test(document.getElementById('call-timer').textContent), null, 15000);
  }
  await waitFor(A, 'media connected', () => PA.callui.current() && PA.callui.current().connectionState === 'connected', null, 30000);
  await A.page.click('#call-mute');
  assert.equal(await A.page.textContent('#call-mute'), 'Unmute');
  assert.equal(await A.page.evaluate(() => PA.callui.current().muted), true);
  await A.page.click('#call-camera');
  assert.equal(await A.page.textContent('#call-camera'), 'Camera on');
  await shot(A, 'web-call-active');
  await A.page.click('#call-hangup');
  for (const p of [A, B]) {
    await waitFor(p, 'the call over', () => ['ended', 'none'].includes(document.getElementById('call-overlay').getAttribute('data-state')));
  }
  const convId = await waitFor(A, 'the conversation', () => PA.state.view && PA.state.view.convId);
  await waitFor(A, 'the call record', () => {
    const l = document.querySelectorAll('#messages [data-test=call-label]');
    return l.length === 1 && /^Call, 0:\d\d$/.test(l[0].textContent);
  });

  // 2. Declined.
  await waitFor(A, 'the overlay gone', () => document.getElementById('call-overlay').getAttribute('data-state') === 'none', null, 10000);
  await A.page.click('#call-audio');
  await waitFor(B, 'the second ring', () => document.getElementById('call-overlay').getAttribute('data-state') === 'incoming', null, 20000);
  await B.page.click('#call-reject');
  await waitFor(A, 'declined', () => document.getElementById('call-overlay').getAttribute('data-reason') === 'rejected');
  await waitFor(A, 'the declined record', () => {
    const l = document.querySelectorAll('#messages [data-test=call-label]');
    return l.length === 2 && l[1].textContent === 'Declined';
  });

  // 3. Nobody answers (PARLEY_CALL_RING_TIMEOUT): missed.
  await waitFor(A, 'the overlay gone', () => document.getElementById('call-overlay').getAttribute('data-state') === 'none', null, 10000);
  await A.page.click('#call-audio');
  await waitFor(B, 'the third ring', () => document.getElementById('call-overlay').getAttribute('data-state') === 'incoming', null, 20000);
  await waitFor(B, 'the ring to time out', () => document.getElementById('call-overlay').getAttribute('data-reason') === 'timeout', null, 45000);
  await openConvFromList(B, convId);
  await waitFor(B, 'the missed record', () => {
    const l = document.querySelectorAll('#messages [data-test=call-label]');
    return l.length === 3 && l[2].textContent === 'Missed call';
  });
  assert.deepEqual(await B.page.evaluate(() => Array.prototype.map.call(
    document.querySelectorAll('#messages [data-test=call-label]'), (n) => n.textContent)).then((l) => l.slice(1)),
  ['Declined', 'Missed call']);

  // 4. A browser without WebRTC: a clear note instead of call buttons.
  const ctx = await browser.newContext({ baseURL: BASE.origin });
  await ctx.addInitScript(() => { delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection; });
  const oldPage = await ctx.newPage();
  const O = { label: 'old', context: ctx, page: oldPage, logs: [] };
  oldPage.on('pageerror', (e) => O.logs.push('[old] pageerror: ' + e.message));
  await oldPage.goto(BASE.origin + '/#/c/' + convId);
  await waitFor(O, 'the login screen', () => document.body.getAttribute('data-screen') === 'auth');
  await uiLogin(O, A.user.user.username);
  await waitFor(O, 'the conversation', (id) => document.getElementById('conv').getAttribute('data-conv-id') === String(id), convId);
  assert.ok(await oldPage.isVisible('#call-unsupported'));
  assert.match(await oldPage.textContent('#call-unsupported'), /Calls need a newer browser/);
  assert.equal(await oldPage.isVisible('#call-video'), false);
  assert.equal(await oldPage.isVisible('#call-audio'), false);
  assertNoPageErrors(A, B, O);
});
