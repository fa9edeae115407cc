/*
 * parley-calls.js: one-to-one WebRTC calls signaled through Parley, in plain
 * ECMAScript 5: what the browser supports (Parley.webrtcSupport), camera
 * and microphone (Parley.getUserMedia, Parley.attachStream), and
 * Parley.CallManager, this device's calls: it places them, routes the
 * call.* events of a Parley.EventLoop to them and fetches ICE servers.
 *
 * Load after js/parley.js (which it needs: Parley.Client, Parley.Emitter
 * and the private helpers in Parley._util), then js/parley-call.js and
 * js/parley-call-media.js (Parley.Call, one call, made by the manager):
 *
 *   <script src="/js/parley.js"></script>
 *   <script src="/js/parley-ws.js"></script>          (optional)
 *   <script src="/js/parley-calls.js"></script>
 *   <script src="/js/parley-call.js"></script>
 *   <script src="/js/parley-call-media.js"></script>
 *
 *   var calls = new Parley.CallManager(client, events);
 *   calls.on('incoming', function (call) { call.accept(); });
 */
(function (root) {
	'use strict';

	var Parley = root.Parley;
	var util = Parley && Parley._util;

	if (!util) {
		/* parley.js must come first; without it there is no client. */
		return;
	}

	var noop = util.noop;
	var isFunction = util.isFunction;
	var log = util.log;
	var makeError = util.makeError;
	var reportLater = util.reportLater;
	var settle = util.settle;
	var inherit = util.inherit;
	var Emitter = util.Emitter;

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
		var call = new Parley.Call(this, data.call, 'incoming');
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
				call = new Parley.Call(self, res.call, 'outgoing');
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

	/* For js/parley-call.js and js/parley-call-media.js, loaded after this file. */
	util.stopStream = stopStream;
	util.setTracksEnabled = setTracksEnabled;
	util.descriptionJson = descriptionJson;
	util.candidateJson = candidateJson;
}(typeof window !== 'undefined' ? window : this));
