/*
 * app-messages.js: drawing the open conversation's messages, plain ECMAScript
 * 5: sent/delivered/read ticks, call records, links and images, pending
 * sends, recall buttons, and keeping the scroll position.
 *
 * Depends on: app-util.js, app-session.js, app-common.js, app-upload.js
 * (PA.uploads); at run time on app-view.js and app-composer.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var el = U.el;
	var S = PA.state;          /* one object for the page's life: PA.resetState() */
	var client = PA.client;
	var RECALL_MS = 120000;     /* the server's recall window */

	/* --- rendering messages --- */

	/* Own message status: sending, failed, sent, delivered, read. */
	function statusOf(v, m) {
		var marks = S.marks[v.convId] || {}, k, mk, read = 0, delivered = 0, readers = [];
		for (k in marks) {
			if (U.has(marks, k) && +k !== S.me.id) {
				mk = marks[k];
				if (mk.r >= m.seq) {
					read++;
					readers.push(PA.userName(+k));
				}
				if (mk.d >= m.seq) {
					delivered++;
				}
			}
		}
		if (read > 0) {
			return { s: 'read', title: v.kind === 'group' ? 'Read by ' + readers.join(', ') : 'Read' };
		}
		if (delivered > 0) {
			return { s: 'delivered', title: 'Delivered' };
		}
		return { s: 'sent', title: 'Sent' };
	}

	var TICKS = { sending: '\u25F7', failed: '!', sent: '\u2713', delivered: '\u2713\u2713', read: '\u2713\u2713' };

	function setStatus(node, status, title) {
		node.setAttribute('data-status', status);
		node.className = 'msg-status ' + status;
		node.title = title;
		U.setText(node, TICKS[status]);
	}

	function callLabel(m) {
		var b = m.body || {};
		switch (b.result) {
		case 'missed':
			return 'Missed call';
		case 'declined':
			return 'Declined';
		case 'canceled':
			return 'Canceled';
		case 'completed':
			return 'Call, ' + U.duration(b.duration);
		default:
			return 'Call';
		}
	}
	PA.callLabel = callLabel;

	/* The host an http(s) URL points at, as a person should read it (no
	 * user:password@ in front to pass for another host). */
	function urlHost(url) {
		var m = /^https?:\/\/([^\/?#\\]*)/i.exec(url || ''), h;
		if (!m) {
			return '';
		}
		h = m[1];
		h = h.substring(h.lastIndexOf('@') + 1);
		return h.toLowerCase();
	}
	PA.urlHost = urlHost;

	/*
	 * Someone else's image: loading it would tell its host (chosen by the
	 * sender) this viewer's address and when they read the message. It
	 * loads only when asked, and then stays shown for this session.
	 */
	function imagePlaceholder(m, size) {
		var b = m.body || {}, box, button;
		button = el('button', {
			className: 'button small', type: 'button', text: 'Show image from ' + urlHost(b.url),
			attrs: { 'data-test': 'show-image' }
		});
		box = el('div', { className: 'attach-image hold', attrs: { 'data-test': 'image-placeholder' } }, [
			el('span', { className: 'attach-caption', text: (b.name || 'Image') + (size ? ' · ' + size : '') }),
			el('span', { className: 'attach-hold-note', text: 'Not loaded: the image is on another site.' }),
			button
		]);
		U.on(button, 'click', function (e) {
			var shown;
			if (e && e.preventDefault) {
				e.preventDefault();
			}
			S.shownImages[m.id] = true;
			shown = attachmentNode(m);
			if (box.parentNode) {
				box.parentNode.replaceChild(shown, box);
			}
		});
		return box;
	}

	function attachmentNode(m) {
		var b = m.body || {}, size = U.size(b.size), isImage, img, caption, a;
		if (b.upload_id && PA.uploads) {
			return PA.uploads.node(m);     /* a file on Parley: app-upload.js */
		}
		var link = { href: b.url, attrs: { target: '_blank', rel: 'noopener noreferrer', 'data-test': 'attachment' } };
		if (!/^https?:\/\//i.test(b.url || '')) {
			/* The server only stores http(s) links; anything else is not a link here. */
			return el('span', { className: 'attach-name', text: (b.name || 'file') + (size ? ' · ' + size : '') });
		}
		isImage = m.type === 'image' || /^image\//.test(b.mime || '');
		if (isImage && (m.from === S.me.id || !m.id || S.shownImages[m.id])) {
			link.className = 'attach-image';
			img = el('img', { attrs: { src: b.url, alt: b.name || 'image', referrerpolicy: 'no-referrer' } });
			caption = el('span', { className: 'attach-caption', text: (b.name || '') + (size ? ' · ' + size : '') });
			a = el('a', link, [img, caption]);
			/* A link that is not (or no longer) an image: say so. */
			U.on(img, 'error', function () {
				U.addClass(a, 'broken');
				U.setText(caption, (b.name || 'Image') + ' (no preview)' + (size ? ' · ' + size : ''));
			});
			return a;
		}
		if (isImage) {
			return imagePlaceholder(m, size);
		}
		link.className = 'attach-file';
		return el('a', link, [
			el('span', { className: 'attach-icon', text: m.type === 'audio' ? '\u266B' : m.type === 'video' ? '\u25B6' : '\u2193' }),
			el('span', { className: 'attach-info' }, [
				el('span', { className: 'attach-name', text: b.name || b.url }),
				el('span', { className: 'attach-meta', text: (b.mime || m.type) + (size ? ' · ' + size : '') })
			])
		]);
	}

	/* The DOM for one stored message (without sender label). */
	function messageNode(v, m) {
		var mine = m.from === S.me.id, t = U.parseTime(m.created_at), content, row, bubble, footer, status;
		var attrs = {
			'data-id': m.id, 'data-seq': m.seq, 'data-from': m.from, 'data-type': m.type,
			'data-mine': mine ? 'true' : 'false', 'data-recalled': m.recalled ? 'true' : 'false'
		};
		if (m.type === 'call') {
			return el('div', { className: 'msg-row center', attrs: attrs }, [
				el('div', { className: 'call-record' + ((m.body && m.body.result === 'missed' && !mine) ? ' missed' : '') }, [
					el('span', { className: 'call-icon', text: m.body && m.body.media === 'video' ? '\u25B6' : '\u260E' }),
					el('span', { className: 'call-label', text: callLabel(m), attrs: { 'data-test': 'call-label' } }),
					el('span', { className: 'msg-time', text: t ? U.clock(t) : '' })
				])
			]);
		}
		if (m.type === 'system') {
			return el('div', { className: 'msg-row center', attrs: attrs }, [
				el('div', { className: 'system-line', text: (m.body && m.body.text) || '' })
			]);
		}
		if (m.recalled) {
			content = el('div', { className: 'msg-text recalled', text: mine ? 'You recalled this message' : 'This message was recalled' });
		} else if (m.type === 'text') {
			content = U.linkify(el('div', { className: 'msg-text' }), (m.body && m.body.text) || '');
		} else {
			content = el('div', { className: 'msg-attachment' }, attachmentNode(m));
		}
		footer = el('div', { className: 'msg-foot' }, [
			el('span', { className: 'msg-time', text: t ? U.clock(t) : '' })
		]);
		if (mine && !m.recalled) {
			status = el('span', { className: 'msg-status' });
			footer.appendChild(status);
		}
		bubble = el('div', { className: 'bubble' + (m.recalled ? ' recalled' : '') }, [content, footer]);
		row = el('div', { className: 'msg-row ' + (mine ? 'mine' : 'theirs'), attrs: attrs }, [bubble]);
		if (mine && !m.recalled) {
			/* Left of the bubble. */
			row.insertBefore(el('button', {
				className: 'recall-button' + (canRecall(m) ? '' : ' hidden'), type: 'button', text: 'Recall',
				attrs: { 'data-action': 'recall', 'data-id': m.id, 'data-test': 'recall' },
				title: 'Take this message back (within 2 minutes)'
			}), bubble);
		}
		return row;
	}

	function canRecall(m) {
		var t = U.parseTime(m.created_at);
		return m.from === S.me.id && !m.recalled && m.type !== 'call' && t !== null &&
		    PA.serverNow() - t < RECALL_MS - 3000;
	}

	function pendingNode(p) {
		var content, status, row;
		if (p.type === 'text') {
			content = U.linkify(el('div', { className: 'msg-text' }), p.body.text);
		} else {
			content = el('div', { className: 'msg-attachment' }, attachmentNode({ type: p.type, body: p.body }));
		}
		status = el('span', { className: 'msg-status' });
		setStatus(status, p.failed ? 'failed' : 'sending', p.failed ? 'Not sent: ' + p.error : 'Sending…');
		row = el('div', {
			className: 'msg-row mine pending' + (p.failed ? ' failed' : ''),
			attrs: { 'data-client-id': p.clientId, 'data-mine': 'true', 'data-pending': 'true' }
		}, [el('div', { className: 'bubble' }, [content, el('div', { className: 'msg-foot' }, [status])])]);
		if (p.failed) {
			row.appendChild(el('div', { className: 'failed-line' }, [
				el('span', { text: p.error + ' ' }),
				el('button', { className: 'link-button', type: 'button', text: 'Retry', attrs: { 'data-action': 'retry-send', 'data-client-id': p.clientId } }),
				el('span', { text: ' · ' }),
				el('button', { className: 'link-button', type: 'button', text: 'Discard', attrs: { 'data-action': 'discard-send', 'data-client-id': p.clientId } })
			]));
		}
		return row;
	}

	function atBottom(box) {
		return box.scrollHeight - box.scrollTop - box.clientHeight < 60;
	}

	/*
	 * Redraws the message list. mode: 'bottom' scrolls to the newest,
	 * 'keep' keeps what is on screen in place (older messages added
	 * above), 'auto' follows new messages only when already at the
	 * bottom (else offers a "new messages" button).
	 */
	function renderMessages(mode) {
		var v = S.view, box = $('messages'), i, m, prev, day, node, key, cached, fromBottom, wasBottom;
		var pend, top;
		if (!v || !box) {
			return;
		}
		wasBottom = atBottom(box);
		fromBottom = box.scrollHeight - box.scrollTop;
		U.empty(box);

		/* What is above the first message. */
		if (v.loadError) {
			box.appendChild(el('div', { className: 'history-note error' }, [
				el('span', { text: v.loadError + ' ' }),
				el('button', { className: 'link-button', type: 'button', text: 'Try again', attrs: { 'data-action': 'reload-history' } })
			]));
		} else if (v.loading || (v.hasMore && v.loaded)) {
			box.appendChild(el('div', { className: 'history-note', text: 'Loading earlier messages…', attrs: { 'data-test': 'history-loading' } }));
		} else if (v.loaded) {
			box.appendChild(el('div', {
				className: 'history-note start',
				text: v.msgs.length || PA.pendingFor(v).length ? 'This is the beginning of the conversation.' :
				    'No messages yet. Say hello!',
				attrs: { 'data-test': 'history-start' }
			}));
		}

		for (i = 0; i < v.msgs.length; i++) {
			m = v.msgs[i];
			top = U.parseTime(m.created_at) || 0;
			day = U.dayKey(top);
			if (!prev || day !== U.dayKey(U.parseTime(prev.created_at) || 0)) {
				box.appendChild(el('div', { className: 'day-line' }, el('span', { text: U.dayLabel(top) })));
			}
			if (v.kind === 'group' && m.from !== S.me.id && m.type !== 'call' && m.type !== 'system' &&
			    (!prev || prev.from !== m.from || prev.type === 'call' || day !== U.dayKey(U.parseTime(prev.created_at) || 0))) {
				box.appendChild(el('div', { className: 'sender', text: PA.userName(m.from), attrs: { 'data-from': m.from } }));
			}
			key = m.recalled ? 'r' : 'n';
			cached = v.nodes[m.id];
			if (cached && cached.key === key) {
				node = cached.node;
			} else {
				node = messageNode(v, m);
				v.nodes[m.id] = { key: key, node: node };
			}
			box.appendChild(node);
			prev = m;
		}
		pend = PA.pendingFor(v);
		for (i = 0; i < pend.length; i++) {
			box.appendChild(pendingNode(pend[i]));
		}
		updateStatuses();

		if (mode === 'bottom' || (mode === 'auto' && wasBottom)) {
			box.scrollTop = box.scrollHeight;
			U.show($('jump-bottom'), false);
		} else if (mode === 'keep') {
			box.scrollTop = box.scrollHeight - fromBottom;
		} else if (mode === 'auto') {
			U.show($('jump-bottom'), true);
		}
	}
	PA.renderMessages = renderMessages;

	function updateStatuses() {
		var v = S.view, box = $('messages'), nodes, i, id, m, st, span;
		if (!v || !box) {
			return;
		}
		nodes = box.childNodes;
		for (i = 0; i < nodes.length; i++) {
			if (nodes[i].getAttribute && nodes[i].getAttribute('data-mine') === 'true' &&
			    nodes[i].getAttribute('data-pending') !== 'true') {
				id = +nodes[i].getAttribute('data-id');
				m = v.byId[id];
				span = findByClass(nodes[i], 'msg-status');
				if (m && span) {
					st = statusOf(v, m);
					setStatus(span, st.s, st.title);
				}
			}
		}
	}
	PA.updateStatuses = updateStatuses;

	function findByClass(node, cls) {
		var list = node.getElementsByTagName('*'), i;
		for (i = 0; i < list.length; i++) {
			if (U.hasClass(list[i], cls)) {
				return list[i];
			}
		}
		return null;
	}

	/* Recall buttons disappear when the window has passed. */
	function refreshRecall() {
		var v = S.view, box = $('messages'), list, i, m;
		if (!v || !box) {
			return;
		}
		list = box.getElementsByTagName('button');
		for (i = 0; i < list.length; i++) {
			if (list[i].getAttribute('data-action') === 'recall') {
				m = v.byId[+list[i].getAttribute('data-id')];
				U.show(list[i], !!m && canRecall(m));
			}
		}
	}
	PA.refreshRecall = refreshRecall;

	function onScroll() {
		var v = S.view, box = $('messages');
		if (!v) {
			return;
		}
		if (box.scrollTop < 80 && v.hasMore && v.loaded && !v.loading && !v.loadError) {
			PA.loadPage(v, v.nextBefore);
		}
		if (atBottom(box)) {
			U.show($('jump-bottom'), false);
		}
	}
	PA.onScroll = onScroll;
}(window));
