// ksdb's int8 quantisation extension (configuration.ksdb.quantization), ksdb
// only: set at creation through raw HTTP and through the official JS client,
// echoed in configuration_json, searchable with exact distances, refused on
// modify, and validated like Chroma's own configuration blocks (422).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { req, uniqueName } from './lib/http.mjs';
import { isKsdb, DB } from './lib/env.mjs';
import { makeClient, noEmbed } from './lib/client.mjs';

const skip = !isKsdb && 'configuration.ksdb is a ksdb extension';

// n pseudo-random 8-d vectors (fixed seed).
function vectors(n) {
  let state = 12345;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  return Array.from({ length: n }, () => Array.from({ length: 8 }, next));
}

describe('configuration.ksdb.quantization', { skip }, () => {
  test('int8 through raw HTTP: echoed, searchable, exact distances, fixed after creation', async () => {
    const name = uniqueName();
    const created = await req('POST', `${DB}/collections`, {
      body: { name, configuration: { hnsw: { space: 'l2' }, ksdb: { quantization: 'int8' } } },
    });
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(created.json.configuration_json.ksdb, { quantization: 'int8' });
    const id = created.json.id;
    // Above the exact-search size, so queries go through the int8 graph.
    const rows = vectors(3000);
    const ids = rows.map((_, i) => `q${i}`);
    for (let from = 0; from < rows.length; from += 1000) {
      const add = await req('POST', `${DB}/collections/${id}/add`, {
        body: { ids: ids.slice(from, from + 1000), embeddings: rows.slice(from, from + 1000) },
      });
      assert.equal(add.status, 201, add.text);
    }
    const q = await req('POST', `${DB}/collections/${id}/query`, {
      body: { query_embeddings: [rows[1234]], n_results: 3, include: ['distances'] },
    });
    assert.equal(q.status, 200, q.text);
    assert.equal(q.json.ids[0][0], 'q1234');
    assert.equal(q.json.distances[0][0], 0);  // reranked in float32: exact
    const fetched = await req('GET', `${DB}/collections/${name}`);
    assert.deepEqual(fetched.json.configuration_json.ksdb, { quantization: 'int8' });
    const modify = await req('PUT', `${DB}/collections/${id}`, {
      body: { new_configuration: { ksdb: { quantization: 'none' } } },
    });
    assert.equal(modify.status, 400, modify.text);
    assert.match(modify.json.message, /only be set when the collection is created/);
  });

  test('a default collection has no ksdb block (looks like Chroma)', async () => {
    const created = await req('POST', `${DB}/collections`, { body: { name: uniqueName() } });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.configuration_json.ksdb, undefined);
  });

  test('bad ksdb blocks are 422 and create nothing', async () => {
    for (const ksdb of [{ quantization: 'int4' }, { quantisation: 'int8' }, { quantization: 8 }, 'int8']) {
      const name = uniqueName();
      const r = await req('POST', `${DB}/collections`, { body: { name, configuration: { ksdb } } });
      assert.equal(r.status, 422, `${JSON.stringify(ksdb)}: ${r.text}`);
      assert.equal((await req('GET', `${DB}/collections/${name}`)).status, 404);
    }
  });

  test('the official JS client passes the block through', async () => {
    const client = makeClient();
    const name = uniqueName();
    await client.createCollection({
      name,
      embeddingFunction: noEmbed,
      configuration: { hnsw: { space: 'cosine' }, ksdb: { quantization: 'int8' } },
    });
    const fetched = await req('GET', `${DB}/collections/${name}`);
    assert.deepEqual(fetched.json.configuration_json.ksdb, { quantization: 'int8' });
  });
});
