// The shipped browser code must run in old engines (IE8/9-era): every file
// under web/js/ and web/admin/ (the operator console), and web/embed.js (loaded by other sites), parses as ECMAScript 5 (no let/const, arrow functions,
// template strings, classes, ...), uses neither fetch() (except behind a
// feature test, with a fallback for old engines) nor Promise, and
// avoids what ES5-capable parsers accept but IE8 does not (trailing commas
// in literals, reserved words as property names). The web client's own
// files (app*.js) and embed.js also stay off the Array/DOM extras IE8 lacks. Pure
// static checks: no stack, no browser.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const acorn = require('acorn');

const WEB = path.resolve(__dirname, '..', '..', 'web');

function jsFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...jsFiles(p));
    else if (e.name.endsWith('.js')) out.push(p);
  }
  return out.sort();
}

const FILES = jsFiles(path.join(WEB, 'js')).concat(jsFiles(path.join(WEB, 'admin')), [path.join(WEB, 'embed.js')]);
const rel = (f) => path.relative(path.resolve(WEB, '..'), f);

// Words IE8 refuses as `obj.word` or `{word: ...}`.
const RESERVED = new Set(('break case catch class const continue debugger default delete do else enum export ' +
  'extends false finally for function if import in instanceof new null return super switch this throw true try ' +
  'typeof var void while with implements interface let package private protected public static yield').split(' '));

// Calls on builtins IE8 lacks; the client has its own helpers for them.
// (Array indexOf is missing too, but a parser cannot tell it from String's.)
// A use inside a feature test (`if (el.addEventListener) el.addEventListener(...)`)
// is fine.
const IE8_MISSING = ['forEach', 'map', 'filter', 'reduce', 'some', 'every', 'trim', 'bind', 'keys', 'isArray',
  'addEventListener', 'toISOString', 'now', 'create', 'defineProperty', 'getPrototypeOf'];

function where(src, pos) {
  const loc = acorn.getLineInfo(src, pos);
  return `${loc.line}:${loc.column + 1}`;
}

// Every node of an ESTree AST: fn(node, ancestors).
function walk(node, fn, ancestors = []) {
  if (!node || typeof node.type !== 'string') return;
  fn(node, ancestors);
  const down = ancestors.concat([node]);
  for (const k of Object.keys(node)) {
    const v = node[k];
    if (Array.isArray(v)) v.forEach((c) => walk(c, fn, down));
    else if (v && typeof v.type === 'string') walk(v, fn, down);
  }
}

// Is `name` feature-tested by an enclosing if / ?: / && / ||?
function guarded(src, ancestors, name) {
  return ancestors.some((a) => {
    const t = a.type === 'IfStatement' || a.type === 'ConditionalExpression' ? a.test :
      a.type === 'LogicalExpression' ? a.left : null;
    return t && new RegExp('\\b' + name + '\\b').test(src.slice(t.start, t.end));
  });
}

test('there are browser files to check', () => {
  const names = FILES.map((f) => path.basename(f));
  for (const want of ['parley.js', 'app.js', 'embed.js']) assert.ok(names.includes(want), `web/js/${want} exists`);
});

for (const file of FILES) {
  test(`${rel(file)} is ECMAScript 5 that old browsers accept`, () => {
    const src = fs.readFileSync(file, 'utf8');
    let ast;
    try {
      ast = acorn.parse(src, { ecmaVersion: 5, sourceType: 'script', locations: true });
    } catch (e) {
      assert.fail(`${rel(file)}: not ECMAScript 5: ${e.message}`);
    }

    const problems = [];
    // Promise in code (strings and comments do not count).
    const tokens = [...acorn.tokenizer(src, { ecmaVersion: 5 })];
    tokens.forEach((tok, i) => {
      if (tok.type.label !== 'name') return;
      const prev = tokens[i - 1];
      const member = prev && prev.type.label === '.';
      if (tok.value === 'Promise' && !member) problems.push(`${where(src, tok.start)} Promise`);
    });
    // fetch(...), unless an enclosing test checks for it (the code then
    // has its own way for engines without it).
    walk(ast, (node, ancestors) => {
      if (node.type !== 'CallExpression') return;
      const c = node.callee;
      const isFetch = (c.type === 'Identifier' && c.name === 'fetch') ||
        (c.type === 'MemberExpression' && !c.computed && c.property.name === 'fetch');
      if (isFetch && !guarded(src, ancestors, 'fetch')) problems.push(`${where(src, c.start)} fetch( without a feature test`);
    });

    walk(ast, (node) => {
      if ((node.type === 'ObjectExpression' && node.properties.length) ||
          (node.type === 'ArrayExpression' && node.elements.length)) {
        const items = node.type === 'ObjectExpression' ? node.properties : node.elements;
        const last = items[items.length - 1];
        if (last && /,/.test(src.slice(last.end, node.end).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''))) {
          problems.push(`${where(src, last.end)} trailing comma (IE8 miscounts or refuses it)`);
        }
      }
      if (node.type === 'MemberExpression' && !node.computed && RESERVED.has(node.property.name)) {
        problems.push(`${where(src, node.property.start)} .${node.property.name} (reserved word as property; use ['${node.property.name}'])`);
      }
      if (node.type === 'Property' && node.key.type === 'Identifier' && RESERVED.has(node.key.name)) {
        problems.push(`${where(src, node.key.start)} ${node.key.name}: (reserved word as key; quote it)`);
      }
    });

    // The client's own files: nothing IE8 lacks, except behind a check.
    if (/^(app(-[a-z]+)?|embed|admin)\.js$/.test(path.basename(file))) {
      walk(ast, (node, ancestors) => {
        if (node.type === 'CallExpression' && node.callee.type === 'MemberExpression' && !node.callee.computed &&
            IE8_MISSING.includes(node.callee.property.name)) {
          const obj = node.callee.object;
          // Our own helpers (U.indexOf, U.trim, U.keys, ...) are fine.
          if (obj.type === 'Identifier' && (obj.name === 'U' || obj.name === 'PA')) return;
          if (guarded(src, ancestors, node.callee.property.name)) return;
          problems.push(`${where(src, node.callee.property.start)} .${node.callee.property.name}() is missing in IE8`);
        }
        if (node.type === 'MemberExpression' && !node.computed && node.property.name === 'classList' &&
            !guarded(src, ancestors, 'classList')) {
          problems.push(`${where(src, node.property.start)} classList is missing in IE8/9`);
        }
      });
    }
    assert.deepEqual(problems, [], `${rel(file)}:\n  ${problems.join('\n  ')}`);
  });
}

test('web/index.html loads scripts that exist and has no inline script that is not ES5', () => {
  const pages = fs.readdirSync(WEB).filter((n) => n.endsWith('.html'))
    .concat(fs.readdirSync(path.join(WEB, 'admin')).filter((n) => n.endsWith('.html')).map((n) => 'admin/' + n));
  for (const name of pages) {
    const html = fs.readFileSync(path.join(WEB, name), 'utf8');
    const re = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi;
    let m;
    while ((m = re.exec(html)) !== null) {
      const src = /\bsrc="([^"]+)"/.exec(m[1]);
      if (src) {
        assert.ok(fs.existsSync(path.join(WEB, src[1].replace(/^\//, ''))), `${name}: ${src[1]} exists under web/`);
      } else if (m[2].trim()) {
        assert.doesNotThrow(() => acorn.parse(m[2], { ecmaVersion: 5 }), `${name}: inline script is ES5`);
      }
    }
  }
});
