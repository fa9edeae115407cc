/*
 * parley.js: the browser side of Parley, in plain ECMAScript 5.
 *
 * It must run in old browsers (IE9-era engines), so it uses only
 * XMLHttpRequest, JSON and ES5 syntax: no Promise, no fetch, no classes.
 * Everything lives in one global, `Parley`:
 *
 *   Parley.Client       the HTTP API (cookie session + CSRF, or a bearer token)
 *   Parley.EventLoop    the event stream: long polls over GET /api/v1/events,
 *                       or a WebSocket when js/parley-ws.js is loaded too
 *   Parley.Emitter      the small on/off/emit base of the EventLoop and calls
 *
 * Calls are in files of their own, loaded after this one (and after
 * js/parley-ws.js when it is used), in this order:
 *
 *   js/parley-calls.js       Parley.CallManager (one-to-one WebRTC calls
 *                            signaled through Parley), Parley.webrtcSupport,
 *                            Parley.getUserMedia, Parley.attachStream
 *   js/parley-call.js        Parley.Call: one call (made by CallManager)
 *   js/parley-call-media.js  Parley.Call's peer connection and signals
 *
 * Callbacks follow the Node style `function (err, result)`. Errors are
 * Error objects with `code` (Parley's error code, or network_error,
 * timeout, ...), `status` (HTTP status, 0 when no reply came) and `data`
 * (the parsed error body).
 *
 * A minimal page:
 *
 *   var client = new Parley.Client();
 *   client.login('alice', 'secret', function (err) {
 *     var events = new Parley.EventLoop(client);
 *     var calls = new Parley.CallManager(client, events);  // the call files
 *     events.on('message', function (data) { ... });
 *     calls.on('incoming', function (call) { call.accept(); });
 *     events.start();
 *   });
 */
(function (root) {
	'use strict';

	var Parley = {};
	var API = '/api/v1';

	Parley.version = '0.1.0';

	/* Set Parley.debug = true (or a function) to see what the library does. */
	Parley.debug = false;

	/* ------------------------------------------------------------------ */
	/* Small helpers                                                      */
	/* ------------------------------------------------------------------ */

	function noop() {}

	function isFunction(f) {
		return typeof f === 'function';
	}

	function log() {
		var args = Array.prototype.slice.call(arguments);
		if (isFunction(Parley.debug)) {
			Parley.debug.apply(null, args);
		} else if (Parley.debug && root.console && root.console.log) {
			args.unshift('[parley]');
			/* IE9's console.log is not a real function: no .apply. */
			Function.prototype.apply.call(root.console.log, root.console, args);
		}
	}

	function extend(target, source) {
		var k;
		for (k in source) {
			if (Object.prototype.hasOwnProperty.call(source, k)) {
				target[k] = source[k];
			}
		}
		return target;
	}

	function makeError(code, message, status, data) {
		var e = new Error(message || code);
		e.code = code;
		e.status = status || 0;
		e.data = data || null;
		return e;
	}

	/*
	 * A listener that throws must not stop the loop or a call, but the
	 * mistake should still show up in the console: rethrow it on its own
	 * stack, outside our code.
	 */
	function reportLater(e) {
		root.setTimeout(function () { throw e; }, 0);
	}

	function readCookie(name) {
		var parts = (root.document && root.document.cookie) ?
		    root.document.cookie.split(';') : [];
		var i, kv;
		for (i = 0; i < parts.length; i++) {
			kv = parts[i].replace(/^\s+/, '');
			if (kv.indexOf(name + '=') === 0) {
				return decodeURIComponent(kv.substring(name.length + 1));
			}
		}
		return null;
	}

	/*
	 * WebRTC methods return promises in every browser that has the
	 * unprefixed RTCPeerConnection; we only call .then on what they give
	 * back, so this file itself never needs a Promise implementation.
	 */
	function settle(result, ok, fail) {
		if (result && isFunction(result.then)) {
			result.then(ok, fail);
		} else {
			ok(result);
		}
	}

	Parley.readCookie = readCookie;

	/* ------------------------------------------------------------------ */
	/* Emitter                                                            */
	/* ------------------------------------------------------------------ */

	function Emitter() {
		this._listeners = {};
	}

	Emitter.prototype.on = function (type, fn) {
		if (!this._listeners[type]) {
			this._listeners[type] = [];
		}
		this._listeners[type].push(fn);
		return this;
	};

	Emitter.prototype.off = function (type, fn) {
		var list = this._listeners[type], i;
		if (!list) {
			return this;
		}
		if (!fn) {
			delete this._listeners[type];
			return this;
		}
		for (i = list.length - 1; i >= 0; i--) {
			if (list[i] === fn || list[i]._original === fn) {
				list.splice(i, 1);
			}
		}
		return this;
	};

	Emitter.prototype.once = function (type, fn) {
		var self = this;
		function wrapper() {
			self.off(type, wrapper);
			return fn.apply(this, arguments);
		}
		wrapper._original = fn;
		return this.on(type, wrapper);
	};

	/* Calls every listener of `type` with the remaining arguments. */
	Emitter.prototype.emit = function (type) {
		var list = this._listeners[type], args, i;
		if (!list || list.length === 0) {
			return false;
		}
		args = Array.prototype.slice.call(arguments, 1);
		/* A copy: listeners may remove themselves while we iterate. */
		list = list.slice();
		for (i = 0; i < list.length; i++) {
			try {
				list[i].apply(this, args);
			} catch (e) {
				reportLater(e);
			}
		}
		return true;
	};

	function inherit(Child, Parent) {
		function Tmp() {}
		Tmp.prototype = Parent.prototype;
		Child.prototype = new Tmp();
		Child.prototype.constructor = Child;
	}

	Parley.Emitter = Emitter;

	/* ------------------------------------------------------------------ */
	/* Client: the HTTP API                                               */
	/* ------------------------------------------------------------------ */

	/*
	 * opts.baseUrl   prefix of every path ('' = same origin, the default)
	 * opts.token     a bearer token; without one the session cookie is used
	 * opts.keepToken after login, use the returned token as bearer token
	 *                (for pages that cannot rely on cookies)
	 * opts.timeout   ms before a request is given up (default 30 s)
	 * opts.withCredentials  send cookies across origins (CORS setups)
	 */
	function Client(opts) {
		opts = opts || {};
		this.baseUrl = opts.baseUrl || '';
		this.token = opts.token || null;
		this.keepToken = !!opts.keepToken;
		this.csrfToken = opts.csrfToken || null;
		this.timeout = opts.timeout || 30000;
		this.withCredentials = !!opts.withCredentials;
		this.user = null;
		/* This device's session id: calls use it to tell devices apart. */
		this.sessionId = null;
	}

	/*
	 * One request. body: an object sent as JSON, or null. callback(err,
	 * data, xhr). options.timeout overrides the client's timeout. Returns
	 * a handle whose abort() drops the request without calling back.
	 */
	Client.prototype.request = function (method, path, body, callback, options) {
		var xhr = new XMLHttpRequest();
		var done = false;
		var timer = null;
		var timeout = (options && options.timeout) || this.timeout;
		var csrf;

		callback = callback || noop;

		function finish(err, data) {
			if (done) {
				return;
			}
			done = true;
			if (timer !== null) {
				root.clearTimeout(timer);
			}
			xhr.onreadystatechange = noop;
			callback(err, data, xhr);
		}

		xhr.open(method, this.baseUrl + path, true);
		xhr.setRequestHeader('Accept', 'application/json');
		if (this.withCredentials) {
			xhr.withCredentials = true;
		}
		if (this.token) {
			xhr.setRequestHeader('Authorization', 'Bearer ' + this.token);
		} else {
			/* Cookie sessions: the server wants proof that the page can
			 * read our own cookie (CSRF) on every request that changes
			 * something, and GET /events does (receipts, presence). Read
			 * it fresh each time: a login in another tab replaces it. */
			csrf = readCookie('parley_csrf') || this.csrfToken;
			if (csrf) {
				xhr.setRequestHeader('X-CSRF-Token', csrf);
			}
		}
		if (body !== null && body !== undefined) {
			xhr.setRequestHeader('Content-Type', 'application/json');
		}
		xhr.onreadystatechange = function () {
			if (xhr.readyState === 4) {
				parseReply(xhr, finish);
			}
		};
		/* xhr.timeout is missing in IE9: a timer works everywhere. */
		timer = root.setTimeout(function () {
			timer = null;
			finish(makeError('timeout', 'The request timed out.', 0));
			try { xhr.abort(); } catch (e) { /* already closed */ }
		}, timeout);
		xhr.send(body !== null && body !== undefined ? JSON.stringify(body) : null);

		return {
			abort: function () {
				done = true;
				if (timer !== null) {
					root.clearTimeout(timer);
				}
				xhr.onreadystatechange = noop;
				try { xhr.abort(); } catch (e) { /* already closed */ }
			}
		};
	};

	/* Turns a finished XHR into (err, data) following Parley's error
	 * convention {"error":{"code","message"}}. */
	function parseReply(xhr, finish) {
		var status = xhr.status, json = null, bad = false, err, retry;

		if (status === 1223) {
			/* IE9 and older report 204 No Content as 1223. */
			status = 204;
		}
		if (status === 0) {
			finish(makeError('network_error', 'No reply from the server.', 0));
			return;
		}
		if (xhr.responseText) {
			try {
				json = JSON.parse(xhr.responseText);
			} catch (e) {
				bad = true;
			}
		}
		if (status >= 200 && status < 300) {
			if (bad) {
				/* Not the API (a proxy's page, say): never pass it on
				 * as data. */
				finish(makeError('bad_response', 'The reply is not JSON.', status));
			} else {
				finish(null, json);
			}
			return;
		}
		if (json && json.error) {
			err = makeError(json.error.code, json.error.message, status, json);
		} else {
			err = makeError('http_' + status, 'HTTP ' + status, status, json);
		}
		retry = parseInt(xhr.getResponseHeader('Retry-After'), 10);
		if (retry >= 0) {
			err.retryAfter = retry;
		}
		finish(err);
	}

	Client.prototype.get = function (path, callback, options) {
		return this.request('GET', API + path, null, callback, options);
	};

	Client.prototype.post = function (path, body, callback, options) {
		return this.request('POST', API + path, body, callback, options);
	};

	Client.prototype.patch = function (path, body, callback, options) {
		return this.request('PATCH', API + path, body, callback, options);
	};

	Client.prototype.del = function (path, callback, options) {
		return this.request('DELETE', API + path, null, callback, options);
	};

	/* Remembers who we are after login, register or /auth/me. */
	Client.prototype._adopt = function (res) {
		if (res.user) {
			this.user = res.user;
		}
		if (res.session_id !== undefined) {
			this.sessionId = res.session_id;
		}
		if (res.csrf_token) {
			this.csrfToken = res.csrf_token;
		}
		if (res.token && this.keepToken) {
			this.token = res.token;
		}
	};

	/* POST /auth/login; the reply sets the session and CSRF cookies. */
	Client.prototype.login = function (username, password, callback) {
		var self = this;
		callback = callback || noop;
		return this.post('/auth/login', { username: username, password: password },
		    function (err, res) {
			if (!err) {
				self._adopt(res);
			}
			callback(err, res);
		});
	};

	/* POST /auth/register with {username, password, display_name?}. */
	Client.prototype.register = function (fields, callback) {
		var self = this;
		callback = callback || noop;
		return this.post('/auth/register', fields, function (err, res) {
			if (!err) {
				self._adopt(res);
			}
			callback(err, res);
		});
	};

	/* POST /auth/ticket: single sign-on. A site's backend got a one-time
	 * login ticket for its user; this trades it for a session. */
	Client.prototype.redeemTicket = function (ticket, callback) {
		var self = this;
		callback = callback || noop;
		return this.post('/auth/ticket', { ticket: ticket }, function (err, res) {
			if (!err) {
				self._adopt(res);
			}
			callback(err, res);
		});
	};

	/* GET /auth/me: who the cookie (or token) belongs to, e.g. after a
	 * page reload. */
	Client.prototype.me = function (callback) {
		var self = this;
		callback = callback || noop;
		return this.get('/auth/me', function (err, res) {
			if (!err) {
				self._adopt(res);
			}
			callback(err, res);
		});
	};

	Client.prototype.logout = function (callback) {
		var self = this;
		callback = callback || noop;
		return this.post('/auth/logout', null, function (err) {
			self.user = null;
			self.sessionId = null;
			self.csrfToken = null;
			if (self.keepToken) {
				self.token = null;
			}
			callback(err);
		});
	};

	Parley.Client = Client;

	/* ------------------------------------------------------------------ */
	/* EventLoop: the event stream                                        */
	/* ------------------------------------------------------------------ */

	/*
	 * Keeps one long poll open on GET /api/v1/events (or, when
	 * js/parley-ws.js is loaded and the browser has WebSocket, one socket
	 * on GET /api/v1/stream, falling back to polls by itself) and hands
	 * every event to the listeners of its type, in order and exactly once,
	 * whichever transport brought it: both resume from the same cursor.
	 *
	 *   loop.on('message', function (data, event) { ... });
	 *   loop.on('*', function (event) { ... });        every event
	 *
	 * It also reports on itself with names that hold a colon (server event
	 * types never do):
	 *
	 *   loop:ready         the cursor is known; this device counts as online
	 *   loop:connected     (transport) a poll answered, or a WebSocket
	 *                      delivered its first batch ('poll', 'websocket')
	 *   loop:error         (err, retryInMs) a poll or the socket failed,
	 *                      retrying later
	 *   loop:transport     (transport, reason) the transport changed
	 *   loop:resync        ({oldest, next}) events were pruned (410): reload
	 *                      your state, the loop goes on from `next`
	 *   loop:unauthorized  (err) 401: the session is gone; the loop stopped
	 *   loop:stopped
	 *
	 * opts.cursor      resume after this seq (else start at the head)
	 * opts.timeout     seconds the server may hold a poll (default 25; a held
	 *                  poll keeps this device online)
	 * opts.minBackoff  first retry delay after an error, ms (1000)
	 * opts.maxBackoff  longest retry delay, ms (30000)
	 * opts.websocket   false: long polls only (parley-ws.js has more)
	 *
	 * loop.transport says which one is in use: 'poll' or 'websocket'.
	 */
	function EventLoop(client, opts) {
		Emitter.call(this);
		opts = opts || {};
		this.client = client;
		this.cursor = typeof opts.cursor === 'number' ? opts.cursor : null;
		this.timeout = opts.timeout || 25;
		this.minBackoff = opts.minBackoff || 1000;
		this.maxBackoff = opts.maxBackoff || 30000;
		this.running = false;
		this.ready = false;
		this._backoff = 0;
		this._req = null;
		this._timer = null;
		/* Bumped by start/stop: replies to an older generation are
		 * dropped, so a stopped loop never delivers anything. */
		this._generation = 0;
		this.transport = null;
		/* The WebSocket transport (js/parley-ws.js), when loaded. Its
		 * side of the bargain: usable(), open(generation), close(),
		 * reset(); it delivers through _apply() and hands back to
		 * _next() (polls) or _failed() (401, 410). */
		this._ws = Parley.WebSocketTransport && opts.websocket !== false ?
		    new Parley.WebSocketTransport(this, opts) : null;
	}
	inherit(EventLoop, Emitter);

	EventLoop.prototype.start = function () {
		if (this.running) {
			return this;
		}
		this.running = true;
		this._generation++;
		this._backoff = 0;
		if (this.cursor !== null) {
			this._setReady();
		}
		if (this._ws) {
			/* A (re)start tries the socket again at once. */
			this._ws.reset();
		}
		this._next();
		return this;
	};

	EventLoop.prototype.stop = function () {
		if (!this.running) {
			return this;
		}
		this.running = false;
		this.ready = false;
		this._generation++;
		if (this._req) {
			this._req.abort();
			this._req = null;
		}
		if (this._timer !== null) {
			root.clearTimeout(this._timer);
			this._timer = null;
		}
		if (this._ws) {
			this._ws.close();
		}
		this.emit('loop:stopped');
		return this;
	};

	EventLoop.prototype._setReady = function () {
		if (!this.ready) {
			this.ready = true;
			this.emit('loop:ready', this.cursor);
		}
	};

	/* True while the loop run that began at `generation` is still the
	 * current one: listeners may stop (or restart) the loop at any time,
	 * and the old run must then do nothing more. */
	EventLoop.prototype._current = function (generation) {
		return this.running && generation === this._generation;
	};

	/* The next request of the stream: the socket while it is usable,
	 * else a poll. Both start from this.cursor. `reason`: why the
	 * transport may change (for loop:transport). */
	EventLoop.prototype._next = function (reason) {
		var transport = this._ws && this._ws.usable() ? 'websocket' : 'poll';
		if (transport !== this.transport) {
			log('transport:', transport, reason || '');
			this.transport = transport;
			this.emit('loop:transport', transport, reason || null);
			if (!this._current(this._generation)) {
				return;
			}
		}
		if (transport === 'websocket') {
			this._ws.open(this._generation);
		} else {
			this._poll();
		}
	};

	EventLoop.prototype._poll = function () {
		var self = this, generation = this._generation, path;

		if (this.cursor === null) {
			/* The first request learns the head and returns at once. */
			path = '/events';
		} else {
			path = '/events?since=' + this.cursor + '&timeout=' + this.timeout;
		}
		this._req = this.client.get(path, function (err, res) {
			if (!self._current(generation)) {
				return;
			}
			self._req = null;
			if (!err && !(res && res.events && typeof res.next === 'number')) {
				err = makeError('bad_response', 'The reply is not an event batch.', 200);
			}
			if (err) {
				self._failed(err, generation);
				return;
			}
			self._backoff = 0;
			self.emit('loop:connected', 'poll');
			if (self._apply(res, generation)) {
				self._next();
			}
		}, { timeout: (this.timeout + 15) * 1000 });
	};

	EventLoop.prototype._schedule = function (delay, generation) {
		var self = this;
		if (!this._current(generation)) {
			return;
		}
		this._timer = root.setTimeout(function () {
			self._timer = null;
			if (self._current(generation)) {
				self._next();
			}
		}, delay);
	};

	EventLoop.prototype._failed = function (err, generation) {
		var delay;

		if (err.status === 410 && err.data && typeof err.data.next === 'number') {
			/* Events between our cursor and `oldest` are gone. Jump to
			 * the head; the application reloads what it shows. */
			log('cursor expired; resync from', err.data.next);
			this.cursor = err.data.next;
			this.emit('loop:resync', { oldest: err.data.oldest, next: err.data.next });
			if (this._current(generation)) {
				this._setReady();
			}
			this._schedule(0, generation);
			return;
		}
		if (err.status === 401) {
			/* Retrying cannot help: the session was revoked or expired. */
			this.emit('loop:unauthorized', err);
			this.stop();
			return;
		}
		this._backoff = this._backoff ?
		    Math.min(this._backoff * 2, this.maxBackoff) : this.minBackoff;
		delay = this._backoff;
		if (err.retryAfter && err.retryAfter * 1000 > delay) {
			delay = err.retryAfter * 1000;
		}
		log('poll failed:', err.code, '- retry in', delay, 'ms');
		this.emit('loop:error', err, delay);
		this._schedule(delay, generation);
	};

	/* Hands out a batch {events, next} and moves the cursor past it.
	 * False when a listener stopped (or restarted) the loop meanwhile. */
	EventLoop.prototype._apply = function (res, generation) {
		var events = res.events, i, ev;

		for (i = 0; i < events.length; i++) {
			ev = events[i];
			/* Never twice: a retried or duplicated reply may repeat
			 * events we already handed out. */
			if (typeof ev.seq !== 'number' ||
			    (this.cursor !== null && ev.seq <= this.cursor)) {
				continue;
			}
			this.cursor = ev.seq;
			this.emit(ev.type, ev.data, ev);
			this.emit('*', ev);
			if (!this._current(generation)) {
				return false;
			}
		}
		if (this.cursor === null || res.next > this.cursor) {
			this.cursor = res.next;
		}
		this._setReady();
		return this._current(generation);
	};

	Parley.EventLoop = EventLoop;
	/* For js/parley-ws.js and the call files (js/parley-calls.js,
	 * js/parley-call.js, js/parley-call-media.js), loaded after this file. */
	Parley._util = { log: log, makeError: makeError, noop: noop, isFunction: isFunction,
	    extend: extend, reportLater: reportLater, settle: settle, inherit: inherit,
	    Emitter: Emitter };

	root.Parley = Parley;
}(typeof window !== 'undefined' ? window : this));
