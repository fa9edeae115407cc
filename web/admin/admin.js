/*
 * admin.js: Parley's operator console (web/admin/index.html) on the admin
 * API (/api/v1/admin/). Plain ECMAScript 5 that runs in IE8/9 like the
 * client: no Array extras, no classList, events through PA.util.on.
 * It uses the client's library (/js/parley.js: Parley.Client, cookie
 * session + CSRF) and DOM helpers (/js/app-util.js: PA.util).
 *
 * The API answers a non-admin exactly as a missing path (404
 * not_found), so "not an operator" is what a 404 on the first call
 * means. Every action takes two clicks (the button arms, then acts).
 */
(function (root) {
	'use strict';

	var U = root.PA.util;
	var $ = U.$;
	var doc = root.document;
	var client = new root.Parley.Client();
	var REFRESH_MS = 5000;
	var ARM_MS = 4000;
	var TABS = ['online', 'users', 'groups', 'health', 'audit'];

	var S = {
		tab: 'online',
		timer: null,
		armed: null,
		armTimer: null,
		auditBefore: null,
		group: null
	};

	/* ------------------------------------------------------------ */
	/* Screens, notices                                             */
	/* ------------------------------------------------------------ */

	function screen(name) {
		doc.body.setAttribute('data-screen', name);
		U.show($('splash'), name === 'boot');
		U.show($('auth'), name === 'auth' || name === 'not-admin');
		U.show($('login-form'), name === 'auth');
		U.show($('not-admin'), name === 'not-admin');
		U.show($('console'), name === 'console');
	}

	function errorText(err) {
		if (!err) {
			return '';
		}
		if (err.code === 'network_error' || err.code === 'timeout') {
			return 'The server does not answer; try again.';
		}
		return err.message || err.code;
	}

	function notice(text, isError) {
		var n = $('notice');
		U.setText(n, text);
		U.toggleClass(n, 'error', !!isError);
		U.show(n, !!text);
	}

	function authError(text) {
		U.setText($('auth-error'), text);
		U.show($('auth-error'), !!text);
	}

	/* ------------------------------------------------------------ */
	/* Signing in                                                   */
	/* ------------------------------------------------------------ */

	/* Is this session an operator's? The first admin call tells. */
	function probe() {
		client.get('/admin/online', function (err, res) {
			if (err && err.status === 404) {
				U.setText($('not-admin-name'), client.user ? client.user.username : '');
				screen('not-admin');
				return;
			}
			if (err) {
				screen('auth');
				authError(errorText(err));
				return;
			}
			U.setText($('me-name'), client.user ? client.user.display_name + ' (' + client.user.username + ')' : '');
			screen('console');
			tab(S.tab);
			renderOnline(res);
		});
	}

	function boot() {
		client.me(function (err) {
			if (err) {
				screen('auth');
				return;
			}
			probe();
		});
	}

	function login(e) {
		var name = U.trim($('login-username').value), pw = $('login-password').value;
		if (e && e.preventDefault) {
			e.preventDefault();
		}
		authError('');
		if (!name || !pw) {
			authError('Enter your username and password.');
			return false;
		}
		$('login-submit').disabled = true;
		client.login(name, pw, function (err) {
			$('login-submit').disabled = false;
			if (err) {
				authError(errorText(err));
				return;
			}
			$('login-password').value = '';
			probe();
		});
		return false;
	}

	function logout() {
		stopTimer();
		client.logout(function () {
			screen('auth');
		});
	}

	/* ------------------------------------------------------------ */
	/* Tabs                                                         */
	/* ------------------------------------------------------------ */

	function stopTimer() {
		if (S.timer !== null) {
			root.clearInterval(S.timer);
			S.timer = null;
		}
	}

	function tab(name) {
		var i;
		S.tab = name;
		for (i = 0; i < TABS.length; i++) {
			U.toggleClass($('tab-' + TABS[i]), 'active', TABS[i] === name);
			U.show($('pane-' + TABS[i]), TABS[i] === name);
		}
		stopTimer();
		if (name === 'online') {
			loadOnline();
			S.timer = root.setInterval(function () {
				/* An armed button would be replaced under the pointer. */
				if (S.armed === null) {
					loadOnline();
				}
			}, REFRESH_MS);
		} else if (name === 'users') {
			loadUsers();
		} else if (name === 'groups') {
			loadGroups();
		} else if (name === 'health') {
			loadHealth();
		} else if (name === 'audit') {
			S.auditBefore = null;
			loadAudit();
		}
	}

	/* ------------------------------------------------------------ */
	/* Helpers for the tables                                       */
	/* ------------------------------------------------------------ */

	function cell(content, className) {
		return U.el('td', className ? { className: className } : null, content);
	}

	function ago(iso) {
		var t = U.parseTime(iso), s;
		if (t === null) {
			return '';
		}
		s = Math.round((U.now() - t) / 1000);
		if (s < 60) {
			return (s < 0 ? 0 : s) + ' s ago';
		}
		if (s < 3600) {
			return Math.floor(s / 60) + ' min ago';
		}
		return U.dayLabel(t) + ' ' + U.clock(t);
	}

	function when(iso) {
		var t = U.parseTime(iso);
		return t === null ? '' : U.dayLabel(t) + ' ' + U.clock(t);
	}

	function who(u) {
		return [U.el('span', { text: u.display_name }), U.el('span', { className: 'sub', text: '@' + u.username + ' \u00b7 id ' + u.id })];
	}

	function actionButton(label, attrs, danger) {
		return U.el('button', {
			type: 'button', className: 'button small' + (danger ? ' danger' : ''), text: label,
			attrs: attrs
		});
	}

	function userButton(action, label, u, danger) {
		return actionButton(label, { 'data-action': action, 'data-user': u.id, 'data-name': u.username }, danger);
	}

	function userActions(u) {
		return [userButton('kick', 'Kick', u, true), u.suspended_at ?
		    userButton('restore', 'Restore', u, false) : userButton('suspend', 'Suspend', u, true)];
	}

	function fill(tbodyId, emptyId, rows) {
		var tb = $(tbodyId), i;
		U.empty(tb);
		for (i = 0; i < rows.length; i++) {
			tb.appendChild(rows[i]);
		}
		if (emptyId) {
			U.show($(emptyId), rows.length === 0);
		}
	}

	function failed(err) {
		if (err && err.status === 404 && err.code === 'not_found') {
			/* No longer an operator (revoked, or signed out). */
			stopTimer();
			probe();
			return;
		}
		notice(errorText(err), true);
	}

	/* ------------------------------------------------------------ */
	/* Online                                                       */
	/* ------------------------------------------------------------ */

	function loadOnline() {
		client.get('/admin/online', function (err, res) {
			if (err) {
				failed(err);
				return;
			}
			renderOnline(res);
		});
	}

	function renderOnline(res) {
		var rows = [], i, j, u, kinds, k, tr;
		U.setText($('online-count'), String(res.online));
		for (i = 0; i < res.users.length; i++) {
			u = res.users[i];
			kinds = [];
			for (j = 0; j < u.sessions.length; j++) {
				k = u.sessions[j].transport || 'unknown';
				if (U.indexOf(kinds, k) < 0) {
					kinds.push(k);
				}
			}
			tr = U.el('tr', { attrs: { 'data-user-id': u.id } }, [
				cell(who(u)),
				cell(String(u.sessions.length)),
				cell(kinds.join(', ')),
				cell(ago(u.last_poll_at)),
				cell(u.sessions.length ? u.sessions[0].ip : '', 'hide-narrow'),
				cell(userActions(u), 'actions')
			]);
			rows.push(tr);
		}
		fill('online-rows', 'online-empty', rows);
	}

	/* ------------------------------------------------------------ */
	/* Users                                                        */
	/* ------------------------------------------------------------ */

	function loadUsers(e) {
		var q = U.trim($('users-q').value).toLowerCase();
		if (e && e.preventDefault) {
			e.preventDefault();
		}
		client.get('/admin/users?limit=100&q=' + encodeURIComponent(q) +
		    ($('users-suspended').checked ? '&suspended=1' : ''), function (err, res) {
			var rows = [], i, u, state;
			if (err) {
				failed(err);
				return;
			}
			for (i = 0; i < res.users.length; i++) {
				u = res.users[i];
				state = [];
				if (u.suspended_at) {
					state.push(U.el('span', { className: 'state-down', text: 'suspended ' + when(u.suspended_at) }));
				} else {
					state.push(U.el('span', { text: u.online ? 'online' : 'offline' }));
				}
				if (u.admin) {
					state.push(U.el('span', { className: 'tag', text: 'admin' }));
				}
				rows.push(U.el('tr', { attrs: { 'data-user-id': u.id } }, [
					cell(who(u)), cell(state), cell(String(u.sessions)),
					cell(when(u.created_at), 'hide-narrow'), cell(userActions(u), 'actions')
				]));
			}
			fill('users-rows', 'users-empty', rows);
		});
		return false;
	}

	/* ------------------------------------------------------------ */
	/* Groups and messages                                          */
	/* ------------------------------------------------------------ */

	function loadGroups(e) {
		var q = U.trim($('groups-q').value);
		if (e && e.preventDefault) {
			e.preventDefault();
		}
		client.get('/admin/groups?limit=100&q=' + encodeURIComponent(q), function (err, res) {
			var rows = [], i, g;
			if (err) {
				failed(err);
				return;
			}
			for (i = 0; i < res.groups.length; i++) {
				g = res.groups[i];
				rows.push(U.el('tr', { attrs: { 'data-group-id': g.id } }, [
					cell([U.el('span', { text: g.name }), U.el('span', { className: 'sub', text: 'id ' + g.id })]),
					cell(String(g.members)),
					cell(g.owner ? '@' + g.owner.username : '\u2014'),
					cell(String(g.messages)),
					cell(g.last_message_at ? when(g.last_message_at) : '\u2014', 'hide-narrow'),
					cell([
						actionButton('Members', { 'data-action': 'group-open', 'data-group': g.id }),
						actionButton('Delete group', { 'data-action': 'group-delete', 'data-group': g.id, 'data-name': g.name }, true)
					], 'actions')
				]));
			}
			fill('groups-rows', 'groups-empty', rows);
		});
		return false;
	}

	function openGroup(id) {
		client.get('/admin/groups/' + id, function (err, res) {
			var rows = [], i, m, g;
			if (err) {
				U.show($('group-detail'), false);
				failed(err);
				return;
			}
			g = res.group;
			S.group = g.id;
			U.setText($('group-title'), g.name + ' (id ' + g.id + ', ' + g.members.length + ' members)');
			for (i = 0; i < g.members.length; i++) {
				m = g.members[i];
				rows.push(U.el('tr', { attrs: { 'data-member-id': m.id } }, [
					cell(who(m)), cell(m.role),
					cell([actionButton('Remove', {
						'data-action': 'member-remove', 'data-group': g.id, 'data-user': m.id, 'data-name': m.username
					}, true)], 'actions')
				]));
			}
			fill('member-rows', null, rows);
			U.show($('group-detail'), true);
		});
	}

	/* ------------------------------------------------------------ */
	/* Health                                                       */
	/* ------------------------------------------------------------ */

	function fact(name, value) {
		return U.el('tr', null, [U.el('th', { text: name }), cell(String(value))]);
	}

	function loadHealth() {
		client.get('/admin/health', function (err, res) {
			var rows = [], i, p, sup, st;
			if (err) {
				failed(err);
				return;
			}
			U.setText($('health-status'), res.status === 'ok' ? 'All processes up' : 'Degraded: a process is down');
			for (i = 0; i < res.processes.length; i++) {
				p = res.processes[i];
				sup = p.supervisor;
				st = U.el('span', { className: p.up ? 'state-up' : 'state-down', text: p.up ? 'up' : 'down' });
				rows.push(U.el('tr', { attrs: { 'data-process': p.name } }, [
					cell(p.name),
					cell([st, sup ? U.el('span', { className: 'sub', text: sup.state }) : null]),
					cell(p.checked_by),
					cell(sup ? String(sup.restarts) : '\u2014'),
					cell(sup && sup.pid ? String(sup.pid) : '\u2014'),
					cell(String(p.db_connections))
				]));
			}
			fill('health-rows', null, rows);
			fill('health-facts', null, [
				fact('Database connections', res.database.connections + ' of ' + res.database.max_connections),
				fact('Webhook deliveries waiting', res.webhooks.pending + ' (' + res.webhooks.due + ' due, oldest ' +
				    res.webhooks.oldest_pending_s + ' s)'),
				fact('Webhook deliveries failed, last 24 h', res.webhooks.failed_24h),
				fact('Online', res.online.users + ' users, ' + res.online.sessions + ' sessions (window ' + res.online.window + ' s)')
			]);
		});
	}

	/* ------------------------------------------------------------ */
	/* Audit log                                                    */
	/* ------------------------------------------------------------ */

	function loadAudit() {
		var more = S.auditBefore !== null;
		client.get('/admin/audit?limit=50' + (more ? '&before=' + S.auditBefore : ''), function (err, res) {
			var tb = $('audit-rows'), i, e;
			if (err) {
				failed(err);
				return;
			}
			if (!more) {
				U.empty(tb);
			}
			for (i = 0; i < res.entries.length; i++) {
				e = res.entries[i];
				tb.appendChild(U.el('tr', { attrs: { 'data-audit-id': e.id } }, [
					cell(when(e.at)), cell(e.actor), cell(e.action),
					cell(e.target_type + ' ' + e.target_id),
					cell(U.el('code', { text: JSON.stringify(e.detail) }))
				]));
				S.auditBefore = e.id;
			}
			U.show($('audit-more'), res.entries.length === 50);
		});
	}

	/* ------------------------------------------------------------ */
	/* Actions                                                      */
	/* ------------------------------------------------------------ */

	function disarm() {
		if (S.armTimer !== null) {
			root.clearTimeout(S.armTimer);
			S.armTimer = null;
		}
		if (S.armed) {
			U.removeClass(S.armed.el, 'armed');
			U.setText(S.armed.el, S.armed.label);
		}
		S.armed = null;
	}

	/* First click arms the button ("Confirm …"), a second one within a
	 * few seconds runs fn. */
	function armed(el, fn) {
		if (S.armed && S.armed.el === el) {
			disarm();
			fn();
			return;
		}
		disarm();
		S.armed = { el: el, label: U.getText(el) };
		U.addClass(el, 'armed');
		U.setText(el, 'Confirm ' + U.getText(el).toLowerCase());
		S.armTimer = root.setTimeout(disarm, ARM_MS);
	}

	function reasonBody() {
		var r = U.trim($('reason').value);
		return r ? { reason: r } : null;
	}

	function reload() {
		if (S.tab === 'online') {
			loadOnline();
		} else if (S.tab === 'users') {
			loadUsers();
		} else if (S.tab === 'groups') {
			loadGroups();
			if (S.group !== null) {
				openGroup(S.group);
			}
		}
	}

	function userAction(kind, id, name) {
		client.post('/admin/users/' + id + '/' + kind, reasonBody(), function (err, res) {
			if (err) {
				failed(err);
				return;
			}
			if (kind === 'kick') {
				notice('Signed ' + name + ' out of ' + res.sessions_ended + ' session(s).');
			} else if (kind === 'suspend') {
				notice('Suspended ' + name + '; ' + res.sessions_ended + ' session(s) ended.');
			} else {
				notice('Restored ' + name + '.');
			}
			$('reason').value = '';
			reload();
		});
	}

	function del(path, done) {
		client.del(path, function (err) {
			if (err) {
				failed(err);
				return;
			}
			notice(done);
			reload();
		});
	}

	function onAction(action, el) {
		var id = el.getAttribute('data-user'), name = el.getAttribute('data-name');
		var g = el.getAttribute('data-group');
		if (action === 'tab') {
			disarm();
			notice('');
			tab(el.getAttribute('data-tab'));
		} else if (action === 'logout') {
			logout();
		} else if (action === 'health') {
			loadHealth();
		} else if (action === 'audit-more') {
			loadAudit();
		} else if (action === 'kick' || action === 'suspend' || action === 'restore') {
			armed(el, function () { userAction(action, id, name); });
		} else if (action === 'group-open') {
			openGroup(g);
		} else if (action === 'group-delete') {
			armed(el, function () {
				if (String(S.group) === String(g)) {
					S.group = null;
					U.show($('group-detail'), false);
				}
				del('/admin/groups/' + g, 'Deleted the group ' + name + '.');
			});
		} else if (action === 'member-remove') {
			armed(el, function () {
				del('/admin/groups/' + g + '/members/' + id, 'Removed ' + name + ' from the group.');
			});
		}
	}

	function deleteMessage(e) {
		var id = U.trim($('message-id').value);
		if (e && e.preventDefault) {
			e.preventDefault();
		}
		if (!/^[1-9][0-9]{0,15}$/.test(id)) {
			notice('A message id is a positive number.', true);
			return false;
		}
		armed($('message-delete'), function () {
			del('/admin/messages/' + id, 'Deleted message ' + id + ' for everyone.');
			$('message-id').value = '';
		});
		return false;
	}

	/* ------------------------------------------------------------ */
	/* Start                                                        */
	/* ------------------------------------------------------------ */

	U.on($('login-form'), 'submit', login);
	U.on($('users-form'), 'submit', loadUsers);
	U.on($('groups-form'), 'submit', loadGroups);
	U.on($('message-form'), 'submit', deleteMessage);
	U.delegate(doc, onAction);
	/* For tests and the curious. */
	root.PAdmin = { client: client, state: S };
	boot();
}(this));
