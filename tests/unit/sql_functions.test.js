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

// shared/send.c maps every status send_message() can answer (its own,
// send_message_full()'s and can_contact()'s) to HTTP.
test('shared/send.c has an outcome for every status of send_message()', () => {
  const fn = path.join(sql, 'functions');
  const body = (file, name) => {
    const text = fs.readFileSync(path.join(fn, file), 'utf8');
    const m = text.match(new RegExp(`FUNCTION ${name}\\([\\s\\S]*?\\$\\$([\\s\\S]*?)\\$\\$`));
    assert.ok(m, `${name} in ${file}`);
    return m[1];
  };
  const statuses = new Set();
  for (const b of [body('40_messaging.sql', 'send_message'), body('40_messaging.sql', 'send_message_full')]) {
    for (const m of b.matchAll(/status := '(\w+)'/g)) statuses.add(m[1]);
  }
  for (const b of [body('30_friends.sql', 'can_contact'), body('30_friends.sql', 'pair_refusal')]) {
    for (const m of b.matchAll(/(?:RETURN|THEN) '(\w+)'/g)) statuses.add(m[1]);
  }
  assert.ok(statuses.size >= 9, [...statuses].join(' '));
  const c = fs.readFileSync(path.join(__dirname, '..', '..', 'shared', 'send.c'), 'utf8');
  for (const s of statuses) assert.match(c, new RegExp(`\\{ "${s}", \\d{3},`), s);
});
