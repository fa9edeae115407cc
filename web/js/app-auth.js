/*
 * app-auth.js: the web client's screens before a session (splash, sign in,
 * register) and signing out, plain ECMAScript 5.
 *
 * Depends on: app-util.js, app-session.js (PA.client, PA.tokenStore); at
 * run time on app-events.js (PA.start, PA.stop).
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var doc = root.document;
	var client = PA.client;

	/* ------------------------------------------------------------ */
	/* Screens                                                      */
	/* ------------------------------------------------------------ */

	function showScreen(name) {
		U.removeClass(doc.body, 'booting');
		U.show($('splash'), name === 'splash');
		U.show($('auth'), name === 'auth');
		U.show($('handoff'), name === 'handoff');
		U.show($('app'), name === 'app');
		doc.body.setAttribute('data-screen', name);
	}
	PA.showScreen = showScreen;

	function authError(text) {
		var e = $('auth-error');
		U.setText(e, text || '');
		U.show(e, !!text);
	}

	function authTab(tab) {
		U.toggleClass($('tab-login'), 'active', tab === 'login');
		U.toggleClass($('tab-register'), 'active', tab === 'register');
		U.show($('login-form'), tab === 'login');
		U.show($('register-form'), tab === 'register');
		authError('');
		try {
			$(tab === 'login' ? 'login-username' : 'reg-username').focus();
		} catch (e) {
			/* not focusable yet */
		}
	}
	PA.authTab = authTab;

	function showAuth(message) {
		showScreen('auth');
		authError(message || '');
		try {
			$('login-username').focus();
		} catch (e) {
			/* ignore */
		}
	}
	PA.showAuth = showAuth;

	function authReplyError(err) {
		if (err.code === 'invalid_credentials') {
			return 'Wrong username or password.';
		}
		if (err.code === 'username_taken') {
			return 'That username is taken. Try another one.';
		}
		if (err.code === 'too_many_attempts') {
			return 'Too many attempts. Try again' + (err.retryAfter ? ' in ' + err.retryAfter + ' s.' : ' later.');
		}
		return PA.errorText(err);
	}

	function busy(button, on) {
		button.disabled = !!on;
		U.toggleClass(button, 'busy', !!on);
	}

	function onLogin(e) {
		var u = U.trim($('login-username').value), p = $('login-password').value;
		e.preventDefault();
		if (!u || !p) {
			authError('Enter your username and password.');
			return false;
		}
		busy($('login-submit'), true);
		authError('');
		client.login(u, p, function (err, res) {
			busy($('login-submit'), false);
			if (err) {
				authError(authReplyError(err));
				return;
			}
			$('login-password').value = '';
			PA.start(res.user);
		});
		return false;
	}
	PA.onLogin = onLogin;

	function onRegister(e) {
		var u = U.trim($('reg-username').value), d = U.trim($('reg-display').value), p = $('reg-password').value;
		var fields;
		e.preventDefault();
		if (!/^[A-Za-z0-9_.\-]{3,32}$/.test(u)) {
			authError('Choose a username of 3–32 letters, digits, "_", "." or "-".');
			return false;
		}
		if (p.length < 8) {
			authError('The password needs at least 8 characters.');
			return false;
		}
		fields = { username: u, password: p };
		if (d) {
			fields.display_name = d;
		}
		busy($('reg-submit'), true);
		authError('');
		client.register(fields, function (err, res) {
			busy($('reg-submit'), false);
			if (err) {
				authError(authReplyError(err));
				return;
			}
			$('reg-password').value = '';
			PA.start(res.user);
		});
		return false;
	}
	PA.onRegister = onRegister;

	/* Nothing of the account that signed out stays in the page: its
	 * state, and the lists, messages and names drawn from it (hidden
	 * behind the login screen, but readable in the document on a shared
	 * computer). */
	function wipe() {
		var ids = ['conv-list', 'messages', 'conv-title', 'conv-sub', 'conv-avatar',
			'me-name', 'me-username', 'me-avatar', 'user-results', 'incoming-requests',
			'outgoing-requests', 'friend-list', 'block-list', 'friend-count',
			'unread-total', 'requests-badge'], i;
		PA.resetState();
		PA.people.reset();
		$('user-search').value = '';
		for (i = 0; i < ids.length; i++) {
			if ($(ids[i])) {
				U.empty($(ids[i]));
			}
		}
		U.show($('unread-total'), false);
		U.show($('requests-badge'), false);
		root.document.title = 'Parley';
	}

	function logout() {
		PA.stop();
		wipe();
		PA.notice('');
		if (root.location.hash) {
			root.location.hash = '#/';
		}
		showAuth('');
		PA.tokenStore(null);
		client.logout(function () {});
	}
	PA.logout = logout;
}(window));
