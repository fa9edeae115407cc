// The prose cannot point at files that are gone: every repository path
// named in README.md and docs/*.md (a word starting with one of the
// tree's top-level directories, like services/poll/poll_hub.c or
// sql/functions/) exists. Placeholders (<name>, NNN, *, {x}) match any
// name. Files get renamed and split; this is what keeps the newcomer's
// map in docs/DESIGN.md true. No stack: `make unit` runs it.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const TOP = ['services', 'shared', 'sql', 'nginx', 'tests', 'web', 'clients',
  'bench', 'docs', 'scripts', 'dist', 'debian', 'examples'];
// Paths the prose names that are made at run or build time, not committed.
const MADE = [/^build\//, /^var\//, /^debian\/(parley|\.debhelper|tmp)\b/];

// Candidate paths in a markdown text: "dir/..." tokens whose first segment
// is a top-level directory, not part of a URL or an absolute path.
function pathsIn(text) {
  const found = new Set();
  const re = new RegExp(`(^|[\\s\`(\\[,;"'])((?:${TOP.join('|')})/[A-Za-z0-9_.<>{}*/+-]*)`, 'g');
  for (const m of text.matchAll(re)) {
    let p = m[2].replace(/[.,;:]+$/, '');
    if (p.endsWith('/')) p = p.slice(0, -1);
    found.add(p);
  }
  return [...found];
}

// A path with placeholders as a regular expression over real paths.
function toRegExp(p) {
  const esc = p.split(/(<[^>]*>|\{[^}]*\}|\*|NNN|NN)/).map((part, i) =>
    i % 2 ? '[^/]+' : part.replace(/[.+?^$()|[\]\\]/g, '\\$&')).join('');
  return new RegExp('^' + esc + '$');
}

function walk(dir, out = []) {
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === '.git') continue;
    const rel = dir ? dir + '/' + e.name : e.name;
    out.push(rel);
    if (e.isDirectory()) walk(rel, out);
  }
  return out;
}

function exists(p, all) {
  if (fs.existsSync(path.join(ROOT, p))) return true;
  // "sql/020" is the prose's name for migration sql/020_*.sql.
  if (/^sql\/\d{3}$/.test(p)) return all.some((f) => f.startsWith(p + '_'));
  if (!/[<{*]|NN/.test(p)) return false;
  const re = toRegExp(p);
  return all.some((f) => re.test(f));
}

test('placeholder paths match real ones, and a missing path is caught', () => {
  const all = ['services/poll/poll_hub.c', 'sql/001_accounts.sql'];
  assert.ok(exists('sql/NNN_*.sql', all) || exists('sql/NNN_*.sql', walk('')));
  assert.ok(toRegExp('services/<name>/main.c').test('services/poll/main.c'));
  assert.ok(!exists('services/poll/no_such_file.c', all));
  assert.ok(exists('sql/001', all) && !exists('sql/999', all));
  assert.deepEqual(pathsIn('see `shared/http.c`, and https://x.org/web/a and /usr/share/doc'),
    ['shared/http.c']);
});

test('every path named in README.md and docs/*.md exists', () => {
  const all = walk('');
  const docs = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md')).map((f) => 'docs/' + f)];
  const missing = [];
  for (const doc of docs) {
    const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
    for (const p of pathsIn(text)) {
      if (MADE.some((re) => re.test(p))) continue;
      if (!exists(p, all)) missing.push(`${doc}: ${p}`);
    }
  }
  assert.deepEqual(missing, [], 'paths named in the docs that do not exist:\n' + missing.join('\n'));
});
