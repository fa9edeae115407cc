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
 *   Parley.CallManager  one-to-one WebRTC calls signaled through Parley
 *   Parley.Call         one call (made by CallManager)
 *   Parley.Emitter      the small on/off/emit base of the three above
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
 *     var calls = new Parley.CallManager(client, events);
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
	/* For js/parley-ws.js, which is loaded after this file. */
	Parley._util = { log: log, makeError: makeError, noop: noop };

	/* ------------------------------------------------------------------ */
	/* WebRTC support                                                     */
	/* ------------------------------------------------------------------ */

	function legacyGetUserMedia() {
		var nav = root.navigator || {};
		return nav.getUserMedia || nav.webkitGetUserMedia || nav.mozGetUserMedia || null;
	}

	/* What this browser lacks for calls: {supported, missing: [...]}. */
	Parley.webrtcSupport = function () {
		var nav = root.navigator || {}, missing = [];
		if (!root.RTCPeerConnection) {
			missing.push('RTCPeerConnection');
		}
		if (!(nav.mediaDevices && nav.mediaDevices.getUserMedia) && !legacyGetUserMedia()) {
			missing.push('getUserMedia');
		}
		return { supported: missing.length === 0, missing: missing };
	};

	/* Camera and microphone: callback(err, stream). */
	Parley.getUserMedia = function (constraints, callback) {
		var nav = root.navigator || {}, legacy;
		function fail(e) {
			var err = makeError('media_unavailable',
			    'Camera or microphone unavailable: ' + ((e && (e.name || e.message)) || e));
			err.cause = e;
			callback(err);
		}
		if (nav.mediaDevices && nav.mediaDevices.getUserMedia) {
			settle(nav.mediaDevices.getUserMedia(constraints),
			    function (stream) { callback(null, stream); }, fail);
			return;
		}
		legacy = legacyGetUserMedia();
		if (!legacy) {
			fail('not supported');
			return;
		}
		legacy.call(nav, constraints, function (stream) { callback(null, stream); }, fail);
	};

	/* Shows a stream in a <video> or <audio> element. */
	Parley.attachStream = function (element, stream) {
		if (!element) {
			return;
		}
		if ('srcObject' in element) {
			element.srcObject = stream;
		} else if (stream) {
			element.src = root.URL.createObjectURL(stream);
		} else {
			element.removeAttribute('src');
		}
		if (stream && isFunction(element.play)) {
			/* Autoplay may be refused until the user clicks; the
			 * element's controls remain. */
			settle(element.play(), noop, noop);
		}
	};

	function stopStream(stream) {
		var tracks, i;
		if (!stream) {
			return;
		}
		tracks = stream.getTracks ? stream.getTracks() : [];
		for (i = 0; i < tracks.length; i++) {
			tracks[i].stop();
		}
	}

	function setTracksEnabled(stream, kind, enabled) {
		var tracks, i;
		if (!stream) {
			return;
		}
		tracks = kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks();
		for (i = 0; i < tracks.length; i++) {
			tracks[i].enabled = enabled;
		}
	}

	/* What goes over the wire: only the fields the server relays. */
	function descriptionJson(desc) {
		return { type: desc.type, sdp: desc.sdp };
	}

	function candidateJson(c) {
		return {
			candidate: c.candidate,
			sdpMid: c.sdpMid === undefined ? null : c.sdpMid,
			sdpMLineIndex: c.sdpMLineIndex === undefined ? null : c.sdpMLineIndex,
			usernameFragment: c.usernameFragment === undefined ? null : c.usernameFragment
		};
	}

	/* ------------------------------------------------------------------ */
	/* CallManager: this device's one-to-one calls                        */
	/* ------------------------------------------------------------------ */

	/*
	 * Listens to the event loop for call.* events and keeps the calls of
	 * this device. Emits:
	 *
	 *   incoming (call)   a call rings here (call.caller: {id, username,
	 *                     display_name}; call.supported is false when this
	 *                     browser cannot answer it)
	 *   outgoing (call)   a call placed here was created
	 *   ended    (call)   a call of this device ended (call.reason)
	 *   error    (err, call)
	 *
	 * opts.sessionId  this device's session id (default: client.sessionId,
	 *                 which login and me() fill in)
	 * opts.rtcConfig  extra RTCPeerConnection configuration
	 * opts.constraints function (media) -> getUserMedia constraints
	 *
	 * ICE servers: the server hands each party TURN credentials of its own
	 * for each call, good for little more than the ring time: the caller
	 * in the reply to POST /calls and again with call.accepted, the callee
	 * with call.invite and again in the reply to accept. Those are used;
	 * GET /ice-servers (a short-lived credential for any call) only when a
	 * server sends none.
	 */
	function CallManager(client, events, opts) {
		Emitter.call(this);
		this.client = client;
		this.events = events;
		this.opts = opts || {};
		this.calls = {};
		/* Events for calls we are still placing (POST /calls has not
		 * answered yet): replayed once the call id is known. */
		this._placing = 0;
		this._early = [];
		this._ice = null;
		this._handlers = {};
		this._subscribe();
	}
	inherit(CallManager, Emitter);

	CallManager.EVENTS = ['call.invite', 'call.accepted', 'call.answered_elsewhere',
	    'call.signal', 'call.ended', 'call.timeout'];

	CallManager.prototype._subscribe = function () {
		var self = this, i;
		function handler(type) {
			return function (data) { self._route(type, data); };
		}
		for (i = 0; i < CallManager.EVENTS.length; i++) {
			this._handlers[CallManager.EVENTS[i]] = handler(CallManager.EVENTS[i]);
			this.events.on(CallManager.EVENTS[i], this._handlers[CallManager.EVENTS[i]]);
		}
		this._handlers['loop:resync'] = function () { self._refreshAll(); };
		this.events.on('loop:resync', this._handlers['loop:resync']);
	};

	/* Stops listening. Calls this device takes part in are hung up (or
	 * canceled); calls only ringing here are dropped without rejecting
	 * them, so the user's other devices keep ringing. */
	CallManager.prototype.destroy = function () {
		var type, id, call;
		for (type in this._handlers) {
			if (Object.prototype.hasOwnProperty.call(this._handlers, type)) {
				this.events.off(type, this._handlers[type]);
			}
		}
		for (id in this.calls) {
			if (Object.prototype.hasOwnProperty.call(this.calls, id)) {
				call = this.calls[id];
				if (call.direction === 'incoming' && call.state === 'ringing') {
					call.ignore();
				} else {
					call.hangup();
				}
			}
		}
	};

	CallManager.prototype.deviceId = function () {
		return this.opts.sessionId !== undefined ? this.opts.sessionId : this.client.sessionId;
	};

	CallManager.prototype._route = function (type, data) {
		var id = type === 'call.signal' ? data.call_id : (data.call && data.call.id);
		var call = this.calls[id];

		if (type === 'call.invite') {
			if (!call) {
				this._incoming(data);
			}
			return;
		}
		if (!call) {
			if (this._placing > 0) {
				this._early.push({ type: type, data: data });
			}
			/* Otherwise: a call of another of our devices. */
			return;
		}
		switch (type) {
		case 'call.accepted':
			call._onAccepted(data.call, data.ice);
			break;
		case 'call.answered_elsewhere':
			call._onAnswered(data.device);
			break;
		case 'call.signal':
			call._onSignal(data.kind, data.data);
			break;
		case 'call.ended':
			call._finish(data.call.reason, data.call);
			break;
		case 'call.timeout':
			call._finish('timeout', data.call);
			break;
		}
	};

	CallManager.prototype._incoming = function (data) {
		var call = new Call(this, data.call, 'incoming');
		call.caller = data.caller || null;
		call._ice = data.ice || null;
		call.supported = Parley.webrtcSupport().supported;
		this.calls[call.id] = call;
		this.emit('incoming', call);
	};

	/*
	 * Calls a friend: media is 'audio' or 'video'. Camera and microphone
	 * are opened first, so a refused permission never rings the callee.
	 * callback(err, call); err.code is busy, callee_offline, not_friends,
	 * webrtc_unsupported, media_unavailable, ...
	 */
	CallManager.prototype.place = function (userId, media, callback) {
		var self = this, support = Parley.webrtcSupport();

		callback = callback || noop;
		media = media === 'video' ? 'video' : 'audio';
		if (!support.supported) {
			this._unsupported(support, callback);
			return;
		}
		this._placing++;
		/* The call's ICE servers come with the reply: only the media
		 * is opened first. */
		this._prepare(media, false, function (err, prep) {
			if (err) {
				self._placed();
				callback(err);
				return;
			}
			self.client.post('/calls', { to: userId, media: media }, function (err2, res) {
				var call;
				if (err2) {
					self._placed();
					stopStream(prep.stream);
					callback(err2);
					return;
				}
				call = new Call(self, res.call, 'outgoing');
				self.calls[call.id] = call;
				/* Hand the call out first, so its listeners are in
				 * place before it emits localstream. */
				self.emit('outgoing', call);
				try {
					callback(null, call);
				} catch (e) {
					reportLater(e);
				}
				/* Events that came before the reply wait in
				 * _early; ones after it find the call and queue
				 * until its peer connection exists. */
				self._servers(res.ice, function (servers) {
					prep.iceServers = servers;
					call._startMedia(prep);
					self._replayEarly(call.id);
					self._placed();
				});
			});
		});
	};

	CallManager.prototype._placed = function () {
		this._placing--;
		if (this._placing === 0) {
			this._early = [];
		}
	};

	CallManager.prototype._replayEarly = function (id) {
		var early = this._early, i, e, eid;
		this._early = [];
		for (i = 0; i < early.length; i++) {
			e = early[i];
			eid = e.type === 'call.signal' ? e.data.call_id : e.data.call.id;
			if (eid === id) {
				this._route(e.type, e.data);
			} else {
				this._early.push(e);
			}
		}
	};

	CallManager.prototype._unsupported = function (support, callback) {
		var err = makeError('webrtc_unsupported',
		    'This browser cannot make calls (missing ' + support.missing.join(', ') + ').');
		this.emit('error', err, null);
		callback(err);
	};

	/* getUserMedia constraints for a call's media. */
	CallManager.prototype._constraints = function (media) {
		if (isFunction(this.opts.constraints)) {
			return this.opts.constraints(media);
		}
		return { audio: true, video: media === 'video' };
	};

	/* Local media and the ICE servers, side by side: `ice` is the
	 * {ice_servers} the server handed out with the call; without it they
	 * are fetched (GET /ice-servers); false: later, from the reply.
	 * callback(err, {iceServers, stream}). */
	CallManager.prototype._prepare = function (media, ice, callback) {
		var pending = ice === false ? 1 : 2, failed = null, out = {};
		function join(err) {
			if (err && !failed) {
				failed = err;
			}
			if (--pending === 0) {
				if (failed) {
					stopStream(out.stream);
					callback(failed);
				} else {
					callback(null, out);
				}
			}
		}
		if (ice !== false) {
			this._servers(ice, function (servers) {
				out.iceServers = servers;
				join(null);
			});
		}
		Parley.getUserMedia(this._constraints(media), function (err, stream) {
			out.stream = stream;
			join(err);
		});
	};

	/* The servers of a call's {ice_servers} object, or (when the server
	 * sent none) those of GET /ice-servers: callback(servers). */
	CallManager.prototype._servers = function (ice, callback) {
		if (ice && ice.ice_servers) {
			callback(ice.ice_servers);
			return;
		}
		this.iceServers(function (err, servers) {
			/* Without STUN/TURN, host candidates still connect peers on
			 * the same network: go on. */
			if (err) {
				log('ice-servers failed:', err.code);
			}
			callback(servers || []);
		});
	};

	/* GET /ice-servers, reused for half of its ttl (the TURN credentials
	 * expire after ttl): the fallback for a server that hands out no
	 * servers with its calls. */
	CallManager.prototype.iceServers = function (callback) {
		var self = this, ice = this._ice;
		if (ice && new Date().getTime() < ice.until) {
			callback(null, ice.servers);
			return;
		}
		this.client.get('/ice-servers', function (err, res) {
			if (err) {
				callback(err, []);
				return;
			}
			self._ice = {
				servers: res.ice_servers || [],
				until: new Date().getTime() + (res.ttl || 0) * 500
			};
			callback(null, self._ice.servers);
		});
	};

	/* After a 410 resync, call events may have been lost: ask the server
	 * how our calls stand. */
	CallManager.prototype._refreshAll = function () {
		var id;
		for (id in this.calls) {
			if (Object.prototype.hasOwnProperty.call(this.calls, id)) {
				this.calls[id].refresh();
			}
		}
	};

	CallManager.prototype._forget = function (call) {
		if (this.calls[call.id] === call) {
			delete this.calls[call.id];
		}
		this.emit('ended', call);
	};

	Parley.CallManager = CallManager;

	/* ------------------------------------------------------------------ */
	/* Call: one call on this device                                      */
	/* ------------------------------------------------------------------ */

	var RETRIES = 4;        /* for requests that got no clear answer */
	var PENDING_MAX = 500;  /* buffered signals per call */

	/* No reply, or nginx could not reach the service: the request may be
	 * repeated. Any other error is the server's final word. */
	function retryable(err) {
		return err.status === 0 || err.status === 502 || err.status === 503 ||
		    err.status === 504;
	}

	/*
	 * call.state: ringing | active | ended (the server's view; a call is
	 * active once answered). call.connectionState: new | connecting |
	 * connected | disconnected | failed | closed (the media path).
	 *
	 * Emits:
	 *   state       (state)
	 *   connection  (connectionState)
	 *   localstream (MediaStream)
	 *   remotestream (MediaStream)
	 *   ended       (reason, call)  reason: hangup, rejected, canceled,
	 *               timeout, disconnected, answered_elsewhere, ...
	 *   error       (err)
	 */
	function Call(manager, info, direction) {
		Emitter.call(this);
		this.manager = manager;
		this.client = manager.client;
		this.id = info.id;
		this.info = info;
		this.direction = direction;
		this.media = info.media;
		this.peer = direction === 'outgoing' ? info.to : info.from;
		this.caller = null;
		this.supported = true;
		this.state = info.state || 'ringing';
		this.reason = null;
		this.connectionState = 'new';
		this.iceConnectionState = 'new';
		this.localStream = null;
		this.remoteStream = null;
		this.muted = false;
		this.cameraOn = true;
		this.pc = null;
		this._accepting = false;
		this._ice = null;            /* {ice_servers} from call.invite */
		this._config = null;         /* the peer connection's configuration */
		this._laterServers = null;   /* newer servers, for the connection */
		this._pendingSignals = [];   /* arrived before our peer connection */
		this._remoteCandidates = []; /* arrived before the remote description */
		this._hasRemote = false;
		this._ops = [];              /* WebRTC steps, one at a time */
		this._opRunning = false;
		this._outbox = [];           /* signals to send, one at a time */
		this._sending = false;
	}
	inherit(Call, Emitter);

	Call.prototype._path = function (action) {
		return '/calls/' + this.id + (action ? '/' + action : '');
	};

	Call.prototype._setState = function (state) {
		if (this.state !== state) {
			this.state = state;
			this.emit('state', state);
		}
	};

	/* --- answering and ending --- */

	/* Answers an incoming call on this device: opens camera and
	 * microphone, then POST /accept. callback(err, call). */
	Call.prototype.accept = function (callback) {
		var self = this, support = Parley.webrtcSupport();

		callback = callback || noop;
		if (this.direction !== 'incoming' || this.state !== 'ringing' || this._accepting) {
			callback(makeError('not_ringing', 'This call cannot be accepted here.'));
			return;
		}
		if (!support.supported) {
			this.manager._unsupported(support, callback);
			return;
		}
		this._accepting = true;
		this.manager._prepare(this.media, this._ice, function (err, prep) {
			if (err) {
				self._accepting = false;
				self.emit('error', err);
				callback(err);
				return;
			}
			if (self.state === 'ended') {
				self._accepting = false;
				stopStream(prep.stream);
				callback(makeError('call_ended', 'The call has ended.'));
				return;
			}
			self._postAccept(prep, 0, callback);
		});
	};

	/* POST /accept. The server answers a repeated accept from the same
	 * device again, so a lost reply is simply retried. */
	Call.prototype._postAccept = function (prep, tries, callback) {
		var self = this;
		this.client.post(this._path('accept'), null, function (err, res) {
			if (err && retryable(err) && tries < RETRIES && self.state !== 'ended') {
				root.setTimeout(function () {
					self._postAccept(prep, tries + 1, callback);
				}, 1000 * (tries + 1));
				return;
			}
			self._accepting = false;
			if (err) {
				stopStream(prep.stream);
				if (err.code === 'answered_elsewhere') {
					self._finish('answered_elsewhere', null);
				} else if (err.code === 'call_ended' || err.code === 'call_not_found') {
					self.refresh();
				}
				callback(err);
				return;
			}
			if (self.state === 'ended') {
				/* Ended while the reply travelled: nothing to start. */
				stopStream(prep.stream);
				callback(makeError('call_ended', 'The call has ended.'));
				return;
			}
			self.info = res.call;
			/* Fresh credentials for this call, from the accept. */
			if (res.ice && res.ice.ice_servers) {
				prep.iceServers = res.ice.ice_servers;
			}
			self._setState('active');
			self._startMedia(prep);
			callback(null, self);
		});
	};

	/*
	 * Ends the call the right way for its state: cancel (we are calling,
	 * it rings), reject (it rings here), hangup (answered). Camera and
	 * microphone are released at once. callback(err, call).
	 */
	Call.prototype.hangup = function (callback) {
		var action;
		callback = callback || noop;
		if (this.state === 'ended') {
			callback(null, this);
			return;
		}
		if (this.state === 'active') {
			action = 'hangup';
		} else {
			action = this.direction === 'outgoing' ? 'cancel' : 'reject';
		}
		this._closeMedia();
		this._end(action, 0, callback);
	};

	Call.prototype.reject = function (callback) {
		this.hangup(callback);
	};

	/* Stops an incoming call ringing on this device only: the server is
	 * not told, so the caller keeps waiting and other devices ring on. */
	Call.prototype.ignore = function () {
		if (this.direction === 'incoming' && this.state === 'ringing') {
			this._finish('ignored', null);
		}
	};

	Call.prototype.cancel = function (callback) {
		this.hangup(callback);
	};

	var END_REASONS = { hangup: 'hangup', cancel: 'canceled', reject: 'rejected' };

	Call.prototype._end = function (action, tries, callback) {
		var self = this;
		this.client.post(this._path(action), null, function (err, res) {
			if (!err) {
				self._finish(res.call.reason, res.call);
				callback(null, self);
			} else if (err.code === 'not_ringing' && action === 'cancel') {
				/* The callee answered just now: hang up instead. */
				self._end('hangup', tries, callback);
			} else if (err.code === 'not_ringing' || err.code === 'call_ended' ||
			    err.code === 'call_not_found') {
				/* Ended (or answered elsewhere) meanwhile: learn how. */
				self.refresh(function () { callback(null, self); });
			} else if (retryable(err) && tries < RETRIES) {
				root.setTimeout(function () {
					self._end(action, tries + 1, callback);
				}, 1000 * (tries + 1));
			} else {
				self.emit('error', err);
				self._finish(END_REASONS[action], null);
				callback(err);
			}
		});
	};

	/* GET /calls/{id}, and finish locally if the call is over for us.
	 * callback() when done. */
	Call.prototype.refresh = function (callback) {
		var self = this;
		callback = callback || noop;
		this.client.get(this._path(''), function (err, res) {
			var info = res && res.call;
			if (err) {
				if (err.code === 'call_not_found') {
					self._finish('ended', null);
				}
			} else if (info.state === 'ended') {
				self._finish(info.reason, info);
			} else if (info.state === 'active' && self.direction === 'incoming' &&
			    self.state === 'ringing' && !self._accepting) {
				self._finish('answered_elsewhere', info);
			}
			callback();
		});
	};

	/* Ends the call here (the server already knows), exactly once. */
	Call.prototype._finish = function (reason, info) {
		if (this.state === 'ended') {
			return;
		}
		if (info) {
			this.info = info;
		}
		this.reason = reason || 'ended';
		this._closeMedia();
		this._outbox = [];
		this._ops = [];
		this._pendingSignals = [];
		this._remoteCandidates = [];
		this._setState('ended');
		this.emit('ended', this.reason, this);
		this.manager._forget(this);
	};

	/* --- events from the server --- */

	Call.prototype._onAccepted = function (info, ice) {
		var self = this;
		this.info = info;
		if (this.direction !== 'outgoing' || this.state !== 'ringing') {
			return;
		}
		if (ice && ice.ice_servers) {
			this._setIceServers(ice.ice_servers);
		}
		this._setState('active');
		/* The caller offers once the callee's device is known, so the
		 * callee's other devices never receive our media description. */
		this._queue(function (done) { self._makeOffer(done); });
	};

	Call.prototype._onAnswered = function (device) {
		var mine = this.manager.deviceId();
		if (this.direction !== 'incoming') {
			return;
		}
		if ((mine !== null && mine !== undefined && device === mine) ||
		    ((mine === null || mine === undefined) && this._accepting)) {
			return;
		}
		/* Another of our devices took it: stop ringing here. */
		this._finish('answered_elsewhere', null);
	};

	Call.prototype._onSignal = function (kind, data) {
		var self = this;
		if (this.state === 'ended') {
			return;
		}
		if (!this.pc) {
			/* Still ringing here, or media still opening. */
			if (this._pendingSignals.length < PENDING_MAX) {
				this._pendingSignals.push({ kind: kind, data: data });
			}
			return;
		}
		if (kind === 'offer' || kind === 'answer') {
			this._queue(function (done) { self._applyDescription(kind, data, done); });
		} else if (kind === 'candidate') {
			if (!this._hasRemote) {
				if (this._remoteCandidates.length < PENDING_MAX) {
					this._remoteCandidates.push(data);
				}
			} else {
				this._queue(function (done) { self._addCandidate(data, done); });
			}
		}
	};

	/* --- the peer connection --- */

	Call.prototype._startMedia = function (prep) {
		var i, pending, tracks, config;

		if (this.state === 'ended') {
			/* Hung up before media started (e.g. from a listener). */
			stopStream(prep.stream);
			return;
		}
		this.localStream = prep.stream;
		this.emit('localstream', prep.stream);
		config = extend({ iceServers: prep.iceServers }, this.manager.opts.rtcConfig || {});
		try {
			this.pc = new root.RTCPeerConnection(config);
		} catch (e) {
			/* An odd entry (say, a turns: URI this browser does not
			 * know) must not cost the call: retry without servers. */
			log('RTCPeerConnection refused the configuration:', e && e.message);
			config = extend(config, { iceServers: [] });
			this.pc = new root.RTCPeerConnection(config);
		}
		this._config = config;
		if (this._laterServers) {
			this._setIceServers(this._laterServers);
		}
		this._watch(this.pc);
		if (this.pc.addTrack) {
			tracks = prep.stream.getTracks();
			for (i = 0; i < tracks.length; i++) {
				this.pc.addTrack(tracks[i], prep.stream);
			}
		} else {
			this.pc.addStream(prep.stream);
		}
		pending = this._pendingSignals;
		this._pendingSignals = [];
		for (i = 0; i < pending.length; i++) {
			this._onSignal(pending[i].kind, pending[i].data);
		}
		/* Steps queued before the connection existed can run now. */
		this._runOps();
	};

	/* Newer credentials for this call (call.accepted): the connection
	 * gathers with them, as long as it has not started to. Before the
	 * connection exists they wait for it. */
	Call.prototype._setIceServers = function (servers) {
		var pc = this.pc, config;
		if (!pc) {
			this._laterServers = servers;
			return;
		}
		this._laterServers = null;
		if (!isFunction(pc.setConfiguration)) {
			return;
		}
		config = extend(extend({}, this._config), { iceServers: servers });
		try {
			pc.setConfiguration(config);
			this._config = config;
		} catch (e) {
			/* Refused (an odd entry, or gathering began): the
			 * servers it has still serve the call. */
			log('setConfiguration refused the ICE servers:', e && e.message);
		}
	};

	Call.prototype._watch = function (pc) {
		var self = this;
		pc.onicecandidate = function (e) {
			if (e.candidate) {
				self._send('candidate', candidateJson(e.candidate));
			} else {
				/* Gathering is over: tell the peer (empty candidate). */
				self._send('candidate', { candidate: '' });
			}
		};
		pc.onconnectionstatechange = function () {
			self._setConnection(pc.connectionState);
		};
		pc.oniceconnectionstatechange = function () {
			var ice = pc.iceConnectionState;
			self.iceConnectionState = ice;
			/* Browsers without connectionState: derive it from ICE. */
			if (pc.connectionState === undefined) {
				self._setConnection(ice === 'completed' ? 'connected' :
				    ice === 'checking' ? 'connecting' : ice);
			}
		};
		if ('ontrack' in pc) {
			pc.ontrack = function (e) {
				var stream = e.streams && e.streams[0];
				if (!stream) {
					stream = self.remoteStream || new root.MediaStream();
					stream.addTrack(e.track);
				}
				self._setRemoteStream(stream);
			};
		} else {
			pc.onaddstream = function (e) { self._setRemoteStream(e.stream); };
		}
	};

	Call.prototype._setRemoteStream = function (stream) {
		if (this.remoteStream !== stream) {
			this.remoteStream = stream;
			this.emit('remotestream', stream);
		}
	};

	Call.prototype._setConnection = function (state) {
		if (state && this.connectionState !== state && this.state !== 'ended') {
			this.connectionState = state;
			log('call', this.id, 'connection', state);
			this.emit('connection', state);
		}
	};

	Call.prototype._closeMedia = function () {
		var pc = this.pc;
		if (pc) {
			this.pc = null;
			pc.onicecandidate = pc.ontrack = pc.onaddstream = null;
			pc.onconnectionstatechange = pc.oniceconnectionstatechange = null;
			try { pc.close(); } catch (e) { /* already closed */ }
			this.connectionState = 'closed';
		}
		stopStream(this.localStream);
	};

	/* WebRTC steps are asynchronous and must not interleave (an answer
	 * must not be applied while the offer is still being made): run them
	 * one at a time. Each step calls done() exactly once. */
	Call.prototype._queue = function (step) {
		this._ops.push(step);
		this._runOps();
	};

	Call.prototype._runOps = function () {
		var self = this, step, finished = false;
		if (this._opRunning || this._ops.length === 0 || !this.pc) {
			return;
		}
		step = this._ops.shift();
		this._opRunning = true;
		step(function () {
			if (finished) {
				return;
			}
			finished = true;
			self._opRunning = false;
			self._runOps();
		});
	};

	/* Reports a failed WebRTC step; a broken offer or answer ends the
	 * call, since nothing can flow without it. */
	Call.prototype._webrtcFailed = function (what, e, fatal) {
		var err;
		if (this.state === 'ended') {
			/* The connection was closed under a pending step. */
			return;
		}
		err = makeError('webrtc_error', what + ' failed: ' + ((e && (e.message || e.name)) || e));
		err.cause = e;
		log('call', this.id, err.message);
		this.emit('error', err);
		if (fatal) {
			this.hangup();
		}
	};

	Call.prototype._makeOffer = function (done) {
		var self = this, pc = this.pc;
		var options = { offerToReceiveAudio: true, offerToReceiveVideo: this.media === 'video' };
		settle(pc.createOffer(options), function (offer) {
			settle(pc.setLocalDescription(offer), function () {
				self._send('offer', descriptionJson(pc.localDescription || offer));
				done();
			}, function (e) { self._webrtcFailed('setLocalDescription', e, true); done(); });
		}, function (e) { self._webrtcFailed('createOffer', e, true); done(); });
	};

	Call.prototype._applyDescription = function (kind, data, done) {
		var self = this, pc = this.pc;
		var desc = root.RTCSessionDescription ? new root.RTCSessionDescription(data) : data;

		if (kind === 'answer' && pc.signalingState !== 'have-local-offer') {
			/* A repeated answer (e.g. a retried signal): nothing to do. */
			done();
			return;
		}
		settle(pc.setRemoteDescription(desc), function () {
			self._hasRemote = true;
			self._flushCandidates();
			if (kind === 'offer') {
				self._makeAnswer(done);
			} else {
				done();
			}
		}, function (e) { self._webrtcFailed('setRemoteDescription', e, true); done(); });
	};

	Call.prototype._makeAnswer = function (done) {
		var self = this, pc = this.pc;
		settle(pc.createAnswer(), function (answer) {
			settle(pc.setLocalDescription(answer), function () {
				self._send('answer', descriptionJson(pc.localDescription || answer));
				done();
			}, function (e) { self._webrtcFailed('setLocalDescription', e, true); done(); });
		}, function (e) { self._webrtcFailed('createAnswer', e, true); done(); });
	};

	Call.prototype._flushCandidates = function () {
		var self = this, list = this._remoteCandidates, i;
		this._remoteCandidates = [];
		function step(data) {
			return function (done) { self._addCandidate(data, done); };
		}
		/* In front of whatever is queued: they came before it. */
		for (i = list.length - 1; i >= 0; i--) {
			this._ops.unshift(step(list[i]));
		}
	};

	Call.prototype._addCandidate = function (data, done) {
		var self = this, endOfCandidates = data.candidate === '';
		function failed(e) {
			/* One bad candidate is not fatal: others may work. The
			 * empty end-of-candidates form is optional, and older
			 * browsers refuse it. */
			if (!endOfCandidates) {
				self._webrtcFailed('addIceCandidate', e, false);
			}
			done();
		}
		try {
			settle(this.pc.addIceCandidate(endOfCandidates || !root.RTCIceCandidate ?
			    data : new root.RTCIceCandidate(data)), function () { done(); }, failed);
		} catch (e) {
			failed(e);
		}
	};

	/* --- signals to the peer, one POST at a time so the order holds --- */

	Call.prototype._send = function (kind, data) {
		if (this.state === 'ended') {
			return;
		}
		this._outbox.push({ kind: kind, data: data, tries: 0 });
		this._pump();
	};

	Call.prototype._pump = function () {
		var self = this, item;
		if (this._sending || this._outbox.length === 0 || this.state === 'ended') {
			return;
		}
		item = this._outbox[0];
		this._sending = true;
		this.client.post(this._path('signal'), { kind: item.kind, data: item.data },
		    function (err) {
			self._sending = false;
			if (self.state === 'ended') {
				return;
			}
			if (!err) {
				self._outbox.shift();
				self._pump();
			} else if (retryable(err) && item.tries < RETRIES) {
				/* No reply or a passing outage: try the same signal
				 * again, so nothing overtakes it. */
				item.tries++;
				self._sending = true;
				root.setTimeout(function () {
					self._sending = false;
					self._pump();
				}, 500 * Math.pow(2, item.tries));
			} else if (err.code === 'call_ended') {
				/* Its call.ended event is on the way. */
				self._outbox = [];
			} else {
				self._outbox.shift();
				self.emit('error', err);
				if (item.kind !== 'candidate') {
					self.hangup();
				} else {
					self._pump();
				}
			}
		});
	};

	/* --- what the UI toggles --- */

	Call.prototype.setMuted = function (muted) {
		this.muted = !!muted;
		setTracksEnabled(this.localStream, 'audio', !this.muted);
	};

	Call.prototype.setCamera = function (on) {
		this.cameraOn = !!on;
		setTracksEnabled(this.localStream, 'video', this.cameraOn);
	};

	Parley.Call = Call;

	root.Parley = Parley;
}(typeof window !== 'undefined' ? window : this));
