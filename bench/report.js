#!/usr/bin/env node
// bench/report.js: the benchmark's report as one HTML page with inline
// SVG (no script, no network at view time), for people who would rather
// look than read: each latency distribution plotted beside its
// yardstick's (CDF on a log time axis), the ratio figures as bars, then
// the table itself.
//
//   node bench/report.js REPORT.txt PLOTS.tsv OUT.html
//
// PLOTS.tsv (bench/run.sh's plot()): one line per item, tab-separated:
//   meta  KEY  VALUE                 date, cores, elapsed (seconds)
//   dist  TITLE  LABEL=FILE ...      FILE relative to PLOTS.tsv's directory:
//                                    "# n=<count> unit=us", then values in
//                                    us, sorted (bench/lg_dist.c)
//   bars  TITLE  LABEL=VALUE ...     or LABEL=PART:VALUE+PART:VALUE (stacked)
// Unknown kinds or malformed lines are an error (exit 1), so a typo in
// run.sh shows at once; a missing samples file is a note in the page.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const COLORS = ['#1f6fb4', '#e4572e', '#3a9d23', '#8e44ad', '#b8860b', '#555'];
const W = 720;

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

// Three significant digits, no exponent for the ranges seen here.
function num(v) {
  if (!Number.isFinite(v)) return '?';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

function parsePlots(text) {
  const meta = {};
  const plots = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const f = line.split('\t');
    const where = `plots line ${i + 1}`;
    if (f[0] === 'meta') {
      if (f.length !== 3) throw new Error(`${where}: meta KEY VALUE`);
      meta[f[1]] = f[2];
      return;
    }
    if (f[0] !== 'dist' && f[0] !== 'bars') {
      throw new Error(`${where}: unknown kind "${f[0]}"`);
    }
    if (f.length < 3) throw new Error(`${where}: ${f[0]} TITLE ITEM...`);
    const items = f.slice(2).map((it) => {
      const eq = it.lastIndexOf('=');
      if (eq <= 0) throw new Error(`${where}: item "${it}" is not LABEL=VALUE`);
      return { label: it.slice(0, eq), value: it.slice(eq + 1) };
    });
    plots.push({ kind: f[0], title: f[1], items });
  });
  return { meta, plots };
}

// Sorted samples in ms, or null when the file is missing or empty.
function readSamples(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const v = [];
  let n = 0;
  for (const line of text.split('\n')) {
    const m = /^# n=(\d+)/.exec(line);
    if (m) n = Number(m[1]);
    else if (line.trim() !== '' && Number.isFinite(Number(line))) v.push(Number(line) / 1000);
  }
  if (v.length === 0) return null;
  v.sort((a, b) => a - b);
  return { v, n: n || v.length };
}

function quantile(v, p) {
  return v[Math.min(v.length - 1, Math.round(p * (v.length - 1)))];
}

// The percentile axis stretches the tail, as latency plots do (p99 is the
// targets' figure): height -log10(1 - p), from p0 to p99.9 at the top.
const TAIL = 3;
const tail = (p) => Math.min(TAIL, -Math.log10(Math.max(1e-9, 1 - p)));

// A CDF per series on a log10 time axis (ms).
function distSvg(series) {
  const L = 60, R = 20, T = 14, H = 240;
  const legendH = 18 * series.length + 8;
  const height = T + H + 40 + legendH;
  const pw = W - L - R;
  const floorMs = 0.001;
  let lo = Infinity, hi = -Infinity;
  for (const s of series) {
    if (!s.data) continue;
    lo = Math.min(lo, Math.max(floorMs, s.data.v[0]));
    hi = Math.max(hi, Math.max(floorMs, s.data.v[s.data.v.length - 1]));
  }
  let d0 = Math.floor(Math.log10(lo));
  let d1 = Math.ceil(Math.log10(hi));
  if (d1 <= d0) d1 = d0 + 1;
  const x = (ms) => L + ((Math.log10(Math.max(floorMs, ms)) - d0) / (d1 - d0)) * pw;
  const y = (p) => T + (1 - tail(p) / TAIL) * H;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect x="${L}" y="${T}" width="${pw}" height="${H}" fill="#fafafa" stroke="#bbb"/>`);
  for (let d = d0; d <= d1; d++) {
    const xd = x(10 ** d).toFixed(1);
    const label = d >= 0 ? String(10 ** d) : (10 ** d).toFixed(-d);
    out.push(`<line x1="${xd}" y1="${T}" x2="${xd}" y2="${T + H}" stroke="#ddd"/>`);
    out.push(`<text x="${xd}" y="${T + H + 16}" text-anchor="middle">${esc(label)}</text>`);
  }
  for (const [p, label] of [[0, 'p0'], [0.5, 'p50'], [0.9, 'p90'], [0.99, 'p99'], [0.999, 'p99.9']]) {
    const yp = y(p).toFixed(1);
    out.push(`<line x1="${L}" y1="${yp}" x2="${L + pw}" y2="${yp}" stroke="#ddd"${p > 0 && p < 0.999 ? ' stroke-dasharray="4 3"' : ''}/>`);
    out.push(`<text x="${L - 6}" y="${(y(p) + 4).toFixed(1)}" text-anchor="end">${label}</text>`);
  }
  out.push(`<text x="${L + pw / 2}" y="${T + H + 32}" text-anchor="middle">ms (log scale) at each percentile (the tail stretched); left and higher is better</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const ly = T + H + 40 + 18 * i + 12;
    let text;
    if (s.data) {
      const v = s.data.v;
      const pts = v.map((ms, k) => `${x(ms).toFixed(1)},${y((k + 0.5) / v.length).toFixed(1)}`);
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts.join(' ')}"/>`);
      text = `${s.label}: p50 ${num(quantile(v, 0.5))} ms, p99 ${num(quantile(v, 0.99))} ms, max ${num(v[v.length - 1])} ms (${s.data.n} samples)`;
    } else {
      text = `${s.label}: no samples (${s.file} missing or empty)`;
    }
    out.push(`<rect x="${L}" y="${ly - 9}" width="14" height="4" fill="${color}"/>`);
    out.push(`<text x="${L + 20}" y="${ly}">${esc(text)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

// Horizontal bars, stacked when an item has parts.
function barsSvg(items) {
  const L = 230, R = 90, T = 8, BH = 24, GAP = 10;
  const parts = [];
  const rows = items.map((it) => {
    const segs = it.value.split('+').map((seg) => {
      const c = seg.lastIndexOf(':');
      const name = c > 0 ? seg.slice(0, c) : '';
      const v = Number(c > 0 ? seg.slice(c + 1) : seg);
      if (name !== '' && !parts.includes(name)) parts.push(name);
      return { name, v };
    });
    const total = segs.reduce((a, s) => a + (Number.isFinite(s.v) ? s.v : NaN), 0);
    return { label: it.label, segs, total };
  });
  const max = Math.max(1e-9, ...rows.map((r) => r.segs.reduce((a, s) => a + (s.v > 0 ? s.v : 0), 0)));
  const pw = W - L - R;
  const legendH = parts.length > 1 ? 22 : 0;
  // Negative parts (a difference of two noisy sums) are said, not drawn.
  const neg = rows.flatMap((r) => r.segs.filter((s) => s.v < 0).map((s) => `${r.label} ${s.name} ${num(s.v)}`));
  const noteH = neg.length ? 20 : 0;
  const height = T + rows.length * (BH + GAP) + legendH + noteH + 4;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="12">`);
  rows.forEach((r, i) => {
    const yr = T + i * (BH + GAP);
    out.push(`<text x="${L - 8}" y="${yr + BH / 2 + 4}" text-anchor="end">${esc(r.label)}</text>`);
    let xr = L;
    for (const s of r.segs) {
      if (!(s.v > 0)) continue;	// negative (noise) or unknown: not drawn
      const w = (s.v / max) * pw;
      const color = s.name === '' ? COLORS[i % COLORS.length] : COLORS[parts.indexOf(s.name) % COLORS.length];
      out.push(`<rect x="${xr.toFixed(1)}" y="${yr}" width="${w.toFixed(1)}" height="${BH}" fill="${color}"><title>${esc((s.name ? s.name + ': ' : '') + num(s.v))}</title></rect>`);
      xr += w;
    }
    out.push(`<text x="${(xr + 6).toFixed(1)}" y="${yr + BH / 2 + 4}">${esc(num(r.total))}</text>`);
  });
  if (parts.length > 1) {
    const ly = T + rows.length * (BH + GAP) + 12;
    let lx = L;
    parts.forEach((name, k) => {
      out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="12" fill="${COLORS[k % COLORS.length]}"/>`);
      out.push(`<text x="${lx + 16}" y="${ly + 1}">${esc(name)}</text>`);
      lx += 30 + 7 * name.length;
    });
  }
  if (neg.length) {
    const ny = T + rows.length * (BH + GAP) + legendH + 14;
    out.push(`<text x="${L}" y="${ny}" fill="#666">${esc(`below zero, not drawn: ${neg.join(', ')}`)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

function render(reportText, plotsText, dir) {
  const { meta, plots } = parsePlots(plotsText);
  const secs = Number(meta.elapsed);
  const when = [
    meta.date ? `run ${meta.date}` : null,
    meta.cores ? `${meta.cores} cores` : null,
    Number.isFinite(secs) ? `${Math.floor(secs / 60)} min ${secs % 60} s from start to report` : null,
  ].filter(Boolean).join(', ');
  const out = [];
  out.push('<!DOCTYPE html>');
  out.push('<html lang="en"><head><meta charset="utf-8"><title>Parley benchmark</title>');
  out.push('<style>body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em;color:#222}h2{font-size:1.05em;margin:1.6em 0 .3em}pre{font-size:12px;overflow-x:auto;background:#f6f6f6;padding:.6em}</style>');
  out.push('</head><body>');
  out.push('<h1>Parley benchmark</h1>');
  out.push(`<p>${esc(when)}. Loopback, every figure beside its yardstick measured in the same run; the table and its definitions are below.</p>`);
  for (const p of plots) {
    out.push(`<section><h2>${esc(p.title)}</h2>`);
    if (p.kind === 'dist') {
      const series = p.items.map((it) => ({
        label: it.label, file: it.value, data: readSamples(path.resolve(dir, it.value)),
      }));
      out.push(distSvg(series));
    } else {
      out.push(barsSvg(p.items));
    }
    out.push('</section>');
  }
  out.push('<h2>Table</h2>');
  out.push(`<pre>${esc(reportText.replace(/^\n+/, ''))}</pre>`);
  out.push('</body></html>');
  return out.join('\n') + '\n';
}

function main(argv) {
  if (argv.length !== 3) {
    process.stderr.write('usage: report.js REPORT.txt PLOTS.tsv OUT.html\n');
    return 2;
  }
  const [reportFile, plotsFile, outFile] = argv;
  try {
    const html = render(fs.readFileSync(reportFile, 'utf8'),
      fs.readFileSync(plotsFile, 'utf8'), path.dirname(path.resolve(plotsFile)));
    fs.writeFileSync(outFile + '.tmp', html);
    fs.renameSync(outFile + '.tmp', outFile);
  } catch (e) {
    process.stderr.write(`report.js: ${e.message}\n`);
    return 1;
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
module.exports = { render, parsePlots };
