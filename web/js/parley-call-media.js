/*
 * parley-call-media.js: the media side of Parley.Call, in plain ECMAScript 5:
 * the RTCPeerConnection (local tracks, ICE servers, connection state),
 * offers, answers and ICE candidates applied one step at a time, the
 * signals sent to the peer one POST at a time so their order holds, and
 * the mute and camera toggles.
 *
 * Load after js/parley.js, js/parley-calls.js and js/parley-call.js (it
 * adds methods to Parley.Call.prototype and uses Parley._util).
 */
(function (root) {
	'use strict';

	var Parley = root.Parley;
	var util = Parley && Parley._util;

	if (!util) {
		/* parley.js must come first; without it there is no client. */
		return;
	}

	var Call = Parley.Call;
	var isFunction = util.isFunction;
	var log = util.log;
	var extend = util.extend;
	var makeError = util.makeError;
	var settle = util.settle;
	var stopStream = util.stopStream;
	var setTracksEnabled = util.setTracksEnabled;
	var descriptionJson = util.descriptionJson;
	var candidateJson = util.candidateJson;
	var retryable = util.retryable;
	var RETRIES = util.RETRIES;

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
}(typeof window !== 'undefined' ? window : this));
