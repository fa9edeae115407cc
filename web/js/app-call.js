/*
 * app-call.js: the call screen of the Parley web client. ECMAScript 5.
 *
 * Uses Parley.CallManager / Parley.Call (js/parley-calls.js,
 * js/parley-call.js, js/parley-call-media.js): the manager
 * announces incoming calls and places outgoing ones; each Call reports
 * its state (ringing, active, ended), the media path (connection), the
 * local and remote streams, and why it ended. This file only shows all
 * that and forwards the buttons (accept, decline, hang up, mute,
 * camera). One call at a time: the server refuses a second one (busy).
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;

	var C = PA.callui = {};

	var manager = null;
	var current = null;      /* the Call on screen */
	var activeSince = 0;     /* when it was answered (local clock) */
	var timer = null;
	var closeTimer = null;
	var titleTimer = null;
	var placing = false;
	var accepting = null;    /* the call whose Accept was pressed */

	var END_TEXT = {
		hangup: 'Call ended',
		rejected: 'Declined',
		canceled: 'Canceled',
		timeout: 'No answer',
		disconnected: 'Connection lost',
		answered_elsewhere: 'Answered on another device',
		ignored: 'Call ended',
		busy: 'Busy'
	};

	function peerName(call) {
		if (call.caller) {
			PA.rememberUser(call.caller);
		}
		return PA.userName(call.peer);
	}

	function setState(state) {
		$('call-overlay').setAttribute('data-state', state);
	}

	function status(text) {
		U.setText($('call-status'), text);
	}

	function buttons(list) {
		var all = ['call-accept', 'call-reject', 'call-mute', 'call-camera', 'call-hangup', 'call-close'], i;
		for (i = 0; i < all.length; i++) {
			U.show($(all[i]), U.indexOf(list, all[i]) >= 0);
		}
	}

	function tick() {
		var secs = Math.floor((U.now() - activeSince) / 1000);
		U.setText($('call-timer'), U.duration(secs));
	}

	function stopTimer() {
		if (timer !== null) {
			root.clearInterval(timer);
			timer = null;
		}
	}

	function flashTitle(on, text) {
		var flip = false;
		if (titleTimer !== null) {
			root.clearInterval(titleTimer);
			titleTimer = null;
		}
		if (on) {
			titleTimer = root.setInterval(function () {
				flip = !flip;
				if (flip) {
					root.document.title = text;
				} else {
					PA.renderList();
				}
			}, 1000);
		} else {
			PA.renderList();
		}
	}

	function attach(id, stream) {
		try {
			root.Parley.attachStream($(id), stream);
		} catch (e) {
			/* an element this browser cannot play into */
		}
	}

	function clearMedia() {
		attach('call-remote-video', null);
		attach('call-remote-audio', null);
		attach('call-local-video', null);
	}

	/* Redraws the overlay for the current call. */
	function render() {
		var call = current, video, name;
		if (!call) {
			return;
		}
		video = call.media === 'video';
		name = peerName(call);
		U.setText($('call-name'), name);
		U.avatar($('call-avatar'), name, call.peer);
		U.addClass($('call-avatar'), 'large');
		$('call-overlay').setAttribute('data-media', call.media);
		$('call-overlay').setAttribute('data-call-id', call.id);
		$('call-overlay').setAttribute('data-direction', call.direction);
		U.toggleClass($('call-overlay'), 'video', video);
		U.show($('call-local-video'), video && call.state === 'active');
		U.setText($('call-mute'), call.muted ? 'Unmute' : 'Mute');
		$('call-mute').setAttribute('aria-pressed', call.muted ? 'true' : 'false');
		U.toggleClass($('call-mute'), 'on', !!call.muted);
		U.setText($('call-camera'), call.cameraOn ? 'Camera off' : 'Camera on');
		$('call-camera').setAttribute('aria-pressed', call.cameraOn ? 'false' : 'true');
		U.toggleClass($('call-camera'), 'on', !call.cameraOn);

		if (call.state === 'ringing' && call.direction === 'incoming') {
			setState('incoming');
			U.show($('call-timer'), false);
			if (call.supported) {
				status('Incoming ' + (video ? 'video' : 'audio') + ' call…');
				buttons(['call-accept', 'call-reject']);
			} else {
				status('Incoming call, but this browser cannot take calls (no WebRTC).');
				buttons(['call-reject']);
			}
			if (accepting === call) {
				status('Connecting…');
				buttons(['call-reject']);
			}
		} else if (call.state === 'ringing') {
			setState('outgoing');
			U.show($('call-timer'), false);
			status('Calling…');
			buttons(['call-hangup']);
		} else if (call.state === 'active') {
			setState('active');
			U.show($('call-timer'), true);
			status(call.connectionState === 'connected' ? (video ? '' : 'Audio call') :
			    call.connectionState === 'failed' ? 'The connection failed' :
			    call.connectionState === 'disconnected' ? 'Reconnecting…' : 'Connecting…');
			buttons(video ? ['call-mute', 'call-camera', 'call-hangup'] : ['call-mute', 'call-hangup']);
		}
	}

	function show(call) {
		if (closeTimer !== null) {
			root.clearTimeout(closeTimer);
			closeTimer = null;
		}
		current = call;
		activeSince = call.state === 'active' ? U.now() : 0;
		clearMedia();
		U.show($('call-overlay'), true);
		U.addClass(root.document.body, 'in-call');

		call.on('state', function (s) {
			if (call !== current) {
				return;
			}
			if (s === 'active' && !activeSince) {
				activeSince = U.now();
				stopTimer();
				tick();
				timer = root.setInterval(tick, 1000);
			}
			if (s !== 'ringing') {
				flashTitle(false);
			}
			render();
		});
		call.on('connection', function () {
			if (call === current) {
				render();
			}
		});
		call.on('localstream', function (stream) {
			if (call === current) {
				attach('call-local-video', stream);
			}
		});
		call.on('remotestream', function (stream) {
			if (call === current) {
				attach(call.media === 'video' ? 'call-remote-video' : 'call-remote-audio', stream);
			}
		});
		call.on('error', function (err) {
			if (call === current && err && err.code === 'media_unavailable') {
				PA.toast('Camera or microphone unavailable.', 'error');
			}
		});
		call.on('ended', function (reason) {
			ended(call, reason);
		});
		if (call.localStream) {
			attach('call-local-video', call.localStream);
		}
		if (activeSince) {
			tick();
			timer = root.setInterval(tick, 1000);
		}
		if (call.state === 'ringing' && call.direction === 'incoming') {
			flashTitle(true, '\u260E ' + peerName(call) + ' is calling');
		}
		render();
	}

	function ended(call, reason) {
		var secs;
		if (call !== current) {
			return;
		}
		stopTimer();
		flashTitle(false);
		clearMedia();
		secs = activeSince ? Math.floor((U.now() - activeSince) / 1000) : 0;
		setState('ended');
		$('call-overlay').setAttribute('data-reason', reason || '');
		status((END_TEXT[reason] || 'Call ended') + (secs > 0 ? ' · ' + U.duration(secs) : ''));
		U.show($('call-local-video'), false);
		buttons(['call-close']);
		closeTimer = root.setTimeout(hide, 2500);
	}

	function hide() {
		if (closeTimer !== null) {
			root.clearTimeout(closeTimer);
			closeTimer = null;
		}
		stopTimer();
		flashTitle(false);
		current = null;
		activeSince = 0;
		clearMedia();
		U.show($('call-overlay'), false);
		setState('none');
		U.removeClass(root.document.body, 'in-call');
	}

	/* ------------------------------------------------------------ */
	/* Public                                                       */
	/* ------------------------------------------------------------ */

	C.current = function () {
		return current;
	};

	/* Hooks a new CallManager (one per login). */
	C.attach = function (m) {
		manager = m;
		m.on('incoming', function (call) {
			if (manager !== m) {
				return;
			}
			if (current && current.state !== 'ended') {
				/* Should not happen (the server says busy); keep the
				 * call on screen and let this one ring elsewhere. */
				call.ignore();
				return;
			}
			show(call);
		});
	};

	C.detach = function () {
		manager = null;
		placing = false;
		if (current) {
			hide();
		}
	};

	var PLACE_ERRORS = {
		callee_offline: ' is offline right now.',
		busy: ' is in another call.',
		not_friends: ' is not your friend any more.',
		blocked: ' cannot be called.'
	};

	C.place = function (userId, media) {
		var m = manager;
		if (!m || placing || (current && current.state !== 'ended')) {
			return;
		}
		if (!root.Parley.webrtcSupport().supported) {
			PA.toast('This browser cannot make calls.', 'error');
			return;
		}
		placing = true;
		U.addClass($('call-' + media), 'busy');
		m.place(userId, media, function (err, call) {
			placing = false;
			U.removeClass($('call-' + media), 'busy');
			if (manager !== m) {
				if (call) {
					call.hangup();
				}
				return;
			}
			if (err) {
				if (PLACE_ERRORS[err.code]) {
					PA.toast(PA.userName(userId) + PLACE_ERRORS[err.code], 'error');
				} else if (err.code === 'media_unavailable') {
					PA.toast('Camera or microphone unavailable. Allow access and try again.', 'error');
				} else {
					PA.toast(PA.errorText(err, 'The call could not be placed.'), 'error');
				}
				return;
			}
			show(call);
		});
	};

	C.init = function () {
		U.on($('call-accept'), 'click', function () {
			var call = current;
			if (!call) {
				return;
			}
			accepting = call;
			render();
			call.accept(function (err) {
				if (accepting === call) {
					accepting = null;
				}
				if (err && call === current && call.state !== 'ended') {
					PA.toast(err.code === 'media_unavailable' ? 'Camera or microphone unavailable.' :
					    PA.errorText(err, 'Could not answer.'), 'error');
				}
				render();
			});
		});
		U.on($('call-reject'), 'click', function () {
			if (current) {
				current.hangup();
			}
		});
		U.on($('call-hangup'), 'click', function () {
			if (current) {
				current.hangup();
			}
		});
		U.on($('call-close'), 'click', hide);
		U.on($('call-mute'), 'click', function () {
			if (current) {
				current.setMuted(!current.muted);
				render();
			}
		});
		U.on($('call-camera'), 'click', function () {
			if (current) {
				current.setCamera(!current.cameraOn);
				render();
			}
		});
	};
}(window));
