/*
 * app-upload.js: sending files in the Parley web client. ECMAScript 5.
 * Showing them in messages is app-upload-view.js (loaded after this file,
 * adding to PA.uploads).
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
 * Depends on: app-util.js (PA.util); at run time on app-session.js
 * (PA.client, PA.state), app-common.js, app-composer.js (PA.send) and
 * app-upload-view.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var el = U.el;
	var doc = root.document;

	var API = '/api/v1/uploads';
	var VOICE_MAX_MS = 300000;      /* a voice message: 5 minutes at most */

	var UP = PA.uploads = {
		known: {},      /* upload id -> the upload as the server described it */
		log: [],        /* what happened, for tests: {what, ...} */
		xhr2: false,
		voice: false
	};
	/* For app-upload-view.js, loaded after this file. */
	UP.api = API;

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
	UP.hasXhr2 = hasXhr2;

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
				UP.closeViewer();
			}
		});
		if (UP.xhr2) {
			wireDrop($('conv'));
		}
	}

	init();
}(window));
