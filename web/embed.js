/*
 * embed.js: Parley on another site's page, in plain ECMAScript 5 (IE8+).
 *
 *   <script src="https://chat.example.com/embed.js"></script>
 *
 *   ParleyEmbed.frame({server: 'https://chat.example.com', container: 'chat',
 *                      width: 900, height: 600, ticket: oneTimeTicket});
 *     The full web client in an iframe. With `ticket` (a one-time login
 *     ticket from the site's backend: POST /api/v1/server/users/{id}/
 *     login-tickets) or `token` (a Parley token the host's backend
 *     obtained) the user is signed in at once; without either they log in
 *     inside the frame. Framed, the client keeps its token in
 *     sessionStorage: the SameSite=Lax session cookie is not sent to a
 *     cross-site frame. Only pages on the origins in Parley's
 *     PARLEY_FRAME_ANCESTORS may frame it (README "Configuration").
 *
 *   ParleyEmbed.widget({server: 'https://chat.example.com',
 *                       streamToken: function (callback) { ... },
 *                       container: 'parley-badge', userId: 42,
 *                       names: {7: 'Bob'}, onEvent: function (ev) {}});
 *     Read-only notifications: long-polls the user's event stream across
 *     origins with JSONP (script tags; no XHR, no CORS) and shows
 *     "3 new messages - latest from Bob: hi" or "Incoming call from Bob"
 *     with a link that opens the full client (a popup, or a frame when
 *     opts.frame names a container). The popup is a top-level tab, where
 *     the client never takes a handed token silently (any page could
 *     open such a link): without a session it asks the user to confirm
 *     the account; signed in already, it keeps that session. Returns a
 *     handle with stop() and open().
 *     The polls carry a stream token, never the session token: a URL can
 *     end up in logs and Referer headers, and a stream token only reads
 *     the event stream, for a few minutes (PARLEY_STREAM_TOKEN_TTL). The
 *     host's backend, which holds the user's Parley session token, mints
 *     it with POST /api/v1/auth/stream-token (Authorization: Bearer) and
 *     hands it over: opts.streamToken is the token itself, or a function
 *     (callback) that fetches a fresh one from the host and calls
 *     callback(err, streamToken, expiresIn) (an err with status 401: the
 *     user is signed out, stop); the widget calls it again before the
 *     token runs out and once after a 401. opts.token (the
 *     session token) is used only by open(), to sign the full client in.
 */
(function (root) {
	'use strict';

	var doc = root.document;
	var ParleyEmbed = root.ParleyEmbed || {};
	var seqNo = 0;

	function noop() {}

	function now() {
		return new Date().getTime();
	}

	function byId(c) {
		return typeof c === 'string' ? doc.getElementById(c) : c;
	}

	function base(server) {
		return String(server || '').replace(/\/+$/, '');
	}

	function px(v, dflt) {
		if (v === undefined || v === null || v === '') {
			return dflt;
		}
		return typeof v === 'number' ? v + 'px' : String(v);
	}

	function on(node, type, fn) {
		if (node.addEventListener) {
			node.addEventListener(type, fn, false);
		} else if (node.attachEvent) {
			node.attachEvent('on' + type, function () {
				return fn.call(node, root.event);
			});
		}
	}

	function setText(node, text) {
		while (node.firstChild) {
			node.removeChild(node.firstChild);
		}
		node.appendChild(doc.createTextNode(text));
	}

	/* A one-time login ticket (single sign-on) is preferred to a token:
	 * it is useless once the frame redeemed it. */
	function clientUrl(server, token, ticket) {
		if (ticket) {
			return base(server) + '/#ticket=' + encodeURIComponent(ticket);
		}
		return base(server) + '/' + (token ? '#token=' + encodeURIComponent(token) : '');
	}

	/* ------------------------------------------------------------ */
	/* Frame mode: the full client                                  */
	/* ------------------------------------------------------------ */

	ParleyEmbed.frame = function (opts) {
		var box = byId(opts.container), f;
		if (!box) {
			throw new Error('ParleyEmbed.frame: no container');
		}
		f = doc.createElement('iframe');
		f.setAttribute('title', opts.title || 'Parley');
		f.setAttribute('frameBorder', '0');
		/* Calls inside the frame need the camera and microphone. */
		f.setAttribute('allow', 'camera; microphone; autoplay; fullscreen');
		f.setAttribute('allowFullScreen', 'true');
		f.className = 'parley-embed-frame';
		f.style.width = px(opts.width, '100%');
		f.style.height = px(opts.height, '600px');
		f.style.border = '0';
		f.src = clientUrl(opts.server, opts.token, opts.ticket);
		box.appendChild(f);
		return f;
	};

	/* ------------------------------------------------------------ */
	/* Widget mode: JSONP long polling                              */
	/* ------------------------------------------------------------ */

	/*
	 * One JSONP request: callback(err, data). err.status is the status an
	 * error reply carries; 0 for a script that failed to load or timed out.
	 * Returns abort().
	 */
	function jsonp(url, ms, callback) {
		var k = ++seqNo, name = '_cb' + k, done = false, timer = null, grace = null;
		var head = doc.getElementsByTagName('head')[0] || doc.documentElement;
		var s = doc.createElement('script');

		function cleanup() {
			done = true;
			if (timer !== null) {
				root.clearTimeout(timer);
			}
			if (grace !== null) {
				root.clearTimeout(grace);
			}
			s.onload = s.onerror = s.onreadystatechange = null;
			if (s.parentNode) {
				s.parentNode.removeChild(s);
			}
			/* A removed script may still run: answer it with nothing,
			 * and forget the name once no reply can come any more. */
			ParleyEmbed[name] = noop;
			root.setTimeout(function () {
				try {
					delete ParleyEmbed[name];
				} catch (e) {
					ParleyEmbed[name] = undefined;
				}
			}, ms + 60000);
		}

		function fail(code) {
			var e;
			if (done) {
				return;
			}
			cleanup();
			e = new Error(code);
			e.code = code;
			e.status = 0;
			callback(e);
		}

		/* Loaded but the callback never ran (an nginx error page, say).
		 * IE8 may report "loaded" just before it runs the script. */
		function loaded() {
			if (!done && grace === null) {
				grace = root.setTimeout(function () { fail('bad_response'); }, 1000);
			}
		}

		ParleyEmbed[name] = function (data) {
			var e;
			if (done) {
				return;
			}
			if (!data || typeof data !== 'object') {
				fail('bad_response');
				return;
			}
			cleanup();
			if (data.error) {
				e = new Error(data.error.message || data.error.code);
				e.code = data.error.code;
				e.status = data.status || 0;
				e.data = data;
				callback(e);
			} else {
				callback(null, data);
			}
		};
		s.type = 'text/javascript';
		s.async = true;
		s.onerror = function () { fail('network_error'); };
		s.onload = loaded;
		s.onreadystatechange = function () {
			if (s.readyState === 'loaded' || s.readyState === 'complete') {
				loaded();
			}
		};
		timer = root.setTimeout(function () { fail('timeout'); }, ms);
		s.src = url + (url.indexOf('?') < 0 ? '?' : '&') + 'callback=ParleyEmbed.' + name;
		head.appendChild(s);
		return function () {
			if (!done) {
				cleanup();
			}
		};
	}

	ParleyEmbed._jsonp = jsonp;

	function preview(m) {
		var b = m.body, t;
		if (m.recalled || !b) {
			return '(recalled)';
		}
		if (m.type === 'text') {
			t = String(b.text || '');
		} else if (m.type === 'call') {
			t = b.result === 'missed' ? 'Missed call' : (b.result === 'completed' ? 'Call' : 'Call ' + (b.result || ''));
		} else {
			t = '[' + m.type + '] ' + (b.name || '');
		}
		t = t.replace(/\s+/g, ' ');
		return t.length > 80 ? t.substring(0, 79) + '\u2026' : t;
	}

	ParleyEmbed.widget = function (opts) {
		var server = base(opts.server);
		var box = byId(opts.container);
		var onEvent = opts.onEvent || noop;
		var timeout = opts.timeout || 25;
		var names = {};
		var k;
		var W = {
			cursor: typeof opts.since === 'number' ? opts.since : null,
			running: true,
			state: 'connecting',
			unread: 0,
			errors: 0,
			renewals: 0,
			delays: [],
			call: null
		};
		var perConv = {};      /* conversation id -> [message seq, ...] unread */
		var latest = null;     /* the newest unread message */
		var abort = null, timer = null, backoff = 0, frameOpen = null;
		var stream = { token: null, expires: 0, renewed: false };
		var ui = {};

		for (k in opts.names || {}) {
			if (Object.prototype.hasOwnProperty.call(opts.names, k)) {
				names[k] = opts.names[k];
			}
		}

		function nameOf(id) {
			return names[id] || ('user ' + id);
		}

		function learn(u) {
			if (u && u.id && !(opts.names && opts.names[u.id])) {
				names[u.id] = u.display_name || u.username;
			}
		}

		/* --- the notice --- */

		function build() {
			var wrap, link;
			if (!box) {
				return;
			}
			wrap = doc.createElement('div');
			wrap.className = 'parley-embed';
			wrap.style.cssText = 'font:14px/1.4 Arial,sans-serif;color:#1d2733;background:#fff;' +
			    'border:1px solid #c9d3de;border-radius:6px;padding:8px 12px;display:inline-block;max-width:420px';
			ui.call = doc.createElement('div');
			ui.call.className = 'parley-embed-call';
			ui.call.style.cssText = 'display:none;color:#b3261e;font-weight:bold;margin-bottom:4px';
			ui.text = doc.createElement('div');
			ui.text.className = 'parley-embed-text';
			link = ui.link = doc.createElement('a');
			link.className = 'parley-embed-open';
			link.href = clientUrl(server, null);
			link.target = '_blank';
			link.style.cssText = 'color:#1f6feb;font-weight:bold';
			setText(link, opts.linkText || 'Open Parley');
			on(link, 'click', function (e) {
				if (W.open()) {
					if (e && e.preventDefault) {
						e.preventDefault();
					} else if (e) {
						e.returnValue = false;
					}
					return false;
				}
				return true;
			});
			wrap.appendChild(ui.call);
			wrap.appendChild(ui.text);
			wrap.appendChild(link);
			box.appendChild(wrap);
			ui.wrap = wrap;
			render();
		}

		function render() {
			var t;
			if (!ui.wrap) {
				return;
			}
			ui.wrap.setAttribute('data-state', W.state);
			ui.wrap.setAttribute('data-unread', String(W.unread));
			if (W.call) {
				setText(ui.call, 'Incoming ' + (W.call.media === 'video' ? 'video ' : '') +
				    'call from ' + nameOf(W.call.from));
				ui.call.style.display = 'block';
			} else {
				ui.call.style.display = 'none';
			}
			if (W.state === 'unauthorized') {
				t = 'Parley: please sign in again. ';
			} else if (W.unread > 0 && latest) {
				t = W.unread + (W.unread === 1 ? ' new message' : ' new messages') +
				    ' \u2014 latest from ' + nameOf(latest.from) + ': ' + preview(latest) + ' ';
			} else if (W.state === 'connecting') {
				t = 'Parley: connecting\u2026 ';
			} else {
				t = 'Parley: no new messages. ';
			}
			if (W.state === 'retrying') {
				t += '(reconnecting) ';
			}
			setText(ui.text, t);
			ui.text.style.display = 'inline';
		}

		function recount() {
			var c, n = 0;
			for (c in perConv) {
				if (Object.prototype.hasOwnProperty.call(perConv, c)) {
					n += perConv[c].length;
				}
			}
			W.unread = n;
			if (n === 0) {
				latest = null;
			}
		}

		/* --- events --- */

		function handle(ev) {
			var d = ev.data || {}, m, list, i, keep;
			switch (ev.type) {
			case 'message':
				m = d.message;
				if (m && m.from !== null && m.from !== opts.userId && m.type !== 'system') {
					list = perConv[m.conversation_id] || (perConv[m.conversation_id] = []);
					list.push(m.seq);
					latest = m;
				}
				break;
			case 'message.read':
				/* Read on one of the user's own devices. */
				if (opts.userId !== undefined && d.user_id === opts.userId && perConv[d.conversation_id]) {
					list = perConv[d.conversation_id];
					keep = [];
					for (i = 0; i < list.length; i++) {
						if (list[i] > d.seq) {
							keep.push(list[i]);
						}
					}
					perConv[d.conversation_id] = keep;
				}
				break;
			case 'call.invite':
				learn(d.caller);
				if (d.call) {
					W.call = d.call;
				}
				break;
			case 'call.accepted':
			case 'call.answered_elsewhere':
			case 'call.ended':
			case 'call.timeout':
				if (W.call && d.call && d.call.id === W.call.id) {
					W.call = null;
				}
				break;
			case 'friend.request':
			case 'friend.accepted':
			case 'friend.rejected':
				learn(d.from_user);
				learn(d.to_user);
				break;
			case 'room.invite':
				learn(d.from);
				break;
			}
			recount();
		}

		function deliver(res) {
			var i, ev;
			for (i = 0; i < res.events.length; i++) {
				ev = res.events[i];
				/* Never twice: only what lies after the cursor. */
				if (typeof ev.seq !== 'number' || (W.cursor !== null && ev.seq <= W.cursor)) {
					continue;
				}
				W.cursor = ev.seq;
				handle(ev);
				try {
					onEvent(ev);
				} catch (e) {
					root.setTimeout(function () { throw e; }, 0);
				}
				if (!W.running) {
					return;
				}
			}
			if (W.cursor === null || res.next > W.cursor) {
				W.cursor = res.next;
			}
		}

		function schedule(delay) {
			timer = root.setTimeout(function () {
				timer = null;
				poll();
			}, delay);
		}

		function unauthorized(err) {
			W.state = 'unauthorized';
			W.running = false;
			render();
			if (opts.onUnauthorized) {
				opts.onUnauthorized(err);
			}
		}

		/* A stream token from the host: opts.streamToken itself, or a
		 * fresh one from opts.streamToken(callback). */
		function renew(then) {
			var source = opts.streamToken, answered = false;
			if (typeof source !== 'function') {
				stream.token = source ? String(source) : null;
				then();
				return;
			}
			W.renewals++;
			try {
				source(function (err, token, expiresIn) {
					if (answered || !W.running) {
						return;
					}
					answered = true;
					if (err && err.status === 401) {
						/* The host says the user is not signed in. */
						unauthorized(err);
						return;
					}
					if (err || !token) {
						/* The host could not say (down, say): try
						 * again later like any failed poll. */
						stream.token = null;
						retry();
						return;
					}
					stream.token = String(token);
					stream.expires = typeof expiresIn === 'number' ? now() + expiresIn * 1000 : 0;
					then();
				});
			} catch (e) {
				answered = true;
				stream.token = null;
				retry();
			}
		}

		function retry() {
			W.errors++;
			backoff = backoff ? Math.min(backoff * 2, 30000) : 1000;
			W.delays.push(backoff);
			W.state = 'retrying';
			render();
			schedule(backoff);
		}

		function poll() {
			if (!W.running) {
				return;
			}
			/* None yet, or it runs out within a few seconds: a new one
			 * first (a poll only needs the token valid when it starts). */
			if (stream.token === null || (stream.expires && now() > stream.expires - 5000)) {
				if (stream.token === null && typeof opts.streamToken !== 'function' && !opts.streamToken) {
					unauthorized(new Error('no stream token'));
					return;
				}
				renew(pollNow);
				return;
			}
			pollNow();
		}

		function pollNow() {
			var url = server + '/api/v1/events?', run;
			if (!W.running) {
				return;
			}
			if (W.cursor !== null) {
				url += 'since=' + W.cursor + '&timeout=' + timeout + '&';
			}
			url += 'access_token=' + encodeURIComponent(stream.token || '');
			run = abort = jsonp(url, (timeout + 15) * 1000, function (err, res) {
				if (abort !== run || !W.running) {
					return;
				}
				abort = null;
				if (!err && !(res.events && typeof res.next === 'number')) {
					err = new Error('bad_response');
					err.code = 'bad_response';
					err.status = 0;
				}
				if (!err) {
					backoff = 0;
					stream.renewed = false;
					W.state = 'live';
					deliver(res);
					render();
					if (W.running) {
						poll();
					}
					return;
				}
				if (err.status === 410 && err.data && typeof err.data.next === 'number') {
					/* Pruned or foreign cursor: go on from the head. */
					W.cursor = err.data.next;
					W.resyncs = (W.resyncs || 0) + 1;
					backoff = 0;
					W.state = 'live';
					render();
					schedule(0);
					return;
				}
				if (err.status === 401) {
					/* The stream token ran out (or its session ended):
					 * ask the host once for a new one; a second 401 in
					 * a row means the session is gone. */
					if (typeof opts.streamToken === 'function' && !stream.renewed) {
						stream.renewed = true;
						stream.token = null;
						schedule(0);
						return;
					}
					unauthorized(err);
					return;
				}
				retry();
			});
		}

		/* Opens the full client: in opts.frame (a container) or a popup.
		 * True when it did. */
		W.open = function () {
			var win, frameBox = opts.frame ? byId(opts.frame) : null;
			if (opts.onOpen && opts.onOpen(W) === false) {
				return true;
			}
			if (frameBox) {
				if (!frameOpen) {
					frameOpen = ParleyEmbed.frame({
						server: server, container: frameBox, token: opts.token,
						width: opts.frameWidth, height: opts.frameHeight
					});
				}
			} else {
				try {
					win = root.open(clientUrl(server, opts.token), 'parley',
					    'width=960,height=720,resizable=yes,scrollbars=yes');
				} catch (e) {
					win = null;
				}
				if (!win) {
					return false;
				}
				try {
					win.focus();
				} catch (e2) {
					/* focus is a nicety */
				}
			}
			perConv = {};
			recount();
			render();
			return true;
		};

		W.stop = function () {
			W.running = false;
			if (abort) {
				abort();
				abort = null;
			}
			if (timer !== null) {
				root.clearTimeout(timer);
				timer = null;
			}
		};

		build();
		/* A script tag inserted before the page's load event holds that
		 * event back (a long poll for 25 s): start once the page is in. */
		if (doc.readyState === 'complete') {
			poll();
		} else {
			on(root, 'load', function () {
				root.setTimeout(poll, 0);
			});
		}
		return W;
	};

	root.ParleyEmbed = ParleyEmbed;
}(window));
