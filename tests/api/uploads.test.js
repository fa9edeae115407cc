// Uploads, black box (default settings): every allowed type, the type
// sniffed from the bytes and not taken from the client, executables and
// HTML refused, EXIF/GPS gone from a photo, truncated images and a
// decompression bomb refused, messages that refer to an upload (only
// one's own; the server fills in the rest), who may download, Range, the
// headers of a download, and the iframe form path with its CSRF field.
// Limits, quotas, garbage collection and a crash mid-upload:
// zz_uploads.test.js (they restart the service with small settings).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { api, register, befriend, assertError, stack } = require('../lib.js');
const { assertSameAnswer } = require('../same.js');
const up = require('../uploads.js');

const BIG_ID = 9007199254740991;

function psql(sql) {
  return stack('psql', '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c', sql).trim();
}

async function friends2(p = 'up') {
  const [a, b] = await Promise.all([register(p + 'a'), register(p + 'b')]);
  await befriend(a, b);
  return [a, b];
}

async function uploaded(buf, opts) {
  const r = await up.upload(buf, opts);
  assert.equal(r.status, 201, r.text);
  return r.json.upload;
}

const rows = (user) => Number(psql(`SELECT count(*) FROM uploads WHERE owner_id = ${Number(user.user.id)}`));

// --- types ----------------------------------------------------------------------

test('each allowed type is stored as what its bytes are, with its kind', async () => {
  const a = await register('upt');
  const cases = [
    { buf: up.png(120, 90), kind: 'image', mime: 'image/png', w: 120, h: 90 },
    { buf: up.convert(up.png(64, 48, { seed: 3 }), '.jpg'), kind: 'image', mime: 'image/jpeg', w: 64, h: 48 },
    { buf: up.convert(up.png(33, 21, { seed: 4 }), '.gif'), kind: 'image', mime: 'image/gif', w: 33, h: 21 },
    { buf: up.convert(up.png(50, 40, { seed: 5 }), '.webp'), kind: 'image', mime: 'image/webp', w: 50, h: 40 },
    { buf: up.media('ogg'), kind: 'audio', mime: 'audio/ogg' },
    { buf: up.media('mp3'), kind: 'audio', mime: 'audio/mpeg' },
    { buf: up.media('m4a'), kind: 'audio', mime: 'audio/mp4' },
    { buf: up.media('webm'), type: 'audio/webm;codecs=opus', kind: 'audio', mime: 'audio/webm' },
    { buf: up.media('webm'), type: 'video/webm', kind: 'video', mime: 'video/webm' },
    { buf: up.media('mp4'), kind: 'video', mime: 'video/mp4' },
    { buf: Buffer.from('just some notes\nline two\n'), kind: 'file', mime: 'text/plain' },
    { buf: Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n'), kind: 'file', mime: 'application/pdf' },
  ];
  for (const c of cases) {
    const u = await uploaded(c.buf, { token: a.token, name: 'f', type: c.type });
    assert.equal(u.kind, c.kind, JSON.stringify(u));
    assert.equal(u.mime, c.mime, JSON.stringify(u));
    assert.equal(u.width, c.w === undefined ? null : c.w, JSON.stringify(u));
    assert.equal(u.height, c.h === undefined ? null : c.h, JSON.stringify(u));
    assert.equal(u.url, `/api/v1/uploads/${u.id}`);
    assert.equal(u.thumbnail, c.kind === 'image' ? `/api/v1/uploads/${u.id}/thumbnail` : null);
    assert.ok(Number.isInteger(u.size) && u.size > 0);
    if (c.kind !== 'image') assert.equal(u.size, c.buf.length, 'non-images are stored as sent');
  }
});

test('audio and video carry their duration, read from the container; MP3 and unreadable ones none', async () => {
  const [a, b] = await friends2('upu');
  const cases = [
    { buf: up.timed('mp4', 12.5), type: 'video/mp4', mime: 'video/mp4', d: 12.5 },
    { buf: up.timed('mp4', 3.25), type: 'audio/mp4', mime: 'audio/mp4', d: 3.25 },
    { buf: up.timed('webm', 2.48), type: 'audio/webm;codecs=opus', mime: 'audio/webm', d: 2.48 },
    { buf: up.timed('ogg', 7), type: 'audio/ogg', mime: 'audio/ogg', d: 7 },
    { buf: up.media('mp3'), mime: 'audio/mpeg', d: undefined },
    { buf: up.media('webm'), type: 'video/webm', mime: 'video/webm', d: undefined },
  ];
  for (const c of cases) {
    const u = await uploaded(c.buf, { token: a.token, type: c.type, name: 'clip' });
    assert.equal(u.mime, c.mime);
    assert.equal(u.duration, c.d, `${c.mime}: ${JSON.stringify(u)}`);
  }
  const v = await uploaded(up.timed('ogg', 4.5), { token: a.token, name: 'voice.ogg' });
  const m = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'audio', body: { upload_id: v.id } } });
  assert.equal(m.status, 201, m.text);
  assert.equal(m.json.message.body.duration, 4.5, 'the message body has it too');
});

test('the Content-Type is only a hint: a spoofed type is sniffed and refused or corrected', async () => {
  const a = await register('ups');
  const html = Buffer.from('<!DOCTYPE html><html><head><script>alert(document.cookie)</script></head><body>hi</body></html>\n');
  assertError(assert, await up.upload(html, { token: a.token, name: 'cat.png', type: 'image/png' }), 415, 'unsupported_type');
  const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>\n');
  assertError(assert, await up.upload(svg, { token: a.token, name: 'x.svg', type: 'image/svg+xml' }), 415, 'unsupported_type');
  // A PNG that says it is text is a PNG.
  const u = await uploaded(up.png(10, 10), { token: a.token, name: 'notes.txt', type: 'text/plain' });
  assert.equal(u.mime, 'image/png');
  assert.equal(u.kind, 'image');
  // Text that says it is a JPEG is text (and no image).
  const t = await uploaded(Buffer.from('hello there\n'), { token: a.token, name: 'x.jpg', type: 'image/jpeg' });
  assert.equal(t.mime, 'text/plain');
  assert.equal(t.kind, 'file');
});

test('a renamed executable or script is refused, whatever its name and type', async () => {
  const a = await register('upx');
  const elf = fs.readFileSync('/bin/true');
  for (const [name, type] of [['report.pdf', 'application/pdf'], ['photo.jpg', 'image/jpeg'], ['notes.txt', 'text/plain']]) {
    const r = await up.upload(elf, { token: a.token, name, type });
    assertError(assert, r, 415, 'unsupported_type');
    assert.match(r.json.error.message, /application\/x-(pie-executable|executable|sharedlib)/);
  }
  // A Windows executable ("MZ", PE header) and a shell script.
  const pe = Buffer.alloc(512);
  pe.write('MZ', 0, 'latin1');
  pe.writeUInt32LE(0x80, 0x3c);
  pe.write('PE\0\0', 0x80, 'latin1');
  pe.writeUInt16LE(0x14c, 0x84);
  assertError(assert, await up.upload(pe, { token: a.token, name: 'setup.txt', type: 'text/plain' }), 415, 'unsupported_type');
  const sh = Buffer.from('#!/bin/sh\nrm -rf "$HOME"\n');
  assertError(assert, await up.upload(sh, { token: a.token, name: 'readme.txt', type: 'text/plain' }), 415, 'unsupported_type');
  assert.equal(rows(a), 0, 'nothing was stored');
});

test('a photo with EXIF and GPS comes back without any of it, and turned pixels stay a picture', async () => {
  const a = await register('upg');
  const photo = up.jpegWithGps(7);
  const before = up.exif(photo);
  assert.ok(before['EXIF:GPSLatitude'] && before['EXIF:Make'] === 'ParleyCam', 'the fixture has GPS: ' + JSON.stringify(before));
  const u = await uploaded(photo, { token: a.token, name: 'home.jpg', type: 'image/jpeg' });
  assert.equal(u.width, 200);
  assert.equal(u.height, 150);
  for (const thumbnail of [false, true]) {
    const d = await up.download(u.id, a.token, { thumbnail });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.headers['content-type'], 'image/jpeg');
    const tags = up.exif(d.body);
    const left = Object.keys(tags).filter((k) => /^(EXIF|XMP|IPTC|GPS|MakerNotes|Composite:GPS)/.test(k) || /GPS|Make|Model|Comment/.test(k));
    assert.deepEqual(left, [], `metadata survived${thumbnail ? ' in the thumbnail' : ''}: ` + JSON.stringify(tags));
    assert.equal(d.body.indexOf('Exif'), -1, 'no APP1 Exif segment');
    assert.equal(d.body.indexOf('ParleyCam'), -1);
    assert.equal(tags['File:FileType'], 'JPEG');
    if (!thumbnail) assert.equal(d.body.length, u.size);
  }
});

test('a truncated or damaged image and a decompression bomb are refused with a 4xx, and the service lives on', async () => {
  const a = await register('upb');
  const jpg = up.convert(up.png(300, 200, { seed: 9 }), '.jpg');
  const png = up.png(300, 200, { seed: 9 });
  const cut = (b) => b.subarray(0, Math.floor(b.length / 2));
  assertError(assert, await up.upload(cut(jpg), { token: a.token, name: 'cut.jpg' }), 400, 'invalid_image');
  assertError(assert, await up.upload(cut(png), { token: a.token, name: 'cut.png' }), 400, 'invalid_image');
  // A PNG whose compressed data is garbage after a valid header.
  const bad = Buffer.from(png);
  bad.fill(0x55, 60, bad.length - 12);
  assertError(assert, await up.upload(bad, { token: a.token, name: 'bad.png' }), 400, 'invalid_image');
  // 20000 x 20000 one-bit pixels: 400 megapixels in about 60 KB.
  const bomb = up.png(20000, 20000, { bits: 1 });
  assert.ok(bomb.length < 200000, `the bomb is small (${bomb.length} bytes)`);
  const t0 = Date.now();
  const r = await up.upload(bomb, { token: a.token, name: 'bomb.png' });
  assertError(assert, r, 413, 'image_too_large');
  assert.match(r.json.error.message, /400000000 pixels/);
  assert.ok(Date.now() - t0 < 5000, 'refused from the header, not by decoding');
  // A GIF bomb: screen and frame of 65535 x 65535.
  const gif = up.convert(up.png(4, 4), '.gif');
  const desc = gif.indexOf(Buffer.from([0x2c, 0, 0, 0, 0]));
  assert.ok(desc > 0, 'found the image descriptor');
  for (const o of [6, desc + 5]) {
    gif.writeUInt16LE(65535, o);
    gif.writeUInt16LE(65535, o + 2);
  }
  const g = await up.upload(gif, { token: a.token, name: 'bomb.gif' });
  assert.ok((g.status === 413 && g.json.error.code === 'image_too_large') ||
    (g.status === 400 && g.json.error.code === 'invalid_image'), g.text);
  assert.equal(rows(a), 0, 'nothing was stored');
  await uploaded(jpg, { token: a.token, name: 'fine.jpg' });
});

// --- messages ---------------------------------------------------------------------

test('a message refers to an upload by id; the server writes name, size, type and dimensions', async () => {
  const [a, b] = await friends2('upm');
  const u = await uploaded(up.png(80, 60, { seed: 2 }), { token: a.token, name: 'C:\\Users\\ann\\Pictures\\beach.png' });
  assert.equal(u.name, 'beach.png', 'a Windows path (IE) keeps only the file name');
  const r = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'image', body: { upload_id: u.id } } });
  assert.equal(r.status, 201, r.text);
  const body = r.json.message.body;
  assert.deepEqual(body, { upload_id: u.id, name: 'beach.png', size: u.size, mime: 'image/png', width: 80, height: 60,
    url: `/api/v1/uploads/${u.id}`, thumbnail: `/api/v1/uploads/${u.id}/thumbnail` });
  // A client cannot add or invent fields.
  const lie = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'image', body: { upload_id: u.id, size: 1, name: 'x.exe' } } });
  assertError(assert, lie, 400, 'invalid_field');
  // The kind must match the type; `file` takes anything.
  assertError(assert, await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'audio', body: { upload_id: u.id } } }), 400, 'invalid_field');
  const f = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'file', body: { upload_id: u.id } } });
  assert.equal(f.status, 201, f.text);
  const v = await uploaded(up.media('webm'), { token: a.token, name: 'voice.webm', type: 'audio/webm' });
  const voice = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'audio', body: { upload_id: v.id } } });
  assert.equal(voice.status, 201, voice.text);
  assert.equal(voice.json.message.body.mime, 'audio/webm');
  assert.equal(voice.json.message.body.thumbnail, null);
  // The recipient's history has the same body, and the recipient may fetch it.
  const hist = await api.get(`/api/v1/conversations/${r.json.message.conversation_id}/messages`, { token: b.token });
  assert.deepEqual(hist.json.messages.find((m) => m.id === r.json.message.id).body, body);
  assert.equal((await up.download(u.id, b.token)).status, 200);
  assert.equal((await up.download(u.id, b.token, { thumbnail: true })).status, 200);
});

test("another user's upload is refused in a message exactly like a missing one", async () => {
  const [a, b] = await friends2('upo');
  const [s, t] = await friends2('upo');
  const u = await uploaded(up.png(10, 10), { token: a.token });
  const send = (who, to, id) => api.post('/api/v1/messages', { token: who.token, json: { to: to.user.id, type: 'image', body: { upload_id: id } } });
  const theirs = await send(s, t, u.id);
  assertError(assert, theirs, 404, 'upload_not_found');
  assertSameAnswer(assert, theirs, await send(s, t, BIG_ID), 'someone else\'s upload vs a missing one', [[u.id], [BIG_ID]]);
  // Even the recipient of a message carrying it cannot send it on.
  assert.equal((await send(a, b, u.id)).status, 201);
  const [c] = await Promise.all([register('upo')]);
  await befriend(b, c);
  assertError(assert, await send(b, c, u.id), 404, 'upload_not_found');
  // A site sending for a user has the same rule (sites' tests cover the
  // signing; here only that a refused send stores nothing).
  assert.equal(Number(psql(`SELECT count(*) FROM messages WHERE body ->> 'upload_id' = '${u.id}'`)), 1);
});

test('downloads: the uploader and the conversation only; a refusal looks like a missing id; recall ends it', async () => {
  const [a, b] = await friends2('upd');
  const s = await register('upd');
  const g = await register('upd');
  await befriend(a, g);
  const u = await uploaded(Buffer.from('the secret plan\n'), { token: a.token, name: 'plan.txt' });
  assert.equal((await up.download(u.id, a.token)).status, 200, 'the uploader, before sending');
  for (const thumbnail of [false, true]) {
    const refused = await up.download(u.id, b.token, { thumbnail });
    assert.equal(refused.status, 404);
    assertSameAnswer(assert, refused, await up.download(BIG_ID, b.token, { thumbnail }), 'not yet sent vs missing', [[u.id], [BIG_ID]]);
  }
  const m = await api.post('/api/v1/messages', { token: a.token, json: { to: b.user.id, type: 'file', body: { upload_id: u.id } } });
  assert.equal(m.status, 201, m.text);
  const got = await up.download(u.id, b.token);
  assert.equal(got.status, 200);
  assert.equal(got.text, 'the secret plan\n');
  // A stranger, and a friend of the uploader outside that conversation.
  for (const who of [s, g]) {
    const r = await up.download(u.id, who.token);
    assertSameAnswer(assert, r, await up.download(BIG_ID, who.token), 'outsider vs missing', [[u.id], [BIG_ID]]);
  }
  assertError(assert, await up.download(u.id, null), 401, 'unauthorized');
  // A group: every member may fetch it.
  const grp = await api.post('/api/v1/groups', { token: a.token, json: { name: 'files', members: [g.user.id] } });
  assert.equal(grp.status, 201, grp.text);
  const img = await uploaded(up.png(30, 30), { token: a.token });
  assert.equal((await api.post('/api/v1/messages', { token: a.token, json: { group_id: grp.json.group.id, type: 'image', body: { upload_id: img.id } } })).status, 201);
  assert.equal((await up.download(img.id, g.token, { thumbnail: true })).status, 200);
  assert.equal((await up.download(img.id, b.token)).status, 404, 'b is not in the group');
  // Recalled: the recipient loses it, the uploader keeps it.
  assert.equal((await api.post(`/api/v1/messages/${m.json.message.id}/recall`, { token: a.token })).status, 200);
  assert.equal((await up.download(u.id, b.token)).status, 404);
  assert.equal((await up.download(u.id, a.token)).status, 200);
  // No thumbnail for a non-image: a 404 like a missing one.
  assertSameAnswer(assert, await up.download(u.id, a.token, { thumbnail: true }), await up.download(BIG_ID, a.token, { thumbnail: true }), 'no thumbnail', [[u.id], [BIG_ID]]);
});

test('downloads: Range for audio and video, the type, disposition and sandbox headers', async () => {
  const a = await register('upr');
  const audio = up.media('ogg', 5000);
  const u = await uploaded(audio, { token: a.token, name: 'voice "memo".ogg' });
  const full = await up.download(u.id, a.token);
  assert.equal(full.status, 200);
  assert.ok(full.body.equals(audio), 'the same bytes');
  assert.equal(full.headers['content-type'], 'audio/ogg');
  assert.equal(full.headers['accept-ranges'], 'bytes');
  assert.equal(full.headers['x-content-type-options'], 'nosniff');
  assert.match(full.headers['content-security-policy'], /sandbox/);
  assert.match(full.headers['content-security-policy'], /default-src 'none'/);
  assert.equal(full.headers['content-disposition'], `attachment; filename="voice _memo_.ogg"; filename*=UTF-8''voice%20%22memo%22.ogg`);
  const part = await up.download(u.id, a.token, { headers: { Range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], `bytes 100-199/${audio.length}`);
  assert.ok(part.body.equals(audio.subarray(100, 200)));
  const tail = await up.download(u.id, a.token, { headers: { Range: 'bytes=-10' } });
  assert.equal(tail.status, 206);
  assert.ok(tail.body.equals(audio.subarray(audio.length - 10)));
  const past = await up.download(u.id, a.token, { headers: { Range: `bytes=${audio.length + 10}-` } });
  assert.equal(past.status, 416);
  const video = await uploaded(up.media('mp4', 3000), { token: a.token, name: 'clip.mp4' });
  const vp = await up.download(video.id, a.token, { headers: { Range: 'bytes=0-99' } });
  assert.equal(vp.status, 206);
  assert.equal(vp.headers['content-type'], 'video/mp4');
  // Images inline; every other file as an octet-stream attachment, even text.
  const img = await uploaded(up.png(12, 12), { token: a.token, name: 'ünïcode.png' });
  const d = await up.download(img.id, a.token);
  assert.equal(d.headers['content-type'], 'image/png');
  assert.equal(d.headers['content-disposition'], `inline; filename="__n__code.png"; filename*=UTF-8''%C3%BCn%C3%AFcode.png`);
  const txt = await uploaded(Buffer.from('<b>not html here</b> plain\n'), { token: a.token, name: 'a.html' });
  const dt = await up.download(txt.id, a.token);
  assert.equal(dt.headers['content-type'], 'application/octet-stream');
  assert.match(dt.headers['content-disposition'], /^attachment;/);
  // The internal location is not reachable from outside.
  const sha = psql(`SELECT sha256 FROM uploads WHERE id = ${Number(txt.id)}`);
  const direct = await api.get(`/_parley_uploads/${sha.slice(0, 2)}/${sha}`);
  assert.equal(direct.status, 404);
});

// --- the form (iframe) path and CSRF ----------------------------------------------

test('the iframe form path: cookie plus the CSRF field, an HTML answer the frame can read', async () => {
  const a = await register('upf');
  const cookie = { Cookie: `parley_session=${a.token}` };
  const file = { name: 'file', filename: 'C:\\fakepath\\pic.png', type: 'image/png', data: up.png(40, 30) };
  // Cookie without the header: the field must come, and before the file.
  let r = await up.uploadForm([file], { headers: cookie });
  assertError(assert, r, 403, 'csrf_failed');
  r = await up.uploadForm([{ name: 'csrf_token', value: 'x'.repeat(43) }, file], { headers: cookie });
  assertError(assert, r, 403, 'csrf_failed');
  r = await up.uploadForm([file, { name: 'csrf_token', value: a.csrf }], { headers: cookie });
  assertError(assert, r, 403, 'csrf_failed');
  assert.equal(rows(a), 0);
  // A raw body by cookie has nowhere for the field: the header it is.
  assertError(assert, await up.upload(up.png(5, 5), { headers: cookie }), 403, 'csrf_failed');
  r = await up.uploadForm([{ name: 'csrf_token', value: a.csrf }, file], { headers: cookie });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.upload.name, 'pic.png');
  assert.equal(r.json.upload.width, 40);
  // ?iframe=1: a 200 text/html page with the JSON in a textarea, errors
  // too (with their status inside), and nothing that could run.
  r = await up.uploadForm([{ name: 'csrf_token', value: a.csrf }, file], { headers: cookie, iframe: true });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/html/);
  assert.match(r.headers['content-security-policy'], /default-src 'none'/);
  assert.equal(r.headers['x-frame-options'], 'SAMEORIGIN');
  const j = up.iframeJson(r);
  assert.equal(j.upload.width, 40);
  assert.doesNotMatch(r.text, /<script/i);
  const e = await up.uploadForm([file], { headers: cookie, iframe: true });
  assert.equal(e.status, 200);
  assert.deepEqual(up.iframeJson(e).status, 403);
  assert.equal(up.iframeJson(e).error.code, 'csrf_failed');
  // A name with markup stays text inside the textarea.
  const evil = { name: 'file', filename: '</textarea><script>alert(1)</script>.txt', type: 'text/plain', data: Buffer.from('hi\n') };
  const x = await up.uploadForm([{ name: 'csrf_token', value: a.csrf }, evil], { headers: cookie, iframe: true });
  assert.equal(x.status, 200);
  assert.doesNotMatch(x.text, /<script/i);
  assert.equal(up.iframeJson(x).upload.name, 'script>.txt', 'the name is the part after the last slash');
  // Bearer tokens need no field.
  r = await up.uploadForm([file], { token: a.token });
  assert.equal(r.status, 201, r.text);
});

test('malformed forms and bodies get a clear 400', async () => {
  const a = await register('upq');
  const { request } = require('../lib.js');
  const post = (body, contentType) => request('POST', '/api/v1/uploads', { token: a.token, body, contentType });
  assertError(assert, await post('--x\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc', 'multipart/form-data; boundary=x'), 400, 'invalid_multipart');
  assertError(assert, await post('whatever', 'multipart/form-data'), 400, 'invalid_multipart');
  assertError(assert, await post('--x\r\nNo-Colon\r\n\r\nabc\r\n--x--\r\n', 'multipart/form-data; boundary=x'), 400, 'invalid_multipart');
  assertError(assert, await post('--x\r\nContent-Disposition: form-data; name="other"\r\n\r\nabc\r\n--x--\r\n', 'multipart/form-data; boundary=x'), 400, 'missing_field');
  const two = up.multipart([{ name: 'file', filename: 'a.txt', data: Buffer.from('a\n') }, { name: 'file', filename: 'b.txt', data: Buffer.from('b\n') }]);
  assertError(assert, await post(two.body, two.contentType), 400, 'invalid_field');
  assertError(assert, await post('', 'text/plain'), 400, 'body_required');
  // Boundaries: 70 characters at most (RFC 2046; 71 overflowed the
  // parser's delimiter by one byte before: found by fuzz_multipart).
  for (const n of [70, 71, 72]) {
    const b = 'b'.repeat(n);
    const body = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="n.txt"\r\n\r\nboundary ${n}\n\r\n--${b}--\r\n`;
    const r = await post(body, `multipart/form-data; boundary=${b}`);
    if (n <= 70) assert.equal(r.status, 201, r.text);
    else assertError(assert, r, 400, 'invalid_multipart');
  }
  assertError(assert, await request('POST', '/api/v1/uploads?name=%ff', { token: a.token, body: 'x', contentType: 'text/plain' }), 400, 'invalid_parameter');
  // A boundary split across reads and lookalike bytes in the content.
  const tricky = Buffer.from('line\r\n--ParleyTestBoundar\r\n-- not it\r\n\r\n--');
  const f = up.multipart([{ name: 'file', filename: 'tricky.txt', type: 'text/plain', data: tricky }]);
  const r = await post(f.body, f.contentType);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.upload.size, tricky.length);
  assert.ok((await up.download(r.json.upload.id, a.token)).body.equals(tricky));
  assert.equal(rows(a), 2);
});

test('files are content-addressed: the stored file is named by the SHA-256 of its bytes', async () => {
  const [a, b] = await Promise.all([register('upc'), register('upc')]);
  const bytes = Buffer.from('same bytes for two people ' + Date.now() + '\n');
  const ua = await uploaded(bytes, { token: a.token, name: 'a.txt' });
  const ub = await uploaded(bytes, { token: b.token, name: 'b.txt' });
  assert.notEqual(ua.id, ub.id);
  const hex = up.sha256(bytes);
  assert.equal(psql(`SELECT string_agg(DISTINCT sha256, ',') FROM uploads WHERE id IN (${Number(ua.id)}, ${Number(ub.id)})`), hex);
  assert.ok(fs.readFileSync(up.blobPath(hex)).equals(bytes));
  // Nothing named is left in the temporary directory (unnamed files only).
  assert.deepEqual(fs.readdirSync(`${up.uploadDir()}/tmp`), []);
});
