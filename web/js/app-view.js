/*
 * app-view.js: the open conversation of the web client, plain ECMAScript
 * 5: opening and closing it (a draft for a direct chat not yet made), its
 * header, loading its history page by page, merging messages into it, and
 * the read marks we send.
 *
 * Depends on: app-util.js, app-session.js, app-common.js, app-events.js
 * (PA.live); at run time on app-list.js, app-messages.js and
 * app-composer.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var S = PA.state;          /* one object for the page's life: PA.resetState() */
	var client = PA.client;
	var PAGE = 50;              /* messages per history page */

	/* ------------------------------------------------------------ */
	/* The open conversation                                        */
	/* ------------------------------------------------------------ */

	function newView(convId, peerId) {
		return {
			convId: convId,      /* null for a direct chat with no message yet */
			peerId: peerId,      /* the other user of a direct chat */
			kind: peerId ? 'direct' : 'group',
			msgs: [],            /* by seq */
			byId: {},
			hasMore: false,
			nextBefore: 0,
			loaded: false,
			loading: false,
			loadError: null,
			nodes: {},           /* message id -> {key, node} */
			readSent: 0
		};
	}

	function openConv(id) {
		var c = S.convs[id], v = S.view;
		if (v && v.convId === id) {
			showMain(true);
			return;
		}
		if (!c) {
			if (!S.convsLoaded) {
				return;     /* route() runs again once the list is there */
			}
			PA.toast('That conversation is not available.', 'error');
			PA.go('#/');
			return;
		}
		v = S.view = newView(id, c.kind === 'direct' && c.peer ? c.peer.id : null);
		v.kind = c.kind;
		if (c.kind === 'group' && !S.groups[id]) {
			PA.loadGroup(id);
		}
		showView();
		loadPage(v, null);
	}
	PA.openConv = openConv;

	function openDirect(userId) {
		var c = PA.findDirect(userId), v = S.view;
		if (c) {
			PA.go('#/c/' + c.id);
			return;
		}
		if (v && !v.convId && v.peerId === userId) {
			showMain(true);
			return;
		}
		if (!S.convsLoaded) {
			return;
		}
		v = S.view = newView(null, userId);
		v.loaded = true;
		showView();
	}
	PA.openDirect = openDirect;

	/* A draft direct chat whose conversation now exists. */
	function adoptDraft() {
		var v = S.view, c;
		if (v && !v.convId && v.peerId) {
			c = PA.findDirect(v.peerId);
			if (c) {
				adoptConv(v, c.id, true);
			}
		}
	}
	PA.adoptDraft = adoptDraft;

	function closeView() {
		S.view = null;
		if (!$('conv')) {
			return;
		}
		U.show($('conv'), false);
		U.show($('main-empty'), true);
		U.show($('attach-form'), false);
		showMain(false);
		PA.renderList();
	}
	PA.closeView = closeView;

	function showMain(on) {
		U.toggleClass($('app'), 'show-main', !!on);
	}

	function showView() {
		U.show($('main-empty'), false);
		U.show($('conv'), true);
		U.show($('attach-form'), false);
		U.show($('jump-bottom'), false);
		showMain(true);
		renderHeader();
		PA.renderMessages('bottom');
		PA.renderList();
		if (!PA.isNarrow()) {
			try {
				$('composer-input').focus();
			} catch (e) {
				/* ignore */
			}
		}
	}

	function renderHeader() {
		var v = S.view, c, name, sub = '', g, support, isFriend, names = [], i, blocked;
		if (!v) {
			return;
		}
		c = v.convId ? S.convs[v.convId] : null;
		$('conv').setAttribute('data-conv-id', v.convId || '');
		$('conv').setAttribute('data-kind', v.kind);
		if (v.kind === 'system') {
			name = PA.convName(c);
			sub = 'Notices from ' + name;
			U.avatar($('conv-avatar'), name, 's' + v.convId, true);
		} else if (v.kind === 'group') {
			g = S.groups[v.convId];
			name = c ? PA.convName(c) : (g ? g.name : 'Group');
			if (g) {
				for (i = 0; i < g.members.length; i++) {
					names.push(g.members[i].id === S.me.id ? 'you' : (g.members[i].display_name || g.members[i].username));
				}
				sub = g.members.length + ' members: ' + names.join(', ');
			}
			U.avatar($('conv-avatar'), name, 'g' + v.convId, true);
		} else {
			PA.rememberUser(c && c.peer);
			name = PA.userName(v.peerId);
			isFriend = !!S.friends[v.peerId];
			sub = !S.friendsLoaded ? '' : !isFriend ? 'Not your friend' :
			    PA.isOnline(v.peerId) ? 'Online' : 'Offline';
			U.avatar($('conv-avatar'), name, v.peerId);
		}
		/* Direct messages need a friendship: say so instead of failing.
		 * A site's notices conversation is read-only. */
		blocked = (v.kind === 'direct' && S.friendsLoaded && !isFriend) || v.kind === 'system';
		U.show($('composer'), !blocked);
		U.show($('composer-blocked'), blocked);
		if (blocked && v.kind === 'system') {
			U.setText($('composer-blocked'), 'Notices from ' + name + ' cannot be answered here.');
			U.show($('attach-form'), false);
		} else if (blocked) {
			U.setText($('composer-blocked'), PA.userName(v.peerId) + ' is not your friend (any more), so you cannot send messages here. Send a friend request under People.');
			U.show($('attach-form'), false);
		}
		U.setText($('conv-title'), name);
		U.setText($('conv-sub'), sub);
		$('conv-sub').setAttribute('data-online', v.kind === 'direct' && PA.isOnline(v.peerId) ? 'true' : 'false');
		U.toggleClass($('conv-sub'), 'online', v.kind === 'direct' && PA.isOnline(v.peerId));

		/* Calls: only in direct chats, and only where WebRTC exists. */
		support = root.Parley.webrtcSupport();
		U.show($('call-audio'), v.kind === 'direct' && support.supported && !blocked);
		U.show($('call-video'), v.kind === 'direct' && support.supported && !blocked);
		U.show($('call-unsupported'), v.kind === 'direct' && !support.supported);
		if (!support.supported) {
			U.setText($('call-unsupported'), 'Calls need a newer browser');
			$('call-unsupported').title = 'This browser lacks ' + support.missing.join(' and ') +
			    ', which calls need. Chat works fine.';
		}
		U.show($('leave-group'), v.kind === 'group');
		U.show($('add-members'), v.kind === 'group' && !!g && myRole(g) !== 'member');
	}
	PA.renderHeader = renderHeader;

	function myRole(g) {
		var i;
		for (i = 0; i < g.members.length; i++) {
			if (g.members[i].id === S.me.id) {
				return g.members[i].role;
			}
		}
		return 'member';
	}

	/* --- history --- */

	function loadPage(v, before) {
		var path;
		if (!v.convId || (before && v.loading)) {
			return;
		}
		v.loading = true;
		v.loadError = null;
		path = '/conversations/' + v.convId + '/messages?limit=' + PAGE + (before ? '&before=' + before : '');
		if (before) {
			PA.renderMessages('keep');
		}
		client.get(path, PA.live(function (err, res) {
			var first = !v.loaded;
			if (S.view !== v) {
				return;
			}
			v.loading = false;
			if (err) {
				v.loadError = PA.errorText(err, 'Could not load the messages.');
				if (err.code === 'conversation_not_found') {
					PA.toast('You are no longer in this conversation.', 'error');
					PA.loadConversations();
					PA.go('#/');
					return;
				}
				PA.renderMessages('keep');
				return;
			}
			merge(v, res.messages);
			if (before || first) {
				v.hasMore = res.has_more;
				v.nextBefore = res.next_before;
			}
			v.loaded = true;
			PA.renderMessages(before ? 'keep' : (first ? 'bottom' : 'auto'));
			markRead();
			fillScreen(v);
		}));
	}
	PA.loadPage = loadPage;

	/* A short first page leaves no scroll bar to pull: load more. */
	function fillScreen(v) {
		var box = $('messages');
		if (v.hasMore && !v.loading && box.scrollHeight <= box.clientHeight + 10) {
			loadPage(v, v.nextBefore);
		}
	}

	function insertSorted(v, m) {
		var list = v.msgs, i = list.length;
		while (i > 0 && list[i - 1].seq > m.seq) {
			i--;
		}
		list.splice(i, 0, m);
	}

	/* Adds messages to the view once each; returns how many were new. */
	function merge(v, messages) {
		var i, m, old, added = 0;
		for (i = 0; i < messages.length; i++) {
			m = messages[i];
			old = v.byId[m.id];
			if (old) {
				if (m.recalled && !old.recalled) {
					old.recalled = true;
					old.body = null;
				}
				continue;
			}
			v.byId[m.id] = m;
			insertSorted(v, m);
			PA.dropPending(m.client_id, m);
			added++;
		}
		return added;
	}

	function lastSeq(v) {
		return v.msgs.length ? v.msgs[v.msgs.length - 1].seq : 0;
	}

	function viewMessage(m) {
		var v = S.view, top, gap;
		if (!v) {
			return;
		}
		if (!v.convId && v.kind === 'direct' && !S.convs[m.conversation_id] &&
		    (m.from === v.peerId || (m.from === S.me.id && PA.pendingByClient(m.client_id)))) {
			adoptConv(v, m.conversation_id);
		}
		if (v.convId !== m.conversation_id) {
			return;
		}
		top = lastSeq(v);
		if (v.byId[m.id]) {
			return;
		}
		merge(v, [m]);
		PA.renderMessages(m.from === S.me.id ? 'bottom' : 'auto');
		markRead();
		/* Missing messages in between (e.g. after a resync): fetch them. */
		gap = m.seq - top - 1;
		if (v.loaded && top > 0 && gap > 0) {
			client.get('/conversations/' + v.convId + '/messages?before=' + m.seq + '&limit=' + Math.min(gap, 200),
			    PA.live(function (err, res) {
				if (!err && S.view === v && merge(v, res.messages) > 0) {
					PA.renderMessages('auto');
					markRead();
				}
			}));
		}
	}
	PA.viewMessage = viewMessage;

	/* The first message of a draft chat made its conversation. */
	function adoptConv(v, convId, listKnowsIt) {
		v.convId = convId;
		if (!listKnowsIt) {
			PA.loadConversations();
		}
		loadPage(v, null);
		if (root.location.hash !== '#/c/' + convId) {
			PA.go('#/c/' + convId);
		}
	}
	PA.adoptConv = adoptConv;

	/* --- read marks --- */

	function markRead() {
		var v = S.view, c, top, before;
		if (!v || !v.convId || !S.me || U.pageHidden()) {
			return;
		}
		c = S.convs[v.convId];
		top = lastSeq(v);
		if (!c || top <= c.read_seq || top <= v.readSent) {
			if (c && c.unread && top >= c.head) {
				c.unread = 0;
				PA.renderList();
			}
			return;
		}
		before = c.read_seq;
		v.readSent = top;
		c.read_seq = top;
		if (top >= c.head) {
			c.unread = 0;
		}
		PA.renderList();
		client.post('/conversations/' + v.convId + '/read', { seq: top }, PA.live(function (err) {
			if (err) {
				/* Try again with the next message or visit. */
				if (c.read_seq === top) {
					c.read_seq = before;
				}
				if (S.view === v) {
					v.readSent = 0;
				}
			}
		}));
	}
	PA.markRead = markRead;
}(window));
