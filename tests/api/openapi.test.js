// docs/openapi.json against the running stack: nginx serves the file
// unchanged, and every operation is well formed. The route tables are
// generated from it; tests/api/routes.test.js checks what derives from it.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { api, ROOT } = require('../lib.js');

const SPEC_FILE = path.join(ROOT, 'docs', 'openapi.json');
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
// Operations of an OpenAPI document: [{ method, path, op, public }].
// `public` is true when the operation's effective security is empty.
function specOperations(spec) {
  const ops = [];
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of HTTP_METHODS) {
      if (!item[m]) continue;
      const op = item[m];
      const security = op.security !== undefined ? op.security : spec.security;
      const pub = !security || security.length === 0 ||
        security.some((req) => Object.keys(req).length === 0);
      ops.push({ method: m.toUpperCase(), path: p, op, public: pub });
    }
  }
  return ops;
}

const key = (r) => `${r.method} ${r.path}`;

function loadSpec() {
  const text = fs.readFileSync(SPEC_FILE, 'utf8');
  return { text, spec: JSON.parse(text) };
}

test('GET /api/v1/openapi.json serves docs/openapi.json unchanged', async () => {
  const { text, spec } = loadSpec();
  const r = await api.get('/api/v1/openapi.json');
  assert.equal(r.status, 200, r.text.slice(0, 200));
  assert.match(r.headers['content-type'] || '', /^application\/json/);
  assert.ok(r.json && typeof r.json === 'object', 'body is JSON');
  assert.match(String(r.json.openapi), /^3\.\d+\.\d+$/);
  assert.deepEqual(r.json, spec);
  assert.equal(r.text, text, 'served bytes differ from docs/openapi.json');
});

test('every operation has a unique operationId; protected ones document 401 (admin ones their 404)', () => {
  const { spec } = loadSpec();
  const seen = new Map();
  const problems = [];
  for (const o of specOperations(spec)) {
    const id = o.op.operationId;
    if (typeof id !== 'string' || id === '')
      problems.push(`${key(o)}: no operationId`);
    else if (seen.has(id))
      problems.push(`${key(o)}: operationId '${id}' also used by ${seen.get(id)}`);
    else
      seen.set(id, key(o));
    // An admin operation refuses everyone else as a missing path: 404.
    if (o.op['x-parley-admin'] === true) {
      if (!(o.op.responses && o.op.responses['404'] &&
          o.op.responses['404'].$ref === '#/components/responses/AdminNotFound'))
        problems.push(`${key(o)}: admin only, but its 404 is not AdminNotFound`);
      if (o.op.responses && o.op.responses['401'])
        problems.push(`${key(o)}: admin only, so it never answers 401`);
    } else if (!o.public && !(o.op.responses && o.op.responses['401']))
      problems.push(`${key(o)}: requires authentication but documents no 401`);
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});

module.exports = { specOperations };
