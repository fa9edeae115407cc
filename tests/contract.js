// Every response a black-box test receives is checked against
// docs/openapi.json (tests/lib.js request() calls checkResponse()), and so
// are the events in poll replies, the WebSocket frames tests/ws.js reads
// and the webhook deliveries tests/sites.js receives. The status is
// documented for the operation (or by `default`), every header its
// response marks required is there and fits its schema, and the body fits
// the schema of its content type. A mismatch fails the request, so the
// test that made it fails with the method, path, status and ajv's error
// path; mismatches a test swallowed (a .catch() around a request) still
// fail the file when it exits.
//
// Requests outside any documented operation (tests probing unknown routes
// and methods, or nginx's own answers to them) are held to what the
// description's conventions say about them: "Every failure, including
// nginx's own (... unknown endpoint 404, wrong method 405, ... upstream
// down 503) is {"error":{...}}": a 4xx/5xx JSON Error, and 503 with
// Retry-After. A 2xx/3xx there is a mismatch (an undocumented route).
// Paths outside /api/ are the web client's files, which the description
// does not cover: they are counted as such, not validated.
//
// Responses a test opts out of (request option `contract: false`) are
// counted too. Allowed only where the response is not an API response by
// design; the current list (keep it tiny):
//   - none: even the tests that send garbage through request() get
//     answers the description documents (400, 404, 413, 414, ...).
// Each file prints a summary line at exit and appends its counts to
// $PARLEY_VAR/contract.log; `node tests/contract.js summary FILE` totals
// them (scripts/test.sh).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const SPEC_FILE = path.join(__dirname, '..', 'docs', 'openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

// JSON pointer of a spec location, as a URI fragment ajv resolves.
const pointer = (parts) => '#/' + parts.map((p) =>
  encodeURIComponent(String(p).replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

class Contract {
  constructor(spec) {
    this.spec = spec;
    this.ajv = new Ajv2020({
      strict: false, allErrors: true, discriminator: true, validateFormats: true,
    });
    addFormats(this.ajv);
    // OpenAPI's own formats: int32/int64 are range hints on integers
    // (JSON numbers; ids stay below 2^53), binary is a file's bytes.
    this.ajv.addFormat('int64', { type: 'number', validate: Number.isSafeInteger });
    this.ajv.addFormat('int32', { type: 'number', validate: (n) => n >= -(2 ** 31) && n < 2 ** 31 });
    this.ajv.addFormat('binary', true);
    this.ajv.addSchema(Contract.forAjv(spec), 'openapi.json');
    this.compiled = new Map();
    // Literal paths before templated ones (/friends/requests before
    // /friends/{id}), then the more specific.
    this.routes = Object.keys(spec.paths).map((p) => ({
      template: p,
      params: (p.match(/\{/g) || []).length,
      re: new RegExp('^' + p.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
        .replace(/\{[^}]+\}/g, '[^/]+') + '$'),
    })).sort((a, b) => a.params - b.params);
    this.stats = { validated: 0, events: 0, frames: 0, webhooks: 0, outside: 0, optedOut: 0, mismatches: [] };
  }

  // ajv 8 derives a discriminator's mapping from each branch's `type`
  // const/enum and refuses an explicit `mapping` (which generators need):
  // drop it from ajv's copy after checking that it says the same.
  static forAjv(spec) {
    const copy = JSON.parse(JSON.stringify(spec));
    const resolve = (ref) => ref.slice(2).split('/').reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], copy);
    const walk = (o) => {
      if (!o || typeof o !== 'object') return;
      if (o.discriminator && typeof o.discriminator === 'object' && o.discriminator.mapping) {
        const name = o.discriminator.propertyName;
        for (const [value, ref] of Object.entries(o.discriminator.mapping)) {
          const prop = (resolve(ref).properties || {})[name] || {};
          const values = prop.const !== undefined ? [prop.const] : prop.enum || [];
          if (!values.includes(value))
            throw new Error(`discriminator mapping ${value} -> ${ref}, whose ${name} does not admit it`);
        }
        delete o.discriminator.mapping;
      }
      for (const k of Object.keys(o)) walk(o[k]);
    };
    walk(copy);
    return copy;
  }

  validator(parts) {
    const key = pointer(parts);
    let v = this.compiled.get(key);
    if (!v) {
      v = this.ajv.compile({ $ref: 'openapi.json' + key });
      this.compiled.set(key, v);
    }
    return v;
  }

  deref(obj, parts) {
    while (obj && obj.$ref) {
      parts = obj.$ref.slice(2).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
      obj = parts.reduce((o, k) => o && o[k], this.spec);
    }
    return { obj, parts };
  }

  // The operation for METHOD and a request path (query dropped):
  // {template, op} or {template} (path known, method not) or null.
  operation(method, urlPath) {
    const p = urlPath.split('?')[0];
    for (const r of this.routes) {
      if (!r.re.test(p)) continue;
      const op = this.spec.paths[r.template][method.toLowerCase()];
      if (op) return { template: r.template, op };
    }
    const any = this.routes.find((r) => r.re.test(p));
    return any ? { template: any.template } : null;
  }

  // Problems of one response (strings; empty when it fits).
  check(method, urlPath, res) {
    const problems = [];
    const where = `${method} ${urlPath} -> ${res.status}`;
    const found = this.operation(method, urlPath);
    if (!urlPath.startsWith('/api/')) {
      this.stats.outside++;
      return problems;
    }
    this.stats.validated++;
    if (!found || !found.op) {
      // Outside every operation: the error convention.
      if (res.status < 400)
        problems.push(`${where}: ${found ? 'method' : 'path'} not in docs/openapi.json, yet answered ${res.status}`);
      else
        this.checkBody(problems, where, res, { 'application/json': { schema: {} } },
          () => ['components', 'schemas', 'Error'], method);
      if (res.status === 503 && !res.headers['retry-after'])
        problems.push(`${where}: 503 without Retry-After`);
      return problems;
    }
    const { template, op } = found;
    const responses = op.responses || {};
    const status = String(res.status);
    const key = responses[status] ? status
      : responses[status[0] + 'XX'] ? status[0] + 'XX' : responses.default ? 'default' : null;
    const tag = `${where} (${method.toUpperCase()} ${template})`;
    if (!key) {
      problems.push(`${tag}: status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`);
      return problems;
    }
    const { obj: resp, parts } = this.deref(responses[key],
      ['paths', template, method.toLowerCase(), 'responses', key]);
    for (const [name, h0] of Object.entries(resp.headers || {})) {
      const { obj: h, parts: hp } = this.deref(h0, parts.concat('headers', name));
      const value = res.headers[name.toLowerCase()];
      if (value === undefined) {
        if (h.required) problems.push(`${tag}: required header ${name} is missing`);
        continue;
      }
      if (!h.schema) continue;
      const t = h.schema.type;
      const v = this.validator(hp.concat('schema'));
      // Node gives a repeated header (Set-Cookie) as an array.
      for (const one of [].concat(value)) {
        const typed = t === 'integer' || t === 'number' ? Number(one) : one;
        if (!v(typed)) problems.push(`${tag}: header ${name}: ${one}: ${this.ajv.errorsText(v.errors)}`);
      }
    }
    this.checkBody(problems, tag, res, resp.content,
      (media) => parts.concat('content', media, 'schema'), method, urlPath);
    return problems;
  }

  // `schemaAt(media)`: where the schema of that media type is.
  checkBody(problems, tag, res, content, schemaAt, method, urlPath) {
    const type = String(res.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    const empty = res.text === '' || res.text === undefined;
    if (!content || Object.keys(content).length === 0) {
      if (!empty) problems.push(`${tag}: documented without a body, yet one came (${type})`);
      return;
    }
    if (empty && (method === 'HEAD' || res.status === 304)) return;
    const media = content[type] ? type
      : content[type.split('/')[0] + '/*'] ? type.split('/')[0] + '/*' : content['*/*'] ? '*/*' : null;
    if (!media) {
      problems.push(`${tag}: content type '${type}' not documented (documented: ${Object.keys(content).join(', ')})`);
      return;
    }
    const m = content[media];
    if (!m.schema) return;
    let value;
    if (/^application\/(.+\+)?json$/.test(media)) {
      if (res.json === undefined || res.json === null) {
        problems.push(`${tag}: ${type} body is not JSON: ${String(res.text).slice(0, 120)}`);
        return;
      }
      value = res.json;
    } else if (media === 'application/javascript') {
      // JSONP: callback(<JSON>); the payload is what the JSON answer
      // would be (errors carry their status; see Error.status).
      const mm = /^\/\*\*\/\s*([A-Za-z_$][\w$.]*)\(([\s\S]*)\);?\s*$/.exec(res.text) ||
        /^\s*([A-Za-z_$][\w$.]*)\(([\s\S]*)\);?\s*$/.exec(res.text);
      if (!mm) { problems.push(`${tag}: not a JSONP call: ${res.text.slice(0, 120)}`); return; }
      try { value = JSON.parse(mm[2]); } catch (e) {
        problems.push(`${tag}: JSONP payload is not JSON: ${mm[2].slice(0, 120)}`); return;
      }
      // It must be one of the operation's JSON answers.
      const alts = this.jsonAnswers(urlPath, method);
      const fits = alts.find((parts) => this.validator(parts)(value));
      if (!fits) problems.push(`${tag}: JSONP payload fits none of the operation's JSON answers: ${mm[2].slice(0, 120)}`);
      else this.checkEvents(problems, tag, value);
      return;
    } else {
      // text/html, text/plain: a string; a file's bytes (*/*, binary)
      // have no schema to check beyond that.
      if (m.schema.format === 'binary' || media === '*/*') return;
      value = res.text;
    }
    const v = this.validator(schemaAt(media));
    if (!v(value)) problems.push(`${tag}: body: ${this.errors(v.errors)}`);
    else this.checkEvents(problems, tag, value);
  }

  // Where the application/json schemas of every documented answer of
  // the operation at METHOD urlPath are.
  jsonAnswers(urlPath, method) {
    const { template, op } = this.operation(method, urlPath);
    const out = [];
    for (const key of Object.keys(op.responses || {})) {
      const { obj, parts } = this.deref(op.responses[key],
        ['paths', template, method.toLowerCase(), 'responses', key]);
      if (obj.content && obj.content['application/json'] && obj.content['application/json'].schema)
        out.push(parts.concat('content', 'application/json', 'schema'));
    }
    return out;
  }

  // ajv's errors, deduplicated, the deepest first (oneOf reports every
  // branch; the longest instancePath is usually the real one).
  errors(errs) {
    const seen = new Set();
    // oneOf/anyOf summaries and the unknown-type fallback's "type must
    // not be a known one" only hide the branch error that matters.
    const noise = (e) => /^must match (exactly one|a) schema in (oneOf|anyOf)$/.test(e.message) ||
      (e.keyword === 'not' && /\/type$/.test(e.instancePath));
    if (errs.some((e) => !noise(e))) errs = errs.filter((e) => !noise(e));
    return errs.slice().sort((a, b) => b.instancePath.length - a.instancePath.length)
      .map((e) => `${e.instancePath || '/'} ${e.message}${e.params && e.params.allowedValues ? ' ' + JSON.stringify(e.params.allowedValues) : ''}${e.params && e.params.additionalProperty ? ' ' + e.params.additionalProperty : ''} (${e.schemaPath})`)
      .filter((s) => !seen.has(s) && seen.add(s)).slice(0, 8).join('; ');
  }

  // Events in a body (poll replies, stream frames): each must be one of
  // the documented event types (the schema's fallback for unknown types
  // is for clients; this server sends only documented ones).
  // Events of a `test.` type are written straight into the stream table
  // by tests (poll_batch.test.js pads a stream with them): they stand for
  // types a newer server adds, so they must fit Event (its OtherEvent
  // fallback) but not KnownEvent.
  checkEvents(problems, tag, body) {
    if (!body || !Array.isArray(body.events)) return;
    const v = this.validator(['components', 'schemas', 'KnownEvent']);
    const any = this.validator(['components', 'schemas', 'Event']);
    body.events.forEach((e, i) => {
      this.stats.events++;
      if (e && typeof e.type === 'string' && e.type.startsWith('test.')) {
        if (!any(e)) problems.push(`${tag}: events[${i}] (${e.type}): ${this.errors(any.errors)}`);
        return;
      }
      if (!v(e)) problems.push(`${tag}: events[${i}] (${e && e.type}): ${this.errors(v.errors)}`);
    });
  }

  // One webhook delivery Parley POSTed to a test's receiver
  // (tests/sites.js): the description's `webhooks` entry, its required
  // header parameters and its body.
  checkWebhook(headers, raw) {
    this.stats.webhooks++;
    const problems = [];
    const base = ['webhooks', 'parley-event', 'post'];
    const op = this.spec.webhooks['parley-event'].post;
    (op.parameters || []).forEach((p0, i) => {
      const { obj: p, parts } = this.deref(p0, base.concat('parameters', i));
      if (p.in !== 'header') return;
      const value = headers[p.name.toLowerCase()];
      if (value === undefined) {
        if (p.required) problems.push(`webhook delivery: header ${p.name} is missing`);
      } else if (p.schema && !this.validator(parts.concat('schema'))(value)) {
        problems.push(`webhook delivery: header ${p.name}: ${value} does not fit its schema`);
      }
    });
    if (!/^application\/json\b/.test(headers['content-type'] || ''))
      problems.push(`webhook delivery: Content-Type ${headers['content-type']}`);
    let body;
    try { body = JSON.parse(raw); } catch (e) {
      problems.push(`webhook delivery: body is not JSON: ${raw.slice(0, 80)}`);
      return problems;
    }
    const v = this.validator(base.concat('requestBody', 'content', 'application/json', 'schema'));
    if (!v(body)) problems.push(`webhook delivery ${body && body.type}: ${this.errors(v.errors)}`);
    return problems;
  }

  // One WebSocket frame of GET /api/v1/stream.
  checkFrame(frame) {
    this.stats.frames++;
    const problems = [];
    const v = this.validator(['components', 'schemas', 'StreamFrame']);
    if (!v(frame)) problems.push(`stream frame ${JSON.stringify(frame).slice(0, 80)}: ${this.errors(v.errors)}`);
    else this.checkEvents(problems, 'stream frame', frame);
    return problems;
  }
}

let shared = null;
function contract() {
  if (!shared) {
    shared = new Contract(JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8')));
    process.on('exit', () => {
      const s = shared.stats;
      const line = `contract: ${s.validated} API responses validated against docs/openapi.json ` +
        `(${s.events} events, ${s.frames} stream frames, ${s.webhooks} webhook deliveries), ${s.outside} outside /api/, ` +
        `${s.optedOut} opted out, ${s.mismatches.length} mismatches`;
      process.stderr.write('# ' + line + '\n');
      if (process.env.PARLEY_VAR) {
        try {
          fs.appendFileSync(path.join(process.env.PARLEY_VAR, 'contract.log'),
            JSON.stringify({ file: process.argv[1], ...s }) + '\n');
        } catch (e) { /* no var dir: the summary line is enough */ }
      }
      if (s.mismatches.length) {
        process.stderr.write(s.mismatches.map((m) => '# contract mismatch: ' + m).join('\n') + '\n');
        process.exitCode = 1;
      }
    });
  }
  return shared;
}

// Checks a response of tests/lib.js request(); throws on a mismatch.
function checkResponse(method, urlPath, res, opts = {}) {
  const c = contract();
  if (opts.contract === false) { c.stats.optedOut++; return; }
  const problems = c.check(method, urlPath, res);
  if (problems.length) {
    c.stats.mismatches.push(...problems);
    const err = new Error('response does not match docs/openapi.json:\n  ' + problems.join('\n  '));
    err.code = 'ERR_CONTRACT';
    throw err;
  }
}

// Checks a webhook delivery; returns the problems (a receiver cannot
// throw into the test) after recording them, so the file fails at exit.
function checkWebhook(headers, raw) {
  const c = contract();
  const problems = c.checkWebhook(headers, raw);
  c.stats.mismatches.push(...problems);
  return problems;
}

function checkFrame(frame) {
  const c = contract();
  const problems = c.checkFrame(frame);
  if (problems.length) {
    c.stats.mismatches.push(...problems);
    const err = new Error('stream frame does not match docs/openapi.json:\n  ' + problems.join('\n  '));
    err.code = 'ERR_CONTRACT';
    throw err;
  }
}

module.exports = { Contract, checkResponse, checkFrame, checkWebhook, contract, pointer };

// `node tests/contract.js summary FILE`: totals of the per-file lines the
// exit hook appends to $PARLEY_VAR/contract.log (scripts/test.sh).
if (require.main === module && process.argv[2] === 'summary') {
  const t = { files: 0, validated: 0, events: 0, frames: 0, webhooks: 0, outside: 0, optedOut: 0, mismatches: 0 };
  let text = '';
  try { text = fs.readFileSync(process.argv[3], 'utf8'); } catch (e) { /* none ran */ }
  for (const line of text.split('\n').filter(Boolean)) {
    const s = JSON.parse(line);
    t.files++;
    for (const k of ['validated', 'events', 'frames', 'webhooks', 'outside', 'optedOut']) t[k] += s[k] || 0;
    t.mismatches += s.mismatches.length;
  }
  console.log(`contract: ${t.validated} API responses (${t.events} events, ${t.frames} stream frames), ` +
    `${t.webhooks} webhook deliveries ` +
    `checked against docs/openapi.json in ${t.files} test files; ${t.outside} outside /api/, ` +
    `${t.optedOut} opted out, ${t.mismatches} mismatches`);
}
