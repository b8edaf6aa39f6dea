// ksdb's batch ingestion route (from the seed prototype):
//   POST /collections/{name}/add_batch  {ids, documents, metadatas, embeddings}
// on a collection of default_tenant/default_database, with add semantics.
// The reference server has no such route, so the whole file is ksdb only.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { req, createCollection, get, count, snapshot, assertError, uniqueName } from './lib/http.mjs';
import { isKsdb } from './lib/env.mjs';

const skip = !isKsdb && 'add_batch is a ksdb extension';
const batchPath = (name) => `/collections/${encodeURIComponent(name)}/add_batch`;

describe('add_batch', { skip }, () => {
  test('writes every record and answers 201', async () => {
    const c = await createCollection();
    const n = 2000;
    const ids = Array.from({ length: n }, (_, i) => `b${i}`);
    const body = {
      ids,
      embeddings: ids.map((_, i) => [i, i % 7, -i / 2]),
      documents: ids.map((_, i) => `document number ${i}`),
      metadatas: ids.map((_, i) => ({ i, even: i % 2 === 0, tag: `t${i % 5}` })),
    };
    const r = await req('POST', batchPath(c.name), { body });
    assert.equal(r.status, 201, r.text);
    assert.equal(await count(c.id), n);
    const g = await get(c.id, { include: ['embeddings', 'documents', 'metadatas'] });
    assert.deepEqual(g.ids, ids);
    // Compare with what went over the wire: JSON has no -0 (JSON.stringify(-0) is "0").
    assert.deepEqual(g.embeddings, JSON.parse(JSON.stringify(body.embeddings)));
    assert.deepEqual(g.documents, body.documents);
    assert.deepEqual(g.metadatas, body.metadatas);
    const q = await req('POST', `/api/v2/tenants/default_tenant/databases/default_database/collections/${c.id}/query`, {
      body: { query_embeddings: [[10, 3, -5]], n_results: 1, where: { tag: 't0' }, include: ['documents'] },
    });
    assert.deepEqual(q.json.ids, [['b10']]);
    const dim = await req('GET', `/api/v2/tenants/default_tenant/databases/default_database/collections/${c.name}`);
    assert.equal(dim.json.dimension, 3);
  });

  test('existing ids are skipped like add', async () => {
    const c = await createCollection();
    assert.equal((await req('POST', batchPath(c.name), { body: { ids: ['a'], embeddings: [[1, 0]], documents: ['first'] } })).status, 201);
    const r = await req('POST', batchPath(c.name), { body: { ids: ['a', 'b'], embeddings: [[0, 1], [1, 1]], documents: ['second', 'b'] } });
    assert.equal(r.status, 201, r.text);
    const g = await get(c.id, { include: ['embeddings', 'documents'] });
    assert.deepEqual(g.ids, ['a', 'b']);
    assert.deepEqual(g.embeddings, [[1, 0], [1, 1]]);
    assert.deepEqual(g.documents, ['first', 'b']);
  });

  test('bad input is 4xx and writes nothing', async () => {
    const c = await createCollection();
    assert.equal((await req('POST', batchPath(c.name), { body: { ids: ['keep'], embeddings: [[1, 2, 3]] } })).status, 201);
    const before = await snapshot(c.id);
    const bad = [
      { ids: ['x', 'y'], embeddings: [[1, 2, 3]] },
      { ids: ['x', 'y'], embeddings: [[1, 2, 3], [4, 5, 6]], documents: ['only one'] },
      { ids: ['x', 'y'], embeddings: [[1, 2, 3], [4, 5, 6]], metadatas: [{ a: 1 }] },
      { ids: ['x'], embeddings: [[1, 2]] },
      { ids: ['x', 'y'], embeddings: [[1, 2, 3], [1, 2]] },
      { ids: ['x', ''], embeddings: [[1, 2, 3], [4, 5, 6]] },
      { ids: ['x', 'x'], embeddings: [[1, 2, 3], [4, 5, 6]] },
      { ids: ['x'], embeddings: [[1, 2, 3]], metadatas: [{ a: { nested: 1 } }] },
      { ids: ['x'], embeddings: [[]] },
      { ids: [5], embeddings: [[1, 2, 3]] },
      { ids: ['x'], embeddings: [['a', 2, 3]] },
    ];
    for (const body of bad) {
      const r = await req('POST', batchPath(c.name), { body });
      assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(body)} -> ${r.status} ${r.text}`);
      assert.equal(typeof r.json?.error, 'string', r.text);
    }
    for (const raw of ['{bad', '', '{"ids":["x"],"embeddings":[[NaN,1,1]]}', '{"ids":["x"],"embeddings":[[1e39,1,1]]}']) {
      const r = await req('POST', batchPath(c.name), { json: raw });
      assertError(r, 400, undefined);
    }
    assert.deepEqual(await snapshot(c.id), before);
  });

  test('unknown collection is 404', async () => {
    const r = await req('POST', batchPath(uniqueName('nosuch')), { body: { ids: ['x'], embeddings: [[1]] } });
    assertError(r, 404, 'NotFoundError');
  });
});
