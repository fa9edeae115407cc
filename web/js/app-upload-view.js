/*
 * app-upload-view.js: showing files in the Parley web client. ECMAScript 5.
 *
 * Showing: an upload is always fetched from Parley (/api/v1/uploads/{id},
 * built from the id, never from a URL in the body): images as thumbnails
 * that open a larger view on click, audio and video in plain <audio> and
 * <video> elements (a download link where they are missing), other files
 * as download links. With a bearer token (inside a frame the cookie is
 * not sent) media are fetched with the token and shown from blob: URLs.
 *
 * PA.uploads.node(m) is the DOM for a message's upload (app-messages.js
 * calls it).
 *
 * Depends on: app-util.js, app-upload.js (PA.uploads); at run time on
 * app-session.js (PA.client) and app-common.js.
 */
(function (root) {
	'use strict';

	var PA = root.PA;
	var U = PA.util;
	var $ = U.$;
	var el = U.el;
	var doc = root.document;

	var UP = PA.uploads;
	var API = UP.api;
	var THUMB_BOX = 240;            /* px: the thumbnail as shown */

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
		if (!UP.hasXhr2() || !root.URL || !root.URL.createObjectURL) {
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
	UP.closeViewer = closeViewer;

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
			if (!PA.client.token || !UP.hasXhr2() || !root.URL || !root.URL.createObjectURL) {
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
}(window));
