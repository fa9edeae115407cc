/*
 * app-list.js: routing (#/ the list, #/c/<conversation id>, #/u/<user
 * id>), the sidebar's tabs and the conversation list, plain ECMAScript 5.
 *
 * Depends on: app-util.js, app-session.js, app-common.js; at run time on
 * app-view.js and app-messages.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var el = U.el;
	var doc = root.document;
	var S = PA.state;          /* one object for the page's life: PA.resetState() */

	/* ------------------------------------------------------------ */
	/* Routing: #/ (list), #/c/<conversation id>, #/u/<user id>      */
	/* ------------------------------------------------------------ */

	function route() {
		var h = root.location.hash || '', m, got = PA.handoffIn(h);
		if (got) {
			PA.hashHandoff(got);
			return;
		}
		if (!S.me) {
			return;
		}
		m = /^#\/c\/(\d+)$/.exec(h);
		if (m) {
			PA.openConv(+m[1]);
			return;
		}
		m = /^#\/u\/(\d+)$/.exec(h);
		if (m) {
			PA.openDirect(+m[1]);
			return;
		}
		PA.closeView();
	}
	PA.route = route;

	PA.go = function (hash) {
		if (root.location.hash === hash) {
			route();
		} else {
			root.location.hash = hash;
		}
	};

	PA.openUser = function (userId) {
		var c = findDirect(userId);
		PA.go(c ? '#/c/' + c.id : '#/u/' + userId);
	};

	function findDirect(userId) {
		var k, c;
		for (k in S.convs) {
			if (U.has(S.convs, k)) {
				c = S.convs[k];
				if (c.kind === 'direct' && c.peer && c.peer.id === userId) {
					return c;
				}
			}
		}
		return null;
	}
	PA.findDirect = findDirect;

	function sideTab(tab) {
		S.tab = tab;
		U.toggleClass($('nav-chats'), 'active', tab === 'chats');
		U.toggleClass($('nav-people'), 'active', tab === 'people');
		U.show($('pane-chats'), tab === 'chats');
		U.show($('pane-people'), tab === 'people');
		if (tab === 'people') {
			PA.people.render();
		}
	}
	PA.sideTab = sideTab;

	/* ------------------------------------------------------------ */
	/* The conversation list                                        */
	/* ------------------------------------------------------------ */

	function sortedConvs() {
		var list = U.values(S.convs);
		list.sort(function (a, b) {
			var am = a.last_message, bm = b.last_message;
			if (am && bm) {
				return bm.id - am.id;
			}
			if (am || bm) {
				return am ? -1 : 1;
			}
			return b.id - a.id;
		});
		return list;
	}

	PA.convName = function (c) {
		if (!c) {
			return '';
		}
		if (c.kind === 'group' || c.kind === 'system') {
			return c.name || (c.kind === 'group' ? 'Group' : 'Notices');
		}
		return c.peer ? (c.peer.display_name || c.peer.username) : 'Conversation';
	};

	/* One line about a message for the list. */
	function preview(m) {
		var b = m.body || {}, who = '';
		if (m.recalled) {
			return (m.from === S.me.id ? 'You' : PA.userName(m.from)) + ' recalled a message';
		}
		if (m.type === 'call') {
			return PA.callLabel(m);
		}
		if (m.type === 'system') {
			return b.text || '';
		}
		if (m.from === S.me.id) {
			who = 'You: ';
		} else if (S.convs[m.conversation_id] && S.convs[m.conversation_id].kind === 'group') {
			who = PA.userName(m.from) + ': ';
		}
		switch (m.type) {
		case 'text':
			return who + (b.text || '').replace(/\s+/g, ' ');
		case 'image':
			return who + 'Photo: ' + (b.name || '');
		case 'audio':
			return who + 'Audio: ' + (b.name || '');
		case 'video':
			return who + 'Video: ' + (b.name || '');
		default:
			return who + 'File: ' + (b.name || '');
		}
	}

	function renderList() {
		var ul = $('conv-list'), list, i, c, li, name, unread = 0, m, right, openId;
		if (!S.me) {
			return;
		}
		list = sortedConvs();
		openId = S.view && S.view.convId;
		U.empty(ul);
		for (i = 0; i < list.length; i++) {
			c = list[i];
			name = PA.convName(c);
			m = c.last_message;
			unread += c.unread;
			right = el('div', { className: 'conv-meta' }, [
				el('span', { className: 'conv-time', text: m ? U.shortTime(U.parseTime(m.created_at)) : '' }),
				c.unread > 0 ? el('span', {
					className: 'badge', text: c.unread > 99 ? '99+' : c.unread, attrs: { 'data-test': 'unread' }
				}) : null
			]);
			li = el('li', {
				className: 'conv' + (c.id === openId ? ' active' : '') + (c.unread > 0 ? ' has-unread' : ''),
				attrs: {
					'data-action': 'open-conv', 'data-conv-id': c.id, 'data-kind': c.kind,
					'data-peer-id': c.peer ? c.peer.id : null, tabindex: '0'
				}
			}, [
				el('span', { className: 'avatar-wrap' }, [
					U.makeAvatar(name, c.kind === 'group' ? 'g' + c.id : (c.peer ? c.peer.id : c.id), c.kind === 'group'),
					c.kind === 'direct' && c.peer ? el('span', {
						className: 'presence' + (PA.isOnline(c.peer.id) ? ' online' : ''),
						attrs: { 'data-online': PA.isOnline(c.peer.id) ? 'true' : 'false' },
						title: PA.isOnline(c.peer.id) ? 'Online' : 'Offline'
					}) : null
				]),
				el('div', { className: 'conv-text' }, [
					el('div', { className: 'conv-name', text: name }),
					el('div', { className: 'conv-last', text: m ? preview(m) : (c.kind === 'group' ? 'New group' : '') })
				]),
				right
			]);
			ul.appendChild(li);
		}
		U.show($('conv-empty'), S.convsLoaded && list.length === 0);
		U.setText($('unread-total'), unread > 99 ? '99+' : (unread || ''));
		U.show($('unread-total'), unread > 0);
		doc.title = (unread > 0 ? '(' + unread + ') ' : '') + 'Parley';
	}
	PA.renderList = renderList;
}(window));
