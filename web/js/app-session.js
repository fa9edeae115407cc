/*
 * app-session.js: the Parley web client's session, plain ECMAScript 5: token
 * mode (a bearer token in a cross-site frame), hand-offs (#token= and
 * #ticket= in the address), the one Parley.Client (PA.client), the state
 * object (PA.state, PA.resetState) and the boot at page load (is there a
 * session already? else the sign-in screen, or the hand-off question).
 *
 * The web client is split by screen and concern, loaded in this order by
 * web/index.html (all share window.PA; a file calls another's functions
 * as PA.name at run time, so only load-time code depends on the order):
 *
 *   app-util.js      DOM and formatting helpers (PA.util), PA itself
 *   app-people.js    friends, requests and blocks: loading (PA.people)
 *   app-people-list.js  the People tab: search, lists, their actions
 *   app-groups.js    the New group dialog
 *   app-call.js      the call screen (PA.callui)
 *   app-upload.js    sending files (PA.uploads)
 *   app-upload-view.js  showing files in messages
 *   app-session.js   this file
 *   app-common.js    toasts, notices, error text, names, ask-twice buttons
 *   app-auth.js      the sign-in and register screens, sign-out
 *   app-events.js    session start and stop, loading, the event stream
 *   app-list.js      routing and the conversation list
 *   app-view.js      the open conversation: header, history, read marks
 *   app-messages.js  drawing the messages of the open conversation
 *   app-composer.js  the outbox (sending in order, retries), composer, recall
 *   app.js           wiring of the page's controls; runs init()
 *
 *   PA.state    what we know (me, conversations, friends, ...)
 *   PA.client   the Parley.Client (cookie session + CSRF; a bearer token when framed)
 *   PA.loop     the Parley.EventLoop (one per login)
 *   PA.calls    the Parley.CallManager
 *
 * Everything live comes from the loop; every event handler is
 * idempotent (messages are keyed by id, marks only move forward), so an
 * event seen twice or a state reload racing an event changes nothing.
 *
 * Depends on: parley.js (Parley.Client), app-util.js (PA.util); at run
 * time on app-auth.js, app-events.js and app-list.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;

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
	PA.tokenStore = tokenStore;

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
	PA.handoffIn = handoffIn;

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
	PA.dropToken = dropToken;

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

	/* A new login starts from a fresh state. The object itself stays (its
	 * fields are replaced), so every app-*.js file can hold it as
	 * `var S = PA.state` for the page's life. */
	PA.resetState = function () {
		var fresh = freshState(), old = [], k, i;
		for (k in S) {
			if (Object.prototype.hasOwnProperty.call(S, k)) {
				old.push(k);
			}
		}
		for (i = 0; i < old.length; i++) {
			delete S[old[i]];
		}
		for (k in fresh) {
			if (Object.prototype.hasOwnProperty.call(fresh, k)) {
				S[k] = fresh[k];
			}
		}
	};

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
				PA.start(res.user);
			} else if (err && (err.status === 401 || err.status === 400)) {
				handoff = null;
				dropToken();
				PA.showAuth(TICKET_GONE);
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
		PA.showScreen('handoff');
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
		PA.start(o.user);
	}
	PA.acceptHandoff = acceptHandoff;

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
		PA.showAuth('');
	}
	PA.declineHandoff = declineHandoff;

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
					PA.showAuth(TICKET_GONE);
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
				PA.showAuth('This sign-in link is no longer valid. Reload the page you came from, or sign in here.');
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
		PA.route();
	}
	PA.hashHandoff = hashHandoff;

	/* Is there a session already (cookie or kept token)? */
	function boot(tries) {
		PA.showScreen('splash');
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
				PA.start(res.user);
				if (h) {
					refuseHandoff(h);
				}
			} else if (err.status === 401 || err.status === 403) {
				dropToken();
				if (handoff) {
					offerHandoff(tries);
				} else {
					PA.showAuth('');
				}
			} else {
				retryBoot(tries);
			}
		});
	}
	PA.boot = boot;
}(window));
