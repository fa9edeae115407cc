/*
 * app-people.js: friends, friend requests and blocks in the Parley web
 * client, plain ECMAScript 5: PA.people (P), loading the three lists and
 * keeping them current from friend.* events. The "People" tab of the
 * sidebar is drawn and handled by app-people-list.js, the "New group"
 * dialog by app-groups.js; both add to P and load after this file.
 *
 * Depends on: app-util.js (PA.util); at run time on app-session.js
 * (PA.state, PA.client) and app-common.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;

	var P = PA.people = {};

	function S() {
		return PA.state;
	}

	/* Callbacks that only run while the same login is active. */
	function live(fn) {
		var gen = S().generation;
		return function (err, res) {
			if (S().generation === gen && S().me) {
				fn(err, res);
			}
		};
	}

	/* ------------------------------------------------------------ */
	/* Loading                                                      */
	/* ------------------------------------------------------------ */

	function retryLater(fn) {
		root.setTimeout(live(function () { fn(); }), 3000);
	}

	P.loadFriends = function () {
		PA.client.get('/friends', live(function (err, res) {
			var st = S(), i, f, map = {};
			if (err) {
				if (err.status !== 401) {
					retryLater(P.loadFriends);
				}
				return;
			}
			for (i = 0; i < res.friends.length; i++) {
				f = res.friends[i];
				map[f.id] = f;
				PA.rememberUser(f);
			}
			st.friends = map;
			st.friendsLoaded = true;
			P.render();
			PA.renderList();
			PA.renderHeader();
		}));
	};

	P.loadRequests = function () {
		PA.client.get('/friends/requests', live(function (err, res) {
			var i;
			if (err) {
				if (err.status !== 401) {
					retryLater(P.loadRequests);
				}
				return;
			}
			S().requests = { incoming: res.incoming || [], outgoing: res.outgoing || [] };
			for (i = 0; i < S().requests.incoming.length; i++) {
				PA.rememberUser(S().requests.incoming[i].user);
			}
			for (i = 0; i < S().requests.outgoing.length; i++) {
				PA.rememberUser(S().requests.outgoing[i].user);
			}
			P.render();
		}));
	};

	P.loadBlocks = function () {
		PA.client.get('/blocks', live(function (err, res) {
			var i;
			if (err) {
				if (err.status !== 401) {
					retryLater(P.loadBlocks);
				}
				return;
			}
			S().blocks = res.blocks || [];
			for (i = 0; i < S().blocks.length; i++) {
				PA.rememberUser(S().blocks[i].user);
			}
			P.render();
		}));
	};

	var reloadSoon = U.debounce(function () {
		if (S().me) {
			P.loadFriends();
			P.loadRequests();
		}
	}, 150);

	/* friend.request / accepted / rejected / removed from the stream. */
	P.onFriendEvent = function (kind, d) {
		var me = S().me, other, i;
		if (d.from_user) {
			PA.rememberUser(d.from_user);
		}
		if (d.to_user) {
			PA.rememberUser(d.to_user);
		}
		if (kind === 'request' && d.request && d.request.to === me.id) {
			PA.toast(PA.userName(d.request.from) + ' sent you a friend request.');
		} else if (kind === 'accepted' && d.request) {
			other = d.request.from === me.id ? d.request.to : d.request.from;
			PA.toast('You and ' + PA.userName(other) + ' are now friends.');
		} else if (kind === 'added' && d.profiles) {
			for (i = 0; i < d.profiles.length; i++) {
				PA.rememberUser(d.profiles[i]);
			}
			other = d.users[0] === me.id ? d.users[1] : d.users[0];
			PA.toast('You and ' + PA.userName(other) + ' are now friends.');
		}
		reloadSoon();
		if (kind === 'removed') {
			P.loadBlocks();
		}
	};

	/* For app-people-list.js and app-groups.js. */
	P.live = live;
}(window));
