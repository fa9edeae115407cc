/*
 * app.js: the Parley web client (web/index.html), plain ECMAScript 5:
 * the last of its scripts. It wires the page's buttons, forms and keys to
 * the other app-*.js files and starts the page (init). app-session.js
 * lists the files and what each holds.
 *
 * Depends on: every app-*.js file, loaded before it.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var doc = root.document;
	var S = PA.state;          /* one object for the page's life: PA.resetState() */
	var client = PA.client;

	/* ------------------------------------------------------------ */
	/* Wiring                                                       */
	/* ------------------------------------------------------------ */

	function actions(action, node, e) {
		var id;
		switch (action) {
		case 'auth-tab':
			e.preventDefault();
			PA.authTab(node.getAttribute('data-tab'));
			break;
		case 'side-tab':
			e.preventDefault();
			PA.sideTab(node.getAttribute('data-tab'));
			if (PA.isNarrow() && S.view) {
				PA.go('#/');
			}
			break;
		case 'open-conv':
			id = +node.getAttribute('data-conv-id');
			PA.go('#/c/' + id);
			break;
		case 'recall':
			PA.recall(node);
			break;
		case 'retry-send':
			if (S.outbox[0] && S.outbox[0].clientId === node.getAttribute('data-client-id')) {
				S.outbox[0].tries = 0;
				PA.pumpOutbox(true);
				PA.renderMessages('auto');
			}
			break;
		case 'discard-send':
			PA.dropPending(node.getAttribute('data-client-id'), null);
			PA.renderMessages('auto');
			break;
		case 'reload-history':
			if (S.view) {
				S.view.loadError = null;
				PA.loadPage(S.view, S.view.loaded ? S.view.nextBefore : null);
			}
			break;
		default:
			if (PA.people.action(action, node, e) === false) {
				return;
			}
		}
	}

	function leaveGroup(button) {
		var v = S.view;
		if (!v || v.kind !== 'group' || !PA.confirmed(button)) {
			return;
		}
		client.post('/groups/' + v.convId + '/leave', null, PA.live(function (err) {
			if (err) {
				PA.toast(PA.errorText(err), 'error');
				return;
			}
			delete S.convs[v.convId];
			PA.toast('You left the group.');
			PA.go('#/');
			PA.loadConversations();
		}));
	}

	function placeCall(media) {
		var v = S.view;
		if (v && v.kind === 'direct') {
			PA.callui.place(v.peerId, media);
		}
	}

	function init() {
		U.delegate(doc, actions);
		U.on($('login-form'), 'submit', PA.onLogin);
		U.on($('register-form'), 'submit', PA.onRegister);
		U.on($('logout'), 'click', PA.logout);
		U.on($('composer'), 'submit', PA.onComposerSubmit);
		U.on($('composer-input'), 'keydown', PA.onComposerKey);
		U.on($('composer-input'), 'keyup', PA.autoGrow);
		U.on($('messages'), 'scroll', PA.onScroll);
		U.on($('jump-bottom'), 'click', function () {
			var box = $('messages');
			box.scrollTop = box.scrollHeight;
			U.show($('jump-bottom'), false);
		});
		U.on($('back'), 'click', function () { PA.go('#/'); });
		U.on($('attach'), 'click', PA.openAttach);
		U.on($('attach-cancel'), 'click', function () { U.show($('attach-form'), false); });
		U.on($('attach-form'), 'submit', PA.onAttachSubmit);
		U.on($('attach-url'), 'keyup', PA.attachUrlChanged);
		U.on($('attach-url'), 'change', PA.attachUrlChanged);
		U.on($('attach-url'), 'input', PA.attachUrlChanged);
		U.on($('attach-name'), 'keyup', function () { $('attach-name').setAttribute('data-touched', '1'); });
		U.on($('attach-name'), 'input', function () { $('attach-name').setAttribute('data-touched', '1'); });
		U.on($('attach-mime'), 'keyup', function () { $('attach-mime').setAttribute('data-touched', '1'); });
		U.on($('attach-mime'), 'input', function () { $('attach-mime').setAttribute('data-touched', '1'); });
		U.on($('banner-retry'), 'click', PA.retryNow);
		U.on($('call-audio'), 'click', function () { placeCall('audio'); });
		U.on($('call-video'), 'click', function () { placeCall('video'); });
		U.on($('leave-group'), 'click', function () { leaveGroup($('leave-group')); });
		U.on($('add-members'), 'click', function () {
			if (S.view && S.groups[S.view.convId]) {
				PA.people.openGroupModal(S.groups[S.view.convId]);
			}
		});
		U.on(root, 'hashchange', PA.route);
		U.on($('handoff-accept'), 'click', PA.acceptHandoff);
		U.on($('handoff-cancel'), 'click', PA.declineHandoff);
		U.on($('notice-close'), 'click', function () { U.show($('notice'), false); });
		U.on(doc, 'visibilitychange', function () { PA.markRead(); });
		U.on(root, 'focus', function () { PA.markRead(); });
		U.on(doc, 'keydown', function (e) {
			if ((e.keyCode || e.which) === 13 && e.target && e.target.getAttribute &&
			    e.target.getAttribute('data-action') === 'open-conv') {
				actions('open-conv', e.target, e);
			}
		});
		root.setInterval(PA.refreshRecall, 10000);
		PA.people.init();
		PA.callui.init();
		PA.boot(0);
	}

	/* The scripts sit at the end of <body>: the DOM is there. */
	init();
}(window));
