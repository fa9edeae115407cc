/*
 * app-util.js: small DOM and formatting helpers for the Parley web client
 * (web/index.html). Plain ECMAScript 5 that also runs in IE8/9: no
 * classList, no textContent, no addEventListener assumed, no Array
 * extras (forEach, map, indexOf), no Object.keys.
 *
 * Everything lives in window.PA (PA.util here; the other app-*.js files
 * and app.js add the rest: app-session.js lists them).
 */
(function (root) {
	'use strict';

	var PA = root.PA = root.PA || {};
	var doc = root.document;
	var U = PA.util = {};

	/* ------------------------------------------------------------ */
	/* Arrays and objects                                           */
	/* ------------------------------------------------------------ */

	U.each = function (list, fn) {
		var i;
		if (!list) {
			return;
		}
		for (i = 0; i < list.length; i++) {
			fn(list[i], i);
		}
	};

	U.indexOf = function (list, item) {
		var i;
		for (i = 0; list && i < list.length; i++) {
			if (list[i] === item) {
				return i;
			}
		}
		return -1;
	};

	U.keys = function (obj) {
		var out = [], k;
		for (k in obj) {
			if (Object.prototype.hasOwnProperty.call(obj, k)) {
				out.push(k);
			}
		}
		return out;
	};

	U.values = function (obj) {
		var out = [], k;
		for (k in obj) {
			if (Object.prototype.hasOwnProperty.call(obj, k)) {
				out.push(obj[k]);
			}
		}
		return out;
	};

	U.has = function (obj, k) {
		return Object.prototype.hasOwnProperty.call(obj, k);
	};

	U.trim = function (s) {
		return String(s === null || s === undefined ? '' : s).replace(/^\s+|\s+$/g, '');
	};

	U.now = function () {
		return new Date().getTime();
	};

	/* Calls fn at most once per `ms`, after the last request. */
	U.debounce = function (fn, ms) {
		var timer = null;
		return function () {
			if (timer !== null) {
				root.clearTimeout(timer);
			}
			timer = root.setTimeout(function () {
				timer = null;
				fn();
			}, ms);
		};
	};

	/* ------------------------------------------------------------ */
	/* Events (attachEvent for IE8)                                 */
	/* ------------------------------------------------------------ */

	function fixEvent(e, el) {
		e = e || root.event;
		if (!e.target) {
			e.target = e.srcElement || el;
		}
		if (!e.preventDefault) {
			e.preventDefault = function () { e.returnValue = false; };
		}
		if (!e.stopPropagation) {
			e.stopPropagation = function () { e.cancelBubble = true; };
		}
		return e;
	}

	U.on = function (el, type, fn) {
		if (!el) {
			return;
		}
		if (el.addEventListener) {
			el.addEventListener(type, fn, false);
		} else if (el.attachEvent) {
			el.attachEvent('on' + type, function () {
				return fn.call(el, fixEvent(root.event, el));
			});
		} else {
			el['on' + type] = function (e) { return fn.call(el, fixEvent(e, el)); };
		}
	};

	/* The nearest element from `node` up to `stop` (exclusive) that has
	 * the attribute `attr`. */
	U.closest = function (node, attr, stop) {
		while (node && node !== stop && node.nodeType === 1) {
			if (node.getAttribute(attr) !== null && node.getAttribute(attr) !== '') {
				return node;
			}
			node = node.parentNode;
		}
		return null;
	};

	/* Clicks on [data-action] elements inside `container`:
	 * fn(actionName, element, event). */
	U.delegate = function (container, fn) {
		U.on(container, 'click', function (e) {
			var t = U.closest(e.target, 'data-action', container === doc ? null : container.parentNode);
			if (t) {
				fn(t.getAttribute('data-action'), t, e);
			}
		});
	};

	/* ------------------------------------------------------------ */
	/* DOM                                                          */
	/* ------------------------------------------------------------ */

	U.$ = function (id) {
		return doc.getElementById(id);
	};

	/*
	 * Creates an element. props: className, id, text, title, type, href,
	 * value, attrs {name: value}; children: a node, a string or an array
	 * of them (null entries skipped). Text always goes in as text nodes.
	 */
	U.el = function (tag, props, children) {
		var node, k;
		props = props || {};
		/* IE8 wants an input's type fixed before anything else. */
		if (props.type && tag === 'input') {
			node = doc.createElement('input');
			node.setAttribute('type', props.type);
		} else {
			node = doc.createElement(tag);
			if (props.type) {
				node.setAttribute('type', props.type);
			}
		}
		if (props.className) {
			node.className = props.className;
		}
		if (props.id) {
			node.id = props.id;
		}
		if (props.title) {
			node.title = props.title;
		}
		if (props.href) {
			node.href = props.href;
		}
		if (props.value !== undefined) {
			node.value = props.value;
		}
		if (props.attrs) {
			for (k in props.attrs) {
				if (U.has(props.attrs, k) && props.attrs[k] !== null && props.attrs[k] !== undefined) {
					if (k === 'for') {
						node.htmlFor = String(props.attrs[k]);   /* IE8 ignores setAttribute('for') */
					} else {
						node.setAttribute(k, String(props.attrs[k]));
					}
				}
			}
		}
		if (props.text !== undefined && props.text !== null) {
			node.appendChild(doc.createTextNode(String(props.text)));
		}
		U.append(node, children);
		return node;
	};

	U.append = function (node, children) {
		var i;
		if (children === null || children === undefined) {
			return node;
		}
		if (typeof children === 'string' || typeof children === 'number') {
			node.appendChild(doc.createTextNode(String(children)));
		} else if (children.nodeType) {
			node.appendChild(children);
		} else {
			for (i = 0; i < children.length; i++) {
				U.append(node, children[i]);
			}
		}
		return node;
	};

	U.empty = function (node) {
		while (node && node.firstChild) {
			node.removeChild(node.firstChild);
		}
		return node;
	};

	U.setText = function (node, text) {
		U.empty(node);
		if (text !== null && text !== undefined && text !== '') {
			node.appendChild(doc.createTextNode(String(text)));
		}
		return node;
	};

	U.getText = function (node) {
		return node.textContent !== undefined ? node.textContent : node.innerText;
	};

	U.hasClass = function (node, cls) {
		return (' ' + node.className + ' ').indexOf(' ' + cls + ' ') >= 0;
	};

	U.addClass = function (node, cls) {
		if (node && !U.hasClass(node, cls)) {
			node.className = U.trim(node.className + ' ' + cls);
		}
	};

	U.removeClass = function (node, cls) {
		if (node && U.hasClass(node, cls)) {
			node.className = U.trim((' ' + node.className + ' ').replace(' ' + cls + ' ', ' '));
		}
	};

	U.toggleClass = function (node, cls, on) {
		if (on) {
			U.addClass(node, cls);
		} else {
			U.removeClass(node, cls);
		}
	};

	U.show = function (node, visible) {
		U.toggleClass(node, 'hidden', !visible);
	};

	U.isShown = function (node) {
		return !U.hasClass(node, 'hidden');
	};

	/* ------------------------------------------------------------ */
	/* Storage (localStorage when it works)                         */
	/* ------------------------------------------------------------ */

	U.store = {
		get: function (key) {
			try {
				var v = root.localStorage && root.localStorage.getItem(key);
				return v ? JSON.parse(v) : null;
			} catch (e) {
				return null;
			}
		},
		set: function (key, value) {
			try {
				if (root.localStorage) {
					root.localStorage.setItem(key, JSON.stringify(value));
				}
			} catch (e) {
				/* full or disabled: marks are only a nicety */
			}
		}
	};

	/* ------------------------------------------------------------ */
	/* Formatting                                                   */
	/* ------------------------------------------------------------ */

	function pad(n) {
		return n < 10 ? '0' + n : String(n);
	}

	/* ISO 8601 timestamps from the API; IE8's Date.parse knows none. */
	U.parseTime = function (s) {
		var m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+\-]\d\d:?\d\d)?$/.exec(s || '');
		var ms, t, off;
		if (!m) {
			return null;
		}
		ms = m[7] ? parseInt((m[7] + '00').substring(0, 3), 10) : 0;
		t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
		if (m[8] && m[8] !== 'Z') {
			off = m[8].replace(':', '');
			t -= (off.charAt(0) === '-' ? -1 : 1) *
			    (parseInt(off.substring(1, 3), 10) * 60 + parseInt(off.substring(3, 5), 10)) * 60000;
		}
		return t;
	};

	U.clock = function (t) {
		var d = new Date(t);
		return pad(d.getHours()) + ':' + pad(d.getMinutes());
	};

	var DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
	var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

	U.dayKey = function (t) {
		var d = new Date(t);
		return d.getFullYear() + '-' + d.getMonth() + '-' + d.getDate();
	};

	U.dayLabel = function (t) {
		var d = new Date(t), now = new Date(), y = new Date(now.getTime() - 86400000);
		if (U.dayKey(t) === U.dayKey(now.getTime())) {
			return 'Today';
		}
		if (U.dayKey(t) === U.dayKey(y.getTime())) {
			return 'Yesterday';
		}
		return DAYS[d.getDay()] + ' ' + d.getDate() + ' ' + MONTHS[d.getMonth()] +
		    (d.getFullYear() !== now.getFullYear() ? ' ' + d.getFullYear() : '');
	};

	/* For lists: the time today, else the short date. */
	U.shortTime = function (t) {
		var d = new Date(t), now = new Date();
		if (U.dayKey(t) === U.dayKey(now.getTime())) {
			return U.clock(t);
		}
		if (now.getTime() - t < 6 * 86400000 && t < now.getTime()) {
			return DAYS[d.getDay()];
		}
		return d.getDate() + ' ' + MONTHS[d.getMonth()];
	};

	U.duration = function (seconds) {
		var s = Math.max(0, Math.floor(seconds || 0));
		var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
		return (h > 0 ? h + ':' + pad(m) : String(m)) + ':' + pad(r);
	};

	U.size = function (bytes) {
		var n = +bytes || 0;
		if (n <= 0) {
			return '';
		}
		if (n < 1024) {
			return n + ' B';
		}
		if (n < 1024 * 1024) {
			return (n / 1024).toFixed(n < 10240 ? 1 : 0) + ' KB';
		}
		if (n < 1024 * 1024 * 1024) {
			return (n / 1048576).toFixed(1) + ' MB';
		}
		return (n / 1073741824).toFixed(1) + ' GB';
	};

	/* A stable, calm color per id for avatars. */
	var COLORS = ['#5b7db1', '#4f9a94', '#8a6fb5', '#c07a4f', '#5f9e5a', '#b5647a', '#4a8bb8', '#a68a3f'];

	U.color = function (key) {
		var s = String(key), h = 0, i;
		for (i = 0; i < s.length; i++) {
			h = (h * 31 + s.charCodeAt(i)) % 1000003;
		}
		return COLORS[h % COLORS.length];
	};

	U.initials = function (name) {
		var parts = U.trim(name).split(/[\s_.\-]+/), out = '';
		if (parts.length > 1 && parts[1]) {
			out = parts[0].charAt(0) + parts[1].charAt(0);
		} else {
			out = (parts[0] || '?').substring(0, 2);
		}
		return out.toUpperCase();
	};

	/* Fills an avatar span: initials on a color. */
	U.avatar = function (node, name, key, square) {
		node.className = 'avatar' + (square ? ' square' : '') +
		    (U.hasClass(node, 'large') ? ' large' : '') + (U.hasClass(node, 'small') ? ' small' : '');
		node.style.backgroundColor = U.color(key);
		U.setText(node, U.initials(name || '?'));
		return node;
	};

	U.makeAvatar = function (name, key, square, extra) {
		return U.avatar(U.el('span', { className: 'avatar' + (extra ? ' ' + extra : '') }), name, key, square);
	};

	/* Text with http(s) links made clickable; everything as text nodes. */
	U.linkify = function (node, text) {
		var re = /https?:\/\/[^\s<>"]+/g, last = 0, m, url, trail;
		while ((m = re.exec(text)) !== null) {
			url = m[0];
			trail = /[.,;:!?)\]]+$/.exec(url);
			if (trail) {
				url = url.substring(0, url.length - trail[0].length);
			}
			if (m.index > last) {
				node.appendChild(doc.createTextNode(text.substring(last, m.index)));
			}
			node.appendChild(U.el('a', {
				href: url, text: url, attrs: { target: '_blank', rel: 'noopener noreferrer' }
			}));
			last = m.index + url.length;
			re.lastIndex = last;
		}
		if (last < text.length) {
			node.appendChild(doc.createTextNode(text.substring(last)));
		}
		return node;
	};

	/* A client_id for POST /messages: unique per sender, so a retried
	 * send is stored once. */
	U.clientId = function (userId) {
		return 'w' + userId + '-' + U.now().toString(36) + '-' +
		    Math.floor(Math.random() * 2176782336).toString(36);
	};

	/* Guesses a media type from a file name or URL. */
	var MIME = {
		jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp',
		svg: 'image/svg+xml', bmp: 'image/bmp', mp3: 'audio/mpeg', ogg: 'audio/ogg', oga: 'audio/ogg',
		wav: 'audio/wav', m4a: 'audio/mp4', flac: 'audio/flac', mp4: 'video/mp4', webm: 'video/webm',
		mov: 'video/quicktime', ogv: 'video/ogg', pdf: 'application/pdf', zip: 'application/zip',
		txt: 'text/plain', csv: 'text/csv', doc: 'application/msword', json: 'application/json',
		docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
	};

	U.guessMime = function (name) {
		var m = /\.([A-Za-z0-9]+)(?:[?#].*)?$/.exec(name || '');
		return (m && MIME[m[1].toLowerCase()]) || 'application/octet-stream';
	};

	U.fileNameFromUrl = function (url) {
		var path = String(url || '').replace(/[?#].*$/, '');
		var name = path.substring(path.lastIndexOf('/') + 1);
		try {
			name = decodeURIComponent(name);
		} catch (e) {
			/* keep it as it is */
		}
		return name || 'file';
	};

	U.messageTypeForMime = function (mime) {
		var top = String(mime || '').split('/')[0];
		return top === 'image' || top === 'audio' || top === 'video' ? top : 'file';
	};

	/* document.hidden with the old prefixes; false when unknown. */
	U.pageHidden = function () {
		if (typeof doc.hidden === 'boolean') {
			return doc.hidden;
		}
		if (typeof doc.webkitHidden === 'boolean') {
			return doc.webkitHidden;
		}
		if (typeof doc.msHidden === 'boolean') {
			return doc.msHidden;
		}
		return false;
	};
}(window));
