/*
 * app-people.js: friends, friend requests, blocks, user search and new
 * groups for the Parley web client. ECMAScript 5; see app.js for the
 * shared PA object. Renders the "People" tab of the sidebar and the
 * "New group" dialog.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var el = U.el;

	var P = PA.people = {};

	var search = { q: '', results: null, error: '', req: null, memoFor: null };

	function S() {
		return PA.state;
	}

	/* Callbacks that only run while the same login is active. */
	function live(fn) {
		var gen = S().generation;
		return function (err, res) {
			if (S().generation === gen && S().me) {
				fn(err, res);
			}
		};
	}

	P.reset = function () {
		search = { q: '', results: null, error: '', req: null, memoFor: null };
		$('user-search').value = '';
		P.render();
	};

	/* ------------------------------------------------------------ */
	/* Loading                                                      */
	/* ------------------------------------------------------------ */

	function retryLater(fn) {
		root.setTimeout(live(function () { fn(); }), 3000);
	}

	P.loadFriends = function () {
		PA.client.get('/friends', live(function (err, res) {
			var st = S(), i, f, map = {};
			if (err) {
				if (err.status !== 401) {
					retryLater(P.loadFriends);
				}
				return;
			}
			for (i = 0; i < res.friends.length; i++) {
				f = res.friends[i];
				map[f.id] = f;
				PA.rememberUser(f);
			}
			st.friends = map;
			st.friendsLoaded = true;
			P.render();
			PA.renderList();
			PA.renderHeader();
		}));
	};

	P.loadRequests = function () {
		PA.client.get('/friends/requests', live(function (err, res) {
			var i;
			if (err) {
				if (err.status !== 401) {
					retryLater(P.loadRequests);
				}
				return;
			}
			S().requests = { incoming: res.incoming || [], outgoing: res.outgoing || [] };
			for (i = 0; i < S().requests.incoming.length; i++) {
				PA.rememberUser(S().requests.incoming[i].user);
			}
			for (i = 0; i < S().requests.outgoing.length; i++) {
				PA.rememberUser(S().requests.outgoing[i].user);
			}
			P.render();
		}));
	};

	P.loadBlocks = function () {
		PA.client.get('/blocks', live(function (err, res) {
			var i;
			if (err) {
				if (err.status !== 401) {
					retryLater(P.loadBlocks);
				}
				return;
			}
			S().blocks = res.blocks || [];
			for (i = 0; i < S().blocks.length; i++) {
				PA.rememberUser(S().blocks[i].user);
			}
			P.render();
		}));
	};

	var reloadSoon = U.debounce(function () {
		if (S().me) {
			P.loadFriends();
			P.loadRequests();
		}
	}, 150);

	/* friend.request / accepted / rejected / removed from the stream. */
	P.onFriendEvent = function (kind, d) {
		var me = S().me, other, i;
		if (d.from_user) {
			PA.rememberUser(d.from_user);
		}
		if (d.to_user) {
			PA.rememberUser(d.to_user);
		}
		if (kind === 'request' && d.request && d.request.to === me.id) {
			PA.toast(PA.userName(d.request.from) + ' sent you a friend request.');
		} else if (kind === 'accepted' && d.request) {
			other = d.request.from === me.id ? d.request.to : d.request.from;
			PA.toast('You and ' + PA.userName(other) + ' are now friends.');
		} else if (kind === 'added' && d.profiles) {
			for (i = 0; i < d.profiles.length; i++) {
				PA.rememberUser(d.profiles[i]);
			}
			other = d.users[0] === me.id ? d.users[1] : d.users[0];
			PA.toast('You and ' + PA.userName(other) + ' are now friends.');
		}
		reloadSoon();
		if (kind === 'removed') {
			P.loadBlocks();
		}
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
			renderGroupFriends(true);
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

	/* ------------------------------------------------------------ */
	/* New group                                                    */
	/* ------------------------------------------------------------ */

	/* The dialog makes a new group, or adds friends to `addTo` (a Group). */
	var addTo = null;

	function inGroup(g, userId) {
		var i;
		for (i = 0; g && i < g.members.length; i++) {
			if (g.members[i].id === userId) {
				return true;
			}
		}
		return false;
	}

	function renderGroupFriends(keep) {
		var ul = $('group-friends'), all = U.values(S().friends), list = [], i, f, checked = {}, boxes, id;
		for (i = 0; i < all.length; i++) {
			if (!inGroup(addTo, all[i].id)) {
				list.push(all[i]);
			}
		}
		if (keep) {
			boxes = ul.getElementsByTagName('input');
			for (i = 0; i < boxes.length; i++) {
				checked[boxes[i].getAttribute('data-friend-id')] = boxes[i].checked;
			}
		}
		list.sort(function (a, b) {
			return (a.display_name || a.username).toLowerCase() < (b.display_name || b.username).toLowerCase() ? -1 : 1;
		});
		U.empty(ul);
		for (i = 0; i < list.length; i++) {
			f = list[i];
			id = 'gf-' + f.id;
			ul.appendChild(el('li', {}, [
				el('input', { type: 'checkbox', id: id, attrs: { 'data-friend-id': f.id, 'data-username': f.username } }),
				el('label', { attrs: { 'for': id } }, [
					U.makeAvatar(f.display_name || f.username, f.id, false, 'small'),
					el('span', { text: (f.display_name || f.username) + ' ' }),
					el('span', { className: 'muted', text: '@' + f.username })
				])
			]));
			if (checked[f.id]) {
				$(id).checked = true;
			}
		}
		if (!list.length) {
			ul.appendChild(el('li', {
				className: 'muted',
				text: addTo ? 'All your friends are in this group already.' : 'Add friends first; a group of one works too.'
			}));
		}
	}

	function openGroupModal(group) {
		addTo = group && group.members ? group : null;
		U.setText($('group-modal-title'), addTo ? 'Add people to ' + addTo.name : 'New group');
		U.setText($('group-create'), addTo ? 'Add to group' : 'Create group');
		U.show($('group-name-field'), !addTo);
		$('group-name').value = '';
		U.show($('group-error'), false);
		renderGroupFriends(false);
		U.show($('group-modal'), true);
		try {
			$(addTo ? 'group-create' : 'group-name').focus();
		} catch (e) {
			/* ignore */
		}
	}
	P.openGroupModal = openGroupModal;

	function closeGroupModal() {
		U.show($('group-modal'), false);
	}

	function groupError(text) {
		U.setText($('group-error'), text);
		U.show($('group-error'), !!text);
	}

	function createGroup(e) {
		var name = U.trim($('group-name').value), boxes = $('group-friends').getElementsByTagName('input');
		var members = [], i, button = $('group-create');
		e.preventDefault();
		if (!name && !addTo) {
			groupError('Give the group a name.');
			return false;
		}
		for (i = 0; i < boxes.length; i++) {
			if (boxes[i].checked) {
				members.push(+boxes[i].getAttribute('data-friend-id'));
			}
		}
		if (addTo) {
			addMembers(addTo, members, button);
			return false;
		}
		button.disabled = true;
		PA.client.post('/groups', { name: name.substring(0, 64), members: members }, live(function (err, res) {
			var g, st = S(), j;
			button.disabled = false;
			if (err) {
				groupError(PA.errorText(err, 'Could not create the group.'));
				return;
			}
			g = res.group;
			st.groups[g.id] = g;
			for (j = 0; j < g.members.length; j++) {
				PA.rememberUser(g.members[j]);
			}
			if (!st.convs[g.id]) {
				st.convs[g.id] = {
					id: g.id, kind: 'group', name: g.name, peer: null, last_message: null,
					unread: 0, read_seq: 0, delivered_seq: 0, head: 0, local: true
				};
			}
			closeGroupModal();
			PA.renderList();
			PA.sideTab('chats');
			PA.go('#/c/' + g.id);
		}));
		return false;
	}

	function addMembers(g, members, button) {
		if (!members.length) {
			groupError('Pick at least one friend.');
			return;
		}
		button.disabled = true;
		PA.client.post('/groups/' + g.id + '/members', { members: members }, live(function (err, res) {
			var j;
			button.disabled = false;
			if (err) {
				groupError(err.code === 'forbidden' ? 'Only the owner and admins add people.' :
				    PA.errorText(err, 'Could not add them.'));
				return;
			}
			S().groups[g.id] = res.group;
			for (j = 0; j < res.group.members.length; j++) {
				PA.rememberUser(res.group.members[j]);
			}
			closeGroupModal();
			PA.renderHeader();
			PA.toast(members.length === 1 ? 'Added one person.' : 'Added ' + members.length + ' people.');
		}));
	}

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
		U.on($('new-group'), 'click', function () { openGroupModal(null); });
		U.on($('group-cancel'), 'click', closeGroupModal);
		U.on($('group-form'), 'submit', createGroup);
		U.on($('group-modal'), 'click', function (e) {
			if (e.target === $('group-modal')) {
				closeGroupModal();
			}
		});
	};
}(window));
