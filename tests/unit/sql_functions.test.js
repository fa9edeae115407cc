// Every SQL function and trigger has one definition, in sql/functions/
// (docs/DESIGN.md, "SQL: migrations and functions"): numbered migrations
// change tables and data and may only DROP functions.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const sql = path.join(__dirname, '..', '..', 'sql');
const read = (dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()
  .map((f) => ({ f, text: fs.readFileSync(path.join(dir, f), 'utf8').replace(/^\s*--.*$/gm, '') }));

test('numbered migrations define no function or trigger', () => {
  for (const { f, text } of read(sql)) {
    assert.doesNotMatch(text, /CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|TRIGGER)/i, f);
  }
});

test('sql/functions defines each function and trigger once, with CREATE OR REPLACE', () => {
  const seen = new Map();
  for (const { f, text } of read(path.join(sql, 'functions'))) {
    for (const m of text.matchAll(/CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|TRIGGER)\s+(\w+)/gi)) {
      assert.ok(m[1], `${f}: ${m[3]} without OR REPLACE (the file is applied again)`);
      const key = `${m[2].toLowerCase()} ${m[3]}`;
      assert.ok(!seen.has(key), `${key} in ${seen.get(key)} and ${f}`);
      seen.set(key, f);
    }
  }
  assert.ok(seen.size > 90, `only ${seen.size} definitions found`);
});
