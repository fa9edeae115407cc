// Helpers for the upload tests (API and browser): files made on the spot
// (PNG in JS, JPEG/GIF/WebP with libvips's `vips` CLI, EXIF/GPS with
// exiftool), the smallest headers that name an audio or video container,
// raw and multipart uploads, and where the service keeps its files.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { execFileSync } = require('node:child_process');
const { request } = require('./lib.js');

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

// A real PNG: width x height, 8-bit RGB (a gradient, so it compresses
// like a picture), or 1-bit grey when `bits` is 1 (a bomb compresses to
// almost nothing).
function png(width, height, { bits = 8, seed = 0 } = {}) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bits;
  ihdr[9] = bits === 1 ? 0 : 2;
  const rowLen = bits === 1 ? Math.ceil(width / 8) : width * 3;
  const raw = Buffer.alloc((rowLen + 1) * height);
  if (bits !== 1) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = y * (rowLen + 1) + 1 + x * 3;
        raw[o] = (x * 255 / width + seed) & 0xff;
        raw[o + 1] = (y * 255 / height) & 0xff;
        raw[o + 2] = (x + y + seed * 7) & 0xff;
      }
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'parley-up-'));
}

// The same picture in another format (".jpg", ".gif", ".webp"), by vips.
function convert(pngBuf, ext) {
  const d = tmpdir();
  try {
    fs.writeFileSync(path.join(d, 'in.png'), pngBuf);
    execFileSync('vips', ['copy', path.join(d, 'in.png'), path.join(d, 'out' + ext)], { stdio: 'pipe' });
    return fs.readFileSync(path.join(d, 'out' + ext));
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
}

// A JPEG with EXIF: camera, GPS position (a home), a comment.
function jpegWithGps(seed = 0) {
  const d = tmpdir();
  try {
    const f = path.join(d, 'photo.jpg');
    fs.writeFileSync(f, convert(png(200, 150, { seed }), '.jpg'));
    execFileSync('exiftool', ['-q', '-overwrite_original', '-Make=ParleyCam', '-Model=Test 1',
      '-GPSLatitude=48.8583', '-GPSLatitudeRef=N', '-GPSLongitude=2.2945', '-GPSLongitudeRef=E',
      '-Comment=taken at home', f], { stdio: 'pipe' });
    return fs.readFileSync(f);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
}

// exiftool's reading of a file's tags: { GPSLatitude: ..., Make: ... }.
function exif(buf) {
  const d = tmpdir();
  try {
    const f = path.join(d, 'x');
    fs.writeFileSync(f, buf);
    return JSON.parse(execFileSync('exiftool', ['-j', '-G', '-a', f], { stdio: 'pipe' }).toString())[0];
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
}

// Container headers libmagic names (the service sniffs them; it does not
// play them), followed by `pad` random bytes.
function media(kind, pad = 2000) {
  const rnd = crypto.randomBytes(pad);
  switch (kind) {
  case 'ogg': {
    // One Ogg page holding an OpusHead packet.
    const head = Buffer.concat([Buffer.from('OpusHead'), Buffer.from([1, 1, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0])]);
    const page = Buffer.alloc(27);
    page.write('OggS', 0, 'latin1');
    page[5] = 2;	// beginning of stream
    page.writeUInt32LE(crypto.randomBytes(4).readUInt32LE(0), 14);
    page[26] = 1;
    return Buffer.concat([page, Buffer.from([head.length]), head, rnd]);
  }
  case 'webm':
    // EBML header with DocType "webm".
    return Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01,
      0x42, 0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84]), Buffer.from('webm'),
      Buffer.from([0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02]), rnd]);
  case 'mp4':
  case 'm4a': {
    const ftyp = Buffer.alloc(24);
    ftyp.writeUInt32BE(24, 0);
    ftyp.write('ftyp', 4, 'latin1');
    ftyp.write(kind === 'mp4' ? 'isom' : 'M4A ', 8, 'latin1');
    ftyp.write(kind === 'mp4' ? 'isomiso2avc1mp41'.slice(0, 12) : 'M4A mp42isom', 12, 'latin1');
    return Buffer.concat([ftyp, rnd]);
  }
  case 'mp3':
    return Buffer.concat([Buffer.from('ID3'), Buffer.from([3, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0xff, 0xfb, 0x90, 0x64]), rnd]);
  default:
    throw new Error('no such media kind ' + kind);
  }
}

// Containers that state how long they play: MP4 (a movie header),
// WebM as MediaRecorder writes it (unknown-size Segment and Clusters, no
// Duration: the last block's time counts) and Ogg Opus (the last page's
// granule position, less the pre-skip).
function timed(kind, seconds) {
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
  if (kind === 'mp4') {
    const mvhd = Buffer.concat([u32(8 + 100), Buffer.from('mvhd'), Buffer.from([0, 0, 0, 0]), u32(0), u32(0),
      u32(1000), u32(Math.round(seconds * 1000)), Buffer.alloc(80)]);
    const moov = Buffer.concat([u32(8 + mvhd.length), Buffer.from('moov'), mvhd]);
    return Buffer.concat([media('mp4', 0), u32(8 + 16), Buffer.from('free'), Buffer.alloc(16), moov]);
  }
  if (kind === 'webm') {
    const ms = Math.round(seconds * 1000);
    const block = (rel) => Buffer.from([0xa3, 0x88, 0x81, (rel >> 8) & 0xff, rel & 0xff, 0x80, 1, 2, 3, 4]);
    const cluster = (tc) => Buffer.concat([Buffer.from([0x1f, 0x43, 0xb6, 0x75, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xe7, 0x82, (tc >> 8) & 0xff, tc & 0xff]), block(0), block(ms - tc)]);
    return Buffer.concat([media('webm', 0), Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0x15, 0x49, 0xa9, 0x66, 0x87, 0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40]), cluster(0), cluster(Math.max(0, ms - 500))]);
  }
  if (kind === 'ogg') {
    const last = Buffer.alloc(28);
    last.write('OggS', 0, 'latin1');
    last[5] = 4;	// end of stream
    last.writeBigUInt64LE(BigInt(Math.round(seconds * 48000) + 312), 6);
    last[26] = 1;
    last[27] = 0;
    return Buffer.concat([media('ogg', 3000), last]);
  }
  throw new Error('no timed ' + kind);
}

// POST /api/v1/uploads with the raw body. opts: token, name, type, headers, query.
function upload(buf, opts = {}) {
  const q = new URLSearchParams(opts.query || {});
  if (opts.name !== undefined) q.set('name', opts.name);
  const qs = q.toString();
  return request('POST', '/api/v1/uploads' + (qs ? '?' + qs : ''), {
    token: opts.token, body: buf, contentType: opts.type === undefined ? 'application/octet-stream' : opts.type,
    headers: opts.headers, timeout: 120000,
  });
}

// A multipart/form-data body of fields [{name, value} | {name, filename,
// type, data}], as a browser's form sends it.
function multipart(fields) {
  const boundary = '----ParleyTestBoundary' + crypto.randomBytes(8).toString('hex');
  const parts = [];
  for (const f of fields) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"`;
    if (f.filename !== undefined) head += `; filename="${f.filename}"\r\nContent-Type: ${f.type || 'application/octet-stream'}`;
    parts.push(Buffer.from(head + '\r\n\r\n', 'utf8'), Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.value !== undefined ? f.value : f.data || ''), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

function uploadForm(fields, opts = {}) {
  const { body, contentType } = multipart(fields);
  return request('POST', '/api/v1/uploads' + (opts.iframe ? '?iframe=1' : ''), {
    token: opts.token, body, contentType, headers: opts.headers, timeout: 120000,
  });
}

// The JSON inside an iframe answer (the textarea's value).
function iframeJson(res) {
  const m = /<textarea id="parley-reply">([\s\S]*)<\/textarea>/.exec(res.text);
  if (!m) throw new Error('not an iframe answer: ' + res.status + ' ' + res.text);
  return JSON.parse(m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

function download(id, token, opts = {}) {
  return new Promise((resolve, reject) => {
    const http = require('node:http');
    const { BASE } = require('./lib.js');
    const headers = Object.assign({}, opts.headers || {});
    if (token) headers.Authorization = 'Bearer ' + token;
    const req = http.request({ host: BASE.hostname, port: BASE.port, method: 'GET', agent: false,
      path: `/api/v1/uploads/${id}${opts.thumbnail ? '/thumbnail' : ''}`, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let json = null;
        try { json = JSON.parse(body.toString('utf8')); } catch (e) { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body, text: body.toString('utf8'), json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

function uploadDir() {
  const root = path.resolve(__dirname, '..');
  return process.env.PARLEY_UPLOAD_DIR || path.join(process.env.PARLEY_VAR || path.join(root, 'var'), 'uploads');
}

function blobPath(hex) {
  return path.join(uploadDir(), 'blobs', hex.slice(0, 2), hex);
}

module.exports = { png, convert, jpegWithGps, exif, media, timed, upload, multipart, uploadForm, iframeJson, download, sha256, uploadDir, blobPath };
