/*
 * app-events.js: the web client's session start and stop, loading the state
 * (conversations, friends, groups), and the one Parley.EventLoop: the
 * connection banner and a handler per event type, plain ECMAScript 5.
 *
 * Depends on: parley.js (Parley.EventLoop, Parley.CallManager from
 * parley-calls.js), app-util.js, app-session.js, app-common.js; at run
 * time on app-people.js, app-call.js, app-auth.js, app-list.js,
 * app-view.js, app-messages.js and app-composer.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var doc = root.document;
	var S = PA.state;          /* one object for the page's life: PA.resetState() */
	var client = PA.client;
	var POLL_TIMEOUT = 25;      /* seconds a poll may be held */

	/* ------------------------------------------------------------ */
	/* Session start and stop                                       */
	/* ------------------------------------------------------------ */

	function start(user) {
		var loop;
		stop();
		if (PA.tokenMode && client.token) {
			PA.tokenStore(client.token);
		}
		PA.resetState();
		S.generation = (PA.generation = (PA.generation || 0) + 1);
		S.me = user;
		PA.rememberUser(user);
		S.marks = U.store.get('parley.marks.' + user.id) || {};

		U.avatar($('me-avatar'), user.display_name || user.username, user.id);
		U.setText($('me-name'), user.display_name || user.username);
		U.setText($('me-username'), '@' + user.username);
		PA.showScreen('app');
		setBanner('ok');
		PA.sideTab('chats');
		PA.renderList();
		PA.people.reset();

		/* Polls, or a WebSocket when js/parley-ws.js is loaded and the
		 * server takes it. */
		loop = PA.loop = new root.Parley.EventLoop(client, { timeout: POLL_TIMEOUT });
		PA.calls = new root.Parley.CallManager(client, loop);
		PA.callui.attach(PA.calls);
		subscribe(loop);
		loop.once('loop:ready', function () {
			loadAll();
		});
		loop.start();
		PA.route();
	}
	PA.start = start;

	function stop() {
		if (PA.calls) {
			try {
				PA.calls.destroy();
			} catch (e) {
				/* nothing to hang up */
			}
			PA.calls = null;
		}
		PA.callui.detach();
		if (PA.loop) {
			PA.loop.stop();
			PA.loop = null;
		}
		PA.closeView();
		S.me = null;
		S.generation = -1;
		setBanner('ok');
	}
	PA.stop = stop;

	/* ------------------------------------------------------------ */
	/* Loading state                                                */
	/* ------------------------------------------------------------ */

	/* Runs fn(err, res) only if the same login is still active. */
	function live(fn) {
		var gen = S.generation;
		return function (err, res) {
			if (S.generation === gen && S.me) {
				fn(err, res);
			}
		};
	}
	PA.live = live;

	function loadAll() {
		loadConversations();
		PA.people.loadFriends();
		PA.people.loadRequests();
		PA.people.loadBlocks();
	}

	function loadConversations() {
		if (S.convLoading) {
			S.convAgain = true;
			return;
		}
		S.convLoading = true;
		client.get('/conversations?limit=500', live(function (err, res) {
			var queue, i, fresh = {};
			S.convLoading = false;
			if (err) {
				if (err.status !== 401) {
					root.setTimeout(live(function () { loadConversations(); }), 3000);
				}
				return;
			}
			for (i = 0; i < res.conversations.length; i++) {
				fresh[res.conversations[i].id] = res.conversations[i];
				PA.rememberUser(res.conversations[i].peer);
			}
			/* A group created here a moment ago may not be listed yet. */
			for (i in S.convs) {
				if (U.has(S.convs, i) && !fresh[i] && S.convs[i].local) {
					fresh[i] = S.convs[i];
				}
			}
			S.convs = fresh;
			S.convsLoaded = true;
			queue = S.listQueue;
			S.listQueue = [];
			for (i = 0; i < queue.length; i++) {
				listMessage(queue[i]);
			}
			if (S.view && S.view.convId && S.convs[S.view.convId]) {
				PA.markRead();
			}
			PA.renderList();
			if (S.view) {
				PA.adoptDraft();
				PA.renderHeader();
			}
			PA.route();
			if (S.convAgain) {
				S.convAgain = false;
				loadConversations();
			}
		}));
	}

	PA.loadConversations = U.debounce(function () {
		if (S.me) {
			loadConversations();
		}
	}, 150);

	/* Group members, for sender names and the header. */
	PA.loadGroup = function (id, callback) {
		client.get('/groups/' + id, live(function (err, res) {
			var i;
			if (!err) {
				S.groups[id] = res.group;
				for (i = 0; i < res.group.members.length; i++) {
					PA.rememberUser(res.group.members[i]);
				}
				if (S.view && S.view.convId === id) {
					PA.renderHeader();
					PA.renderMessages('keep');
				}
			}
			if (callback) {
				callback(err, res);
			}
		}));
	};

	/* ------------------------------------------------------------ */
	/* The event stream                                             */
	/* ------------------------------------------------------------ */

	function subscribe(loop) {
		loop.on('message', function (d) { onMessage(d.message); });
		loop.on('message.recalled', onRecalled);
		loop.on('message.read', function (d) { onMark(d, 'r'); });
		loop.on('message.delivered', onDelivered);
		loop.on('presence', onPresence);
		loop.on('friend.request', function (d) { PA.people.onFriendEvent('request', d); });
		loop.on('friend.accepted', function (d) { PA.people.onFriendEvent('accepted', d); });
		loop.on('friend.rejected', function (d) { PA.people.onFriendEvent('rejected', d); });
		loop.on('friend.removed', function (d) { PA.people.onFriendEvent('removed', d); });
		/* A site made two of its users friends (no request). */
		loop.on('friend.added', function (d) { PA.people.onFriendEvent('added', d); });
		loop.on('group.created', onGroupEvent);
		loop.on('group.members_added', onGroupEvent);
		loop.on('group.member_removed', function (d) { onGroupEvent(d, true); });
		loop.on('group.renamed', onGroupEvent);
		loop.on('group.role_changed', onGroupEvent);
		loop.on('loop:error', function (err, delay) { pollFailed(err, delay); });
		/* A poll answered or the socket is up: the banner can say so. */
		loop.on('loop:connected', pollSucceeded);
		loop.on('loop:resync', function () {
			/* Events were pruned: reload everything we show. */
			loadAll();
			if (S.view && S.view.convId) {
				PA.loadPage(S.view, null);
			}
		});
		loop.on('loop:unauthorized', function () {
			stop();
			PA.dropToken();
			PA.showAuth('Your session has ended. Please log in again.');
		});
	}

	/* --- connection banner --- */

	var bannerTimer = null;

	function setBanner(state, text) {
		var b = $('banner');
		if (bannerTimer !== null) {
			root.clearTimeout(bannerTimer);
			bannerTimer = null;
		}
		b.setAttribute('data-state', state);
		U.setText($('banner-text'), text || '');
		U.show($('banner-retry'), state === 'down');
		U.show(b, state !== 'ok');
		U.toggleClass(doc.body, 'has-banner', state !== 'ok');
		PA.bannerLog = PA.bannerLog || [];
		PA.bannerLog.push(state);
		if (state === 'back') {
			bannerTimer = root.setTimeout(function () {
				bannerTimer = null;
				setBanner('ok');
			}, 3000);
		}
	}

	function pollFailed(err, delay) {
		S.connection = 'down';
		/* The next poll only probes (the server answers within 1 s), so
		 * we can say "back" as soon as it works. */
		if (PA.loop) {
			PA.loop.timeout = 1;
		}
		setBanner('down', 'Connection lost. Reconnecting' +
		    (delay >= 2000 ? ' in ' + Math.round(delay / 1000) + ' s…' : '…'));
	}

	function pollSucceeded() {
		if (PA.loop && PA.loop.timeout !== POLL_TIMEOUT) {
			PA.loop.timeout = POLL_TIMEOUT;
		}
		if (S.connection === 'down') {
			S.connection = 'ok';
			setBanner('back', 'Connected again.');
			/* Sends that waited for the network go now. */
			PA.pumpOutbox(true);
		}
	}

	function retryNow() {
		var loop = PA.loop;
		if (loop) {
			loop.stop();
			loop.start();
		}
		PA.pumpOutbox(true);
	}
	PA.retryNow = retryNow;

	/* --- messages --- */

	function onMessage(m) {
		if (!m) {
			return;
		}
		if (!S.convsLoaded) {
			S.listQueue.push(m);
		} else {
			listMessage(m);
			PA.renderList();
			/* A list load in flight may answer with a snapshot from
			 * before this message: apply it again afterwards. */
			if (S.convLoading) {
				S.listQueue.push(m);
			}
		}
		PA.viewMessage(m);
	}
	PA.onMessage = onMessage;

	/* The conversation list's view of a new (or repeated) message. */
	function listMessage(m) {
		var c = S.convs[m.conversation_id];
		if (!c) {
			/* A new conversation: the list knows its peer or name. */
			PA.loadConversations();
			return;
		}
		if (m.seq > c.head) {
			c.head = m.seq;
			c.last_message = m;
			if (m.from !== S.me.id && m.seq > c.read_seq) {
				c.unread++;
			}
		} else if (c.last_message && c.last_message.id === m.id) {
			c.last_message = m;
		}
	}

	function onRecalled(d) {
		var c = S.convs[d.conversation_id], v = S.view, m;
		if (c && c.last_message && c.last_message.id === d.message_id) {
			c.last_message.recalled = true;
			c.last_message.body = null;
			PA.renderList();
		}
		if (v && v.convId === d.conversation_id && v.byId[d.message_id]) {
			m = v.byId[d.message_id];
			m.recalled = true;
			m.body = null;
			PA.renderMessages('auto');
		}
	}
	PA.onRecalled = onRecalled;

	function onMark(d, kind) {
		var c = S.convs[d.conversation_id], marks, mk;
		if (S.me && d.user_id === S.me.id) {
			/* Our own mark, from this or another device. */
			if (c && kind === 'r' && d.seq > c.read_seq) {
				c.read_seq = d.seq;
				if (c.read_seq >= c.head) {
					c.unread = 0;
				} else {
					PA.loadConversations();
				}
				PA.renderList();
			}
			return;
		}
		marks = S.marks[d.conversation_id] || (S.marks[d.conversation_id] = {});
		mk = marks[d.user_id] || (marks[d.user_id] = { r: 0, d: 0 });
		if (kind === 'r' && d.seq > mk.r) {
			mk.r = d.seq;
		}
		/* Read implies delivered. */
		if (d.seq > mk.d) {
			mk.d = d.seq;
		}
		saveMarks();
		if (S.view && S.view.convId === d.conversation_id) {
			PA.updateStatuses();
		}
	}

	/* A group's receipt names every member who reached seq (user_ids);
	 * a direct one names one (user_id). */
	function onDelivered(d) {
		var ids = d.user_ids || [d.user_id], i;
		for (i = 0; i < ids.length; i++) {
			onMark({ conversation_id: d.conversation_id, user_id: ids[i], seq: d.seq }, 'd');
		}
	}

	var saveMarks = U.debounce(function () {
		if (S.me) {
			U.store.set('parley.marks.' + S.me.id, S.marks);
		}
	}, 500);

	function onPresence(d) {
		var f = S.friends[d.user_id];
		if (f) {
			f.online = !!d.online;
		}
		PA.renderList();
		PA.people.render();
		if (S.view && S.view.peerId === d.user_id) {
			PA.renderHeader();
		}
	}

	function onGroupEvent(d, removal) {
		var v = S.view;
		delete S.groups[d.group_id];
		if (removal === true && d.user_id === S.me.id) {
			delete S.convs[d.group_id];
			PA.renderList();
		}
		PA.loadConversations();
		if (v && v.convId === d.group_id) {
			if (removal === true && d.user_id === S.me.id) {
				/* We left or were removed: the conversation is gone. */
				PA.toast(d.by === S.me.id ? 'You left the group.' : 'You were removed from the group.');
				root.location.hash = '#/';
				return;
			}
			PA.loadGroup(d.group_id);
		}
	}
}(window));
