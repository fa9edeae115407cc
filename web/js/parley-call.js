/*
 * parley-call.js: Parley.Call, one call on this device, in plain ECMAScript
 * 5: its state, answering, ending and refreshing it, and the call events
 * the manager hands it (accepted, answered elsewhere, signals). Its peer
 * connection, signals to the peer and the mute and camera toggles are in
 * js/parley-call-media.js, which adds to Parley.Call.prototype.
 *
 * Load after js/parley.js and js/parley-calls.js (Parley._util: the
 * library's private helpers and the stream helpers), before
 * js/parley-call-media.js.
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
	var makeError = util.makeError;
	var inherit = util.inherit;
	var Emitter = util.Emitter;
	var stopStream = util.stopStream;

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
	Parley.Call = Call;
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

	/* For js/parley-call-media.js, loaded after this file. */
	util.retryable = retryable;
	util.RETRIES = RETRIES;
}(typeof window !== 'undefined' ? window : this));
