/*
 * app-upload.js: files in the Parley web client. ECMAScript 5.
 *
 * Sending: the paper-clip (a transparent file input over the icon, so the
 * user clicks the real input: old IE refuses to submit a file chosen
 * through a scripted click) or a drop on the conversation uploads each
 * file, then sends a message {"upload_id"} through the app's outbox
 * (PA.send: order and retries as for text). With XHR2 the file is the
 * raw body of POST /api/v1/uploads and a bar shows its progress; without
 * (IE8/9) the input moves into a hidden form posted into a hidden iframe
 * (POST /api/v1/uploads?iframe=1 with the CSRF token as the first field),
 * whose page holds the JSON answer in a textarea.
 *
 * Voice: where MediaRecorder exists, the microphone button records a
 * message (up to 5 minutes) and sends it as audio.
 *
 * Showing: an upload is always fetched from Parley (/api/v1/uploads/{id},
 * built from the id, never from a URL in the body): images as thumbnails
 * that open a larger view on click, audio and video in plain <audio> and
 * <video> elements (a download link where they are missing), other files
 * as download links. With a bearer token (inside a frame the cookie is
 * not sent) media are fetched with the token and shown from blob: URLs.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var el = U.el;
	var doc = root.document;

	var API = '/api/v1/uploads';
	var THUMB_BOX = 240;            /* px: the thumbnail as shown */
	var VOICE_MAX_MS = 300000;      /* a voice message: 5 minutes at most */

	var UP = PA.uploads = {
		known: {},      /* upload id -> the upload as the server described it */
		log: [],        /* what happened, for tests: {what, ...} */
		xhr2: false,
		voice: false
	};

	var frameBusy = null;       /* the form upload in the frame: {input, name, row} */
	var recorder = null;

	function hasXhr2() {
		var x;
		if (!root.XMLHttpRequest || !root.FormData || !root.Blob) {
			return false;
		}
		try {
			x = new root.XMLHttpRequest();
		} catch (e) {
			return false;
		}
		return !!x.upload;
	}

	function csrf() {
		return (root.Parley && root.Parley.readCookie('parley_csrf')) || PA.client.csrfToken || '';
	}

	function note(what, extra) {
		var e = { what: what, at: U.now() }, k;
		for (k in extra || {}) {
			if (U.has(extra, k)) {
				e[k] = extra[k];
			}
		}
		UP.log.push(e);
		if (UP.log.length > 200) {
			UP.log.shift();
		}
	}

	function messageType(u) {
		return u.kind === 'image' || u.kind === 'audio' || u.kind === 'video' ? u.kind : 'file';
	}

	function errorText(code, message) {
		switch (code) {
		case 'unsupported_type':
			return 'This kind of file cannot be sent.';
		case 'too_large':
		case 'image_too_large':
		case 'quota_exceeded':
		case 'invalid_image':
			return message;
		default:
			return message || 'The upload failed.';
		}
	}

	/* ------------------------------------------------------------ */
	/* Progress                                                     */
	/* ------------------------------------------------------------ */

	/* A row in the progress list above the composer. */
	function progressRow(name) {
		var bar = el('span', { className: 'upload-bar-fill', attrs: { 'data-test': 'upload-bar' } });
		var pct = el('span', { className: 'upload-pct', text: '0%' });
		var row = el('div', { className: 'upload-row', attrs: { 'data-test': 'upload-progress' } }, [
			el('span', { className: 'upload-name', text: name }),
			el('span', { className: 'upload-bar' }, bar),
			pct
		]);
		$('upload-list').appendChild(row);
		U.show($('upload-list'), true);
		return {
			set: function (loaded, total) {
				var p = total > 0 ? Math.min(100, Math.round(loaded * 100 / total)) : 0;
				bar.style.width = p + '%';
				U.setText(pct, p + '%');
				row.setAttribute('data-percent', String(p));
			},
			busy: function () {
				U.addClass(row, 'indeterminate');
				U.setText(pct, 'Uploading…');
			},
			done: function () {
				if (row.parentNode) {
					row.parentNode.removeChild(row);
				}
				if (!$('upload-list').firstChild) {
					U.show($('upload-list'), false);
				}
			}
		};
	}

	function uploaded(u) {
		UP.known[u.id] = u;
		note('uploaded', { id: u.id, kind: u.kind });
		PA.send(messageType(u), { upload_id: u.id });
	}

	/* ------------------------------------------------------------ */
	/* XHR2: the file as the body                                   */
	/* ------------------------------------------------------------ */

	function uploadBlob(blob, name, type) {
		var xhr = new root.XMLHttpRequest(), row = progressRow(name), token = PA.client.token;
		note('start', { name: name, size: blob.size, path: 'xhr2' });
		xhr.open('POST', API + '?name=' + encodeURIComponent(name), true);
		xhr.setRequestHeader('Accept', 'application/json');
		xhr.setRequestHeader('Content-Type', type || blob.type || 'application/octet-stream');
		if (token) {
			xhr.setRequestHeader('Authorization', 'Bearer ' + token);
		} else {
			xhr.setRequestHeader('X-CSRF-Token', csrf());
		}
		xhr.upload.onprogress = function (e) {
			if (e.lengthComputable) {
				row.set(e.loaded, e.total);
				note('progress', { loaded: e.loaded, total: e.total });
			}
		};
		xhr.onreadystatechange = function () {
			var res = null;
			if (xhr.readyState !== 4) {
				return;
			}
			row.done();
			try {
				res = JSON.parse(xhr.responseText);
			} catch (e) {
				res = null;
			}
			if (xhr.status === 201 && res && res.upload) {
				uploaded(res.upload);
			} else {
				note('failed', { status: xhr.status, code: res && res.error && res.error.code });
				PA.toast(name + ': ' + errorText(res && res.error && res.error.code,
				    res && res.error && res.error.message), 'error');
			}
		};
		xhr.send(blob);
	}

	/* ------------------------------------------------------------ */
	/* No XHR2: a form posted into a hidden iframe                  */
	/* ------------------------------------------------------------ */

	/* The answer in the frame's page, or null when it is not ours. */
	function frameAnswer(frame) {
		var d, t;
		try {
			d = frame.contentWindow.document;
			t = d && d.getElementById('parley-reply');
			return t ? JSON.parse(t.value) : null;
		} catch (e) {
			return null;
		}
	}

	/* The form's answer arrived in the frame (one listener for all). */
	function onFrameLoad() {
		var job = frameBusy, res;
		if (!job) {
			return;     /* about:blank at start */
		}
		res = frameAnswer($('upload-frame'));
		frameBusy = null;
		job.row.done();
		if (job.input.parentNode) {
			job.input.parentNode.removeChild(job.input);
		}
		if (res && res.upload) {
			uploaded(res.upload);
		} else {
			note('failed', { status: res && res.status, code: res && res.error && res.error.code });
			PA.toast(job.name + ': ' + errorText(res && res.error && res.error.code,
			    res && res.error && res.error.message), 'error');
		}
	}

	function uploadByFrame(input) {
		var form = $('upload-form'), name, fresh;
		if (PA.client.token) {
			PA.toast('Sending files needs a newer browser here.', 'error');
			return;
		}
		if (frameBusy) {
			PA.toast('One file at a time, please: the last one is still uploading.', 'error');
			return;
		}
		name = String(input.value || 'file').replace(/^.*[\\\/]/, '');
		frameBusy = { input: input, name: name, row: progressRow(name) };
		frameBusy.row.busy();
		note('start', { name: name, path: 'iframe' });
		/* The chosen file travels with its input: a new, empty one takes
		 * its place in the composer, and the old one goes into the form,
		 * after the CSRF field. */
		fresh = input.cloneNode(false);
		input.parentNode.replaceChild(fresh, input);
		U.on(fresh, 'change', onPick);
		$('upload-csrf').value = csrf();
		form.appendChild(input);
		form.submit();
	}

	/* ------------------------------------------------------------ */
	/* Picking and dropping                                         */
	/* ------------------------------------------------------------ */

	function uploadFiles(files) {
		var i;
		if (!PA.state.view) {
			return;
		}
		for (i = 0; i < files.length; i++) {
			uploadBlob(files[i], files[i].name || 'file', files[i].type);
		}
	}

	function onPick(e) {
		var input = e.target || e.srcElement;
		if (!input.value) {
			return;
		}
		if (UP.xhr2 && input.files) {
			uploadFiles(input.files);
			input.value = '';
		} else {
			uploadByFrame(input);
		}
	}

	function hasFiles(e) {
		var t = e.dataTransfer && e.dataTransfer.types, i;
		for (i = 0; t && i < t.length; i++) {
			if (t[i] === 'Files') {
				return true;
			}
		}
		return false;
	}

	function wireDrop(zone) {
		U.on(zone, 'dragover', function (e) {
			if (hasFiles(e)) {
				e.preventDefault();
				U.addClass(zone, 'dropping');
			}
		});
		U.on(zone, 'dragleave', function () {
			U.removeClass(zone, 'dropping');
		});
		U.on(zone, 'drop', function (e) {
			U.removeClass(zone, 'dropping');
			if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) {
				e.preventDefault();
				uploadFiles(e.dataTransfer.files);
			}
		});
	}

	/* ------------------------------------------------------------ */
	/* Voice messages                                               */
	/* ------------------------------------------------------------ */

	function voiceType() {
		var types = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/mp4'], i;
		for (i = 0; i < types.length; i++) {
			if (root.MediaRecorder.isTypeSupported && root.MediaRecorder.isTypeSupported(types[i])) {
				return types[i];
			}
		}
		return '';
	}

	function stopVoice(send) {
		if (!recorder) {
			return;
		}
		recorder.send = send;
		if (recorder.rec.state !== 'inactive') {
			recorder.rec.stop();
		}
	}

	function startVoice() {
		var media = root.navigator.mediaDevices;
		if (recorder) {
			stopVoice(true);
			return;
		}
		media.getUserMedia({ audio: true }).then(function (stream) {
			var type = voiceType(), rec, chunks = [], t0 = U.now(), r;
			rec = type ? new root.MediaRecorder(stream, { mimeType: type }) : new root.MediaRecorder(stream);
			r = recorder = { rec: rec, send: true, timer: null };
			rec.ondataavailable = function (e) {
				if (e.data && e.data.size) {
					chunks.push(e.data);
				}
			};
			rec.onstop = function () {
				var blob, mime = (rec.mimeType || type || 'audio/webm').split(';')[0], ext, i, tracks;
				root.clearInterval(r.timer);
				tracks = stream.getTracks();
				for (i = 0; i < tracks.length; i++) {
					tracks[i].stop();
				}
				recorder = null;
				U.show($('voice-bar'), false);
				U.removeClass($('voice-record'), 'recording');
				if (!r.send || !chunks.length) {
					note('voice-canceled');
					return;
				}
				ext = mime === 'audio/ogg' ? 'ogg' : mime === 'audio/mp4' ? 'm4a' : 'webm';
				blob = new root.Blob(chunks, { type: mime });
				note('voice-recorded', { size: blob.size, ms: U.now() - t0, mime: mime });
				uploadBlob(blob, 'voice-message.' + ext, rec.mimeType || mime);
			};
			rec.start(1000);
			note('voice-start', { mime: rec.mimeType });
			U.addClass($('voice-record'), 'recording');
			U.show($('voice-bar'), true);
			U.setText($('voice-time'), '0:00');
			r.timer = root.setInterval(function () {
				var ms = U.now() - t0;
				U.setText($('voice-time'), U.duration(Math.floor(ms / 1000)));
				if (ms >= VOICE_MAX_MS) {
					stopVoice(true);
				}
			}, 250);
		}, function (err) {
			note('voice-denied', { name: err && err.name });
			PA.toast('The microphone is not available: ' + ((err && err.message) || 'permission denied') + '.', 'error');
		});
	}

	/* ------------------------------------------------------------ */
	/* Showing uploads                                              */
	/* ------------------------------------------------------------ */

	/* Sets `attr` of node to the upload's URL: directly with the cookie,
	 * through a blob: URL with a bearer token. */
	function setSource(node, attr, url, fallback) {
		var xhr, token = PA.client.token;
		if (!token) {
			node.setAttribute(attr, url);
			return;
		}
		if (!hasXhr2() || !root.URL || !root.URL.createObjectURL) {
			if (fallback) {
				fallback();
			}
			return;
		}
		xhr = new root.XMLHttpRequest();
		xhr.open('GET', url, true);
		xhr.responseType = 'blob';
		xhr.setRequestHeader('Authorization', 'Bearer ' + token);
		xhr.onload = function () {
			if (xhr.status === 200) {
				node.setAttribute(attr, root.URL.createObjectURL(xhr.response));
			} else if (fallback) {
				fallback();
			}
		};
		xhr.send(null);
	}

	function closeViewer() {
		var v = $('upload-viewer');
		if (v && v.parentNode) {
			v.parentNode.removeChild(v);
		}
	}

	/* The larger view: the image itself, over everything; a click or
	 * Escape closes it. */
	function openViewer(id, name) {
		var img = el('img', { className: 'viewer-image', attrs: { alt: name, 'data-test': 'viewer-image' } });
		var box = el('div', { id: 'upload-viewer', className: 'upload-viewer', attrs: { 'data-test': 'viewer', role: 'dialog' } }, [
			img,
			el('div', { className: 'viewer-caption' }, [
				el('span', { text: name + ' ' }),
				el('a', { href: API + '/' + id, text: 'Open original', attrs: { target: '_blank', rel: 'noopener' } })
			])
		]);
		closeViewer();
		setSource(img, 'src', API + '/' + id);
		U.on(box, 'click', function (e) {
			if ((e.target || e.srcElement).tagName !== 'A') {
				closeViewer();
			}
		});
		doc.body.appendChild(box);
	}

	function fitted(w, h) {
		var s;
		if (!w || !h) {
			return null;
		}
		s = Math.min(1, THUMB_BOX / Math.max(w, h));
		return { w: Math.max(1, Math.round(w * s)), h: Math.max(1, Math.round(h * s)) };
	}

	/* With a bearer token a plain link would arrive without it: fetch
	 * the file with the token and save it from a blob: URL. */
	function tokenDownload(link, id, name) {
		var busy = false;
		U.on(link, 'click', function (e) {
			var xhr;
			if (!PA.client.token || !hasXhr2() || !root.URL || !root.URL.createObjectURL) {
				return true;
			}
			if (e.preventDefault) {
				e.preventDefault();
			}
			if (busy) {
				return false;
			}
			busy = true;
			xhr = new root.XMLHttpRequest();
			xhr.open('GET', API + '/' + id, true);
			xhr.responseType = 'blob';
			xhr.setRequestHeader('Authorization', 'Bearer ' + PA.client.token);
			xhr.onload = function () {
				var a;
				busy = false;
				if (xhr.status !== 200) {
					PA.toast('The file could not be downloaded.', 'error');
					return;
				}
				a = el('a', { href: root.URL.createObjectURL(xhr.response), attrs: { download: name } });
				doc.body.appendChild(a);
				a.click();
				doc.body.removeChild(a);
			};
			xhr.onerror = function () {
				busy = false;
			};
			xhr.send(null);
			return false;
		});
		return link;
	}

	function downloadLink(id, b, kind) {
		var size = U.size(b.size);
		return tokenDownload(el('a', {
			className: 'attach-file', href: API + '/' + id,
			attrs: { target: '_blank', rel: 'noopener', 'data-test': 'upload-file' }
		}, [
			el('span', { className: 'attach-icon', text: kind === 'audio' ? '\u266B' : kind === 'video' ? '\u25B6' : '\u2193' }),
			el('span', { className: 'attach-info' }, [
				el('span', { className: 'attach-name', text: b.name || 'file' }),
				el('span', { className: 'attach-meta', text: (b.mime || kind) +
				    (b.duration ? ' · ' + U.duration(Math.round(b.duration)) : '') + (size ? ' · ' + size : '') })
			])
		]), id, b.name || 'file');
	}

	function canPlay(tag, mime) {
		var m;
		try {
			m = doc.createElement(tag);
			return !!(m.canPlayType && m.canPlayType(mime || '') !== '');
		} catch (e) {
			return false;
		}
	}

	/* The DOM for a message body {upload_id, name, size, mime, ...}; a
	 * pending send has only the id, and what the upload answered. */
	UP.node = function (m) {
		var b = m.body || {}, id = +b.upload_id, known = UP.known[id], kind, f, img, link, media, box, size;
		if (!b.name && known) {
			b = { upload_id: id, name: known.name, size: known.size, mime: known.mime, width: known.width,
			    height: known.height, thumbnail: known.thumbnail, duration: known.duration };
		}
		kind = /^image\//.test(b.mime || '') ? 'image' : /^audio\//.test(b.mime || '') ? 'audio' :
		    /^video\//.test(b.mime || '') ? 'video' : 'file';
		size = U.size(b.size);
		if (kind === 'image' && b.thumbnail) {
			f = fitted(b.width, b.height);
			img = el('img', { attrs: {
				alt: b.name || 'image', 'data-test': 'upload-thumbnail',
				width: f ? f.w : null, height: f ? f.h : null
			} });
			link = el('a', {
				className: 'attach-image upload-image', href: API + '/' + id,
				attrs: { 'data-test': 'upload-image', title: 'Show larger' }
			}, [img, el('span', { className: 'attach-caption', text: (b.name || '') + (size ? ' · ' + size : '') })]);
			setSource(img, 'src', API + '/' + id + '/thumbnail');
			U.on(link, 'click', function (e) {
				if (e.preventDefault) {
					e.preventDefault();
				}
				openViewer(id, b.name || 'image');
				return false;
			});
			return link;
		}
		if ((kind === 'audio' || kind === 'video') && canPlay(kind, b.mime)) {
			media = el(kind, { className: 'upload-' + kind, attrs: {
				controls: 'controls', preload: 'metadata', 'data-test': 'upload-' + kind
			} });
			box = el('div', { className: 'upload-media' }, [media, downloadLink(id, b, kind)]);
			setSource(media, 'src', API + '/' + id);
			return box;
		}
		return downloadLink(id, b, kind);
	};

	/* ------------------------------------------------------------ */
	/* Wiring                                                       */
	/* ------------------------------------------------------------ */

	function init() {
		UP.xhr2 = hasXhr2();
		UP.voice = !!(UP.xhr2 && root.MediaRecorder && root.navigator.mediaDevices &&
		    root.navigator.mediaDevices.getUserMedia);
		U.on($('upload-input'), 'change', onPick);
		U.on($('upload-frame'), 'load', onFrameLoad);
		U.show($('voice-record'), UP.voice);
		U.on($('voice-record'), 'click', startVoice);
		U.on($('voice-stop'), 'click', function () { stopVoice(true); });
		U.on($('voice-cancel'), 'click', function () { stopVoice(false); });
		U.on(doc, 'keydown', function (e) {
			if ((e.keyCode || e.which) === 27) {
				closeViewer();
			}
		});
		if (UP.xhr2) {
			wireDrop($('conv'));
		}
	}

	init();
}(window));
