// Server-side embeddings (ksdb only; needs KSDB_BIN and the GloVe static model).
// Starts its own servers: one with --embedder static:GLOVE, one without embedders.
// Documents sent without embeddings are embedded by the server, query_texts works,
// and collections whose embedder is missing get a clear 400.
//
// KSDB_GLOVE_DIR  the static model directory (default: models/glove-6B-100d-static of the
//                 repository when set up, else ../shared/models/glove-6B-100d-static)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { req } from './lib/http.mjs';
import { isKsdb, KSDB_BIN } from './lib/env.mjs';
import { startKsdb } from './lib/server_process.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const GLOVE = process.env.KSDB_GLOVE_DIR ||
  [path.resolve(here, '../../models/glove-6B-100d-static'),
    path.resolve(here, '../../../shared/models/glove-6B-100d-static')]
    .find((dir) => fs.existsSync(dir)) || 'models/glove-6B-100d-static';
const skip = !isKsdb ? 'ksdb only' : !KSDB_BIN ? 'KSDB_BIN not set'
  : !fs.existsSync(GLOVE) ? `no static model at ${GLOVE}` : false;
const DBP = '/api/v2/tenants/default_tenant/databases/default_database';
const STATIC = { type: 'known', name: 'ksdb-static', config: {} };

const tempDirs = [];
const servers = [];
async function start(extra) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksdb-embed-'));
  tempDirs.push(dir);
  const s = await startKsdb(KSDB_BIN, dir, extra);
  servers.push(s.proc);
  return s.url;
}
after(async () => {
  for (const s of servers) await s.stop();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

async function createCollection(base, name, embeddingFunction) {
  const configuration = { hnsw: { space: 'cosine' } };
  if (embeddingFunction) configuration.embedding_function = embeddingFunction;
  const r = await req('POST', `${DBP}/collections`, { base, body: { name, configuration } });
  return r;
}

const SENTENCES = [
  'The cat sat on the mat.',
  'Stock markets fell sharply after the central bank raised interest rates.',
  'The football team won the championship final last night.',
  'A new recipe for chocolate cake with fresh strawberries.',
];

describe('server-side embeddings', { skip }, () => {
  let base;
  let plain;
  before(async () => {
    base = await start(['--embedder', `static:${GLOVE}`]);
    plain = await start([]);
  });

  test('add_batch of 1000 documents without embeddings, then query_texts', async () => {
    const r = await createCollection(base, 'docs1000', STATIC);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.configuration_json.embedding_function, STATIC);
    const ids = [];
    const documents = [];
    for (let i = 0; i < 1000; i++) {
      ids.push(`d${i}`);
      documents.push(`${SENTENCES[i % SENTENCES.length]} Item number ${i}.`);
    }
    const started = process.hrtime.bigint();
    const added = await req('POST', '/collections/docs1000/add_batch',
      { base, body: { ids, documents } });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(added.status, 201, added.text);
    console.log(`# add_batch of 1000 documents embedded on the server: ${ms.toFixed(1)} ms`);
    const info = await req('GET', `${DBP}/collections/docs1000`, { base });
    assert.equal(info.json.dimension, 100);
    const id = info.json.id;
    const count = await req('GET', `${DBP}/collections/${id}/count`, { base });
    assert.equal(count.json, 1000);

    const q = await req('POST', `${DBP}/collections/${id}/query`, {
      base,
      body: { query_texts: ['a kitten resting on the rug', 'bank interest rates and stocks'],
        n_results: 3, include: ['documents', 'distances'] },
    });
    assert.equal(q.status, 200, q.text);
    assert.equal(q.json.ids.length, 2);
    for (const doc of q.json.documents[0]) assert.match(doc, /^The cat sat on the mat\./);
    for (const doc of q.json.documents[1]) assert.match(doc, /^Stock markets fell/);
  });

  test('add, update and upsert embed documents; stored embeddings are unit length', async () => {
    const r = await createCollection(base, 'changes', STATIC);
    const id = r.json.id;
    let w = await req('POST', `${DBP}/collections/${id}/add`,
      { base, body: { ids: ['a', 'b'], documents: ['the cat', 'the stock market'] } });
    assert.equal(w.status, 201, w.text);
    const before = await req('POST', `${DBP}/collections/${id}/get`,
      { base, body: { ids: ['a'], include: ['embeddings'] } });
    const norm = Math.hypot(...before.json.embeddings[0]);
    assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);
    w = await req('POST', `${DBP}/collections/${id}/update`,
      { base, body: { ids: ['a'], documents: ['football championship'] } });
    assert.equal(w.status, 200, w.text);
    w = await req('POST', `${DBP}/collections/${id}/upsert`,
      { base, body: { ids: ['c'], documents: ['chocolate cake'] } });
    assert.equal(w.status, 200, w.text);
    const q = await req('POST', `${DBP}/collections/${id}/query`,
      { base, body: { query_texts: ['the football final'], n_results: 1 } });
    assert.deepEqual(q.json.ids, [['a']]);
    const after = await req('POST', `${DBP}/collections/${id}/get`,
      { base, body: { ids: ['a'], include: ['embeddings'] } });
    assert.notDeepEqual(after.json.embeddings[0], before.json.embeddings[0]);
  });

  test('errors: unconfigured embedder, missing documents, both query inputs', async () => {
    let r = await createCollection(base, 'remote', { type: 'known', name: 'ksdb-openai', config: {} });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.message, /ksdb-openai is not configured/);
    r = await createCollection(base, 'partial', STATIC);
    const id = r.json.id;
    r = await req('POST', `${DBP}/collections/${id}/add`,
      { base, body: { ids: ['x', 'y'], documents: ['text', null] } });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.message, /Record y has neither an embedding nor a document/);
    r = await req('POST', `${DBP}/collections/${id}/query`,
      { base, body: { query_texts: ['x'], query_embeddings: [[1]] } });
    assert.equal(r.status, 400, r.text);
  });

  test('a server without embedders answers documents-only writes with 400', async () => {
    const r = await createCollection(plain, 'plain');
    assert.equal(r.status, 200, r.text);
    const id = r.json.id;
    let w = await req('POST', `${DBP}/collections/${id}/add`,
      { base: plain, body: { ids: ['x'], documents: ['hello'] } });
    assert.equal(w.status, 400, w.text);
    assert.match(w.json.message, /has no embedding function on this server/);
    w = await req('POST', `${DBP}/collections/${id}/query`,
      { base: plain, body: { query_texts: ['hello'] } });
    assert.equal(w.status, 400, w.text);
    const s = await createCollection(plain, 'static1', STATIC);
    assert.equal(s.status, 400, s.text);
  });
});
