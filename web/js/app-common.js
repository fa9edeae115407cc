/*
 * app-common.js: small things every screen of the web client uses, plain
 * ECMAScript 5: the toast and the notice, error sentences, user names and
 * presence, the server's clock, and buttons that ask twice.
 *
 * Depends on: app-util.js (PA.util), app-session.js (PA.state).
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var doc = root.document;
	var S = PA.state;
	var NARROW = 720;           /* px: one pane at a time below this */

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
}(window));
