/*
 * parley-ws.js: the WebSocket transport of Parley.EventLoop, in plain
 * ECMAScript 5. Load it after js/parley.js; every EventLoop made
 * afterwards then streams its events over GET /api/v1/stream when the
 * browser has a WebSocket, and long-polls GET /api/v1/events when it has
 * none (IE8/9), when the socket cannot be opened (a proxy that refuses
 * upgrades) or keeps failing. The socket is tried again now and then
 * (opts.wsRetry, doubling up to opts.wsRetryMax). Both transports start
 * from the loop's one cursor and advance it only by events handed out,
 * so a switch either way neither repeats nor skips an event.
 *
 * The protocol (docs/EVENTS.md): the page's session cookie authenticates
 * the upgrade (the gateway accepts it from the server's own origin), or
 * the client's bearer token as the subprotocol "token.<token>" beside
 * "parley". We send {"since": cursor} once, receive batches
 * {"events": [...], "next": N} in seq order, and acknowledge each one
 * with {"ack": N} once its events are handed out (delivery receipts).
 * Before a close the server may send {"error": {code, message}}.
 *
 * Close codes and what the loop does:
 *   4401          the session is over: as a poll's 401 (loop:unauthorized)
 *   4410          cursor_expired: as a poll's 410 (loop:resync)
 *   4400 4408 4429 1009 (and other protocol errors): polls for a while
 *   anything else (1001, 1006, 4503, ...): reconnect after a backoff,
 *                 reported as loop:error; polls after 3 failures in a row
 *   no socket at all (refused upgrade, network): polls at once
 *
 * opts (the EventLoop's):
 *   wsRetry           ms of polling before the socket is tried again
 *                     (120000), doubled after each failed retry
 *   wsRetryMax        the longest such wait (900000)
 *   wsConnectTimeout  ms for a socket to deliver its first batch (10000)
 *
 * loop._ws.stats counts sockets, batches, events and fallbacks and holds
 * the last close ("1006", "4429 too_many_sockets"): for tests and
 * debugging.
 */
(function (root) {
	'use strict';

	var Parley = root.Parley;
	var util = Parley && Parley._util;
	var PATH = '/api/v1/stream';
	var PROTOCOL = 'parley';
	/* A token goes in the handshake only if it is a valid subprotocol
	 * name; otherwise in the first frame. */
	var TOKEN_CHARS = /^[A-Za-z0-9._~!#$&'*+^`|-]+$/;
	/* A socket this long alive counted as a success. */
	var STABLE_MS = 30000;
	var MAX_FAILS = 3;
	/* Codes after which another socket is unlikely to fare better. */
	var POLL_CODES = { 1002: 1, 1003: 1, 1007: 1, 1008: 1, 1009: 1, 1010: 1,
	    4400: 1, 4408: 1, 4429: 1 };

	if (!util) {
		/* parley.js must come first; without it there is no loop. */
		return;
	}

	function now() {
		return new Date().getTime();
	}

	function isArray(a) {
		return Object.prototype.toString.call(a) === '[object Array]';
	}

	/* ws(s)://host/api/v1/stream for the client's baseUrl: '' (this
	 * origin), a path prefix or an http(s):// origin. */
	function streamUrl(baseUrl) {
		var loc = root.location;
		if (/^https?:\/\//i.test(baseUrl)) {
			return baseUrl.replace(/^http/i, 'ws') + PATH;
		}
		return (loc.protocol === 'https:' ? 'wss://' : 'ws://') + loc.host +
		    baseUrl + PATH;
	}

	function WebSocketTransport(loop, opts) {
		this.loop = loop;
		this.retryMin = opts.wsRetry || 120000;
		this.retryMax = opts.wsRetryMax || 900000;
		this.connectTimeout = opts.wsConnectTimeout || 10000;
		/* Polls until then (a time in ms); 0: the socket may be tried. */
		this.retryAt = 0;
		this.socket = null;
		this.live = false;
		this.stats = { sockets: 0, batches: 0, events: 0, fallbacks: 0, lastClose: null };
		this._fails = 0;
		this._fallbacks = 0;
		this._timer = null;
		this._generation = -1;
		this._opened = false;
		this._liveAt = 0;
		this._acked = -1;
		this._error = null;
	}

	WebSocketTransport.supported = function () {
		return !!root.WebSocket;
	};

	WebSocketTransport.prototype.usable = function () {
		return WebSocketTransport.supported() && now() >= this.retryAt;
	};

	WebSocketTransport.prototype.reset = function () {
		this.retryAt = 0;
		this._fails = 0;
		this._fallbacks = 0;
	};

	/* Opens a socket that feeds the loop's run `generation`. */
	WebSocketTransport.prototype.open = function (generation) {
		var self = this, loop = this.loop, token = loop.client.token, ws;
		var hello = { since: loop.cursor };

		this._detach(true);
		this._generation = generation;
		this._opened = false;
		this._error = null;
		/* Subscribing acknowledges `since`. */
		this._acked = loop.cursor === null ? -1 : loop.cursor;
		try {
			if (token && TOKEN_CHARS.test(token)) {
				ws = new root.WebSocket(streamUrl(loop.client.baseUrl),
				    [PROTOCOL, 'token.' + token]);
			} else {
				ws = new root.WebSocket(streamUrl(loop.client.baseUrl), PROTOCOL);
				if (token) {
					hello = { token: token, since: loop.cursor };
				}
			}
		} catch (e) {
			/* A bad URL, or a policy that forbids it. */
			this._fallback('websocket refused: ' + (e && e.message));
			return;
		}
		this.socket = ws;
		this.stats.sockets++;
		ws.onopen = function () {
			if (self.socket === ws) {
				self._opened = true;
				self._send({ since: hello.since, token: hello.token });
			}
		};
		ws.onmessage = function (e) {
			if (self.socket === ws) {
				self._message(e.data);
			}
		};
		/* An open socket's error is followed by its close, which has
		 * the code. One that never opened may get no close at all
		 * (Chromium, when a Content-Security-Policy forbids it). */
		ws.onerror = function () {
			if (self.socket === ws && !self._opened) {
				self._detach(true);
				self._closed(1006, 'error');
			}
		};
		ws.onclose = function (e) {
			if (self.socket === ws) {
				self._detach(false);
				self._closed(e.code, e.reason);
			}
		};
		/* A proxy may take the upgrade and then say nothing. */
		this._timer = root.setTimeout(function () {
			self._timer = null;
			if (self.socket === ws && !self.live) {
				self._detach(true);
				self._closed(0, 'connect_timeout');
			}
		}, this.connectTimeout);
	};

	/* The loop stopped: let go of the socket without telling it. */
	WebSocketTransport.prototype.close = function () {
		this._detach(true);
	};

	WebSocketTransport.prototype._detach = function (closeIt) {
		var ws = this.socket;
		if (this._timer !== null) {
			root.clearTimeout(this._timer);
			this._timer = null;
		}
		this.socket = null;
		this.live = false;
		if (!ws) {
			return;
		}
		ws.onopen = ws.onmessage = ws.onclose = ws.onerror = util.noop;
		if (closeIt) {
			try { ws.close(1000); } catch (e) { /* already closed */ }
		}
	};

	/* One frame to the server; `undefined` members are left out. */
	WebSocketTransport.prototype._send = function (obj) {
		try {
			this.socket.send(JSON.stringify(obj));
		} catch (e) {
			/* Closing: its onclose says what happened. */
		}
	};

	WebSocketTransport.prototype._message = function (text) {
		var loop = this.loop, generation = this._generation, msg = null;

		try {
			msg = JSON.parse(text);
		} catch (e) {
			msg = null;
		}
		if (msg && msg.error) {
			/* The reason of the close that follows. */
			this._error = msg;
			return;
		}
		if (!msg || !isArray(msg.events) || typeof msg.next !== 'number') {
			this._detach(true);
			this._closed(0, 'bad_response');
			return;
		}
		if (!this.live) {
			this.live = true;
			this._liveAt = now();
			this._fallbacks = 0;
			if (this._timer !== null) {
				root.clearTimeout(this._timer);
				this._timer = null;
			}
			loop._backoff = 0;
			loop.emit('loop:connected', 'websocket');
			if (!loop._current(generation) || !this.socket) {
				return;
			}
		}
		this.stats.batches++;
		this.stats.events += msg.events.length;
		if (!loop._apply(msg, generation) || !this.socket) {
			return;
		}
		if (msg.next > this._acked) {
			this._acked = msg.next;
			this._send({ ack: msg.next });
		}
	};

	WebSocketTransport.prototype._closed = function (code, reason) {
		var loop = this.loop, generation = this._generation, data = this._error;
		var err, delay, backoff;

		this.stats.lastClose = String(code) + (reason ? ' ' + reason : '');
		if (!loop._current(generation)) {
			return;
		}
		util.log('socket closed:', this.stats.lastClose);
		if (code === 4401) {
			loop._failed(util.makeError('invalid_token', 'The session has ended.', 401, data), generation);
			return;
		}
		if (code === 4410 && data && typeof data.next === 'number') {
			loop._failed(util.makeError('cursor_expired', data.error.message, 410, data), generation);
			return;
		}
		if (!this._opened) {
			/* No socket at all: polls may still get through. */
			this._fallback('cannot connect (' + this.stats.lastClose + ')');
			return;
		}
		if (POLL_CODES[code]) {
			this._fallback('closed ' + this.stats.lastClose);
			return;
		}
		if (this._liveAt && now() - this._liveAt >= STABLE_MS) {
			this._fails = 0;
		}
		this._liveAt = 0;
		this._fails++;
		if (this._fails >= MAX_FAILS) {
			this._fallback('keeps failing (' + this.stats.lastClose + ')');
			return;
		}
		/* Jittered: a restarted gateway is not hit by every client in
		 * the same instant. */
		backoff = Math.min(loop.maxBackoff, loop.minBackoff * Math.pow(2, this._fails - 1));
		delay = Math.round(backoff / 2 + Math.random() * backoff / 2);
		err = util.makeError((data && data.error && data.error.code) || 'connection_closed',
		    'The event stream closed (' + this.stats.lastClose + ').', 0, data);
		err.closeCode = code;
		util.log('reconnecting in', delay, 'ms');
		loop.emit('loop:error', err, delay);
		loop._schedule(delay, generation);
	};

	/* Polls for a while, then tries the socket again. */
	WebSocketTransport.prototype._fallback = function (reason) {
		var wait = Math.min(this.retryMax, this.retryMin * Math.pow(2, this._fallbacks));
		this._fallbacks++;
		this.stats.fallbacks++;
		this._fails = 0;
		this.retryAt = now() + wait;
		util.log('long-polling for', wait, 'ms:', reason);
		this.loop._next(reason);
	};

	Parley.WebSocketTransport = WebSocketTransport;
}(typeof window !== 'undefined' ? window : this));
