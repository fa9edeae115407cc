/*
 * app-people-list.js: the "People" tab of the web client's sidebar, plain
 * ECMAScript 5: the user search, incoming and outgoing requests, friends
 * and blocks drawn from PA.people's lists, and the actions on them
 * (P.action: request, accept, reject, cancel, remove, block, unblock).
 *
 * Depends on: app-util.js, app-people.js (P, P.live); at run time on
 * app-session.js, app-common.js, app-list.js and app-groups.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var el = U.el;

	var P = PA.people;

	function S() {
		return PA.state;
	}
	var live = P.live;

	var search = { q: '', results: null, error: '', req: null, memoFor: null };

	P.reset = function () {
		search = { q: '', results: null, error: '', req: null, memoFor: null };
		$('user-search').value = '';
		P.render();
	};

	/* ------------------------------------------------------------ */
	/* Rendering                                                    */
	/* ------------------------------------------------------------ */

	function userLine(u, extra) {
		var name = u.display_name || u.username;
		return el('div', { className: 'person-text' }, [
			el('div', { className: 'person-name', text: name }),
			el('div', { className: 'person-sub', text: extra !== undefined ? extra : '@' + u.username })
		]);
	}

	function btn(text, action, attrs, cls) {
		var a = { 'data-action': action };
		var k;
		for (k in attrs) {
			if (U.has(attrs, k)) {
				a[k] = attrs[k];
			}
		}
		return el('button', { className: 'button small ' + (cls || ''), type: 'button', text: text, attrs: a });
	}

	function relation(userId) {
		var st = S(), i;
		if (st.friends[userId]) {
			return 'friend';
		}
		for (i = 0; i < st.blocks.length; i++) {
			if (st.blocks[i].user.id === userId) {
				return 'blocked';
			}
		}
		for (i = 0; i < st.requests.incoming.length; i++) {
			if (st.requests.incoming[i].user.id === userId) {
				return 'incoming';
			}
		}
		for (i = 0; i < st.requests.outgoing.length; i++) {
			if (st.requests.outgoing[i].user.id === userId) {
				return 'outgoing';
			}
		}
		return 'none';
	}

	function incomingFrom(userId) {
		var list = S().requests.incoming, i;
		for (i = 0; i < list.length; i++) {
			if (list[i].user.id === userId) {
				return list[i];
			}
		}
		return null;
	}

	function renderSearch() {
		var ul = $('user-results'), i, u, rel, li, actions, memo;
		U.show($('search-section'), !!search.q);
		U.empty(ul);
		if (!search.q) {
			return;
		}
		if (search.error) {
			U.setText($('user-results-empty'), search.error);
			U.show($('user-results-empty'), true);
			return;
		}
		if (!search.results) {
			U.setText($('user-results-empty'), 'Searching…');
			U.show($('user-results-empty'), true);
			return;
		}
		U.setText($('user-results-empty'), 'Nobody with a username starting with "' + search.q + '".');
		U.show($('user-results-empty'), search.results.length === 0);
		for (i = 0; i < search.results.length; i++) {
			u = search.results[i];
			rel = relation(u.id);
			actions = el('div', { className: 'person-actions' });
			if (rel === 'friend') {
				actions.appendChild(el('span', { className: 'tag', text: 'Friend' }));
				actions.appendChild(btn('Message', 'message-user', { 'data-user-id': u.id, 'data-test': 'message' }, 'primary'));
			} else if (rel === 'outgoing') {
				actions.appendChild(el('span', { className: 'tag', text: 'Request sent' }));
			} else if (rel === 'incoming') {
				actions.appendChild(btn('Accept', 'accept-request', {
					'data-request-id': incomingFrom(u.id).id, 'data-test': 'accept'
				}, 'primary'));
			} else if (rel === 'blocked') {
				actions.appendChild(btn('Unblock', 'unblock', { 'data-user-id': u.id, 'data-test': 'unblock' }));
			} else if (search.memoFor !== u.id) {
				actions.appendChild(btn('Add friend', 'add-friend', { 'data-user-id': u.id, 'data-test': 'add-friend' }, 'primary'));
			}
			li = el('li', { className: 'person', attrs: { 'data-user-id': u.id, 'data-username': u.username } }, [
				U.makeAvatar(u.display_name || u.username, u.id),
				userLine(u),
				actions
			]);
			if (rel === 'none' && search.memoFor === u.id) {
				memo = el('form', { className: 'memo-form', attrs: { 'data-user-id': u.id, action: '#' } }, [
					el('label', { className: 'sr-only', text: 'A note with your request', attrs: { 'for': 'memo-' + u.id } }),
					el('input', {
						type: 'text', id: 'memo-' + u.id, className: 'memo-input',
						attrs: { maxlength: '200', placeholder: 'Add a note (optional)', 'data-test': 'memo' }
					}),
					el('div', { className: 'memo-buttons' }, [
						btn('Cancel', 'memo-cancel', {}, 'ghost'),
						btn('Send request', 'send-request', { 'data-user-id': u.id, 'data-test': 'send-request' }, 'primary')
					])
				]);
				li.appendChild(memo);
			}
			ul.appendChild(li);
		}
	}

	function renderRequests() {
		var st = S(), ul = $('incoming-requests'), out = $('outgoing-requests'), i, r, t;
		U.empty(ul);
		U.empty(out);
		for (i = 0; i < st.requests.incoming.length; i++) {
			r = st.requests.incoming[i];
			t = U.parseTime(r.created_at);
			ul.appendChild(el('li', { className: 'person request', attrs: { 'data-request-id': r.id, 'data-user-id': r.user.id } }, [
				U.makeAvatar(r.user.display_name || r.user.username, r.user.id),
				el('div', { className: 'person-text' }, [
					el('div', { className: 'person-name', text: r.user.display_name || r.user.username }),
					el('div', { className: 'person-sub', text: '@' + r.user.username + (t ? ' · ' + U.shortTime(t) : '') }),
					r.memo ? el('div', { className: 'memo', text: '\u201C' + r.memo + '\u201D', attrs: { 'data-test': 'memo' } }) : null
				]),
				el('div', { className: 'person-actions' }, [
					btn('Accept', 'accept-request', { 'data-request-id': r.id, 'data-test': 'accept' }, 'primary'),
					btn('Reject', 'reject-request', { 'data-request-id': r.id, 'data-test': 'reject' }, 'ghost')
				])
			]));
		}
		for (i = 0; i < st.requests.outgoing.length; i++) {
			r = st.requests.outgoing[i];
			out.appendChild(el('li', { className: 'person request', attrs: { 'data-request-id': r.id, 'data-user-id': r.user.id } }, [
				U.makeAvatar(r.user.display_name || r.user.username, r.user.id),
				el('div', { className: 'person-text' }, [
					el('div', { className: 'person-name', text: r.user.display_name || r.user.username }),
					el('div', { className: 'person-sub', text: 'Waiting for an answer' }),
					r.memo ? el('div', { className: 'memo', text: '\u201C' + r.memo + '\u201D', attrs: { 'data-test': 'memo' } }) : null
				]),
				el('div', { className: 'person-actions' }, [
					btn('Cancel', 'cancel-request', { 'data-request-id': r.id, 'data-test': 'cancel' }, 'ghost')
				])
			]));
		}
		U.show($('incoming-section'), st.requests.incoming.length > 0);
		U.show($('outgoing-section'), st.requests.outgoing.length > 0);
		U.setText($('requests-badge'), st.requests.incoming.length || '');
		U.show($('requests-badge'), st.requests.incoming.length > 0);
	}

	function renderFriends() {
		var st = S(), ul = $('friend-list'), list = U.values(st.friends), i, f, online;
		list.sort(function (a, b) {
			if (a.online !== b.online) {
				return a.online ? -1 : 1;
			}
			return (a.display_name || a.username).toLowerCase() < (b.display_name || b.username).toLowerCase() ? -1 : 1;
		});
		U.empty(ul);
		for (i = 0; i < list.length; i++) {
			f = list[i];
			online = !!f.online;
			ul.appendChild(el('li', { className: 'person friend', attrs: { 'data-user-id': f.id, 'data-username': f.username } }, [
				el('span', { className: 'avatar-wrap' }, [
					U.makeAvatar(f.display_name || f.username, f.id),
					el('span', {
						className: 'presence' + (online ? ' online' : ''), title: online ? 'Online' : 'Offline',
						attrs: { 'data-online': online ? 'true' : 'false' }
					})
				]),
				userLine(f, online ? 'Online' : '@' + f.username),
				el('div', { className: 'person-actions' }, [
					btn('Message', 'message-user', { 'data-user-id': f.id, 'data-test': 'message' }, 'primary'),
					el('button', {
						className: 'button small ghost', type: 'button', text: 'Remove',
						attrs: { 'data-action': 'remove-friend', 'data-user-id': f.id, 'data-test': 'remove', 'data-confirm': 'Remove?' }
					}),
					el('button', {
						className: 'button small ghost danger', type: 'button', text: 'Block',
						attrs: { 'data-action': 'block', 'data-user-id': f.id, 'data-test': 'block', 'data-confirm': 'Block?' }
					})
				])
			]));
		}
		PA.keepArmed(ul);
		U.setText($('friend-count'), list.length ? String(list.length) : '');
		U.show($('friend-empty'), st.friendsLoaded && list.length === 0);
	}

	function renderBlocks() {
		var st = S(), ul = $('block-list'), i, b;
		U.empty(ul);
		for (i = 0; i < st.blocks.length; i++) {
			b = st.blocks[i];
			ul.appendChild(el('li', { className: 'person', attrs: { 'data-user-id': b.user.id } }, [
				U.makeAvatar(b.user.display_name || b.user.username, b.user.id),
				userLine(b.user),
				el('div', { className: 'person-actions' }, [
					btn('Unblock', 'unblock', { 'data-user-id': b.user.id, 'data-test': 'unblock' })
				])
			]));
		}
		U.show($('blocks-section'), st.blocks.length > 0);
	}

	P.render = function () {
		if (!S().me) {
			return;
		}
		renderRequests();
		renderFriends();
		renderBlocks();
		renderSearch();
		if (U.isShown($('group-modal'))) {
			P.renderGroupFriends(true);
		}
	};

	/* ------------------------------------------------------------ */
	/* Search                                                       */
	/* ------------------------------------------------------------ */

	function runSearch() {
		var q = U.trim($('user-search').value);
		if (q === search.q) {
			return;
		}
		search.q = q;
		search.results = null;
		search.error = '';
		search.memoFor = null;
		if (search.req) {
			search.req.abort();
			search.req = null;
		}
		if (!q) {
			renderSearch();
			return;
		}
		if (!/^[A-Za-z0-9_.\-]{1,32}$/.test(q)) {
			search.error = 'Usernames have only letters, digits, "_", "." and "-".';
			renderSearch();
			return;
		}
		renderSearch();
		search.req = PA.client.get('/users?q=' + encodeURIComponent(q) + '&limit=20', live(function (err, res) {
			var i;
			search.req = null;
			if (q !== search.q) {
				return;
			}
			if (err) {
				search.error = PA.errorText(err, 'Search failed.');
			} else {
				search.results = res.users;
				for (i = 0; i < res.users.length; i++) {
					PA.rememberUser(res.users[i]);
				}
			}
			renderSearch();
		}));
	}

	var searchSoon = U.debounce(runSearch, 250);

	/* ------------------------------------------------------------ */
	/* Actions                                                      */
	/* ------------------------------------------------------------ */

	function done(button, okText) {
		return live(function (err) {
			if (button) {
				button.disabled = false;
			}
			if (err) {
				PA.toast(friendError(err), 'error');
			} else if (okText) {
				PA.toast(okText);
			}
			P.loadFriends();
			P.loadRequests();
			P.loadBlocks();
		});
	}

	function friendError(err) {
		switch (err.code) {
		case 'already_friends':
			return 'You are already friends.';
		case 'request_pending':
			return 'You already sent a request to this person.';
		case 'blocked':
			return 'Unblock this person first.';
		case 'user_not_found':
			return 'No such user.';
		case 'request_not_found':
			return 'That request is no longer there.';
		default:
			return PA.errorText(err);
		}
	}

	function sendRequest(userId, button) {
		var input = $('memo-' + userId), memo = input ? U.trim(input.value) : '';
		var body = { user_id: userId };
		if (memo) {
			body.memo = memo.substring(0, 200);
		}
		button.disabled = true;
		PA.client.post('/friends/requests', body, live(function (err, res) {
			button.disabled = false;
			if (err) {
				PA.toast(friendError(err), 'error');
				return;
			}
			search.memoFor = null;
			PA.toast(res.request && res.request.state === 'accepted' ? 'You are now friends.' : 'Friend request sent.');
			P.loadRequests();
			P.loadFriends();
		}));
	}

	/* Handles the People actions; false when the action is not ours. */
	P.action = function (action, node, e) {
		var uid = +node.getAttribute('data-user-id'), rid = +node.getAttribute('data-request-id');
		switch (action) {
		case 'add-friend':
			search.memoFor = uid;
			renderSearch();
			try {
				$('memo-' + uid).focus();
			} catch (x) {
				/* ignore */
			}
			break;
		case 'memo-cancel':
			search.memoFor = null;
			renderSearch();
			break;
		case 'send-request':
			e.preventDefault();
			sendRequest(uid, node);
			break;
		case 'accept-request':
			node.disabled = true;
			PA.client.post('/friends/requests/' + rid + '/accept', null, done(node, null));
			break;
		case 'reject-request':
			node.disabled = true;
			PA.client.post('/friends/requests/' + rid + '/reject', null, done(node, 'Request rejected.'));
			break;
		case 'cancel-request':
			node.disabled = true;
			PA.client.del('/friends/requests/' + rid, done(node, 'Request canceled.'));
			break;
		case 'remove-friend':
			if (PA.confirmed(node)) {
				node.disabled = true;
				PA.client.del('/friends/' + uid, done(node, 'Friend removed.'));
			}
			break;
		case 'block':
			if (PA.confirmed(node)) {
				node.disabled = true;
				PA.client.post('/blocks', { user_id: uid }, done(node, 'Blocked.'));
			}
			break;
		case 'unblock':
			node.disabled = true;
			PA.client.del('/blocks/' + uid, done(node, 'Unblocked.'));
			break;
		case 'message-user':
			/* Show the chat list beside it, where the new chat appears. */
			PA.sideTab('chats');
			PA.openUser(uid);
			break;
		default:
			return false;
		}
		return true;
	};

	P.init = function () {
		U.on($('user-search'), 'keyup', searchSoon);
		U.on($('user-search'), 'input', searchSoon);
		U.on($('user-search'), 'search', searchSoon);
		U.on($('user-results'), 'submit', function (e) {
			var f = e.target, uid = +f.getAttribute('data-user-id'), b;
			e.preventDefault();
			b = f.getElementsByTagName('button');
			sendRequest(uid, b[b.length - 1]);
			return false;
		});
		U.on($('new-group'), 'click', function () { P.openGroupModal(null); });
		U.on($('group-cancel'), 'click', P.closeGroupModal);
		U.on($('group-form'), 'submit', P.createGroup);
		U.on($('group-modal'), 'click', function (e) {
			if (e.target === $('group-modal')) {
				P.closeGroupModal();
			}
		});
	};
}(window));
