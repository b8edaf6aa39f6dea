// Raw HTTP helper and small builders for the Chroma v2 API.
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { CHROMA_URL, DB } from './env.mjs';

// Sends one request and returns {status, headers, text, json}. `json` is the
// parsed body, or undefined when the body is not JSON.
//   opts.body     a value serialised with JSON.stringify (content-type json)
//   opts.raw      a string or Buffer sent as is (no content-type unless given)
//   opts.json     a JSON text sent with content-type application/json (keeps
//                 number literals such as 1.0 that JSON.stringify would lose)
//   opts.headers  extra headers
//   opts.base     base URL (default CHROMA_URL)
export async function req(method, path, opts = {}) {
  const base = opts.base || CHROMA_URL;
  const headers = { ...(opts.headers || {}) };
  let body;
  if (opts.json !== undefined) {
    opts = { ...opts, raw: opts.json };
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
  }
  if (opts.raw !== undefined) {
    // A Buffer, so that fetch adds no `text/plain` content type by itself:
    // without an explicit header the request carries none.
    body = Buffer.isBuffer(opts.raw) ? opts.raw : Buffer.from(opts.raw);
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let json;
  try {
    json = text.length ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function hasHeader(headers, name) {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

// Low-level request through node:http for what fetch refuses to do (HEAD
// bodies, a dropped connection). Resolves {status, headers, text} or
// {error} when the connection fails without a response.
export function rawHttp(method, path, { body, headers = {}, base = CHROMA_URL } = {}) {
  const url = new URL(base + path);
  return new Promise((resolve) => {
    const r = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }),
        );
        res.on('error', (error) => resolve({ error }));
      },
    );
    r.on('error', (error) => resolve({ error }));
    if (body !== undefined) r.write(body);
    r.end();
  });
}

// A collection name unique to this process and call (valid per spec 4.3).
let counter = 0;
export function uniqueName(prefix = 'c') {
  counter += 1;
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}-${counter}`;
}

// Path of a record route of a collection UUID, e.g. col(id, 'add').
export function col(id, op) {
  return op === undefined ? `${DB}/collections/${id}` : `${DB}/collections/${id}/${op}`;
}

// Creates a collection and returns its Collection object (asserts 200).
export async function createCollection(body = {}) {
  const name = body.name || uniqueName();
  const r = await req('POST', `${DB}/collections`, { body: { ...body, name } });
  assert.equal(r.status, 200, `create ${name}: ${r.text}`);
  return r.json;
}

// Adds records (asserts 201) and returns the response.
export async function add(id, body) {
  const r = await req('POST', col(id, 'add'), { body });
  assert.equal(r.status, 201, `add: ${r.text}`);
  return r;
}

// POST .../get with the body; asserts 200 and returns the parsed result.
export async function get(id, body = {}) {
  const r = await req('POST', col(id, 'get'), { body });
  assert.equal(r.status, 200, `get: ${r.text}`);
  return r.json;
}

// POST .../query with the body; asserts 200 and returns the parsed result.
export async function query(id, body) {
  const r = await req('POST', col(id, 'query'), { body });
  assert.equal(r.status, 200, `query: ${r.text}`);
  return r.json;
}

// GET .../count; asserts 200 and returns the integer.
export async function count(id) {
  const r = await req('GET', col(id, 'count'));
  assert.equal(r.status, 200, `count: ${r.text}`);
  return r.json;
}

// Full snapshot of a collection's records (ids, embeddings, documents, uris,
// metadatas) in storage order, to check that bad requests changed nothing.
export async function snapshot(id) {
  return get(id, { include: ['embeddings', 'documents', 'metadatas', 'uris'] });
}

// Asserts an error response: status, `error` name and (optionally) a
// message that contains `contains` or matches a RegExp.
export function assertError(r, status, name, message) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  if (name !== undefined) {
    assert.ok(r.json && typeof r.json === 'object', `error body is not JSON: ${r.text}`);
    assert.equal(r.json.error, name, `error name: ${r.text}`);
    assert.equal(typeof r.json.message, 'string', `message: ${r.text}`);
  }
  if (message instanceof RegExp) {
    assert.match(r.json.message, message);
  } else if (typeof message === 'string') {
    assert.ok(r.json.message.includes(message), `message "${r.json.message}" lacks "${message}"`);
  }
}

// Base64 of little-endian float32 values (the wire format of spec 8.3).
export function f32Base64(values) {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

// Rounds a JS number to float32.
export const f32 = (x) => Math.fround(x);

// Asserts two numbers are equal to float32 precision (a few ulps).
export function assertClose(actual, expected, msg = '') {
  const tol = Math.max(1e-6, Math.abs(expected) * 1e-6);
  assert.ok(Math.abs(actual - expected) <= tol, `${msg} ${actual} != ${expected}`);
}
