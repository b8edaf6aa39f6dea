// Every operation through the official chromadb 3.0.9 JS client.
// Embeddings are always passed explicitly (see lib/client.mjs noEmbed).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { makeClient, makeAdmin, noEmbed } from './lib/client.mjs';
import { uniqueName, assertClose, f32 } from './lib/http.mjs';
import { isKsdb } from './lib/env.mjs';

const client = makeClient();

async function newCollection(opts = {}) {
  return client.createCollection({ name: uniqueName('js'), embeddingFunction: noEmbed, ...opts });
}

async function rejectsWithName(promise, name) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.name, name, `${err.name}: ${err.message}`);
    return true;
  });
}

describe('system', () => {
  test('heartbeat returns a positive nanosecond timestamp', async () => {
    const hb = await client.heartbeat();
    assert.equal(typeof hb, 'number');
    // Later than 2020-01-01 in ns.
    assert.ok(hb > 1.5e18, `heartbeat ${hb}`);
  });

  test('version is a non-empty string', async () => {
    const v = await client.version();
    assert.equal(typeof v, 'string');
    assert.ok(v.length > 0);
    if (!isKsdb) assert.equal(v, '1.0.0');
  });

  test('pre-flight checks', async () => {
    const pf = await client.getPreflightChecks();
    assert.equal(typeof pf.max_batch_size, 'number');
    assert.ok(pf.max_batch_size > 0);
    assert.equal(typeof pf.supports_base64_encoding, 'boolean');
  });
});

describe('collections', () => {
  test('create, get, getOrCreate, count, list, delete', async () => {
    const name = uniqueName('js');
    const before = await client.countCollections();
    const c = await client.createCollection({ name, metadata: { a: 1, s: 'x' }, embeddingFunction: noEmbed });
    assert.equal(c.name, name);
    assert.match(c.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.deepEqual(c.metadata, { a: 1, s: 'x' });
    assert.equal(c.configuration.hnsw.space, 'l2');
    assert.ok(await client.countCollections() >= before + 1);

    const g = await client.getCollection({ name, embeddingFunction: noEmbed });
    assert.equal(g.id, c.id);
    assert.deepEqual(g.metadata, { a: 1, s: 'x' });

    // getOrCreate on an existing name returns it unchanged.
    const goc = await client.getOrCreateCollection({ name, metadata: { other: true }, embeddingFunction: noEmbed });
    assert.equal(goc.id, c.id);
    assert.deepEqual(goc.metadata, { a: 1, s: 'x' });

    // getOrCreate on a new name creates it.
    const name2 = uniqueName('js');
    const goc2 = await client.getOrCreateCollection({ name: name2, metadata: { n: 2 }, embeddingFunction: noEmbed });
    assert.notEqual(goc2.id, c.id);
    assert.deepEqual(goc2.metadata, { n: 2 });

    const all = await client.listCollections({ limit: 100000 });
    const names = all.map((x) => x.name);
    assert.ok(names.includes(name) && names.includes(name2));

    await client.deleteCollection({ name });
    await rejectsWithName(client.getCollection({ name, embeddingFunction: noEmbed }), 'ChromaNotFoundError');
    await client.deleteCollection({ name: name2 });
    await rejectsWithName(client.deleteCollection({ name: name2 }), 'ChromaNotFoundError');
  });

  test('duplicate create is a unique error', async () => {
    const c = await newCollection();
    await rejectsWithName(client.createCollection({ name: c.name, embeddingFunction: noEmbed }), 'ChromaUniqueError');
  });

  test('invalid names are client errors (400)', async () => {
    for (const name of ['ab', '-abc', 'a..b', '192.168.1.1', 'ab c']) {
      await rejectsWithName(client.createCollection({ name, embeddingFunction: noEmbed }), 'ChromaClientError');
    }
  });

  test('list with limit and offset', async () => {
    // A database of its own, so that other tests cannot change the counts.
    const admin = makeAdmin();
    const tenant = uniqueName('ten');
    await admin.createTenant({ name: tenant });
    await admin.createDatabase({ name: 'listing', tenant });
    const scoped = makeClient({ tenant, database: 'listing' });
    assert.deepEqual(await scoped.listCollections(), []);
    const ids = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await scoped.createCollection({ name: `list-${i}`, embeddingFunction: noEmbed })).id);
    }
    const all = await scoped.listCollections();
    assert.equal(await scoped.countCollections(), 4);
    // The reference lists by ascending collection UUID.
    assert.deepEqual(all.map((c) => c.id), ids.slice().sort());
    const page = await scoped.listCollections({ limit: 2, offset: 1 });
    assert.deepEqual(page.map((c) => c.id), all.slice(1, 3).map((c) => c.id));
    assert.deepEqual(await scoped.listCollections({ limit: 5, offset: 10 }), []);
  });

  test('modify: rename and metadata replace', async () => {
    const c = await newCollection({ metadata: { a: 1, b: 'x' } });
    const newName = uniqueName('renamed');
    await c.modify({ name: newName });
    const g = await client.getCollection({ name: newName, embeddingFunction: noEmbed });
    assert.equal(g.id, c.id);
    await rejectsWithName(client.getCollection({ name: uniqueName('gone'), embeddingFunction: noEmbed }), 'ChromaNotFoundError');

    await c.modify({ metadata: { c: 2 } });
    const g2 = await client.getCollection({ name: newName, embeddingFunction: noEmbed });
    assert.deepEqual(g2.metadata, { c: 2 });
  });

  test('modify: rename onto an existing name fails', async () => {
    const a = await newCollection();
    const b = await newCollection();
    const aName = a.name;
    // ksdb: 409 -> ChromaUniqueError; reference: 500 -> connection error.
    await rejectsWithName(a.modify({ name: b.name }), isKsdb ? 'ChromaUniqueError' : 'ChromaConnectionError');
    const ga = await client.getCollection({ name: aName, embeddingFunction: noEmbed });
    assert.equal(ga.id, a.id);
    const gb = await client.getCollection({ name: b.name, embeddingFunction: noEmbed });
    assert.equal(gb.id, b.id);
  });

  test('configuration: spaces and hnsw parameters', async () => {
    const c = await newCollection({ configuration: { hnsw: { space: 'cosine', ef_search: 50, max_neighbors: 32 } } });
    assert.equal(c.configuration.hnsw.space, 'cosine');
    assert.equal(c.configuration.hnsw.ef_search, 50);
    assert.equal(c.configuration.hnsw.max_neighbors, 32);
    assert.equal(c.configuration.hnsw.ef_construction, 100);
    const g = await client.getCollection({ name: c.name, embeddingFunction: noEmbed });
    assert.equal(g.configuration.hnsw.space, 'cosine');
    assert.deepEqual(g.configuration.embedding_function, { type: 'legacy' });
  });
});

describe('records', () => {
  test('add, count, get with include variants, peek', async () => {
    const c = await newCollection();
    await c.add({
      ids: ['a', 'b', 'c'],
      embeddings: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
      documents: ['hello world', 'foo bar', 'baz'],
      metadatas: [{ k: 1, s: 'x' }, { k: 2 }, { f: 1.5, b: true }],
      uris: ['u1', 'u2', 'u3'],
    });
    assert.equal(await c.count(), 3);

    const def = await c.get();
    assert.deepEqual(def.ids, ['a', 'b', 'c']);
    assert.deepEqual(def.documents, ['hello world', 'foo bar', 'baz']);
    assert.deepEqual(def.metadatas, [{ k: 1, s: 'x' }, { k: 2 }, { f: 1.5, b: true }]);
    assert.deepEqual(def.embeddings, []);
    assert.deepEqual(def.include.slice().sort(), ['documents', 'metadatas']);

    const full = await c.get({ include: ['embeddings', 'documents', 'metadatas', 'uris'] });
    assert.deepEqual(full.embeddings, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    assert.deepEqual(full.uris, ['u1', 'u2', 'u3']);

    const emb = await c.get({ include: ['embeddings'] });
    assert.deepEqual(emb.documents, []);
    assert.deepEqual(emb.metadatas, []);
    assert.equal(emb.embeddings.length, 3);

    const none = await c.get({ include: [] });
    assert.deepEqual(none.ids, ['a', 'b', 'c']);
    assert.deepEqual(none.documents, []);

    const byIds = await c.get({ ids: ['c', 'a', 'nosuch'] });
    assert.deepEqual(byIds.ids, ['a', 'c']);

    const page = await c.get({ limit: 1, offset: 1 });
    assert.deepEqual(page.ids, ['b']);

    const peek = await c.peek({ limit: 2 });
    assert.deepEqual(peek.ids, ['a', 'b']);
  });

  test('get with where and whereDocument', async () => {
    const c = await newCollection();
    await c.add({
      ids: ['r1', 'r2', 'r3', 'r4'],
      embeddings: [[1, 0], [2, 0], [3, 0], [4, 0]],
      documents: ['The quick brown Fox', 'lazy dog', 'fox trot', 'FOX'],
      metadatas: [{ g: 1, s: 'a' }, { g: 2, s: 'b' }, { g: 1, s: 'c' }, { h: 0 }],
    });
    assert.deepEqual((await c.get({ where: { g: 1 } })).ids, ['r1', 'r3']);
    assert.deepEqual((await c.get({ where: { g: { $gt: 1 } } })).ids, ['r2']);
    assert.deepEqual((await c.get({ where: { s: { $in: ['a', 'b'] } } })).ids, ['r1', 'r2']);
    assert.deepEqual((await c.get({ where: { g: { $ne: 1 } } })).ids, ['r2', 'r4']);
    assert.deepEqual((await c.get({ where: { $or: [{ g: 2 }, { s: 'c' }] } })).ids, ['r2', 'r3']);
    assert.deepEqual((await c.get({ where: { $and: [{ g: 1 }, { s: 'c' }] } })).ids, ['r3']);
    assert.deepEqual((await c.get({ whereDocument: { $contains: 'fox' } })).ids, ['r3']);
    assert.deepEqual((await c.get({ whereDocument: { $not_contains: 'fox' } })).ids, ['r1', 'r2', 'r4']);
    assert.deepEqual((await c.get({ whereDocument: { $regex: '(?i)fox' } })).ids, ['r1', 'r3', 'r4']);
    assert.deepEqual((await c.get({ whereDocument: { $regex: '^fox' } })).ids, ['r3']);
    assert.deepEqual(
      (await c.get({ where: { g: 1 }, whereDocument: { $contains: 'Fox' } })).ids,
      ['r1'],
    );
    assert.deepEqual((await c.get({ where: { g: 1 }, limit: 1, offset: 1 })).ids, ['r3']);
  });

  test('query: n_results, include, where, ids, several query vectors', async () => {
    const c = await newCollection();
    await c.add({
      ids: ['a', 'b', 'c', 'd'],
      embeddings: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]],
      documents: ['da', 'db', 'dc', 'dd'],
      metadatas: [{ t: 'x' }, { t: 'y' }, { t: 'x' }, { t: 'y' }],
    });
    const r = await c.query({ queryEmbeddings: [[1, 0, 0], [0, 1, 0]], nResults: 2 });
    assert.equal(r.ids.length, 2);
    assert.deepEqual(r.ids[0], ['a', 'd']);
    assert.deepEqual(r.ids[1], ['b', 'd']);
    assert.deepEqual(r.distances[0], [0, 1]);
    assert.deepEqual(r.documents[0], ['da', 'dd']);
    assert.deepEqual(r.metadatas[1], [{ t: 'y' }, { t: 'y' }]);
    assert.deepEqual(r.embeddings, []);

    const emb = await c.query({ queryEmbeddings: [[0, 0, 1]], nResults: 1, include: ['embeddings', 'distances'] });
    assert.deepEqual(emb.ids, [['c']]);
    assert.deepEqual(emb.embeddings, [[[0, 0, 1]]]);
    assert.deepEqual(emb.documents, []);

    const filtered = await c.query({ queryEmbeddings: [[1, 0, 0]], nResults: 10, where: { t: 'y' } });
    assert.deepEqual(filtered.ids, [['d', 'b']]);

    const wd = await c.query({ queryEmbeddings: [[1, 0, 0]], nResults: 10, whereDocument: { $contains: 'c' } });
    assert.deepEqual(wd.ids, [['c']]);

    const byIds = await c.query({ queryEmbeddings: [[1, 0, 0]], nResults: 10, ids: ['b', 'c'] });
    assert.deepEqual(byIds.ids[0].slice().sort(), ['b', 'c']);

    const more = await c.query({ queryEmbeddings: [[1, 0, 0]], nResults: 100 });
    assert.equal(more.ids[0].length, 4);
  });

  test('query with an unknown id in ids', async () => {
    const c = await newCollection();
    await c.add({ ids: ['a', 'b'], embeddings: [[1, 0], [0, 1]] });
    const p = c.query({ queryEmbeddings: [[1, 0]], nResults: 5, ids: ['a', 'nosuch'] });
    if (isKsdb) {
      assert.deepEqual((await p).ids, [['a']]);
    } else {
      await rejectsWithName(p, 'ChromaConnectionError');
    }
  });

  test('distance spaces (spec 7.3)', async () => {
    const data = { ids: ['a', 'b', 'c', 'd'], embeddings: [[1, 0], [0, 2], [3, 4], [-1, -1]] };
    const expected = {
      l2: [['a', 1], ['b', 2], ['d', 8], ['c', 13]],
      cosine: [['c', 0.010050476], ['a|b', 0.29289323], ['a|b', 0.29289323], ['d', 2]],
      ip: [['c', -6], ['b', -1], ['a', 0], ['d', 3]],
    };
    for (const space of ['l2', 'cosine', 'ip']) {
      const c = await newCollection({ configuration: { hnsw: { space } } });
      await c.add(data);
      const r = await c.query({ queryEmbeddings: [[1, 1]], nResults: 4, include: ['distances', 'embeddings'] });
      assert.equal(r.ids[0].length, 4, space);
      expected[space].forEach(([id, dist], i) => {
        assert.ok(id.split('|').includes(r.ids[0][i]), `${space}[${i}] ${r.ids[0][i]} vs ${id}`);
        assertClose(r.distances[0][i], dist, `${space}[${i}]`);
      });
      // Embeddings come back as stored, never normalised.
      const byId = Object.fromEntries(r.ids[0].map((id, i) => [id, r.embeddings[0][i]]));
      assert.deepEqual(byId.c, [3, 4]);
      assert.deepEqual(byId.b, [0, 2]);
      const g = await c.get({ ids: ['c'], include: ['embeddings'] });
      assert.deepEqual(g.embeddings, [[3, 4]]);
    }
  });

  test('embeddings round-trip at float32 precision', async () => {
    const c = await newCollection();
    const v = [0.1, -0.25, 1e-7, 3.4028234663852886e38, 123456.789];
    await c.add({ ids: ['x'], embeddings: [v] });
    const g = await c.get({ include: ['embeddings'] });
    // The server prints the shortest text of each float32; it must read back
    // as the same float32.
    assert.deepEqual(g.embeddings[0].map(f32), v.map(f32));
    assert.deepEqual(g.embeddings[0].slice(0, 3), [0.1, -0.25, 1e-7]);
  });

  test('metadata kinds round-trip', async () => {
    const c = await newCollection();
    const long = 'é'.repeat(5000);
    const metas = [
      { i: 1, neg: -42, big: 9007199254740991, f: 1.5, tiny: 1e-300, b: true, nb: false },
      { s: 'héllo wörld ✓ 日本語 🚀', empty: '', long, 'key with space': 'v', 'ключ': 'значение' },
    ];
    await c.add({ ids: ['m1', 'm2'], embeddings: [[1], [2]], metadatas: metas, documents: ['', long] });
    const g = await c.get({ include: ['metadatas', 'documents'] });
    assert.deepEqual(g.metadatas, metas);
    assert.deepEqual(g.documents, ['', long]);
    assert.equal(typeof g.metadatas[0].b, 'boolean');
  });

  test('storage order (spec 5.6)', async () => {
    const c = await newCollection();
    await c.add({ ids: ['z', 'm', 'a'], embeddings: [[1], [2], [3]] });
    await c.add({ ids: ['b', 'y'], embeddings: [[4], [5]] });
    assert.deepEqual((await c.get()).ids, ['z', 'm', 'a', 'b', 'y']);
    await c.upsert({ ids: ['m'], embeddings: [[9]] });
    assert.deepEqual((await c.get()).ids, ['z', 'm', 'a', 'b', 'y']);
    await c.delete({ ids: ['m'] });
    await c.add({ ids: ['m'], embeddings: [[2]] });
    assert.deepEqual((await c.get()).ids, ['z', 'a', 'b', 'y', 'm']);
    assert.deepEqual((await c.get({ ids: ['y', 'a', 'z', 'nosuch'] })).ids, ['z', 'a', 'y']);
  });

  test('add of an existing id is ignored', async () => {
    const c = await newCollection();
    await c.add({ ids: ['a'], embeddings: [[1, 0, 0]] });
    await c.add({ ids: ['a', 'b'], embeddings: [[0, 1, 0], [0, 0, 1]], documents: ['new', 'nb'] });
    const g = await c.get({ include: ['embeddings', 'documents'] });
    assert.deepEqual(g.ids, ['a', 'b']);
    assert.deepEqual(g.embeddings, [[1, 0, 0], [0, 0, 1]]);
    assert.deepEqual(g.documents, [null, 'nb']);
  });

  test('upsert merge semantics (spec 5.3)', async () => {
    const c = await newCollection();
    await c.add({ ids: ['a'], embeddings: [[1, 0]], documents: ['da'], metadatas: [{ x: 1, y: 'keep', z: true }], uris: ['u1'] });
    await c.upsert({ ids: ['a', 'n'], embeddings: [[0, 1], [1, 1]], metadatas: [{ x: 5, y: null }, { a: null, b: 1 }] });
    const g = await c.get({ include: ['embeddings', 'documents', 'metadatas', 'uris'] });
    assert.deepEqual(g.ids, ['a', 'n']);
    assert.deepEqual(g.embeddings, [[0, 1], [1, 1]]);
    assert.deepEqual(g.documents, ['da', null]);
    assert.deepEqual(g.metadatas, [{ x: 5, z: true }, { b: 1 }]);
    assert.deepEqual(g.uris, ['u1', null]);

    await c.upsert({ ids: ['a'], embeddings: [[2, 2]], documents: ['d2'], uris: ['u2'] });
    const g2 = await c.get({ ids: ['a'], include: ['embeddings', 'documents', 'metadatas', 'uris'] });
    assert.deepEqual(g2.embeddings, [[2, 2]]);
    assert.deepEqual(g2.documents, ['d2']);
    assert.deepEqual(g2.metadatas, [{ x: 5, z: true }]);
    assert.deepEqual(g2.uris, ['u2']);
  });

  test('update merge semantics (spec 5.4)', async () => {
    const c = await newCollection();
    await c.add({
      ids: ['a', 'b'],
      embeddings: [[1, 0], [0, 1]],
      documents: ['da', 'db'],
      metadatas: [{ x: 1, y: 'y' }, { k: 'v' }],
      uris: ['u1', 'ub'],
    });
    await c.update({ ids: ['a', 'ghost'], metadatas: [{ x: 2, y: null, w: false }, { q: 1 }] });
    // The client embeds documents sent without embeddings, so send both.
    await c.update({ ids: ['a'], documents: ['da2'], embeddings: [[1, 0]] });
    await c.update({ ids: ['b'], embeddings: [[5, 5]], uris: ['ub2'] });
    const g = await c.get({ include: ['embeddings', 'documents', 'metadatas', 'uris'] });
    assert.deepEqual(g.ids, ['a', 'b']);
    assert.deepEqual(g.embeddings, [[1, 0], [5, 5]]);
    assert.deepEqual(g.documents, ['da2', 'db']);
    assert.deepEqual(g.metadatas, [{ x: 2, w: false }, { k: 'v' }]);
    assert.deepEqual(g.uris, ['u1', 'ub2']);
    assert.equal(await c.count(), 2);
  });

  test('delete semantics (spec 5.5)', async () => {
    const c = await newCollection();
    await c.add({
      ids: ['a', 'b', 'c', 'd'],
      embeddings: [[1], [2], [3], [4]],
      documents: ['apple', 'banana', 'cherry', 'date'],
      metadatas: [{ n: 1 }, { n: 2 }, { n: 2 }, { n: 3 }],
    });
    await c.delete({ ids: ['b', 'c'], where: { n: 2 } });
    assert.deepEqual((await c.get()).ids, ['a', 'd']);
    await c.delete({ ids: ['nosuch'] });
    assert.equal(await c.count(), 2);
    await c.add({ ids: ['e', 'f'], embeddings: [[5], [6]], documents: ['grape', 'fig'], metadatas: [{ n: 9 }, { n: 9 }] });
    await c.delete({ whereDocument: { $contains: 'ap' } });
    assert.deepEqual((await c.get()).ids, ['d', 'f']);
    await c.delete({ where: { n: 9 } });
    assert.deepEqual((await c.get()).ids, ['d']);
    await c.delete({ ids: ['d'] });
    assert.equal(await c.count(), 0);
  });

  test('dimension rules (spec 4.1 / 5.1)', async () => {
    const c = await newCollection();
    assert.equal(await c.count(), 0);
    // An empty, never-written collection: queries return empty results, no dimension check.
    const q0 = await c.query({ queryEmbeddings: [[1, 2, 3, 4]], nResults: 3 });
    assert.deepEqual(q0.ids, [[]]);
    await c.add({ ids: ['a'], embeddings: [[1, 2, 3]] });
    await rejectsWithName(c.add({ ids: ['b'], embeddings: [[1, 2]] }), 'ChromaClientError');
    await rejectsWithName(c.query({ queryEmbeddings: [[1, 2]] }), 'ChromaClientError');
    await rejectsWithName(c.update({ ids: ['a'], embeddings: [[1, 2, 3, 4]] }), 'ChromaClientError');
    await c.delete({ ids: ['a'] });
    // The dimension stays fixed after every record is deleted.
    await rejectsWithName(c.add({ ids: ['b'], embeddings: [[1, 2]] }), 'ChromaClientError');
    await c.add({ ids: ['b'], embeddings: [[3, 2, 1]] });
    assert.deepEqual((await c.get({ include: ['embeddings'] })).embeddings, [[3, 2, 1]]);
  });

  test('operations on a deleted collection are not found', async () => {
    const c = await newCollection();
    await client.deleteCollection({ name: c.name });
    await rejectsWithName(c.count(), 'ChromaNotFoundError');
    await rejectsWithName(c.add({ ids: ['a'], embeddings: [[1]] }), 'ChromaNotFoundError');
    await rejectsWithName(c.get(), 'ChromaNotFoundError');
  });
});

describe('tenants and databases (AdminClient)', () => {
  test('create and get tenant, create/list/get/delete database, collections inside', async () => {
    const admin = makeAdmin();
    const tenant = uniqueName('ten');
    await admin.createTenant({ name: tenant });
    assert.equal(await admin.getTenant({ name: tenant }), tenant);
    await rejectsWithName(admin.createTenant({ name: tenant }), 'ChromaUniqueError');
    await rejectsWithName(admin.getTenant({ name: uniqueName('noten') }), 'ChromaNotFoundError');

    await admin.createDatabase({ name: 'dbz', tenant });
    await admin.createDatabase({ name: 'dba', tenant });
    await rejectsWithName(admin.createDatabase({ name: 'dba', tenant }), 'ChromaUniqueError');
    const dbs = await admin.listDatabases({ tenant });
    assert.deepEqual(dbs.map((d) => d.name), ['dba', 'dbz']);
    for (const d of dbs) assert.equal(d.tenant, tenant);
    const one = await admin.getDatabase({ name: 'dba', tenant });
    assert.equal(one.name, 'dba');
    assert.equal(one.id, dbs[0].id);

    const scoped = makeClient({ tenant, database: 'dba' });
    const c = await scoped.createCollection({ name: 'shared-name', embeddingFunction: noEmbed });
    await c.add({ ids: ['x'], embeddings: [[1, 2]] });
    assert.equal(await c.count(), 1);
    // The same name can exist in another database.
    const other = makeClient({ tenant, database: 'dbz' });
    const c2 = await other.createCollection({ name: 'shared-name', embeddingFunction: noEmbed });
    assert.notEqual(c2.id, c.id);
    assert.equal(await c2.count(), 0);
    assert.equal(await scoped.countCollections(), 1);

    await admin.deleteDatabase({ name: 'dba', tenant });
    await rejectsWithName(admin.getDatabase({ name: 'dba', tenant }), 'ChromaNotFoundError');
    await rejectsWithName(admin.deleteDatabase({ name: 'dba', tenant }), 'ChromaNotFoundError');
    assert.deepEqual((await admin.listDatabases({ tenant })).map((d) => d.name), ['dbz']);
  });

  test('default tenant and database exist', async () => {
    const admin = makeAdmin();
    assert.equal(await admin.getTenant({ name: 'default_tenant' }), 'default_tenant');
    const db = await admin.getDatabase({ name: 'default_database', tenant: 'default_tenant' });
    assert.equal(db.id, '00000000-0000-0000-0000-000000000000');
  });
});
