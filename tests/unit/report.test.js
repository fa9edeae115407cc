// bench/report.js from a small fixture: the page it writes is well-formed
// (every SVG balanced XML with finite coordinates), has one figure per
// plot line and one curve per samples file, escapes the table, notes a
// missing samples file instead of failing, and rejects a malformed plots
// file. No stack, no timing: `make unit` runs it.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const REPORT = path.join(__dirname, '..', '..', 'bench', 'report.js');

function fixture(plots) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-report-'));
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  const samples = (name, vals) => fs.writeFileSync(path.join(work, name),
    `# n=${vals.length * 10} unit=us\n${vals.sort((a, b) => a - b).join('\n')}\n`);
  samples('lat_parley_lat.txt', Array.from({ length: 200 }, (_, i) => 900 + i * 37));
  samples('lat_nchan_lat.txt', Array.from({ length: 200 }, (_, i) => 120 + i * 3));
  samples('fanout_single.txt', [4000, 4100, 3900]);
  fs.writeFileSync(path.join(dir, 'report.txt'),
    '\nParley benchmark (test)\n2. send->delivery p99 <= 3x & "quoted"\n');
  fs.writeFileSync(path.join(work, 'plots.tsv'), plots.map((l) => l.join('\t')).join('\n') + '\n');
  return dir;
}

const GOOD = [
  ['meta', 'date', '2026-12-01T12:00Z'],
  ['meta', 'cores', '2'],
  ['meta', 'elapsed', '754'],
  ['bars', '1. durable sends/s <32 clients>', 'Parley=1920', 'pgbench=23942'],
  ['dist', '2. send -> delivery', 'Parley=lat_parley_lat.txt', 'Nchan=lat_nchan_lat.txt'],
  ['bars', '3. KiB per poll', 'Parley=poll service:4.5+nginx:3.2+other:-0.3', 'Nchan=nginx:12'],
  ['dist', '4. fan-out', 'each member=fanout_fanout_member.txt', 'one recipient=fanout_single.txt'],
];

// Balanced tags, attributes quoted, no stray '<' or '&': enough XML for an
// SVG that a browser must render inline.
function checkXml(svg) {
  const stack = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(amp|lt|gt|quot|#39);)/g;
  let m;
  while ((m = re.exec(svg)) !== null) {
    assert.ok(m[2], `stray markup at ${m.index}: ${svg.slice(m.index, m.index + 40)}`);
    if (m[4] === '/') continue;
    if (m[1] === '/') assert.equal(stack.pop(), m[2], `closing ${m[2]}`);
    else stack.push(m[2]);
  }
  assert.deepEqual(stack, [], 'unclosed tags');
}

test('report.js writes one figure per plot line, well-formed, table escaped', () => {
  const dir = fixture(GOOD);
  const out = path.join(dir, 'report.html');
  execFileSync(process.execPath, [REPORT, path.join(dir, 'report.txt'),
    path.join(dir, 'work', 'plots.tsv'), out]);
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<\/html>\n$/);
  assert.match(html, /2026-12-01T12:00Z/);
  assert.match(html, /2 cores/);
  assert.match(html, /12 min 34 s/);
  const svgs = html.match(/<svg[\s\S]*?<\/svg>/g);
  assert.equal(svgs.length, 4);
  for (const svg of svgs) {
    checkXml(svg);
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
  }
  // Curves: both of figure 2, one of figure 4 (the other file is missing).
  assert.equal((svgs[1].match(/<polyline/g) || []).length, 2);
  assert.equal((svgs[3].match(/<polyline/g) || []).length, 1);
  assert.match(svgs[3], /fanout_fanout_member\.txt missing/);
  assert.match(svgs[1], /Parley: p50 4\.6\d ms/);
  // Bars: stacked parts, the negative one not drawn but said.
  assert.equal((svgs[2].match(/<rect [^>]*><title>/g) || []).length, 3);
  assert.match(svgs[2], /below zero, not drawn: Parley other -0\.300/);
  assert.match(html, /1\. durable sends\/s &lt;32 clients&gt;/);
  assert.match(html, /<pre>Parley benchmark \(test\)\n2\. send-&gt;delivery p99 &lt;= 3x &amp; &quot;quoted&quot;/);
});

test('report.js rejects a malformed plots file', () => {
  for (const bad of [[['plot', 'x', 'a=1']], [['bars', 'x', 'no value']], [['meta', 'date']]]) {
    const dir = fixture(bad);
    const r = spawnSync(process.execPath, [REPORT, path.join(dir, 'report.txt'),
      path.join(dir, 'work', 'plots.tsv'), path.join(dir, 'report.html')], { encoding: 'utf8' });
    assert.equal(r.status, 1, JSON.stringify(bad));
    assert.match(r.stderr, /report\.js: plots line 1/);
    assert.equal(fs.existsSync(path.join(dir, 'report.html')), false);
  }
});
