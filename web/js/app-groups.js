/*
 * app-groups.js: the "New group" dialog of the web client, plain
 * ECMAScript 5: it makes a group from friends, or adds friends to a
 * group (P.openGroupModal).
 *
 * Depends on: app-util.js, app-people.js (P, P.live); at run time on
 * app-session.js, app-common.js and app-list.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var el = U.el;

	var P = PA.people;

	function S() {
		return PA.state;
	}
	var live = P.live;

	/* ------------------------------------------------------------ */
	/* New group                                                    */
	/* ------------------------------------------------------------ */

	/* The dialog makes a new group, or adds friends to `addTo` (a Group). */
	var addTo = null;

	function inGroup(g, userId) {
		var i;
		for (i = 0; g && i < g.members.length; i++) {
			if (g.members[i].id === userId) {
				return true;
			}
		}
		return false;
	}

	function renderGroupFriends(keep) {
		var ul = $('group-friends'), all = U.values(S().friends), list = [], i, f, checked = {}, boxes, id;
		for (i = 0; i < all.length; i++) {
			if (!inGroup(addTo, all[i].id)) {
				list.push(all[i]);
			}
		}
		if (keep) {
			boxes = ul.getElementsByTagName('input');
			for (i = 0; i < boxes.length; i++) {
				checked[boxes[i].getAttribute('data-friend-id')] = boxes[i].checked;
			}
		}
		list.sort(function (a, b) {
			return (a.display_name || a.username).toLowerCase() < (b.display_name || b.username).toLowerCase() ? -1 : 1;
		});
		U.empty(ul);
		for (i = 0; i < list.length; i++) {
			f = list[i];
			id = 'gf-' + f.id;
			ul.appendChild(el('li', {}, [
				el('input', { type: 'checkbox', id: id, attrs: { 'data-friend-id': f.id, 'data-username': f.username } }),
				el('label', { attrs: { 'for': id } }, [
					U.makeAvatar(f.display_name || f.username, f.id, false, 'small'),
					el('span', { text: (f.display_name || f.username) + ' ' }),
					el('span', { className: 'muted', text: '@' + f.username })
				])
			]));
			if (checked[f.id]) {
				$(id).checked = true;
			}
		}
		if (!list.length) {
			ul.appendChild(el('li', {
				className: 'muted',
				text: addTo ? 'All your friends are in this group already.' : 'Add friends first; a group of one works too.'
			}));
		}
	}
	P.renderGroupFriends = renderGroupFriends;

	function openGroupModal(group) {
		addTo = group && group.members ? group : null;
		U.setText($('group-modal-title'), addTo ? 'Add people to ' + addTo.name : 'New group');
		U.setText($('group-create'), addTo ? 'Add to group' : 'Create group');
		U.show($('group-name-field'), !addTo);
		$('group-name').value = '';
		U.show($('group-error'), false);
		renderGroupFriends(false);
		U.show($('group-modal'), true);
		try {
			$(addTo ? 'group-create' : 'group-name').focus();
		} catch (e) {
			/* ignore */
		}
	}
	P.openGroupModal = openGroupModal;

	function closeGroupModal() {
		U.show($('group-modal'), false);
	}
	P.closeGroupModal = closeGroupModal;

	function groupError(text) {
		U.setText($('group-error'), text);
		U.show($('group-error'), !!text);
	}

	function createGroup(e) {
		var name = U.trim($('group-name').value), boxes = $('group-friends').getElementsByTagName('input');
		var members = [], i, button = $('group-create');
		e.preventDefault();
		if (!name && !addTo) {
			groupError('Give the group a name.');
			return false;
		}
		for (i = 0; i < boxes.length; i++) {
			if (boxes[i].checked) {
				members.push(+boxes[i].getAttribute('data-friend-id'));
			}
		}
		if (addTo) {
			addMembers(addTo, members, button);
			return false;
		}
		button.disabled = true;
		PA.client.post('/groups', { name: name.substring(0, 64), members: members }, live(function (err, res) {
			var g, st = S(), j;
			button.disabled = false;
			if (err) {
				groupError(PA.errorText(err, 'Could not create the group.'));
				return;
			}
			g = res.group;
			st.groups[g.id] = g;
			for (j = 0; j < g.members.length; j++) {
				PA.rememberUser(g.members[j]);
			}
			if (!st.convs[g.id]) {
				st.convs[g.id] = {
					id: g.id, kind: 'group', name: g.name, peer: null, last_message: null,
					unread: 0, read_seq: 0, delivered_seq: 0, head: 0, local: true
				};
			}
			closeGroupModal();
			PA.renderList();
			PA.sideTab('chats');
			PA.go('#/c/' + g.id);
		}));
		return false;
	}
	P.createGroup = createGroup;

	function addMembers(g, members, button) {
		if (!members.length) {
			groupError('Pick at least one friend.');
			return;
		}
		button.disabled = true;
		PA.client.post('/groups/' + g.id + '/members', { members: members }, live(function (err, res) {
			var j;
			button.disabled = false;
			if (err) {
				groupError(err.code === 'forbidden' ? 'Only the owner and admins add people.' :
				    PA.errorText(err, 'Could not add them.'));
				return;
			}
			S().groups[g.id] = res.group;
			for (j = 0; j < res.group.members.length; j++) {
				PA.rememberUser(res.group.members[j]);
			}
			closeGroupModal();
			PA.renderHeader();
			PA.toast(members.length === 1 ? 'Added one person.' : 'Added ' + members.length + ' people.');
		}));
	}
}(window));
