/*
 * app-composer.js: sending in the web client, plain ECMAScript 5: the outbox
 * (one send at a time per conversation, each with a client_id and
 * retried with it, so order holds and a retry never duplicates), the
 * composer, link attachments, and recalling a message.
 *
 * Depends on: app-util.js, app-session.js, app-common.js, app-events.js
 * (PA.live); at run time on app-view.js and app-messages.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var S = PA.state;          /* one object for the page's life: PA.resetState() */
	var client = PA.client;

	/* ------------------------------------------------------------ */
	/* Sending                                                      */
	/* ------------------------------------------------------------ */

	function pendingFor(v) {
		var out = [], i, p;
		for (i = 0; i < S.outbox.length; i++) {
			p = S.outbox[i];
			if ((v.convId && p.convId === v.convId) || (!v.convId && !p.convId && p.to === v.peerId) ||
			    (v.convId && !p.convId && v.kind === 'direct' && p.to === v.peerId)) {
				out.push(p);
			}
		}
		return out;
	}
	PA.pendingFor = pendingFor;

	function pendingByClient(clientId) {
		var i;
		for (i = 0; clientId && i < S.outbox.length; i++) {
			if (S.outbox[i].clientId === clientId) {
				return S.outbox[i];
			}
		}
		return null;
	}
	PA.pendingByClient = pendingByClient;

	/* The stored message for a pending send arrived: forget the pending one. */
	function dropPending(clientId, m) {
		var i;
		for (i = 0; clientId && i < S.outbox.length; i++) {
			if (S.outbox[i].clientId === clientId) {
				S.outbox.splice(i, 1);
				if (i === 0) {
					S.sending = false;
					root.setTimeout(function () { pumpOutbox(false); }, 0);
				}
				return true;
			}
		}
		return false;
	}
	PA.dropPending = dropPending;

	/* Queues a message for the open conversation. */
	function send(type, body) {
		var v = S.view, p;
		if (!v) {
			return;
		}
		p = {
			clientId: U.clientId(S.me.id),
			convId: v.convId,
			to: v.kind === 'direct' ? v.peerId : null,
			groupId: v.kind === 'group' ? v.convId : null,
			type: type,
			body: body,
			tries: 0,
			failed: false,
			error: '',
			generation: S.generation
		};
		S.outbox.push(p);
		PA.renderMessages('bottom');
		pumpOutbox(false);
	}
	PA.send = send;

	function retryable(err) {
		return err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504 || err.status === 429;
	}

	/*
	 * Sends the outbox one message at a time, so messages keep the order
	 * they were written in. A send without a clear answer is repeated
	 * with the same client_id: the server stores it once.
	 */
	function pumpOutbox(force) {
		var p = S.outbox[0], body, gen = S.generation;
		if (!p || !S.me || (p.failed && !force)) {
			return;
		}
		if (S.sending) {
			if (!force || !p.timer) {
				return;     /* in flight: its answer moves the queue on */
			}
			/* Waiting to retry: go now. */
			root.clearTimeout(p.timer);
			p.timer = null;
		}
		S.sending = true;
		p.failed = false;
		body = { client_id: p.clientId, type: p.type, body: p.body };
		if (p.groupId) {
			body.group_id = p.groupId;
		} else {
			body.to = p.to;
		}
		client.post('/messages', body, function (err, res) {
			var t;
			if (S.generation !== gen || S.outbox[0] !== p) {
				return;
			}
			if (!err) {
				t = U.parseTime(res.message.created_at);
				if (t) {
					S.skew = t - U.now();
				}
				S.sending = false;
				S.outbox.shift();
				if (S.view && !S.view.convId && p.to && S.view.peerId === p.to) {
					PA.adoptConv(S.view, res.message.conversation_id);
				}
				PA.onMessage(res.message);
				if (S.view) {
					PA.renderMessages('auto');
				}
				pumpOutbox(false);
				return;
			}
			if (retryable(err) && p.tries < 30) {
				p.tries++;
				p.timer = root.setTimeout(function () {
					p.timer = null;
					if (S.generation === gen && S.outbox[0] === p) {
						S.sending = false;
						pumpOutbox(false);
					}
				}, Math.min(30000, 500 * Math.pow(2, Math.min(p.tries, 6))));
				return;
			}
			/* The server's final word: the user decides. The next ones
			 * wait behind it, so the order stays. */
			S.sending = false;
			p.failed = true;
			p.error = err.code === 'not_friends' ? 'You are not friends any more.' :
			    err.code === 'blocked' ? 'You cannot message this person.' :
			    err.code === 'group_not_found' ? 'You are no longer in this group.' : PA.errorText(err, 'Not sent.');
			if (S.view) {
				PA.renderMessages('auto');
			}
		});
	}
	PA.pumpOutbox = pumpOutbox;

	function onComposerSubmit(e) {
		var input = $('composer-input'), text = input.value;
		if (e) {
			e.preventDefault();
		}
		if (!U.trim(text)) {
			return false;
		}
		/* Control characters other than tab/LF/CR are refused. */
		text = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '');
		if (text.length > 8192) {
			PA.toast('That message is too long (8192 characters at most).', 'error');
			return false;
		}
		input.value = '';
		autoGrow();
		send('text', { text: text });
		try {
			input.focus();
		} catch (x) {
			/* ignore */
		}
		return false;
	}
	PA.onComposerSubmit = onComposerSubmit;

	function onComposerKey(e) {
		var key = e.keyCode || e.which;
		if (key === 13 && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
			e.preventDefault();
			onComposerSubmit(null);
			return false;
		}
		return true;
	}
	PA.onComposerKey = onComposerKey;

	function autoGrow() {
		var t = $('composer-input');
		t.style.height = '';
		if (t.scrollHeight > t.clientHeight) {
			t.style.height = Math.min(t.scrollHeight + 2, 140) + 'px';
		}
	}
	PA.autoGrow = autoGrow;

	/* --- attachments (links) --- */

	function openAttach() {
		var f = $('attach-form');
		if (U.isShown(f)) {
			U.show(f, false);
			return;
		}
		$('attach-url').value = '';
		$('attach-name').value = '';
		$('attach-size').value = '0';
		$('attach-mime').value = '';
		$('attach-name').removeAttribute('data-touched');
		$('attach-mime').removeAttribute('data-touched');
		U.show($('attach-error'), false);
		U.show(f, true);
		try {
			$('attach-url').focus();
		} catch (e) {
			/* ignore */
		}
	}
	PA.openAttach = openAttach;

	function attachUrlChanged() {
		var url = U.trim($('attach-url').value);
		if (!url) {
			return;
		}
		if (!$('attach-name').getAttribute('data-touched')) {
			$('attach-name').value = U.fileNameFromUrl(url);
		}
		if (!$('attach-mime').getAttribute('data-touched')) {
			$('attach-mime').value = U.guessMime(url);
		}
	}
	PA.attachUrlChanged = attachUrlChanged;

	function onAttachSubmit(e) {
		var url = U.trim($('attach-url').value), name = U.trim($('attach-name').value);
		var mime = U.trim($('attach-mime').value) || U.guessMime(url), size = U.trim($('attach-size').value) || '0';
		var errText = '';
		e.preventDefault();
		if (!/^https?:\/\/[^\s"<>\\\^`{|}]+$/.test(url) || url.length > 2048) {
			errText = 'Enter an address starting with http:// or https:// (no spaces).';
		} else if (!/^[A-Za-z0-9!#$&\^_.+\-]+\/[A-Za-z0-9!#$&\^_.+\-]+$/.test(mime)) {
			errText = 'The type looks like image/jpeg or application/pdf.';
		} else if (!/^\d{1,15}$/.test(size)) {
			errText = 'The size is a number of bytes.';
		}
		if (errText) {
			U.setText($('attach-error'), errText);
			U.show($('attach-error'), true);
			return false;
		}
		send(U.messageTypeForMime(mime), { url: url, name: name || U.fileNameFromUrl(url), size: +size, mime: mime });
		U.show($('attach-form'), false);
		return false;
	}
	PA.onAttachSubmit = onAttachSubmit;

	/* --- recall --- */

	function recall(button) {
		var id = +button.getAttribute('data-id');
		button.disabled = true;
		client.post('/messages/' + id + '/recall', null, PA.live(function (err, res) {
			button.disabled = false;
			if (err) {
				PA.toast(err.code === 'recall_window_passed' ? 'Messages can only be recalled within 2 minutes.' :
				    PA.errorText(err), 'error');
				U.show(button, false);
				return;
			}
			PA.onRecalled({ message_id: id, conversation_id: res.message.conversation_id, seq: res.message.seq });
		}));
	}
	PA.recall = recall;
}(window));
