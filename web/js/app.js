/*
 * app.js: the Parley web client (web/index.html), plain ECMAScript 5.
 *
 * One page, no framework: this file owns the session, the single
 * Parley.EventLoop, the conversation list and the open conversation;
 * app-people.js owns friends, requests, blocks and new groups;
 * app-call.js owns the call screen. They share window.PA:
 *
 *   PA.state    what we know (me, conversations, friends, ...)
 *   PA.client   the Parley.Client (cookie session + CSRF; a bearer token when framed)
 *   PA.loop     the Parley.EventLoop (one per login)
 *   PA.calls    the Parley.CallManager
 *
 * Everything live comes from the loop; every event handler is
 * idempotent (messages are keyed by id, marks only move forward), so an
 * event seen twice or a state reload racing an event changes nothing.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var el = U.el;
	var doc = root.document;

	var PAGE = 50;              /* messages per history page */
	var RECALL_MS = 120000;     /* the server's recall window */
	var POLL_TIMEOUT = 25;      /* seconds a poll may be held */
	var NARROW = 720;           /* px: one pane at a time below this */

	/*
	 * Token mode. In a cross-site frame (ParleyEmbed.frame) the session
	 * cookie (SameSite=Lax) is never sent, so there the client uses the
	 * token from login/register as a bearer token and keeps it in
	 * sessionStorage: a reload inside the frame stays signed in.
	 *
	 * Hand-offs. A page may hand over a session in the URL fragment: a
	 * token (#token=...) or better a one-time login ticket (#ticket=...,
	 * single sign-on from a site's backend, see README "PHP sites"),
	 * traded for a token at POST /auth/ticket. Both are read once and
	 * removed from the address at once. Any page can open such a link,
	 * so a hand-off is only taken where it is meant (login CSRF):
	 *   - inside a frame (the embedding page, which PARLEY_FRAME_ANCESTORS
	 *     allows, decides who is signed in there): used at once, for this
	 *     frame only (a ticket is redeemed without touching the cookies
	 *     where the browser can);
	 *   - in a top-level tab without a session: only after the user saw
	 *     the account it would sign them in as and confirmed (the widget's
	 *     "Open Parley" popup comes this way), then for this tab only;
	 *   - a tab that is signed in keeps its session: the hand-off is
	 *     dropped unused (a ticket is not even redeemed) with a notice.
	 */
	var TOKEN_KEY = 'parley.token';

	function framed() {
		try {
			return root.top !== root.self;
		} catch (e) {
			return true;
		}
	}

	function tokenStore(value) {
		try {
			if (!root.sessionStorage) {
				return null;
			}
			if (value === undefined) {
				return root.sessionStorage.getItem(TOKEN_KEY);
			}
			if (value === null) {
				root.sessionStorage.removeItem(TOKEN_KEY);
			} else {
				root.sessionStorage.setItem(TOKEN_KEY, value);
			}
		} catch (e) {
			/* storage disabled: the token lasts until a reload */
		}
		return null;
	}

	/* #token=... or #ticket=... in a fragment. */
	function fragmentParam(hash, name) {
		var m = new RegExp('^#(?:.*&)?' + name + '=([^&]*)').exec(hash), t;
		if (!m) {
			return null;
		}
		try {
			t = decodeURIComponent(m[1]);
		} catch (e) {
			t = null;
		}
		return t || null;
	}

	function handoffIn(hash) {
		var got = { token: fragmentParam(hash, 'token'), ticket: fragmentParam(hash, 'ticket') };
		return got.token || got.ticket ? got : null;
	}

	/* Removes the fragment from the address (and from the history). */
	function dropFragment() {
		if (root.history && root.history.replaceState) {
			root.history.replaceState(null, '', root.location.pathname + root.location.search);
		} else {
			root.location.replace('#/');
		}
	}

	var isFramed = framed();
	var handoff = handoffIn(root.location.hash || '');
	if (handoff) {
		dropFragment();
	}
	var tokenMode = isFramed || !!tokenStore();
	if (isFramed && handoff && handoff.token) {
		/* The embedding page's token replaces this frame's. */
		tokenStore(handoff.token);
		handoff = null;
	}

	var client = PA.client = new root.Parley.Client(tokenMode ?
	    { token: tokenStore(), keepToken: true } : {});
	var S;

	PA.tokenMode = tokenMode;

	/* From now on this tab signs in with `token` (kept for reloads). */
	function useToken(token) {
		tokenMode = PA.tokenMode = true;
		client.keepToken = true;
		client.token = token;
		tokenStore(token);
	}

	/* The session is gone: forget a kept token too. */
	function dropToken() {
		if (tokenMode) {
			client.token = null;
			tokenStore(null);
		}
	}

	/*
	 * One API request with `token` (or none) that neither sends nor
	 * stores cookies where the browser can (fetch with credentials
	 * "omit"): redeeming or revoking a hand-off must not replace the
	 * cookie session of the other tabs. Older browsers fall back to
	 * XMLHttpRequest, which always does both on the same origin.
	 * callback(err, data) as with Parley.Client.
	 */
	function bare(method, path, body, token, callback) {
		var headers = { Accept: 'application/json' }, done = false;
		function finish(err, data) {
			if (!done) {
				done = true;
				callback(err, data);
			}
		}
		if (typeof root.fetch === 'function') {
			if (token) {
				headers.Authorization = 'Bearer ' + token;
			}
			if (body) {
				headers['Content-Type'] = 'application/json';
			}
			root.fetch('/api/v1' + path, {
				method: method, headers: headers, credentials: 'omit', cache: 'no-store',
				body: body ? JSON.stringify(body) : undefined
			}).then(function (r) {
				return r.text().then(function (text) {
					var json = null, err;
					try {
						json = text ? JSON.parse(text) : null;
					} catch (e) {
						json = null;
					}
					if (r.status >= 200 && r.status < 300 && (json || r.status === 204)) {
						finish(null, json);
						return;
					}
					err = new Error(json && json.error ? json.error.message : 'HTTP ' + r.status);
					err.code = json && json.error ? json.error.code : 'http_' + r.status;
					err.status = r.status;
					finish(err);
				});
			})['catch'](function () {
				var err = new Error('No reply from the server.');
				err.code = 'network_error';
				err.status = 0;
				finish(err);
			});
		} else {
			new root.Parley.Client({ token: token }).request(method, '/api/v1' + path, body, finish);
		}
	}

	function freshState() {
		return {
			me: null,
			convs: {},           /* id -> Conversation (as the API gives it, kept up to date) */
			convsLoaded: false,
			listQueue: [],       /* message events that came while the list was loading */
			convLoading: false,  /* GET /conversations in flight */
			convAgain: false,    /* ... and another one wanted after it */
			friends: {},         /* user id -> Friend */
			friendsLoaded: false,
			requests: { incoming: [], outgoing: [] },
			blocks: [],
			users: {},           /* user id -> User, everyone we have heard of */
			groups: {},          /* group id -> Group (members) */
			marks: {},           /* conv id -> user id -> {r: read seq, d: delivered seq} */
			view: null,          /* the open conversation */
			tab: 'chats',
			outbox: [],          /* messages being sent, oldest first */
			sending: false,
			skew: 0,             /* server clock - our clock, ms */
			connection: 'ok',
			shownImages: {},     /* message id -> true: the viewer asked to load its image */
			generation: 0
		};
	}

	S = PA.state = freshState();

	/* ------------------------------------------------------------ */
	/* Small things                                                 */
	/* ------------------------------------------------------------ */

	var toastTimer = null;

	PA.toast = function (text, kind) {
		var t = $('toast');
		U.setText(t, text);
		t.className = 'toast' + (kind ? ' ' + kind : '');
		if (toastTimer !== null) {
			root.clearTimeout(toastTimer);
		}
		toastTimer = root.setTimeout(function () {
			toastTimer = null;
			U.addClass(t, 'hidden');
		}, kind === 'error' ? 6000 : 3500);
	};

	/* A readable sentence for an API error. */
	PA.errorText = function (err, fallback) {
		if (!err) {
			return fallback || '';
		}
		switch (err.code) {
		case 'network_error':
		case 'timeout':
			return 'No connection to the server. Try again in a moment.';
		case 'http_502':
		case 'http_503':
		case 'http_504':
		case 'busy':
		case 'database_unavailable':
			return 'The server is busy. Try again in a moment.';
		case 'invalid_token':
		case 'unauthorized':
			return 'Your session has ended. Please log in again.';
		default:
			return (err.message && err.message !== err.code) ? err.message : (fallback || 'Something went wrong.');
		}
	};

	/* A notice that stays until dismissed (or the next login). */
	PA.notice = function (text) {
		U.setText($('notice-text'), text || '');
		U.show($('notice'), !!text);
	};

	PA.isNarrow = function () {
		var w = root.innerWidth || doc.documentElement.clientWidth || doc.body.clientWidth;
		return w <= NARROW;
	};

	PA.rememberUser = function (u) {
		var old;
		if (!u || typeof u.id !== 'number') {
			return;
		}
		old = S.users[u.id] || {};
		S.users[u.id] = {
			id: u.id,
			username: u.username || old.username,
			display_name: u.display_name || old.display_name
		};
	};

	PA.userName = function (id) {
		var u = S.users[id];
		if (S.me && id === S.me.id) {
			return S.me.display_name || S.me.username;
		}
		return u ? (u.display_name || u.username) : 'User ' + id;
	};

	PA.isOnline = function (id) {
		return !!(S.friends[id] && S.friends[id].online);
	};

	PA.serverNow = function () {
		return U.now() + S.skew;
	};

	/* Buttons that ask twice: the first click arms them for 4 s. The arming
	 * is kept by the button's action and user id, not by its node: a list
	 * drawn again in between (a live event) keeps it (PA.keepArmed), and
	 * the second click on the new node still counts. */
	var armed = null;	/* {key, until} */

	function armKey(button) {
		return (button.getAttribute('data-action') || '') + ':' +
			(button.getAttribute('data-user-id') || '');
	}

	function arm(button, until) {
		var label = button.getAttribute('data-label') || U.getText(button);
		button.setAttribute('data-armed', '1');
		button.setAttribute('data-label', label);
		U.setText(button, button.getAttribute('data-confirm') || 'Sure?');
		U.addClass(button, 'armed');
		root.setTimeout(function () {
			if (button.getAttribute('data-armed') === '1') {
				button.removeAttribute('data-armed');
				U.setText(button, button.getAttribute('data-label') || label);
				U.removeClass(button, 'armed');
			}
		}, Math.max(0, until - U.now()));
	}

	PA.confirmed = function (button) {
		var key = armKey(button);
		if (button.getAttribute('data-armed') === '1' ||
				(armed && armed.key === key && U.now() < armed.until)) {
			button.removeAttribute('data-armed');
			armed = null;
			return true;
		}
		armed = { key: key, until: U.now() + 4000 };
		arm(button, armed.until);
		return false;
	};

	/* After a list is drawn again: the armed button shows armed still. */
	PA.keepArmed = function (container) {
		var buttons, i;
		if (!armed || U.now() >= armed.until || !container) {
			return;
		}
		buttons = container.getElementsByTagName('button');
		for (i = 0; i < buttons.length; i++) {
			if (buttons[i].getAttribute('data-confirm') && armKey(buttons[i]) === armed.key) {
				arm(buttons[i], armed.until);
			}
		}
	};

	/* ------------------------------------------------------------ */
	/* Screens                                                      */
	/* ------------------------------------------------------------ */

	function showScreen(name) {
		U.removeClass(doc.body, 'booting');
		U.show($('splash'), name === 'splash');
		U.show($('auth'), name === 'auth');
		U.show($('handoff'), name === 'handoff');
		U.show($('app'), name === 'app');
		doc.body.setAttribute('data-screen', name);
	}

	function authError(text) {
		var e = $('auth-error');
		U.setText(e, text || '');
		U.show(e, !!text);
	}

	function authTab(tab) {
		U.toggleClass($('tab-login'), 'active', tab === 'login');
		U.toggleClass($('tab-register'), 'active', tab === 'register');
		U.show($('login-form'), tab === 'login');
		U.show($('register-form'), tab === 'register');
		authError('');
		try {
			$(tab === 'login' ? 'login-username' : 'reg-username').focus();
		} catch (e) {
			/* not focusable yet */
		}
	}

	function showAuth(message) {
		showScreen('auth');
		authError(message || '');
		try {
			$('login-username').focus();
		} catch (e) {
			/* ignore */
		}
	}

	function authReplyError(err) {
		if (err.code === 'invalid_credentials') {
			return 'Wrong username or password.';
		}
		if (err.code === 'username_taken') {
			return 'That username is taken. Try another one.';
		}
		if (err.code === 'too_many_attempts') {
			return 'Too many attempts. Try again' + (err.retryAfter ? ' in ' + err.retryAfter + ' s.' : ' later.');
		}
		return PA.errorText(err);
	}

	function busy(button, on) {
		button.disabled = !!on;
		U.toggleClass(button, 'busy', !!on);
	}

	function onLogin(e) {
		var u = U.trim($('login-username').value), p = $('login-password').value;
		e.preventDefault();
		if (!u || !p) {
			authError('Enter your username and password.');
			return false;
		}
		busy($('login-submit'), true);
		authError('');
		client.login(u, p, function (err, res) {
			busy($('login-submit'), false);
			if (err) {
				authError(authReplyError(err));
				return;
			}
			$('login-password').value = '';
			start(res.user);
		});
		return false;
	}

	function onRegister(e) {
		var u = U.trim($('reg-username').value), d = U.trim($('reg-display').value), p = $('reg-password').value;
		var fields;
		e.preventDefault();
		if (!/^[A-Za-z0-9_.\-]{3,32}$/.test(u)) {
			authError('Choose a username of 3–32 letters, digits, "_", "." or "-".');
			return false;
		}
		if (p.length < 8) {
			authError('The password needs at least 8 characters.');
			return false;
		}
		fields = { username: u, password: p };
		if (d) {
			fields.display_name = d;
		}
		busy($('reg-submit'), true);
		authError('');
		client.register(fields, function (err, res) {
			busy($('reg-submit'), false);
			if (err) {
				authError(authReplyError(err));
				return;
			}
			$('reg-password').value = '';
			start(res.user);
		});
		return false;
	}

	function logout() {
		stop();
		PA.notice('');
		if (root.location.hash) {
			root.location.hash = '#/';
		}
		showAuth('');
		tokenStore(null);
		client.logout(function () {});
	}

	/* ------------------------------------------------------------ */
	/* Session start and stop                                       */
	/* ------------------------------------------------------------ */

	function start(user) {
		var loop;
		stop();
		if (tokenMode && client.token) {
			tokenStore(client.token);
		}
		S = PA.state = freshState();
		S.generation = (PA.generation = (PA.generation || 0) + 1);
		S.me = user;
		PA.rememberUser(user);
		S.marks = U.store.get('parley.marks.' + user.id) || {};

		U.avatar($('me-avatar'), user.display_name || user.username, user.id);
		U.setText($('me-name'), user.display_name || user.username);
		U.setText($('me-username'), '@' + user.username);
		showScreen('app');
		setBanner('ok');
		sideTab('chats');
		renderList();
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
		route();
	}

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
		closeView();
		S.me = null;
		S.generation = -1;
		setBanner('ok');
	}

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
				markRead();
			}
			renderList();
			if (S.view) {
				adoptDraft();
				renderHeader();
			}
			route();
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
					renderHeader();
					renderMessages('keep');
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
				loadPage(S.view, null);
			}
		});
		loop.on('loop:unauthorized', function () {
			stop();
			dropToken();
			showAuth('Your session has ended. Please log in again.');
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
			pumpOutbox(true);
		}
	}

	function retryNow() {
		var loop = PA.loop;
		if (loop) {
			loop.stop();
			loop.start();
		}
		pumpOutbox(true);
	}

	/* --- messages --- */

	function onMessage(m) {
		if (!m) {
			return;
		}
		if (!S.convsLoaded) {
			S.listQueue.push(m);
		} else {
			listMessage(m);
			renderList();
			/* A list load in flight may answer with a snapshot from
			 * before this message: apply it again afterwards. */
			if (S.convLoading) {
				S.listQueue.push(m);
			}
		}
		viewMessage(m);
	}

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
			renderList();
		}
		if (v && v.convId === d.conversation_id && v.byId[d.message_id]) {
			m = v.byId[d.message_id];
			m.recalled = true;
			m.body = null;
			renderMessages('auto');
		}
	}

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
				renderList();
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
			updateStatuses();
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
		renderList();
		PA.people.render();
		if (S.view && S.view.peerId === d.user_id) {
			renderHeader();
		}
	}

	function onGroupEvent(d, removal) {
		var v = S.view;
		delete S.groups[d.group_id];
		if (removal === true && d.user_id === S.me.id) {
			delete S.convs[d.group_id];
			renderList();
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

	/* ------------------------------------------------------------ */
	/* Routing: #/ (list), #/c/<conversation id>, #/u/<user id>      */
	/* ------------------------------------------------------------ */

	function route() {
		var h = root.location.hash || '', m, got = handoffIn(h);
		if (got) {
			hashHandoff(got);
			return;
		}
		if (!S.me) {
			return;
		}
		m = /^#\/c\/(\d+)$/.exec(h);
		if (m) {
			openConv(+m[1]);
			return;
		}
		m = /^#\/u\/(\d+)$/.exec(h);
		if (m) {
			openDirect(+m[1]);
			return;
		}
		closeView();
	}

	PA.go = function (hash) {
		if (root.location.hash === hash) {
			route();
		} else {
			root.location.hash = hash;
		}
	};

	PA.openUser = function (userId) {
		var c = findDirect(userId);
		PA.go(c ? '#/c/' + c.id : '#/u/' + userId);
	};

	function findDirect(userId) {
		var k, c;
		for (k in S.convs) {
			if (U.has(S.convs, k)) {
				c = S.convs[k];
				if (c.kind === 'direct' && c.peer && c.peer.id === userId) {
					return c;
				}
			}
		}
		return null;
	}

	function sideTab(tab) {
		S.tab = tab;
		U.toggleClass($('nav-chats'), 'active', tab === 'chats');
		U.toggleClass($('nav-people'), 'active', tab === 'people');
		U.show($('pane-chats'), tab === 'chats');
		U.show($('pane-people'), tab === 'people');
		if (tab === 'people') {
			PA.people.render();
		}
	}
	PA.sideTab = sideTab;

	/* ------------------------------------------------------------ */
	/* The conversation list                                        */
	/* ------------------------------------------------------------ */

	function sortedConvs() {
		var list = U.values(S.convs);
		list.sort(function (a, b) {
			var am = a.last_message, bm = b.last_message;
			if (am && bm) {
				return bm.id - am.id;
			}
			if (am || bm) {
				return am ? -1 : 1;
			}
			return b.id - a.id;
		});
		return list;
	}

	PA.convName = function (c) {
		if (!c) {
			return '';
		}
		if (c.kind === 'group' || c.kind === 'system') {
			return c.name || (c.kind === 'group' ? 'Group' : 'Notices');
		}
		return c.peer ? (c.peer.display_name || c.peer.username) : 'Conversation';
	};

	/* One line about a message for the list. */
	function preview(m) {
		var b = m.body || {}, who = '';
		if (m.recalled) {
			return (m.from === S.me.id ? 'You' : PA.userName(m.from)) + ' recalled a message';
		}
		if (m.type === 'call') {
			return callLabel(m);
		}
		if (m.type === 'system') {
			return b.text || '';
		}
		if (m.from === S.me.id) {
			who = 'You: ';
		} else if (S.convs[m.conversation_id] && S.convs[m.conversation_id].kind === 'group') {
			who = PA.userName(m.from) + ': ';
		}
		switch (m.type) {
		case 'text':
			return who + (b.text || '').replace(/\s+/g, ' ');
		case 'image':
			return who + 'Photo: ' + (b.name || '');
		case 'audio':
			return who + 'Audio: ' + (b.name || '');
		case 'video':
			return who + 'Video: ' + (b.name || '');
		default:
			return who + 'File: ' + (b.name || '');
		}
	}

	function renderList() {
		var ul = $('conv-list'), list, i, c, li, name, unread = 0, m, right, openId;
		if (!S.me) {
			return;
		}
		list = sortedConvs();
		openId = S.view && S.view.convId;
		U.empty(ul);
		for (i = 0; i < list.length; i++) {
			c = list[i];
			name = PA.convName(c);
			m = c.last_message;
			unread += c.unread;
			right = el('div', { className: 'conv-meta' }, [
				el('span', { className: 'conv-time', text: m ? U.shortTime(U.parseTime(m.created_at)) : '' }),
				c.unread > 0 ? el('span', {
					className: 'badge', text: c.unread > 99 ? '99+' : c.unread, attrs: { 'data-test': 'unread' }
				}) : null
			]);
			li = el('li', {
				className: 'conv' + (c.id === openId ? ' active' : '') + (c.unread > 0 ? ' has-unread' : ''),
				attrs: {
					'data-action': 'open-conv', 'data-conv-id': c.id, 'data-kind': c.kind,
					'data-peer-id': c.peer ? c.peer.id : null, tabindex: '0'
				}
			}, [
				el('span', { className: 'avatar-wrap' }, [
					U.makeAvatar(name, c.kind === 'group' ? 'g' + c.id : (c.peer ? c.peer.id : c.id), c.kind === 'group'),
					c.kind === 'direct' && c.peer ? el('span', {
						className: 'presence' + (PA.isOnline(c.peer.id) ? ' online' : ''),
						attrs: { 'data-online': PA.isOnline(c.peer.id) ? 'true' : 'false' },
						title: PA.isOnline(c.peer.id) ? 'Online' : 'Offline'
					}) : null
				]),
				el('div', { className: 'conv-text' }, [
					el('div', { className: 'conv-name', text: name }),
					el('div', { className: 'conv-last', text: m ? preview(m) : (c.kind === 'group' ? 'New group' : '') })
				]),
				right
			]);
			ul.appendChild(li);
		}
		U.show($('conv-empty'), S.convsLoaded && list.length === 0);
		U.setText($('unread-total'), unread > 99 ? '99+' : (unread || ''));
		U.show($('unread-total'), unread > 0);
		doc.title = (unread > 0 ? '(' + unread + ') ' : '') + 'Parley';
	}
	PA.renderList = renderList;

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

	function openDirect(userId) {
		var c = findDirect(userId), v = S.view;
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

	/* A draft direct chat whose conversation now exists. */
	function adoptDraft() {
		var v = S.view, c;
		if (v && !v.convId && v.peerId) {
			c = findDirect(v.peerId);
			if (c) {
				adoptConv(v, c.id, true);
			}
		}
	}

	function closeView() {
		S.view = null;
		if (!$('conv')) {
			return;
		}
		U.show($('conv'), false);
		U.show($('main-empty'), true);
		U.show($('attach-form'), false);
		showMain(false);
		renderList();
	}

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
		renderMessages('bottom');
		renderList();
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
			renderMessages('keep');
		}
		client.get(path, live(function (err, res) {
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
				renderMessages('keep');
				return;
			}
			merge(v, res.messages);
			if (before || first) {
				v.hasMore = res.has_more;
				v.nextBefore = res.next_before;
			}
			v.loaded = true;
			renderMessages(before ? 'keep' : (first ? 'bottom' : 'auto'));
			markRead();
			fillScreen(v);
		}));
	}

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
			dropPending(m.client_id, m);
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
		    (m.from === v.peerId || (m.from === S.me.id && pendingByClient(m.client_id)))) {
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
		renderMessages(m.from === S.me.id ? 'bottom' : 'auto');
		markRead();
		/* Missing messages in between (e.g. after a resync): fetch them. */
		gap = m.seq - top - 1;
		if (v.loaded && top > 0 && gap > 0) {
			client.get('/conversations/' + v.convId + '/messages?before=' + m.seq + '&limit=' + Math.min(gap, 200),
			    live(function (err, res) {
				if (!err && S.view === v && merge(v, res.messages) > 0) {
					renderMessages('auto');
					markRead();
				}
			}));
		}
	}

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
				renderList();
			}
			return;
		}
		before = c.read_seq;
		v.readSent = top;
		c.read_seq = top;
		if (top >= c.head) {
			c.unread = 0;
		}
		renderList();
		client.post('/conversations/' + v.convId + '/read', { seq: top }, live(function (err) {
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

	/* --- rendering messages --- */

	/* Own message status: sending, failed, sent, delivered, read. */
	function statusOf(v, m) {
		var marks = S.marks[v.convId] || {}, k, mk, read = 0, delivered = 0, readers = [];
		for (k in marks) {
			if (U.has(marks, k) && +k !== S.me.id) {
				mk = marks[k];
				if (mk.r >= m.seq) {
					read++;
					readers.push(PA.userName(+k));
				}
				if (mk.d >= m.seq) {
					delivered++;
				}
			}
		}
		if (read > 0) {
			return { s: 'read', title: v.kind === 'group' ? 'Read by ' + readers.join(', ') : 'Read' };
		}
		if (delivered > 0) {
			return { s: 'delivered', title: 'Delivered' };
		}
		return { s: 'sent', title: 'Sent' };
	}

	var TICKS = { sending: '\u25F7', failed: '!', sent: '\u2713', delivered: '\u2713\u2713', read: '\u2713\u2713' };

	function setStatus(node, status, title) {
		node.setAttribute('data-status', status);
		node.className = 'msg-status ' + status;
		node.title = title;
		U.setText(node, TICKS[status]);
	}

	function callLabel(m) {
		var b = m.body || {};
		switch (b.result) {
		case 'missed':
			return 'Missed call';
		case 'declined':
			return 'Declined';
		case 'canceled':
			return 'Canceled';
		case 'completed':
			return 'Call, ' + U.duration(b.duration);
		default:
			return 'Call';
		}
	}
	PA.callLabel = callLabel;

	/* The host an http(s) URL points at, as a person should read it (no
	 * user:password@ in front to pass for another host). */
	function urlHost(url) {
		var m = /^https?:\/\/([^\/?#\\]*)/i.exec(url || ''), h;
		if (!m) {
			return '';
		}
		h = m[1];
		h = h.substring(h.lastIndexOf('@') + 1);
		return h.toLowerCase();
	}
	PA.urlHost = urlHost;

	/*
	 * Someone else's image: loading it would tell its host (chosen by the
	 * sender) this viewer's address and when they read the message. It
	 * loads only when asked, and then stays shown for this session.
	 */
	function imagePlaceholder(m, size) {
		var b = m.body || {}, box, button;
		button = el('button', {
			className: 'button small', type: 'button', text: 'Show image from ' + urlHost(b.url),
			attrs: { 'data-test': 'show-image' }
		});
		box = el('div', { className: 'attach-image hold', attrs: { 'data-test': 'image-placeholder' } }, [
			el('span', { className: 'attach-caption', text: (b.name || 'Image') + (size ? ' · ' + size : '') }),
			el('span', { className: 'attach-hold-note', text: 'Not loaded: the image is on another site.' }),
			button
		]);
		U.on(button, 'click', function (e) {
			var shown;
			if (e && e.preventDefault) {
				e.preventDefault();
			}
			S.shownImages[m.id] = true;
			shown = attachmentNode(m);
			if (box.parentNode) {
				box.parentNode.replaceChild(shown, box);
			}
		});
		return box;
	}

	function attachmentNode(m) {
		var b = m.body || {}, size = U.size(b.size), isImage, img, caption, a;
		if (b.upload_id && PA.uploads) {
			return PA.uploads.node(m);     /* a file on Parley: app-upload.js */
		}
		var link = { href: b.url, attrs: { target: '_blank', rel: 'noopener noreferrer', 'data-test': 'attachment' } };
		if (!/^https?:\/\//i.test(b.url || '')) {
			/* The server only stores http(s) links; anything else is not a link here. */
			return el('span', { className: 'attach-name', text: (b.name || 'file') + (size ? ' · ' + size : '') });
		}
		isImage = m.type === 'image' || /^image\//.test(b.mime || '');
		if (isImage && (m.from === S.me.id || !m.id || S.shownImages[m.id])) {
			link.className = 'attach-image';
			img = el('img', { attrs: { src: b.url, alt: b.name || 'image', referrerpolicy: 'no-referrer' } });
			caption = el('span', { className: 'attach-caption', text: (b.name || '') + (size ? ' · ' + size : '') });
			a = el('a', link, [img, caption]);
			/* A link that is not (or no longer) an image: say so. */
			U.on(img, 'error', function () {
				U.addClass(a, 'broken');
				U.setText(caption, (b.name || 'Image') + ' (no preview)' + (size ? ' · ' + size : ''));
			});
			return a;
		}
		if (isImage) {
			return imagePlaceholder(m, size);
		}
		link.className = 'attach-file';
		return el('a', link, [
			el('span', { className: 'attach-icon', text: m.type === 'audio' ? '\u266B' : m.type === 'video' ? '\u25B6' : '\u2193' }),
			el('span', { className: 'attach-info' }, [
				el('span', { className: 'attach-name', text: b.name || b.url }),
				el('span', { className: 'attach-meta', text: (b.mime || m.type) + (size ? ' · ' + size : '') })
			])
		]);
	}

	/* The DOM for one stored message (without sender label). */
	function messageNode(v, m) {
		var mine = m.from === S.me.id, t = U.parseTime(m.created_at), content, row, bubble, footer, status;
		var attrs = {
			'data-id': m.id, 'data-seq': m.seq, 'data-from': m.from, 'data-type': m.type,
			'data-mine': mine ? 'true' : 'false', 'data-recalled': m.recalled ? 'true' : 'false'
		};
		if (m.type === 'call') {
			return el('div', { className: 'msg-row center', attrs: attrs }, [
				el('div', { className: 'call-record' + ((m.body && m.body.result === 'missed' && !mine) ? ' missed' : '') }, [
					el('span', { className: 'call-icon', text: m.body && m.body.media === 'video' ? '\u25B6' : '\u260E' }),
					el('span', { className: 'call-label', text: callLabel(m), attrs: { 'data-test': 'call-label' } }),
					el('span', { className: 'msg-time', text: t ? U.clock(t) : '' })
				])
			]);
		}
		if (m.type === 'system') {
			return el('div', { className: 'msg-row center', attrs: attrs }, [
				el('div', { className: 'system-line', text: (m.body && m.body.text) || '' })
			]);
		}
		if (m.recalled) {
			content = el('div', { className: 'msg-text recalled', text: mine ? 'You recalled this message' : 'This message was recalled' });
		} else if (m.type === 'text') {
			content = U.linkify(el('div', { className: 'msg-text' }), (m.body && m.body.text) || '');
		} else {
			content = el('div', { className: 'msg-attachment' }, attachmentNode(m));
		}
		footer = el('div', { className: 'msg-foot' }, [
			el('span', { className: 'msg-time', text: t ? U.clock(t) : '' })
		]);
		if (mine && !m.recalled) {
			status = el('span', { className: 'msg-status' });
			footer.appendChild(status);
		}
		bubble = el('div', { className: 'bubble' + (m.recalled ? ' recalled' : '') }, [content, footer]);
		row = el('div', { className: 'msg-row ' + (mine ? 'mine' : 'theirs'), attrs: attrs }, [bubble]);
		if (mine && !m.recalled) {
			/* Left of the bubble. */
			row.insertBefore(el('button', {
				className: 'recall-button' + (canRecall(m) ? '' : ' hidden'), type: 'button', text: 'Recall',
				attrs: { 'data-action': 'recall', 'data-id': m.id, 'data-test': 'recall' },
				title: 'Take this message back (within 2 minutes)'
			}), bubble);
		}
		return row;
	}

	function canRecall(m) {
		var t = U.parseTime(m.created_at);
		return m.from === S.me.id && !m.recalled && m.type !== 'call' && t !== null &&
		    PA.serverNow() - t < RECALL_MS - 3000;
	}

	function pendingNode(p) {
		var content, status, row;
		if (p.type === 'text') {
			content = U.linkify(el('div', { className: 'msg-text' }), p.body.text);
		} else {
			content = el('div', { className: 'msg-attachment' }, attachmentNode({ type: p.type, body: p.body }));
		}
		status = el('span', { className: 'msg-status' });
		setStatus(status, p.failed ? 'failed' : 'sending', p.failed ? 'Not sent: ' + p.error : 'Sending…');
		row = el('div', {
			className: 'msg-row mine pending' + (p.failed ? ' failed' : ''),
			attrs: { 'data-client-id': p.clientId, 'data-mine': 'true', 'data-pending': 'true' }
		}, [el('div', { className: 'bubble' }, [content, el('div', { className: 'msg-foot' }, [status])])]);
		if (p.failed) {
			row.appendChild(el('div', { className: 'failed-line' }, [
				el('span', { text: p.error + ' ' }),
				el('button', { className: 'link-button', type: 'button', text: 'Retry', attrs: { 'data-action': 'retry-send', 'data-client-id': p.clientId } }),
				el('span', { text: ' · ' }),
				el('button', { className: 'link-button', type: 'button', text: 'Discard', attrs: { 'data-action': 'discard-send', 'data-client-id': p.clientId } })
			]));
		}
		return row;
	}

	function atBottom(box) {
		return box.scrollHeight - box.scrollTop - box.clientHeight < 60;
	}

	/*
	 * Redraws the message list. mode: 'bottom' scrolls to the newest,
	 * 'keep' keeps what is on screen in place (older messages added
	 * above), 'auto' follows new messages only when already at the
	 * bottom (else offers a "new messages" button).
	 */
	function renderMessages(mode) {
		var v = S.view, box = $('messages'), i, m, prev, day, node, key, cached, fromBottom, wasBottom;
		var pend, top;
		if (!v || !box) {
			return;
		}
		wasBottom = atBottom(box);
		fromBottom = box.scrollHeight - box.scrollTop;
		U.empty(box);

		/* What is above the first message. */
		if (v.loadError) {
			box.appendChild(el('div', { className: 'history-note error' }, [
				el('span', { text: v.loadError + ' ' }),
				el('button', { className: 'link-button', type: 'button', text: 'Try again', attrs: { 'data-action': 'reload-history' } })
			]));
		} else if (v.loading || (v.hasMore && v.loaded)) {
			box.appendChild(el('div', { className: 'history-note', text: 'Loading earlier messages…', attrs: { 'data-test': 'history-loading' } }));
		} else if (v.loaded) {
			box.appendChild(el('div', {
				className: 'history-note start',
				text: v.msgs.length || pendingFor(v).length ? 'This is the beginning of the conversation.' :
				    'No messages yet. Say hello!',
				attrs: { 'data-test': 'history-start' }
			}));
		}

		for (i = 0; i < v.msgs.length; i++) {
			m = v.msgs[i];
			top = U.parseTime(m.created_at) || 0;
			day = U.dayKey(top);
			if (!prev || day !== U.dayKey(U.parseTime(prev.created_at) || 0)) {
				box.appendChild(el('div', { className: 'day-line' }, el('span', { text: U.dayLabel(top) })));
			}
			if (v.kind === 'group' && m.from !== S.me.id && m.type !== 'call' && m.type !== 'system' &&
			    (!prev || prev.from !== m.from || prev.type === 'call' || day !== U.dayKey(U.parseTime(prev.created_at) || 0))) {
				box.appendChild(el('div', { className: 'sender', text: PA.userName(m.from), attrs: { 'data-from': m.from } }));
			}
			key = m.recalled ? 'r' : 'n';
			cached = v.nodes[m.id];
			if (cached && cached.key === key) {
				node = cached.node;
			} else {
				node = messageNode(v, m);
				v.nodes[m.id] = { key: key, node: node };
			}
			box.appendChild(node);
			prev = m;
		}
		pend = pendingFor(v);
		for (i = 0; i < pend.length; i++) {
			box.appendChild(pendingNode(pend[i]));
		}
		updateStatuses();

		if (mode === 'bottom' || (mode === 'auto' && wasBottom)) {
			box.scrollTop = box.scrollHeight;
			U.show($('jump-bottom'), false);
		} else if (mode === 'keep') {
			box.scrollTop = box.scrollHeight - fromBottom;
		} else if (mode === 'auto') {
			U.show($('jump-bottom'), true);
		}
	}
	PA.renderMessages = renderMessages;

	function updateStatuses() {
		var v = S.view, box = $('messages'), nodes, i, id, m, st, span;
		if (!v || !box) {
			return;
		}
		nodes = box.childNodes;
		for (i = 0; i < nodes.length; i++) {
			if (nodes[i].getAttribute && nodes[i].getAttribute('data-mine') === 'true' &&
			    nodes[i].getAttribute('data-pending') !== 'true') {
				id = +nodes[i].getAttribute('data-id');
				m = v.byId[id];
				span = findByClass(nodes[i], 'msg-status');
				if (m && span) {
					st = statusOf(v, m);
					setStatus(span, st.s, st.title);
				}
			}
		}
	}

	function findByClass(node, cls) {
		var list = node.getElementsByTagName('*'), i;
		for (i = 0; i < list.length; i++) {
			if (U.hasClass(list[i], cls)) {
				return list[i];
			}
		}
		return null;
	}

	/* Recall buttons disappear when the window has passed. */
	function refreshRecall() {
		var v = S.view, box = $('messages'), list, i, m;
		if (!v || !box) {
			return;
		}
		list = box.getElementsByTagName('button');
		for (i = 0; i < list.length; i++) {
			if (list[i].getAttribute('data-action') === 'recall') {
				m = v.byId[+list[i].getAttribute('data-id')];
				U.show(list[i], !!m && canRecall(m));
			}
		}
	}

	function onScroll() {
		var v = S.view, box = $('messages');
		if (!v) {
			return;
		}
		if (box.scrollTop < 80 && v.hasMore && v.loaded && !v.loading && !v.loadError) {
			loadPage(v, v.nextBefore);
		}
		if (atBottom(box)) {
			U.show($('jump-bottom'), false);
		}
	}

	/* ------------------------------------------------------------ */
	/* Sending                                                      */
	/* ------------------------------------------------------------ */

	function pendingFor(v) {
		var out = [], i, p;
		for (i = 0; i < S.outbox.length; i++) {
			p = S.outbox[i];
			if ((v.convId && p.convId === v.convId) || (!v.convId && !p.convId && p.to === v.peerId) ||
			    (v.convId && !p.convId && v.kind === 'direct' && p.to === v.peerId)) {
				out.push(p);
			}
		}
		return out;
	}

	function pendingByClient(clientId) {
		var i;
		for (i = 0; clientId && i < S.outbox.length; i++) {
			if (S.outbox[i].clientId === clientId) {
				return S.outbox[i];
			}
		}
		return null;
	}

	/* The stored message for a pending send arrived: forget the pending one. */
	function dropPending(clientId, m) {
		var i;
		for (i = 0; clientId && i < S.outbox.length; i++) {
			if (S.outbox[i].clientId === clientId) {
				S.outbox.splice(i, 1);
				if (i === 0) {
					S.sending = false;
					root.setTimeout(function () { pumpOutbox(false); }, 0);
				}
				return true;
			}
		}
		return false;
	}

	/* Queues a message for the open conversation. */
	function send(type, body) {
		var v = S.view, p;
		if (!v) {
			return;
		}
		p = {
			clientId: U.clientId(S.me.id),
			convId: v.convId,
			to: v.kind === 'direct' ? v.peerId : null,
			groupId: v.kind === 'group' ? v.convId : null,
			type: type,
			body: body,
			tries: 0,
			failed: false,
			error: '',
			generation: S.generation
		};
		S.outbox.push(p);
		renderMessages('bottom');
		pumpOutbox(false);
	}

	function retryable(err) {
		return err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504 || err.status === 429;
	}

	/*
	 * Sends the outbox one message at a time, so messages keep the order
	 * they were written in. A send without a clear answer is repeated
	 * with the same client_id: the server stores it once.
	 */
	function pumpOutbox(force) {
		var p = S.outbox[0], body, gen = S.generation;
		if (!p || !S.me || (p.failed && !force)) {
			return;
		}
		if (S.sending) {
			if (!force || !p.timer) {
				return;     /* in flight: its answer moves the queue on */
			}
			/* Waiting to retry: go now. */
			root.clearTimeout(p.timer);
			p.timer = null;
		}
		S.sending = true;
		p.failed = false;
		body = { client_id: p.clientId, type: p.type, body: p.body };
		if (p.groupId) {
			body.group_id = p.groupId;
		} else {
			body.to = p.to;
		}
		client.post('/messages', body, function (err, res) {
			var t;
			if (S.generation !== gen || S.outbox[0] !== p) {
				return;
			}
			if (!err) {
				t = U.parseTime(res.message.created_at);
				if (t) {
					S.skew = t - U.now();
				}
				S.sending = false;
				S.outbox.shift();
				if (S.view && !S.view.convId && p.to && S.view.peerId === p.to) {
					adoptConv(S.view, res.message.conversation_id);
				}
				onMessage(res.message);
				if (S.view) {
					renderMessages('auto');
				}
				pumpOutbox(false);
				return;
			}
			if (retryable(err) && p.tries < 30) {
				p.tries++;
				p.timer = root.setTimeout(function () {
					p.timer = null;
					if (S.generation === gen && S.outbox[0] === p) {
						S.sending = false;
						pumpOutbox(false);
					}
				}, Math.min(30000, 500 * Math.pow(2, Math.min(p.tries, 6))));
				return;
			}
			/* The server's final word: the user decides. The next ones
			 * wait behind it, so the order stays. */
			S.sending = false;
			p.failed = true;
			p.error = err.code === 'not_friends' ? 'You are not friends any more.' :
			    err.code === 'blocked' ? 'You cannot message this person.' :
			    err.code === 'group_not_found' ? 'You are no longer in this group.' : PA.errorText(err, 'Not sent.');
			if (S.view) {
				renderMessages('auto');
			}
		});
	}

	function onComposerSubmit(e) {
		var input = $('composer-input'), text = input.value;
		if (e) {
			e.preventDefault();
		}
		if (!U.trim(text)) {
			return false;
		}
		/* Control characters other than tab/LF/CR are refused. */
		text = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '');
		if (text.length > 8192) {
			PA.toast('That message is too long (8192 characters at most).', 'error');
			return false;
		}
		input.value = '';
		autoGrow();
		send('text', { text: text });
		try {
			input.focus();
		} catch (x) {
			/* ignore */
		}
		return false;
	}

	function onComposerKey(e) {
		var key = e.keyCode || e.which;
		if (key === 13 && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
			e.preventDefault();
			onComposerSubmit(null);
			return false;
		}
		return true;
	}

	function autoGrow() {
		var t = $('composer-input');
		t.style.height = '';
		if (t.scrollHeight > t.clientHeight) {
			t.style.height = Math.min(t.scrollHeight + 2, 140) + 'px';
		}
	}

	/* --- attachments (links) --- */

	function openAttach() {
		var f = $('attach-form');
		if (U.isShown(f)) {
			U.show(f, false);
			return;
		}
		$('attach-url').value = '';
		$('attach-name').value = '';
		$('attach-size').value = '0';
		$('attach-mime').value = '';
		$('attach-name').removeAttribute('data-touched');
		$('attach-mime').removeAttribute('data-touched');
		U.show($('attach-error'), false);
		U.show(f, true);
		try {
			$('attach-url').focus();
		} catch (e) {
			/* ignore */
		}
	}

	function attachUrlChanged() {
		var url = U.trim($('attach-url').value);
		if (!url) {
			return;
		}
		if (!$('attach-name').getAttribute('data-touched')) {
			$('attach-name').value = U.fileNameFromUrl(url);
		}
		if (!$('attach-mime').getAttribute('data-touched')) {
			$('attach-mime').value = U.guessMime(url);
		}
	}

	function onAttachSubmit(e) {
		var url = U.trim($('attach-url').value), name = U.trim($('attach-name').value);
		var mime = U.trim($('attach-mime').value) || U.guessMime(url), size = U.trim($('attach-size').value) || '0';
		var errText = '';
		e.preventDefault();
		if (!/^https?:\/\/[^\s"<>\\\^`{|}]+$/.test(url) || url.length > 2048) {
			errText = 'Enter an address starting with http:// or https:// (no spaces).';
		} else if (!/^[A-Za-z0-9!#$&\^_.+\-]+\/[A-Za-z0-9!#$&\^_.+\-]+$/.test(mime)) {
			errText = 'The type looks like image/jpeg or application/pdf.';
		} else if (!/^\d{1,15}$/.test(size)) {
			errText = 'The size is a number of bytes.';
		}
		if (errText) {
			U.setText($('attach-error'), errText);
			U.show($('attach-error'), true);
			return false;
		}
		send(U.messageTypeForMime(mime), { url: url, name: name || U.fileNameFromUrl(url), size: +size, mime: mime });
		U.show($('attach-form'), false);
		return false;
	}

	/* --- recall --- */

	function recall(button) {
		var id = +button.getAttribute('data-id');
		button.disabled = true;
		client.post('/messages/' + id + '/recall', null, live(function (err, res) {
			button.disabled = false;
			if (err) {
				PA.toast(err.code === 'recall_window_passed' ? 'Messages can only be recalled within 2 minutes.' :
				    PA.errorText(err), 'error');
				U.show(button, false);
				return;
			}
			onRecalled({ message_id: id, conversation_id: res.message.conversation_id, seq: res.message.seq });
		}));
	}

	/* ------------------------------------------------------------ */
	/* Wiring                                                       */
	/* ------------------------------------------------------------ */

	function actions(action, node, e) {
		var id;
		switch (action) {
		case 'auth-tab':
			e.preventDefault();
			authTab(node.getAttribute('data-tab'));
			break;
		case 'side-tab':
			e.preventDefault();
			sideTab(node.getAttribute('data-tab'));
			if (PA.isNarrow() && S.view) {
				PA.go('#/');
			}
			break;
		case 'open-conv':
			id = +node.getAttribute('data-conv-id');
			PA.go('#/c/' + id);
			break;
		case 'recall':
			recall(node);
			break;
		case 'retry-send':
			if (S.outbox[0] && S.outbox[0].clientId === node.getAttribute('data-client-id')) {
				S.outbox[0].tries = 0;
				pumpOutbox(true);
				renderMessages('auto');
			}
			break;
		case 'discard-send':
			dropPending(node.getAttribute('data-client-id'), null);
			renderMessages('auto');
			break;
		case 'reload-history':
			if (S.view) {
				S.view.loadError = null;
				loadPage(S.view, S.view.loaded ? S.view.nextBefore : null);
			}
			break;
		default:
			if (PA.people.action(action, node, e) === false) {
				return;
			}
		}
	}

	function leaveGroup(button) {
		var v = S.view;
		if (!v || v.kind !== 'group' || !PA.confirmed(button)) {
			return;
		}
		client.post('/groups/' + v.convId + '/leave', null, live(function (err) {
			if (err) {
				PA.toast(PA.errorText(err), 'error');
				return;
			}
			delete S.convs[v.convId];
			PA.toast('You left the group.');
			PA.go('#/');
			PA.loadConversations();
		}));
	}

	function placeCall(media) {
		var v = S.view;
		if (v && v.kind === 'direct') {
			PA.callui.place(v.peerId, media);
		}
	}

	function init() {
		U.delegate(doc, actions);
		U.on($('login-form'), 'submit', onLogin);
		U.on($('register-form'), 'submit', onRegister);
		U.on($('logout'), 'click', logout);
		U.on($('composer'), 'submit', onComposerSubmit);
		U.on($('composer-input'), 'keydown', onComposerKey);
		U.on($('composer-input'), 'keyup', autoGrow);
		U.on($('messages'), 'scroll', onScroll);
		U.on($('jump-bottom'), 'click', function () {
			var box = $('messages');
			box.scrollTop = box.scrollHeight;
			U.show($('jump-bottom'), false);
		});
		U.on($('back'), 'click', function () { PA.go('#/'); });
		U.on($('attach'), 'click', openAttach);
		U.on($('attach-cancel'), 'click', function () { U.show($('attach-form'), false); });
		U.on($('attach-form'), 'submit', onAttachSubmit);
		U.on($('attach-url'), 'keyup', attachUrlChanged);
		U.on($('attach-url'), 'change', attachUrlChanged);
		U.on($('attach-url'), 'input', attachUrlChanged);
		U.on($('attach-name'), 'keyup', function () { $('attach-name').setAttribute('data-touched', '1'); });
		U.on($('attach-name'), 'input', function () { $('attach-name').setAttribute('data-touched', '1'); });
		U.on($('attach-mime'), 'keyup', function () { $('attach-mime').setAttribute('data-touched', '1'); });
		U.on($('attach-mime'), 'input', function () { $('attach-mime').setAttribute('data-touched', '1'); });
		U.on($('banner-retry'), 'click', retryNow);
		U.on($('call-audio'), 'click', function () { placeCall('audio'); });
		U.on($('call-video'), 'click', function () { placeCall('video'); });
		U.on($('leave-group'), 'click', function () { leaveGroup($('leave-group')); });
		U.on($('add-members'), 'click', function () {
			if (S.view && S.groups[S.view.convId]) {
				PA.people.openGroupModal(S.groups[S.view.convId]);
			}
		});
		U.on(root, 'hashchange', route);
		U.on($('handoff-accept'), 'click', acceptHandoff);
		U.on($('handoff-cancel'), 'click', declineHandoff);
		U.on($('notice-close'), 'click', function () { U.show($('notice'), false); });
		U.on(doc, 'visibilitychange', function () { markRead(); });
		U.on(root, 'focus', function () { markRead(); });
		U.on(doc, 'keydown', function (e) {
			if ((e.keyCode || e.which) === 13 && e.target && e.target.getAttribute &&
			    e.target.getAttribute('data-action') === 'open-conv') {
				actions('open-conv', e.target, e);
			}
		});
		root.setInterval(refreshRecall, 10000);
		PA.people.init();
		PA.callui.init();
		boot(0);
	}

	function retryBoot(tries) {
		root.setTimeout(function () { boot(tries + 1); }, Math.min(30000, 1000 * Math.pow(2, tries)));
		U.setText($('splash-text'), 'Cannot reach the server. Trying again…');
	}

	var TICKET_GONE = 'This sign-in link was already used or has expired. Reload the page you came from, or sign in here.';

	/* "Alice (@alice)": how an account is named in questions and notices. */
	function accountName(u) {
		var d = u.display_name;
		return d && d !== u.username ? d + ' (@' + u.username + ')' : '@' + u.username;
	}

	/* In a frame: the embedding page's ticket signs this frame in. */
	function bootTicket(tries) {
		bare('POST', '/auth/ticket', { ticket: handoff.ticket }, null, function (err, res) {
			if (!err && res && res.token && res.user) {
				handoff = null;
				useToken(res.token);
				client._adopt(res);
				start(res.user);
			} else if (err && (err.status === 401 || err.status === 400)) {
				handoff = null;
				dropToken();
				showAuth(TICKET_GONE);
			} else {
				retryBoot(tries);
			}
		});
	}

	/*
	 * A signed-in tab got a hand-off: it keeps its session and says so.
	 * A ticket is not redeemed (that would start the other session); a
	 * token for this same account needs no notice.
	 */
	function refuseHandoff(h) {
		var me = S.me, gen = S.generation;
		if (h.ticket) {
			PA.notice('A sign-in link was not used: you are signed in as ' + accountName(me) +
			    '. To use the link, log out first and open it again.');
			return;
		}
		bare('GET', '/auth/me', null, h.token, function (err, res) {
			if (S.generation !== gen) {
				return;
			}
			if (!err && res && res.user && res.user.id === me.id) {
				return;
			}
			PA.notice((!err && res && res.user ? 'A link tried to sign you in as ' + accountName(res.user) + '. It was not used: ' :
			    'A sign-in link was not used: ') + 'you stay signed in as ' + accountName(me) + '.');
		});
	}

	/* What the hand-off screen asks about: {user, token, res, revoke}. */
	var offer = null;

	function askHandoff(o) {
		offer = o;
		U.setText($('handoff-account'), accountName(o.user));
		U.setText($('handoff-accept'), 'Continue as @' + o.user.username);
		showScreen('handoff');
		try {
			$('handoff-cancel').focus();
		} catch (e) {
			/* not focusable */
		}
	}

	function acceptHandoff() {
		var o = offer;
		if (!o) {
			return;
		}
		offer = null;
		useToken(o.token);
		client._adopt(o.res);
		start(o.user);
	}

	function declineHandoff() {
		var o = offer;
		if (!o) {
			return;
		}
		offer = null;
		if (o.revoke) {
			/* The session the ticket made: nobody is going to use it. */
			bare('POST', '/auth/logout', null, o.token, function () {});
		}
		showAuth('');
	}

	/* A top-level tab without a session got a hand-off: find out whose
	 * account it is (a ticket has to be redeemed for that), then ask. */
	function offerHandoff(tries) {
		var h = handoff;
		if (h.ticket) {
			bare('POST', '/auth/ticket', { ticket: h.ticket }, null, function (err, res) {
				if (!err && res && res.token && res.user) {
					handoff = null;
					askHandoff({ user: res.user, token: res.token, res: res, revoke: true });
				} else if (err && (err.status === 401 || err.status === 400)) {
					handoff = null;
					showAuth(TICKET_GONE);
				} else {
					retryBoot(tries);
				}
			});
			return;
		}
		bare('GET', '/auth/me', null, h.token, function (err, res) {
			if (!err && res && res.user) {
				handoff = null;
				askHandoff({ user: res.user, token: h.token, res: res, revoke: false });
			} else if (err && (err.status === 401 || err.status === 403)) {
				handoff = null;
				showAuth('This sign-in link is no longer valid. Reload the page you came from, or sign in here.');
			} else {
				retryBoot(tries);
			}
		});
	}

	/* A hand-off arriving while the page runs (only the fragment
	 * changed). A frame, or a tab not signed in, takes it as at load; a
	 * signed-in tab keeps its session. */
	function hashHandoff(h) {
		if (isFramed || !S.me) {
			root.location.reload();
			return;
		}
		dropFragment();
		refuseHandoff(h);
		route();
	}

	/* Is there a session already (cookie or kept token)? */
	function boot(tries) {
		showScreen('splash');
		U.setText($('splash-text'), tries ? 'Cannot reach the server. Trying again…' : 'Loading…');
		if (handoff && isFramed) {
			bootTicket(tries);
			return;
		}
		client.me(function (err, res) {
			var h;
			if (!err) {
				h = handoff;
				handoff = null;
				start(res.user);
				if (h) {
					refuseHandoff(h);
				}
			} else if (err.status === 401 || err.status === 403) {
				dropToken();
				if (handoff) {
					offerHandoff(tries);
				} else {
					showAuth('');
				}
			} else {
				retryBoot(tries);
			}
		});
	}

	PA.start = start;
	PA.markRead = markRead;
	PA.send = send;

	/* The scripts sit at the end of <body>: the DOM is there. */
	init();
}(window));
