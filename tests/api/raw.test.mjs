// Raw HTTP tests of the Chroma v2 contract (shared/spec/CHROMA_API.md):
// everything the official client cannot send, every documented status and
// error, the where/where_document matrix, configuration, response layout.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  req, rawHttp, uniqueName, col, createCollection, add, get, query, count, snapshot,
  assertError, f32Base64, assertClose,
} from './lib/http.mjs';
import { DB, isKsdb } from './lib/env.mjs';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GET_KEYS = ['ids', 'embeddings', 'documents', 'uris', 'metadatas', 'include'];
const QUERY_KEYS = ['ids', 'embeddings', 'documents', 'uris', 'metadatas', 'distances', 'include'];
const ALL_INCLUDE = ['embeddings', 'documents', 'metadatas', 'uris'];

// A collection with three records a, b, c (dimension 3).
async function seeded() {
  const c = await createCollection();
  await add(c.id, {
    ids: ['a', 'b', 'c'],
    embeddings: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    documents: ['hello world', 'foo bar', null],
    metadatas: [{ k: 1, s: 'x' }, null, { f: 1.5, b: true }],
    uris: ['u1', null, 'u3'],
  });
  return c;
}

// Runs `bad` (a function sending bad requests) and checks afterwards that
// the collection's records did not change.
async function unchanged(id, bad) {
  const before = await snapshot(id);
  await bad();
  assert.deepEqual(await snapshot(id), before, 'bad requests changed the data');
}

// ---------------------------------------------------------------------------
describe('1.1 transport and content type', () => {
  test('absent content-type is taken as JSON', async () => {
    const c = await seeded();
    const r = await req('POST', col(c.id, 'get'), { raw: '{"ids":["a"]}' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.ids, ['a']);
    assert.match(r.headers.get('content-type'), /application\/json/);
  });

  test('non-JSON content types are 415', async () => {
    const c = await seeded();
    await unchanged(c.id, async () => {
      for (const ct of ['text/plain', 'application/x-www-form-urlencoded']) {
        const r = await req('POST', col(c.id, 'add'), {
          raw: '{"ids":["z"],"embeddings":[[1,1,1]]}', headers: { 'content-type': ct },
        });
        assertError(r, 415, 'ChromaError', 'Content-Type: application/json');
      }
    });
  });

  test('application/json with a charset is accepted', async () => {
    const c = await seeded();
    const r = await req('POST', col(c.id, 'get'), {
      raw: '{}', headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    assert.equal(r.status, 200, r.text);
  });

  test('unknown fields are ignored; explicit nulls accepted; include null is 422', async () => {
    const c = await seeded();
    const r = await req('POST', col(c.id, 'add'), { body: { ids: ['x'], embeddings: [[1, 1, 1]], extra: 1 } });
    assert.equal(r.status, 201, r.text);
    const g = await req('POST', col(c.id, 'get'), {
      body: { ids: null, where: null, where_document: null, limit: null, offset: null },
    });
    assert.equal(g.status, 200, g.text);
    assert.deepEqual(g.json.ids, ['a', 'b', 'c', 'x']);
    assertError(await req('POST', col(c.id, 'get'), { body: { include: null } }), 422, 'ChromaError');
  });

  test('auth headers are accepted and ignored', async () => {
    const r = await req('GET', '/api/v2/heartbeat', {
      headers: { 'x-chroma-token': 'abc', authorization: 'Bearer xyz' },
    });
    assert.equal(r.status, 200);
  });

  test('HEAD on GET routes', async () => {
    for (const path of ['/api/v2/heartbeat', '/api/v2/version']) {
      const r = await rawHttp('HEAD', path);
      assert.equal(r.status, 200, path);
      assert.equal(r.text, '');
    }
  });

  test('wrong method is 405 with an allow header', async () => {
    const r = await req('DELETE', '/api/v2/heartbeat');
    assert.equal(r.status, 405);
    assert.equal(r.text, '');
    assert.match(r.headers.get('allow') || '', /GET/);
    const r2 = await req('GET', `${DB}/collections/${'0'.repeat(8)}-0000-0000-0000-000000000000/add`);
    assert.equal(r2.status, 405);
  });

  test('unknown path and trailing slash are 404 with an empty body', async () => {
    for (const path of ['/api/v2/nope', '/api/v2/heartbeat/', '/nothing', '/api/v3/heartbeat']) {
      const r = await req('GET', path);
      assert.equal(r.status, 404, path);
      assert.equal(r.text, '', path);
    }
  });

  test('the v1 API is gone: 410', async () => {
    for (const p of ['/api/v1/heartbeat', '/api/v1/collections', '/api/v1/tenants/x/databases']) {
      const r = await req('GET', p);
      assertError(r, 410, 'Unimplemented', 'The v1 API is deprecated');
    }
  });

  test('a body over 40 MiB is 413 and the server keeps working', async () => {
    const c = await seeded();
    await unchanged(c.id, async () => {
      const huge = Buffer.alloc(41 * 1024 * 1024, 0x20);
      huge.write('{"ids":["big"],"embeddings":[[1,1,1]]}');
      const r = await req('POST', col(c.id, 'add'), { raw: huge, headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 413, r.text.slice(0, 200));
      assert.ok(r.text.includes('Payload too large'), r.text.slice(0, 200));
    });
    assert.equal((await req('GET', '/api/v2/heartbeat')).status, 200);
  });

  test('a large body under the limit is accepted (1 MB id)', async () => {
    const c = await createCollection();
    const id = 'i'.repeat(1_000_000);
    await add(c.id, { ids: [id], embeddings: [[1, 2]] });
    const g = await get(c.id, { ids: [id], include: [] });
    assert.equal(g.ids[0].length, 1_000_000);
  });
});

// ---------------------------------------------------------------------------
describe('1.2 error format and body parsing', () => {
  test('malformed JSON is 400 InvalidArgumentError', async () => {
    const c = await seeded();
    await unchanged(c.id, async () => {
      for (const raw of ['{x', '', '{"ids":["a"],}', '{"ids":["a"],', '\u00ff']) {
        const r = await req('POST', col(c.id, 'add'), { raw, headers: { 'content-type': 'application/json' } });
        assertError(r, 400, 'InvalidArgumentError', 'Failed to parse the request body as JSON');
      }
    });
  });

  test('NaN and Infinity literals are syntax errors (400)', async () => {
    const c = await seeded();
    await unchanged(c.id, async () => {
      for (const lit of ['NaN', 'Infinity', '-Infinity', 'nan', 'inf']) {
        const r = await req('POST', col(c.id, 'add'), { json: `{"ids":["z"],"embeddings":[[${lit},1,1]]}` });
        assertError(r, 400, 'InvalidArgumentError');
        const q = await req('POST', col(c.id, 'query'), { json: `{"query_embeddings":[[${lit},1,1]]}` });
        assertError(q, 400, 'InvalidArgumentError');
        const m = await req('POST', col(c.id, 'update'), { json: `{"ids":["a"],"metadatas":[{"k":${lit}}]}` });
        assertError(m, 400, 'InvalidArgumentError');
      }
    });
  });

  test('wrong shapes are 422 ChromaError', async () => {
    const c = await seeded();
    const cases = [
      ['POST', `${DB}/collections`, {}],
      ['POST', `${DB}/collections`, { name: 5 }],
      ['POST', `${DB}/collections`, []],
      ['POST', col(c.id, 'add'), { ids: ['z'] }],
      ['POST', col(c.id, 'add'), { ids: ['z'], embeddings: null }],
      ['POST', col(c.id, 'add'), { ids: [1], embeddings: [[1, 1, 1]] }],
      ['POST', col(c.id, 'add'), { ids: 'z', embeddings: [[1, 1, 1]] }],
      ['POST', col(c.id, 'add'), { embeddings: [[1, 1, 1]] }],
      ['POST', col(c.id, 'add'), { ids: ['z'], embeddings: [[1, 1, 1]], documents: [5] }],
      ['POST', col(c.id, 'add'), { ids: ['z'], embeddings: [[1, 1, 1]], metadatas: [{ k: null }] }],
      ['POST', col(c.id, 'add'), { ids: ['z'], embeddings: [[1, 1, 1]], metadatas: [{ k: { x: 1 } }] }],
      ['POST', col(c.id, 'add'), { ids: ['z'], embeddings: [[1, 1, 1]], metadatas: ['x'] }],
      ['POST', col(c.id, 'add'), { ids: ['z', 'y'], embeddings: [[1, 1, 1], 'AACAPwAAAEAAAEBA'] }],
      ['POST', col(c.id, 'add'), { ids: ['z'], embeddings: [['1', 1, 1]] }],
      ['POST', col(c.id, 'upsert'), { ids: ['z'] }],
      ['POST', col(c.id, 'upsert'), { ids: ['z'], embeddings: [null] }],
      ['POST', col(c.id, 'update'), {}],
      ['POST', col(c.id, 'get'), { include: ['bogus'] }],
      ['POST', col(c.id, 'get'), { include: ['data'] }],
      ['POST', col(c.id, 'get'), { include: 'documents' }],
      ['POST', col(c.id, 'get'), { limit: -1 }],
      ['POST', col(c.id, 'get'), { offset: -1 }],
      ['POST', col(c.id, 'get'), { limit: 1.5 }],
      ['POST', col(c.id, 'get'), { ids: 'a' }],
      ['POST', col(c.id, 'query'), {}],
      // query_texts without an embedding function: the reference says 422, ksdb
      // 400 "no embedding function" (embed.test.mjs covers ksdb's answers).
      ...(isKsdb ? [] : [['POST', col(c.id, 'query'), { query_texts: ['hello'] }]]),
      ['POST', col(c.id, 'query'), { query_embeddings: ['AACAPwAAAEAAAEBA'] }],
      ['POST', col(c.id, 'query'), { query_embeddings: [[1, 0, 0]], n_results: -1 }],
      ['POST', col(c.id, 'query'), { query_embeddings: [[1, 0, 0]], include: null }],
      ['POST', col(c.id, 'delete'), { ids: 'a' }],
      ['POST', '/api/v2/tenants', {}],
      ['POST', `/api/v2/tenants/default_tenant/databases`, { name: 12 }],
      ['PUT', col(c.id), { new_name: 5 }],
    ];
    await unchanged(c.id, async () => {
      for (const [m, p, body] of cases) {
        const r = await req(m, p, { body });
        assertError(r, 422, 'ChromaError', 'Failed to deserialize the JSON body');
        void JSON.stringify(body);
      }
    });
    assert.equal(await count(c.id), 3);
  });

  test('422 message names the missing field', async () => {
    const r = await req('POST', `${DB}/collections`, { body: {} });
    assertError(r, 422, 'ChromaError', 'missing field `name`');
  });

  test('bad query strings are 400', async () => {
    for (const qs of ['limit=abc', 'limit=-1', 'offset=x']) {
      const r = await req('GET', `${DB}/collections?${qs}`);
      assertError(r, 400, 'InvalidArgumentError', 'Failed to deserialize query string');
      const d = await req('GET', `/api/v2/tenants/default_tenant/databases?${qs}`);
      assertError(d, 400, 'InvalidArgumentError', 'Failed to deserialize query string');
    }
  });

  test('body errors come before path validation', async () => {
    const r = await req('POST', `${DB}/collections/not-a-uuid/query`, { body: { n_results: 1 } });
    assertError(r, 422, 'ChromaError');
    const r2 = await req('POST', `${DB}/collections/not-a-uuid/add`, { json: '{bad' });
    assertError(r2, 400, 'InvalidArgumentError', 'Failed to parse the request body as JSON');
    const r3 = await req('POST', `${DB}/collections/not-a-uuid/get`, { body: {} });
    assertError(r3, 400, 'InvalidArgumentError');
  });

  test('error responses carry JSON content type and a trace id', async () => {
    const r = await req('GET', `${DB}/collections/${uniqueName('missing')}`);
    assertError(r, 404, 'NotFoundError');
    assert.match(r.headers.get('content-type'), /application\/json/);
    assert.match(r.headers.get('chroma-trace-id') || '', /^[0-9a-f]{32}$/);
  });

  test('deep nesting of $and is rejected and the server survives', async () => {
    const c = await seeded();
    await unchanged(c.id, async () => {
      for (const depth of [10000, 200]) {
        const json = '{"where":' + '{"$and":['.repeat(depth) + '{"k":1}' + ']}'.repeat(depth) + '}';
        const r = await req('POST', col(c.id, 'get'), { json });
        assertError(r, 400, 'InvalidArgumentError');
        const dq = await req('POST', col(c.id, 'delete'), { json });
        assertError(dq, 400, 'InvalidArgumentError');
      }
      const deepDoc = '{"where_document":' + '{"$or":['.repeat(10000) + '{"$contains":"x"}' + ']}'.repeat(10000) + '}';
      assertError(await req('POST', col(c.id, 'get'), { json: deepDoc }), 400, 'InvalidArgumentError');
      const deepArr = '{"ids":["z"],"embeddings":' + '['.repeat(10000) + ']'.repeat(10000) + '}';
      assertError(await req('POST', col(c.id, 'add'), { json: deepArr }), 400, 'InvalidArgumentError');
    });
    assert.equal((await req('GET', '/api/v2/heartbeat')).status, 200);
    // Moderate nesting is fine.
    let w = { k: 1 };
    for (let i = 0; i < 20; i++) w = { $and: [w] };
    assert.deepEqual((await get(c.id, { where: w })).ids, ['a']);
  });

  test('a large $in list and a large ids list', async () => {
    const c = await seeded();
    // 10000 entries: the reference's SQLite limit breaks somewhere above.
    const vals = Array.from({ length: 10000 }, (_, i) => `v${i}`);
    vals[4321] = 'x';
    assert.deepEqual((await get(c.id, { where: { s: { $in: vals } } })).ids, ['a']);
    const nums = Array.from({ length: 10000 }, (_, i) => i + 1000);
    nums.push(1);
    assert.deepEqual((await get(c.id, { where: { k: { $nin: nums } } })).ids, ['b', 'c']);
    const ids = Array.from({ length: 10000 }, (_, i) => `id${i}`);
    ids.push('c');
    assert.deepEqual((await get(c.id, { ids })).ids, ['c']);
  });
});

// ---------------------------------------------------------------------------
describe('1.3 numbers', () => {
  test('embeddings print as shortest float32 text', async () => {
    const c = await createCollection();
    const a = await req('POST', col(c.id, 'add'), { json: '{"ids":["e"],"embeddings":[[1,0.1,1e-7,3.4028235e38,-0.0,0.30000001192092896]]}' });
    assert.equal(a.status, 201, a.text);
    const r = await req('POST', col(c.id, 'get'), { body: { include: ['embeddings'] } });
    assert.ok(r.text.includes('[[1.0,0.1,1e-7,3.4028235e38,-0.0,0.3]]'), r.text);
  });

  test('float32 overflow (1e39)', async () => {
    const c = await createCollection();
    const r = await req('POST', col(c.id, 'add'), { json: '{"ids":["o"],"embeddings":[[1e39,1]]}' });
    if (isKsdb) {
      assertError(r, 400, 'InvalidArgumentError');
      assert.equal(await count(c.id), 0);
    } else {
      assert.equal(r.status, 201);
      const g = await get(c.id, { include: ['embeddings'] });
      assert.deepEqual(g.embeddings, [[null, 1]]);
    }
  });

  test('metadata numbers keep their JSON lexical kind', async () => {
    const c = await createCollection();
    const lits = ['1', '1.0', '1e2', '-0.5', '9223372036854775807', '-9223372036854775808',
      '9223372036854775808', '0', '-7'];
    const expect = ['1', '1.0', '100.0', '-0.5', '9223372036854775807', '-9223372036854775808',
      '9.223372036854776e18', '0', '-7'];
    const ids = lits.map((_, i) => `m${i}`);
    const json = `{"ids":${JSON.stringify(ids)},"embeddings":${JSON.stringify(ids.map(() => [1]))},` +
      `"metadatas":[${lits.map((l) => `{"v":${l}}`).join(',')}]}`;
    assert.equal((await req('POST', col(c.id, 'add'), { json })).status, 201);
    const r = await req('POST', col(c.id, 'get'), { body: { include: ['metadatas'] } });
    const m = r.text.match(/"metadatas":\[(.*)\],"include"/);
    assert.ok(m, r.text);
    assert.equal(m[1], expect.map((e) => `{"v":${e}}`).join(','));
  });

  test('where compares i64 exactly', async () => {
    const c = await createCollection();
    const json = '{"ids":["a","b"],"embeddings":[[1],[2]],"metadatas":[{"n":9007199254740993},{"n":9007199254740992}]}';
    assert.equal((await req('POST', col(c.id, 'add'), { json })).status, 201);
    const r = await req('POST', col(c.id, 'get'), { json: '{"where":{"n":9007199254740993}}' });
    assert.deepEqual(r.json.ids, ['a']);
    const r2 = await req('POST', col(c.id, 'get'), { json: '{"where":{"n":{"$gt":9007199254740992}}}' });
    assert.deepEqual(r2.json.ids, ['a']);
  });
});

// ---------------------------------------------------------------------------
describe('1.4 addressing collections', () => {
  test('GET/DELETE take names, PUT and record routes take UUIDs', async () => {
    const c = await seeded();
    assertError(await req('GET', col(c.id)), 404, 'NotFoundError', `Collection [${c.id}] does not exists`);
    assertError(await req('DELETE', col(c.id)), 404, 'NotFoundError');
    assertError(await req('PUT', col(c.name), { body: {} }), 400, 'InvalidArgumentError', 'Collection ID is not a valid UUIDv4');
    for (const op of ['add', 'upsert', 'update', 'delete', 'get', 'query']) {
      const body = op === 'query' ? { query_embeddings: [[1, 0, 0]] }
        : op === 'add' || op === 'upsert' ? { ids: ['z'], embeddings: [[1, 1, 1]] }
          : op === 'update' ? { ids: ['a'] } : { ids: ['a'] };
      const r = await req('POST', col(c.name, op), { body });
      assertError(r, 400, 'InvalidArgumentError', 'Collection ID is not a valid UUIDv4');
    }
    assertError(await req('GET', col(c.name, 'count')), 400, 'InvalidArgumentError');
    assert.equal(await count(c.id), 3);
    const g = await req('GET', col(c.name));
    assert.equal(g.status, 200);
    assert.equal(g.json.id, c.id);
  });

  test('upper-case and simple-form UUIDs are accepted', async () => {
    const c = await seeded();
    for (const id of [c.id.toUpperCase(), c.id.replace(/-/g, '')]) {
      const r = await req('GET', col(id, 'count'));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json, 3);
    }
  });

  test('missing collection on record routes is 404 with a trailing period', async () => {
    const missing = '0b6f6a52-9d0e-4b8b-8c9a-2f1e3d4c5b6a';
    for (const op of ['add', 'upsert', 'update', 'delete', 'get', 'query']) {
      const body = op === 'query' ? { query_embeddings: [[1]] }
        : op === 'add' || op === 'upsert' ? { ids: ['z'], embeddings: [[1]] } : { ids: ['a'] };
      const r = await req('POST', col(missing, op), { body });
      assertError(r, 404, 'NotFoundError', `Collection [${missing}] does not exists.`);
    }
    assertError(await req('GET', col(missing, 'count')), 404, 'NotFoundError');
    assertError(await req('PUT', col(missing), { body: { new_name: uniqueName() } }), 404, 'NotFoundError', `Collection [${missing}] does not exists.`);
    const byName = uniqueName('nosuch');
    const r = await req('GET', `${DB}/collections/${byName}`);
    assertError(r, 404, 'NotFoundError');
    assert.equal(r.json.message, `Collection [${byName}] does not exists`);
  });

  test('record routes through another tenant/database path', async () => {
    const c = await seeded();
    const other = `/api/v2/tenants/nosuch/databases/nosuch/collections/${c.id}`;
    const r = await req('GET', `${other}/count`);
    const a = await req('POST', `${other}/add`, { body: { ids: ['via-other'], embeddings: [[1, 1, 1]] } });
    if (isKsdb) {
      assertError(r, 404, 'NotFoundError');
      assertError(a, 404, 'NotFoundError');
      assert.equal(await count(c.id), 3);
    } else {
      assert.equal(r.status, 200);
      assert.equal(r.json, 3);
      assert.equal(a.status, 201);
      assert.equal(await count(c.id), 4);
    }
  });
});

// ---------------------------------------------------------------------------
describe('2 system routes', () => {
  test('heartbeat, /api/v2, healthcheck, version, pre-flight, identity', async () => {
    for (const p of ['/api/v2/heartbeat', '/api/v2']) {
      const r = await req('GET', p);
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.json), ['nanosecond heartbeat']);
      assert.match(r.text, /^\{"nanosecond heartbeat":\d{19}\}$/);
    }
    const h = await req('GET', '/api/v2/healthcheck');
    assert.equal(h.status, 200);
    assert.deepEqual(h.json, { is_executor_ready: true, is_log_client_ready: true });
    const v = await req('GET', '/api/v2/version');
    assert.equal(v.status, 200);
    assert.equal(typeof v.json, 'string');
    if (!isKsdb) assert.equal(v.json, '1.0.0');
    const pf = await req('GET', '/api/v2/pre-flight-checks');
    assert.equal(pf.status, 200);
    assert.ok(Number.isInteger(pf.json.max_batch_size) && pf.json.max_batch_size > 0);
    assert.equal(typeof pf.json.supports_base64_encoding, 'boolean');
    if (!isKsdb) assert.deepEqual(pf.json, { max_batch_size: 5461, supports_base64_encoding: true });
    const id = await req('GET', '/api/v2/auth/identity');
    assert.equal(id.status, 200);
    assert.deepEqual(id.json, { user_id: '', tenant: 'default_tenant', databases: ['default_database'] });
  });

  test('reset is disabled on the reference', { skip: isKsdb && 'ksdb runs with --allow-reset (restart.test covers it)' }, async () => {
    assertError(await req('POST', '/api/v2/reset'), 403, 'ChromaError', 'Reset is disabled by config');
  });

  test('GET /api/v2/collections/{crn}', { skip: !isKsdb && 'the reference drops the connection' }, async () => {
    const r = await req('GET', '/api/v2/collections/ten:db:coll');
    assertError(r, 501, undefined);
    assert.ok(r.json && typeof r.json.error === 'string', r.text);
  });

  test('fork', async () => {
    const c = await seeded();
    const r = await req('POST', col(c.id, 'fork'), { body: { new_name: uniqueName('fork') } });
    if (!isKsdb || r.status === 501) {
      assertError(r, 501, 'ChromaError', 'Collection forking is unsupported for local chroma');
    } else {
      assert.equal(r.status, 200, r.text);
      assert.equal(await count(r.json.id), 3);
    }
  });
});

// ---------------------------------------------------------------------------
describe('3 tenants and databases', () => {
  test('tenants', async () => {
    const t = uniqueName('ten');
    const r = await req('POST', '/api/v2/tenants', { body: { name: t } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, {});
    assertError(await req('POST', '/api/v2/tenants', { body: { name: t } }), 409, 'ChromaError', `Tenant [${t}] already exists`);
    assertError(await req('POST', '/api/v2/tenants', { body: { name: 't1' } }), 400, 'InvalidArgumentError', 'Validation error');
    const g = await req('GET', `/api/v2/tenants/${t}`);
    assert.equal(g.status, 200);
    assert.equal(g.json.name, t);
    assert.ok('resource_name' in g.json);
    const missing = uniqueName('nope');
    const nf = await req('GET', `/api/v2/tenants/${missing}`);
    assertError(nf, 404, 'NotFoundError');
    assert.equal(nf.json.message, `Tenant [${missing}] not found`);
    for (const name of [`bad name! ${uniqueName()}`, 'x'.repeat(300) + uniqueName()]) {
      assert.equal((await req('POST', '/api/v2/tenants', { body: { name } })).status, 200, name);
      assert.equal((await req('GET', `/api/v2/tenants/${encodeURIComponent(name)}`)).status, 200);
    }
  });

  test('PATCH tenant', async () => {
    const t = uniqueName('ten');
    await req('POST', '/api/v2/tenants', { body: { name: t } });
    const p = await req('PATCH', `/api/v2/tenants/${t}`, { body: { resource_name: 'rn' } });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(p.json, {});
    assertError(await req('PATCH', `/api/v2/tenants/${t}`, { body: {} }), 422, 'ChromaError');
    const missing = await req('PATCH', `/api/v2/tenants/${uniqueName('nope')}`, { body: { resource_name: 'rn' } });
    if (isKsdb) assertError(missing, 404, 'NotFoundError');
    else assert.equal(missing.status, 200);
  });

  test('databases', async () => {
    const t = uniqueName('ten');
    await req('POST', '/api/v2/tenants', { body: { name: t } });
    const base = `/api/v2/tenants/${t}/databases`;
    for (const n of ['zeta', 'alpha', 'mid']) {
      const r = await req('POST', base, { body: { name: n } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, {});
    }
    assertError(await req('POST', base, { body: { name: 'mid' } }), 409, 'ChromaError', 'Database [mid] already exists');
    assertError(await req('POST', base, { body: { name: 'db' } }), 400, 'InvalidArgumentError', 'Validation error');
    assertError(await req('POST', base, { body: {} }), 422, 'ChromaError');
    const l = await req('GET', base);
    assert.equal(l.status, 200);
    assert.deepEqual(l.json.map((d) => d.name), ['alpha', 'mid', 'zeta']);
    for (const d of l.json) {
      assert.match(d.id, UUID_RE);
      assert.equal(d.tenant, t);
      assert.deepEqual(Object.keys(d).sort(), ['id', 'name', 'tenant']);
    }
    assert.deepEqual((await req('GET', `${base}?limit=1&offset=1`)).json.map((d) => d.name), ['mid']);
    assert.deepEqual((await req('GET', `${base}?limit=0`)).json, []);
    assert.deepEqual((await req('GET', `${base}?offset=5`)).json, []);
    const one = await req('GET', `${base}/alpha`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.json, l.json[0]);
    const nf = await req('GET', `${base}/nodb`);
    assertError(nf, 404, 'NotFoundError');
    assert.equal(nf.json.message, 'Database [nodb] not found. Are you sure it exists?');
    // Special characters in database names are allowed.
    assert.equal((await req('POST', base, { body: { name: 'a b!c' } })).status, 200);
    assert.equal((await req('GET', `${base}/${encodeURIComponent('a b!c')}`)).status, 200);
  });

  test('default database id and delete cascade', async () => {
    const d = await req('GET', '/api/v2/tenants/default_tenant/databases/default_database');
    assert.equal(d.status, 200);
    assert.deepEqual(d.json, { id: '00000000-0000-0000-0000-000000000000', name: 'default_database', tenant: 'default_tenant' });

    const t = uniqueName('ten');
    await req('POST', '/api/v2/tenants', { body: { name: t } });
    await req('POST', `/api/v2/tenants/${t}/databases`, { body: { name: 'gone' } });
    const cbase = `/api/v2/tenants/${t}/databases/gone/collections`;
    const cr = await req('POST', cbase, { body: { name: 'inner' } });
    assert.equal(cr.status, 200, cr.text);
    assert.equal(cr.json.tenant, t);
    assert.equal(cr.json.database, 'gone');
    const del = await req('DELETE', `/api/v2/tenants/${t}/databases/gone`);
    assert.equal(del.status, 200);
    assert.deepEqual(del.json, {});
    assertError(await req('GET', `${cbase}/inner`), 404, 'NotFoundError');
    assertError(await req('GET', `/api/v2/tenants/${t}/databases/gone`), 404, 'NotFoundError');
    const again = await req('DELETE', `/api/v2/tenants/${t}/databases/gone`);
    assertError(again, 404, 'NotFoundError');
    assert.equal(again.json.message, 'Database [gone] not found');
  });
});

// ---------------------------------------------------------------------------
describe('4 collections', () => {
  test('Collection object shape', async () => {
    const name = uniqueName();
    const r = await req('POST', `${DB}/collections`, { body: { name } });
    assert.equal(r.status, 200);
    const c = r.json;
    assert.deepEqual(Object.keys(c).sort(), ['configuration_json', 'database', 'dimension', 'id', 'log_position',
      'metadata', 'name', 'tenant', 'version'].sort());
    assert.match(c.id, UUID_RE);
    assert.equal(c.name, name);
    assert.deepEqual(c.configuration_json, {
      hnsw: { space: 'l2', ef_construction: 100, ef_search: 100, max_neighbors: 16, resize_factor: 1.2, sync_threshold: 1000 },
      spann: null,
      embedding_function: null,
    });
    assert.equal(c.metadata, null);
    assert.equal(c.dimension, null);
    assert.equal(c.tenant, 'default_tenant');
    assert.equal(c.database, 'default_database');
    assert.equal(c.log_position, 0);
    assert.equal(c.version, 0);
    await add(c.id, { ids: ['a'], embeddings: [[1, 2, 3, 4]] });
    const g = await req('GET', `${DB}/collections/${name}`);
    assert.equal(g.json.dimension, 4);
    await req('POST', col(c.id, 'delete'), { body: { ids: ['a'] } });
    assert.equal((await req('GET', `${DB}/collections/${name}`)).json.dimension, 4);
  });

  test('create: metadata rules, duplicates, get_or_create, missing database', async () => {
    const name = uniqueName();
    const r = await req('POST', `${DB}/collections`, { body: { name, metadata: { a: 1, f: 2.5, s: 'x', b: false } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.metadata, { a: 1, f: 2.5, s: 'x', b: false });
    const dup = await req('POST', `${DB}/collections`, { body: { name } });
    assertError(dup, 409, 'ChromaError');
    assert.equal(dup.json.message, `Collection [${name}] already exists`);
    const goc = await req('POST', `${DB}/collections`, {
      body: { name, metadata: { other: 1 }, configuration: { hnsw: { space: 'ip' } }, get_or_create: true },
    });
    assert.equal(goc.status, 200);
    assert.equal(goc.json.id, r.json.id);
    assert.deepEqual(goc.json.metadata, { a: 1, f: 2.5, s: 'x', b: false });
    assert.equal(goc.json.configuration_json.hnsw.space, 'l2');
    assertError(await req('POST', `${DB}/collections`, { body: { name: uniqueName(), metadata: {} } }), 400, 'InvalidArgumentError', 'Metadata cannot be empty');
    assertError(await req('POST', `${DB}/collections`, { body: { name: uniqueName(), metadata: { a: null } } }), 422, 'ChromaError');
    assertError(await req('POST', `${DB}/collections`, { body: { name: uniqueName(), metadata: { a: { b: 1 } } } }), 422, 'ChromaError');
    const nodb = await req('POST', '/api/v2/tenants/default_tenant/databases/nodb/collections', { body: { name: uniqueName() } });
    assertError(nodb, 400, 'InvalidArgumentError', 'Database [nodb] does not exist');
    // Names are case-sensitive.
    const upper = await req('POST', `${DB}/collections`, { body: { name: name.toUpperCase() } });
    assert.equal(upper.status, 200);
    assert.notEqual(upper.json.id, r.json.id);
  });

  test('name rules (4.3)', async () => {
    const ok = ['abc', 'a.b', 'a__b', 'a--b', 'A-B_c.9', '1abc', '1.2.3', 'ABC', 'x'.repeat(64), 'y'.repeat(512)];
    const t = uniqueName('ten');
    await req('POST', '/api/v2/tenants', { body: { name: t } });
    await req('POST', `/api/v2/tenants/${t}/databases`, { body: { name: 'names' } });
    const base = `/api/v2/tenants/${t}/databases/names/collections`;
    for (const name of ok) {
      const r = await req('POST', base, { body: { name } });
      assert.equal(r.status, 200, `${name}: ${r.text}`);
    }
    const bad = ['ab', 'z'.repeat(513), '-abc', 'abc-', '_abc', 'abc_', 'ab c', 'abé', 'abc/def', '', '.abc'];
    for (const name of bad) {
      const r = await req('POST', base, { body: { name } });
      assertError(r, 400, 'InvalidArgumentError', 'Expected a name containing 3-512 characters');
    }
    assertError(await req('POST', base, { body: { name: 'a..b' } }), 400, 'InvalidArgumentError', 'two consecutive periods');
    assertError(await req('POST', base, { body: { name: '192.168.1.1' } }), 400, 'InvalidArgumentError', 'not a valid ip address');
    assert.equal((await req('GET', `${base}s_count`.replace('collectionss_count', 'collections_count'))).json, ok.length);
  });

  test('list order, limit, offset, count', async () => {
    const t = uniqueName('ten');
    await req('POST', '/api/v2/tenants', { body: { name: t } });
    await req('POST', `/api/v2/tenants/${t}/databases`, { body: { name: 'lst' } });
    const base = `/api/v2/tenants/${t}/databases/lst`;
    const ids = [];
    for (let i = 0; i < 6; i++) {
      const r = await req('POST', `${base}/collections`, { body: { name: `coll-${i}` } });
      ids.push(r.json.id);
    }
    const l = await req('GET', `${base}/collections`);
    assert.equal(l.status, 200);
    assert.deepEqual(l.json.map((c) => c.id), ids.slice().sort());
    const page = await req('GET', `${base}/collections?limit=2&offset=3`);
    assert.deepEqual(page.json.map((c) => c.id), ids.slice().sort().slice(3, 5));
    assert.deepEqual((await req('GET', `${base}/collections?limit=0`)).json, []);
    const cnt = await req('GET', `${base}/collections_count`);
    assert.equal(cnt.status, 200);
    assert.equal(cnt.text, '6');
    assert.deepEqual((await req('GET', '/api/v2/tenants/default_tenant/databases/nodb/collections')).json, []);
  });

  test('modify: rename', async () => {
    const a = await seeded();
    const b = await createCollection();
    const newName = uniqueName('ren');
    const r = await req('PUT', col(a.id), { body: { new_name: newName } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {});
    assertError(await req('GET', `${DB}/collections/${a.name}`), 404, 'NotFoundError');
    assert.equal((await req('GET', `${DB}/collections/${newName}`)).json.id, a.id);
    assert.equal((await req('PUT', col(a.id), { body: { new_name: newName } })).status, 200);
    assertError(await req('PUT', col(a.id), { body: { new_name: 'a..b' } }), 400, 'InvalidArgumentError', 'Validation error: new_name');
    assertError(await req('PUT', col(a.id), { body: { new_name: 'x' } }), 400, 'InvalidArgumentError');
    const onto = await req('PUT', col(a.id), { body: { new_name: b.name } });
    if (isKsdb) {
      assertError(onto, 409, 'ChromaError', `Collection [${b.name}] already exists`);
    } else {
      assertError(onto, 500, 'InternalError');
    }
    assert.equal((await req('GET', `${DB}/collections/${newName}`)).json.id, a.id);
    assert.equal((await req('GET', `${DB}/collections/${b.name}`)).json.id, b.id);
    assert.equal(await count(a.id), 3);
    const noop = await req('PUT', col(a.id), { body: {} });
    assert.equal(noop.status, 200);
  });

  test('modify: metadata replace rules', async () => {
    const c = await createCollection({ metadata: { a: 1, b: 'x' } });
    const path = `${DB}/collections/${c.name}`;
    assert.equal((await req('PUT', col(c.id), { body: { new_metadata: { c: 2 } } })).status, 200);
    assert.deepEqual((await req('GET', path)).json.metadata, { c: 2 });
    assertError(await req('PUT', col(c.id), { body: { new_metadata: {} } }), 400, 'InvalidArgumentError', 'Metadata cannot be empty');
    assert.equal((await req('PUT', col(c.id), { body: { new_metadata: null } })).status, 200);
    assert.deepEqual((await req('GET', path)).json.metadata, { c: 2 });
    assert.equal((await req('PUT', col(c.id), { body: { new_metadata: { d: 1, n: null } } })).status, 200);
    assert.deepEqual((await req('GET', path)).json.metadata, { d: 1 });
    assert.equal((await req('PUT', col(c.id), { body: { new_metadata: { n: null } } })).status, 200);
    assert.equal((await req('GET', path)).json.metadata, null);
    // hnsw:* keys in new metadata do not change the configuration.
    assert.equal((await req('PUT', col(c.id), { body: { new_metadata: { 'hnsw:space': 'cosine' } } })).status, 200);
    const g = (await req('GET', path)).json;
    assert.deepEqual(g.metadata, { 'hnsw:space': 'cosine' });
    assert.equal(g.configuration_json.hnsw.space, 'l2');
  });

  test('modify: configuration', async () => {
    const c = await createCollection();
    const path = `${DB}/collections/${c.name}`;
    const r = await req('PUT', col(c.id), {
      body: { new_configuration: { hnsw: { ef_search: 77, max_neighbors: 20, num_threads: 2, resize_factor: 1.5, sync_threshold: 500, batch_size: 50 } } },
    });
    assert.equal(r.status, 200, r.text);
    const h = (await req('GET', path)).json.configuration_json.hnsw;
    assert.deepEqual(h, { space: 'l2', ef_construction: 100, ef_search: 77, max_neighbors: 20, resize_factor: 1.5, sync_threshold: 500 });
    for (const bad of [{ space: 'ip' }, { ef_construction: 5 }, { foo: 1 }]) {
      const e = await req('PUT', col(c.id), { body: { new_configuration: { hnsw: bad } } });
      assertError(e, 422, 'ChromaError', 'unknown field');
    }
    assert.equal((await req('PUT', col(c.id), { body: { new_configuration: { spann: { search_nprobe: 5 } } } })).status, 200);
    const ef = { type: 'known', name: 'my_ef', config: { dim: 3, nested: { a: [1, 2] } } };
    assert.equal((await req('PUT', col(c.id), { body: { new_configuration: { embedding_function: ef } } })).status, 200);
    const cj = (await req('GET', path)).json.configuration_json;
    assert.deepEqual(cj.embedding_function, ef);
    assert.equal(cj.hnsw.ef_search, 77);
    assert.equal(cj.spann, null);
  });

  test('delete by name', async () => {
    const c = await seeded();
    const r = await req('DELETE', `${DB}/collections/${c.name}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {});
    assertError(await req('DELETE', `${DB}/collections/${c.name}`), 404, 'NotFoundError');
    assertError(await req('GET', col(c.id, 'count')), 404, 'NotFoundError');
    // A new collection with the same name is a new, empty collection.
    const again = await createCollection({ name: c.name });
    assert.notEqual(again.id, c.id);
    assert.equal(await count(again.id), 0);
    assert.equal(again.dimension, null);
  });
});

// ---------------------------------------------------------------------------
describe('5 records', () => {
  test('5.1 id and embedding validation', async () => {
    const c = await seeded();
    await unchanged(c.id, async () => {
      assertError(await req('POST', col(c.id, 'add'), { body: { ids: [''], embeddings: [[1, 1, 1]] } }), 400, 'InvalidArgumentError', 'Empty ID');
      assertError(await req('POST', col(c.id, 'add'), { body: { ids: ['z'], embeddings: [[]] } }), 400, 'InvalidArgumentError', 'Each embedding must have at least 1 dimension');
      assertError(await req('POST', col(c.id, 'add'), { body: { ids: ['z', 'y'], embeddings: [[1, 1, 1], [1, 1]] } }), 400, 'InvalidArgumentError', 'Inconsistent dimensions in provided embeddings');
      assertError(await req('POST', col(c.id, 'add'), { body: { ids: ['z'], embeddings: [[1, 1]] } }), 400, 'InvalidArgumentError', 'Collection expecting embedding with dimension of 3, got 2');
      assertError(await req('POST', col(c.id, 'upsert'), { body: { ids: ['a'], embeddings: [[1, 1]] } }), 400, 'InvalidArgumentError', 'dimension of 3, got 2');
      assertError(await req('POST', col(c.id, 'update'), { body: { ids: ['a'], embeddings: [[1, 1, 1, 1]] } }), 400, 'InvalidArgumentError', 'dimension of 3, got 4');
      for (const extra of [
        { embeddings: [[1, 1, 1]] }, { documents: ['d'] }, { metadatas: [{ k: 1 }] }, { uris: ['u'] },
      ]) {
        const body = { ids: ['z', 'y'], embeddings: [[1, 1, 1], [2, 2, 2]], ...extra };
        assertError(await req('POST', col(c.id, 'add'), { body }), 400, 'InvalidArgumentError',
          'Inconsistent number of IDs, embeddings, documents, URIs and metadatas');
      }
      assertError(await req('POST', col(c.id, 'update'), { body: { ids: ['a', 'b'], metadatas: [{ k: 1 }] } }), 400, 'InvalidArgumentError', 'Inconsistent number');
      assertError(await req('POST', col(c.id, 'upsert'), { body: { ids: ['a', 'b'], embeddings: [[1, 1, 1]] } }), 400, 'InvalidArgumentError', 'Inconsistent number');
      // A bad record anywhere in the batch rejects the whole batch.
      assertError(await req('POST', col(c.id, 'add'), { body: { ids: ['ok1', ''], embeddings: [[1, 1, 1], [1, 1, 1]] } }), 400, 'InvalidArgumentError');
    });
  });

  test('5.1 ids are opaque strings; empty batch is a no-op', async () => {
    const c = await createCollection();
    const ids = ['with space', 'a/b?c#d', 'ünï©ødé 🚀', '%20', '"quoted"', '\\back', '\u0000nul'];
    await add(c.id, { ids, embeddings: ids.map((_, i) => [i]) });
    assert.deepEqual((await get(c.id, {})).ids, ids);
    assert.deepEqual((await get(c.id, { ids: ['a/b?c#d'] })).ids, ['a/b?c#d']);
    const e = await req('POST', col(c.id, 'add'), { body: { ids: [], embeddings: [] } });
    assert.equal(e.status, 201);
    assert.equal((await req('POST', col(c.id, 'upsert'), { body: { ids: [], embeddings: [] } })).status, 200);
    assert.equal(await count(c.id), ids.length);
  });

  test('5.2 add: 201, existing ids ignored, duplicate ids in one batch', async () => {
    const c = await createCollection();
    const r = await req('POST', col(c.id, 'add'), { body: { ids: ['a'], embeddings: [[1, 0, 0]] } });
    assert.equal(r.status, 201);
    assert.deepEqual(r.json, {});
    await add(c.id, { ids: ['a', 'n'], embeddings: [[0, 1, 0], [0, 0, 1]], documents: ['new', 'dn'] });
    let g = await get(c.id, { include: ['embeddings', 'documents'] });
    assert.deepEqual(g.ids, ['a', 'n']);
    assert.deepEqual(g.embeddings, [[1, 0, 0], [0, 0, 1]]);
    assert.deepEqual(g.documents, [null, 'dn']);
    const dup = await req('POST', col(c.id, 'add'), { body: { ids: ['d', 'd'], embeddings: [[1, 0, 0], [0, 1, 0]] } });
    if (isKsdb) {
      assertError(dup, 400, 'DuplicateID');
      assert.equal(await count(c.id), 2);
    } else {
      assert.equal(dup.status, 201);
      g = await get(c.id, { ids: ['d'], include: ['embeddings'] });
      assert.deepEqual(g.embeddings, [[1, 0, 0]]);
    }
  });

  test('5.3 upsert: merge, null keeps, last duplicate wins, order kept', async () => {
    const c = await createCollection();
    await add(c.id, {
      ids: ['a', 'b'], embeddings: [[1, 0], [0, 1]], documents: ['da', 'db'],
      metadatas: [{ x: 5, y: 'keep' }, { k: 1 }], uris: ['ua', 'ub'],
    });
    let r = await req('POST', col(c.id, 'upsert'), {
      body: { ids: ['a'], embeddings: [[2, 2]], documents: [null], metadatas: [null], uris: [null] },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {});
    let g = await get(c.id, { ids: ['a'], include: ALL_INCLUDE });
    assert.deepEqual(g.embeddings, [[2, 2]]);
    assert.deepEqual(g.documents, ['da']);
    assert.deepEqual(g.metadatas, [{ x: 5, y: 'keep' }]);
    assert.deepEqual(g.uris, ['ua']);
    r = await req('POST', col(c.id, 'upsert'), {
      body: { ids: ['a', 'new'], embeddings: [[3, 3], [4, 4]], metadatas: [{ y: null, z: 1 }, { q: null, w: true }] },
    });
    assert.equal(r.status, 200);
    g = await get(c.id, { include: ALL_INCLUDE });
    assert.deepEqual(g.ids, ['a', 'b', 'new']);
    assert.deepEqual(g.metadatas, [{ x: 5, z: 1 }, { k: 1 }, { w: true }]);
    assert.deepEqual(g.documents, ['da', 'db', null]);
    await req('POST', col(c.id, 'upsert'), {
      body: { ids: ['d', 'd'], embeddings: [[1, 1], [2, 2]], documents: ['first', 'second'] },
    });
    g = await get(c.id, { ids: ['d'], include: ['embeddings', 'documents'] });
    assert.deepEqual(g.embeddings, [[2, 2]]);
    assert.deepEqual(g.documents, ['second']);
    assert.deepEqual((await get(c.id, {})).ids, ['a', 'b', 'new', 'd']);
  });

  test('5.4 update: per-field keep/replace/merge, missing ids ignored', async () => {
    const c = await createCollection();
    await add(c.id, {
      ids: ['a', 'b'], embeddings: [[1, 0], [0, 1]], documents: ['da', 'db'],
      metadatas: [{ x: 1, y: 2 }, { k: 'v' }], uris: ['u1', 'ub'],
    });
    const r = await req('POST', col(c.id, 'update'), {
      body: {
        ids: ['a', 'ghost', 'b'], embeddings: [null, [9, 9], [5, 5]], documents: [null, 'g', 'db2'],
        metadatas: [{ y: null, z: 'new' }, { g: 1 }, {}], uris: ['u2', null, null],
      },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, {});
    let g = await get(c.id, { include: ALL_INCLUDE });
    assert.deepEqual(g.ids, ['a', 'b']);
    assert.deepEqual(g.embeddings, [[1, 0], [5, 5]]);
    assert.deepEqual(g.documents, ['da', 'db2']);
    assert.deepEqual(g.metadatas, [{ x: 1, z: 'new' }, { k: 'v' }]);
    assert.deepEqual(g.uris, ['u2', 'ub']);
    // Metadata null entry keeps; duplicate ids: last wins; no-op bodies.
    await req('POST', col(c.id, 'update'), { body: { ids: ['a', 'a'], documents: ['one', 'two'], metadatas: [null, null] } });
    assert.equal((await req('POST', col(c.id, 'update'), { body: { ids: [] } })).status, 200);
    assert.equal((await req('POST', col(c.id, 'update'), { body: { ids: ['a'] } })).status, 200);
    g = await get(c.id, { ids: ['a'], include: ALL_INCLUDE });
    assert.deepEqual(g.documents, ['two']);
    assert.deepEqual(g.metadatas, [{ x: 1, z: 'new' }]);
    // Removing every key leaves no metadata: the reference reports {}, ksdb
    // reports null (it keeps no distinction between empty and absent metadata).
    await req('POST', col(c.id, 'update'), { body: { ids: ['b'], metadatas: [{ k: null }] } });
    assert.deepEqual((await get(c.id, { ids: ['b'] })).metadatas, [isKsdb ? null : {}]);
    assert.equal(await count(c.id), 2);
  });

  test('5.5 delete: ANDed filters, {} deletes nothing, errors', async () => {
    const c = await createCollection();
    const ids = ['a', 'b', 'c', 'd', 'e'];
    await add(c.id, {
      ids, embeddings: ids.map((_, i) => [i]),
      metadatas: [{ n: 1 }, { n: 2 }, { n: 2 }, { n: 3 }, null],
      documents: ['apple', 'banana', 'cherry', null, 'egg'],
    });
    await unchanged(c.id, async () => {
      let r = await req('POST', col(c.id, 'delete'), { body: {} });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, {});
      r = await req('POST', col(c.id, 'delete'), { body: { ids: [] } });
      assertError(r, 400, 'InvalidArgumentError', 'Either ids or where must be specified');
      assert.equal((await req('POST', col(c.id, 'delete'), { body: { ids: [], where: { n: 2 } } })).status, 200);
      assertError(await req('POST', col(c.id, 'delete'), { body: { where: {} } }), 400, 'InvalidArgumentError', 'Invalid where clause');
      assertError(await req('POST', col(c.id, 'delete'), { body: { where_document: {} } }), 400, 'InvalidArgumentError');
      assertError(await req('POST', col(c.id, 'delete'), { body: { where: { n: { $gt: 'x' } } } }), 400, 'InvalidArgumentError');
      assert.equal((await req('POST', col(c.id, 'delete'), { body: { ids: ['nosuch'] } })).status, 200);
      assert.equal((await req('POST', col(c.id, 'delete'), { body: { ids: null, where: null, where_document: null } })).status, 200);
    });
    assert.equal((await req('POST', col(c.id, 'delete'), { body: { ids: ['b', 'c'], where: { n: 2 }, where_document: { $contains: 'ban' } } })).status, 200);
    assert.deepEqual((await get(c.id, {})).ids, ['a', 'c', 'd', 'e']);
    await req('POST', col(c.id, 'delete'), { body: { where_document: { $or: [{ $contains: 'apple' }, { $contains: 'egg' }] } } });
    assert.deepEqual((await get(c.id, {})).ids, ['c', 'd']);
    await req('POST', col(c.id, 'delete'), { body: { where: { n: { $gte: 2 } } } });
    assert.deepEqual((await get(c.id, {})).ids, []);
    assert.equal(await count(c.id), 0);
  });

  test('5.6 count and storage order', async () => {
    const c = await createCollection();
    await add(c.id, { ids: ['z', 'm', 'a'], embeddings: [[1], [2], [3]] });
    await add(c.id, { ids: ['b', 'y'], embeddings: [[4], [5]] });
    const r = await req('GET', col(c.id, 'count'));
    assert.equal(r.text, '5');
    assert.deepEqual((await get(c.id, {})).ids, ['z', 'm', 'a', 'b', 'y']);
    await req('POST', col(c.id, 'upsert'), { body: { ids: ['m', 'q'], embeddings: [[7], [8]] } });
    await req('POST', col(c.id, 'delete'), { body: { ids: ['m'] } });
    await add(c.id, { ids: ['m'], embeddings: [[2]] });
    assert.deepEqual((await get(c.id, {})).ids, ['z', 'a', 'b', 'y', 'q', 'm']);
    assert.deepEqual((await get(c.id, { ids: ['y', 'a', 'z', 'nosuch', 'a'] })).ids, ['z', 'a', 'y']);
  });

  test('5.7 record metadata values', async () => {
    const c = await createCollection();
    const longKey = 'k'.repeat(1000);
    const bigVal = 'v'.repeat(100_000);
    await add(c.id, {
      ids: ['e', 'k', 'h', 'u'], embeddings: [[1], [2], [3], [4]],
      metadatas: [{}, { '': 'empty key', [longKey]: bigVal }, { '#document': 'x', $weird: 1 }, { 'ключ': 'é', emoji: '🚀' }],
    });
    const g = await get(c.id, { include: ['metadatas'] });
    assert.deepEqual(g.metadatas, [null, { '': 'empty key', [longKey]: bigVal }, { '#document': 'x', $weird: 1 }, { 'ключ': 'é', emoji: '🚀' }]);
    await unchanged(c.id, async () => {
      for (const bad of [{ a: null }, { a: [] }, { a: { b: 1 } }]) {
        assertError(await req('POST', col(c.id, 'add'), { body: { ids: ['z'], embeddings: [[1]], metadatas: [bad] } }), 422, 'ChromaError');
      }
    });
  });

  test('5.7 upsert of a new id drops null-valued keys', async () => {
    const c = await createCollection();
    await req('POST', col(c.id, 'upsert'), { body: { ids: ['n'], embeddings: [[1]], metadatas: [{ a: null, b: 1 }] } });
    assert.deepEqual((await get(c.id, {})).metadatas, [{ b: 1 }]);
  });

  test('5.7 reserved chroma: metadata keys', async () => {
    const c = await createCollection();
    const r1 = await req('POST', col(c.id, 'add'), {
      body: { ids: ['m'], embeddings: [[1]], documents: [null], metadatas: [{ 'chroma:document': 'from-meta' }] },
    });
    const r2 = await req('POST', col(c.id, 'add'), {
      body: { ids: ['f'], embeddings: [[2]], metadatas: [{ 'chroma:foo': 'bar', ok: 1 }] },
    });
    if (isKsdb) {
      assertError(r1, 400, 'InvalidArgumentError');
      assertError(r2, 400, 'InvalidArgumentError');
      assert.equal(await count(c.id), 0);
    } else {
      assert.equal(r1.status, 201);
      assert.equal(r2.status, 201);
      const g = await get(c.id, {});
      assert.deepEqual(g.documents, ['from-meta', null]);
      assert.deepEqual(g.metadatas[1], { ok: 1 });
    }
  });

  test('array metadata values', async () => {
    const c = await createCollection();
    const r = await req('POST', col(c.id, 'add'), {
      body: { ids: ['t1', 't2', 't3'], embeddings: [[1], [2], [3]], metadatas: [{ tags: ['x', 'y'] }, { tags: ['z'] }, { n: [1, 2] }] },
    });
    if (!isKsdb) {
      assertError(r, 422, 'ChromaError');
      return;
    }
    assert.equal(r.status, 201, r.text);
    assert.deepEqual((await get(c.id, {})).metadatas, [{ tags: ['x', 'y'] }, { tags: ['z'] }, { n: [1, 2] }]);
    assert.deepEqual((await get(c.id, { where: { tags: { $contains: 'x' } } })).ids, ['t1']);
    assert.deepEqual((await get(c.id, { where: { n: { $contains: 2 } } })).ids, ['t3']);
  });
});

// ---------------------------------------------------------------------------
// The data set of spec 6.2.
const W_IDS = ['i1', 'i2', 'f15', 'f2', 's', 'b', 'none', 'arr', 'neg', 'big'];
const W_ADD = '{"ids":' + JSON.stringify(W_IDS) + ',"embeddings":' + JSON.stringify(W_IDS.map((_, i) => [i, 0])) +
  ',"metadatas":[{"n":1,"s":"apple","b":true},{"n":2,"s":"Banana"},{"n":1.5,"s":"cherry"},{"n":2.0},' +
  '{"n":"2","s":"2"},{"n":true,"b":false},null,{"n":1,"s":"apple"},{"n":-3,"s":"a"},{"n":9007199254740993}],' +
  '"documents":["The quick brown Fox","lazy dog","fox trot 100%","under_score","back\\\\slash",' +
  '"\u00c9mile caf\u00e9",null,"foo","FOX",""]}';

async function whereData() {
  const c = await createCollection();
  const r = await req('POST', col(c.id, 'add'), { json: W_ADD });
  assert.equal(r.status, 201, r.text);
  return c;
}

const ALL = W_IDS;
const except = (...ids) => ALL.filter((x) => !ids.includes(x));
// [where JSON text, expected ids on the reference, expected ids on ksdb (when different)]
const WHERE_MATRIX = [
  ['{"n":1}', ['i1', 'arr']],
  ['{"n":{"$eq":1}}', ['i1', 'arr']],
  ['{"n":{"$eq":1.0}}', ['i1', 'arr']],
  ['{"n":{"$eq":1e0}}', ['i1', 'arr']],
  ['{"n":{"$eq":2}}', ['i2', 'f2']],
  ['{"n":2.0}', ['i2', 'f2']],
  ['{"n":{"$eq":"2"}}', ['s']],
  ['{"n":true}', ['b']],
  ['{"b":true}', ['i1']],
  ['{"b":1}', []],
  ['{"b":false}', ['b']],
  ['{"n":{"$ne":1}}', ['i2', 'f15', 'f2', 's', 'b', 'none', 'neg', 'big']],
  ['{"missing":{"$ne":"x"}}', ALL],
  ['{"missing":{"$nin":["x"]}}', ALL],
  ['{"missing":"x"}', []],
  ['{"missing":{"$in":["x"]}}', []],
  ['{"missing":{"$gt":0}}', []],
  ['{"n":{"$gt":1}}', ['i2', 'f15', 'f2', 'big']],
  ['{"n":{"$gte":2}}', ['i2', 'f2', 'big']],
  ['{"n":{"$lt":0}}', ['neg']],
  ['{"n":{"$lte":1}}', ['i1', 'arr', 'neg']],
  ['{"n":{"$gt":1.0}}', ['i2', 'f15', 'f2', 'big']],
  ['{"n":{"$in":[1,2]}}', ['i1', 'i2', 'f2', 'arr']],
  ['{"n":{"$nin":[1,2]}}', ['f15', 's', 'b', 'none', 'neg', 'big']],
  ['{"n":{"$in":[true]}}', ['b']],
  ['{"n":{"$in":["2"]}}', ['s']],
  ['{"s":{"$in":["apple","a"]}}', ['i1', 'arr', 'neg']],
  ['{"s":{"$nin":["apple"]}}', except('i1', 'arr')],
  ['{"s":"banana"}', []],
  ['{"n":9007199254740993}', ['big']],
  ['{"n":{"$eq":1.5}}', ['i1', 'f15', 'arr'], ['f15']],
  ['{"n":{"$gte":1.5}}', ['i1', 'i2', 'f15', 'f2', 'arr', 'big'], ['i2', 'f15', 'f2', 'big']],
  ['{"n":{"$lt":1.5}}', ['neg'], ['i1', 'arr', 'neg']],
  ['{"n":{"$lte":1.5}}', ['i1', 'f15', 'arr', 'neg']],
  ['{"n":{"$ne":1.5}}', except('i1', 'f15', 'arr'), except('f15')],
  ['{"n":{"$in":[1.5]}}', ['i1', 'f15', 'arr'], ['f15']],
  ['{"n":{"$in":[1.5,2]}}', ['i1', 'i2', 'f15', 'f2', 'arr'], ['i2', 'f15', 'f2']],
  ['{"$and":[]}', ALL],
  ['{"$or":[]}', []],
  ['{"$and":[{"n":1}]}', ['i1', 'arr']],
  ['{"$or":[{"n":1}]}', ['i1', 'arr']],
  ['{"$and":[{"n":1},{"s":"apple"}]}', ['i1', 'arr']],
  ['{"$and":[{"n":1},{"b":true}]}', ['i1']],
  ['{"$or":[{"n":-3},{"s":"Banana"},{"b":false}]}', ['i2', 'b', 'neg']],
  ['{"$and":[{"$or":[{"n":1},{"n":2}]},{"s":{"$ne":"apple"}}]}', ['i2', 'f2']],
  ['{"$contains":"x"}', []],
];
const WHERE_INVALID = [
  '{"n":{"$gt":"a"}}', '{"n":{"$gt":true}}', '{"n":{"$in":[1,"2"]}}', '{"n":{"$in":[]}}',
  '{"n":null}', '{"n":{"$eq":null}}', '{"n":[1,2]}', '{"n":{"$exists":true}}',
  '{"$not":{"n":1}}', '{"$and":{"n":1}}', '{"$or":"x"}', '"string"', '[]', '{}', '{"n":1,"s":"apple"}',
  '{"n":{"$eq":1,"$ne":2}}', '{"n":18446744073709551615}', '{"n":{"$in":[1,2.5]}}', '{"s":{"$gt":"b"}}',
  '{"n":{"$lt":"2"}}', '{"n":{}}', '{"n":{"$in":1}}', '{"n":{"$nin":[true,1]}}', '{"$and":[{}]}',
  '{"$and":[{"n":1},5]}', '{"n":{"$in":[[1]]}}', '5',
];

describe('6 where', () => {
  test('6.1/6.2 where matrix on get', async () => {
    const c = await whereData();
    const failures = [];
    for (const [where, ref, ksdb] of WHERE_MATRIX) {
      const expected = isKsdb && ksdb ? ksdb : ref;
      const r = await req('POST', col(c.id, 'get'), { json: `{"where":${where},"include":[]}` });
      if (r.status !== 200 || JSON.stringify(r.json.ids) !== JSON.stringify(expected)) {
        failures.push(`${where}: ${r.status} ${JSON.stringify(r.json?.ids ?? r.text)} expected ${JSON.stringify(expected)}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  test('6.1 where matrix on query and delete (same match sets)', async () => {
    const c = await whereData();
    const failures = [];
    for (const [where, ref, ksdb] of WHERE_MATRIX) {
      const expected = isKsdb && ksdb ? ksdb : ref;
      const r = await req('POST', col(c.id, 'query'), {
        json: `{"where":${where},"query_embeddings":[[0,0]],"n_results":20,"include":["distances"]}`,
      });
      // Embeddings are [i,0] with i the position, so distance order is storage order.
      if (r.status !== 200 || JSON.stringify(r.json.ids) !== JSON.stringify([expected])) {
        failures.push(`query ${where}: ${r.status} ${JSON.stringify(r.json?.ids ?? r.text)} expected ${JSON.stringify([expected])}`);
      }
    }
    assert.deepEqual(failures, []);
    // Delete with a where removes exactly the matches.
    const d = await req('POST', col(c.id, 'delete'), { json: '{"where":{"n":{"$in":[1,2]}}}' });
    assert.equal(d.status, 200);
    assert.deepEqual((await get(c.id, { include: [] })).ids, except('i1', 'i2', 'f2', 'arr'));
  });

  test('6.1 invalid where clauses are 400 and change nothing', async () => {
    const c = await whereData();
    const failures = [];
    await unchanged(c.id, async () => {
      for (const where of WHERE_INVALID) {
        for (const op of ['get', 'delete', 'query']) {
          const body = op === 'query' ? `{"where":${where},"query_embeddings":[[0,0]]}` : `{"where":${where}}`;
          const r = await req('POST', col(c.id, op), { json: body });
          if (r.status !== 400 || r.json?.error !== 'InvalidArgumentError') {
            failures.push(`${op} ${where}: ${r.status} ${r.text.slice(0, 120)}`);
          }
        }
      }
    });
    assert.deepEqual(failures, []);
    const r = await req('POST', col(c.id, 'get'), { json: '{"where":{"n":{"$gt":"a"}}}' });
    assert.equal(r.json.message, 'Invalid where clause');
  });

  test('6.1 $contains on a metadata field', async () => {
    const c = await whereData();
    const r = await req('POST', col(c.id, 'get'), { json: '{"where":{"n":{"$contains":1}}}' });
    if (isKsdb) {
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.ids, []);
    } else {
      assertError(r, 400, 'InvalidArgumentError', 'Invalid where clause');
    }
  });

  test('6.3 where_document', async () => {
    const c = await whereData();
    const cases = [
      ['{"$contains":"fox"}', ['f15']],
      ['{"$contains":"Fox"}', ['i1']],
      ['{"$contains":"FOX"}', ['neg']],
      ['{"$contains":"%"}', ['f15']],
      ['{"$contains":"_"}', ['f2']],
      ['{"$contains":"\\\\"}', ['s']],
      ['{"$contains":"é"}', ['b']],
      ['{"$contains":"o_s"}', []],
      ['{"$contains":""}', except('none')],
      ['{"$not_contains":"fox"}', except('f15')],
      ['{"$not_contains":""}', ['none']],
      ['{"$regex":"(?i)fox"}', ['i1', 'f15', 'neg']],
      ['{"$regex":"^fox"}', ['f15']],
      ['{"$regex":"o{2}"}', ['arr']],
      ['{"$regex":"\\\\d+%$"}', ['f15']],
      ['{"$not_regex":"(?i)fox"}', except('i1', 'f15', 'neg')],
      ['{"$and":[]}', ALL],
      ['{"$or":[]}', []],
      ['{"$and":[{"$contains":"o"},{"$not_contains":"fox"}]}', ['i1', 'i2', 'f2', 'arr']],
      ['{"$or":[{"$contains":"dog"},{"$regex":"^b"}]}', ['i2', 's']],
    ];
    const failures = [];
    for (const [wd, expected] of cases) {
      const r = await req('POST', col(c.id, 'get'), { json: `{"where_document":${wd},"include":[]}` });
      if (r.status !== 200 || JSON.stringify(r.json.ids) !== JSON.stringify(expected)) {
        failures.push(`${wd}: ${r.status} ${JSON.stringify(r.json?.ids ?? r.text)} expected ${JSON.stringify(expected)}`);
      }
    }
    assert.deepEqual(failures, []);
    // where and where_document are ANDed.
    const r = await req('POST', col(c.id, 'get'), { json: '{"where":{"n":1},"where_document":{"$contains":"o"},"include":[]}' });
    assert.deepEqual(r.json.ids, ['i1', 'arr']);
    const q = await req('POST', col(c.id, 'query'), { json: '{"query_embeddings":[[9,0]],"where_document":{"$contains":"o"},"n_results":2,"include":[]}' });
    assert.deepEqual(q.json.ids, [['arr', 'f2']]);
  });

  test('6.3 invalid where_document clauses', async () => {
    const c = await whereData();
    const failures = [];
    await unchanged(c.id, async () => {
      for (const wd of ['{}', '{"$contains":"a","$regex":"b"}', '{"$contains":5}', '{"$matches":"fox"}',
        '{"$not_matches":"fox"}', '{"$foo":"x"}', '{"$and":{"$contains":"a"}}', '"fox"', '[]', '{"$contains":null}',
        '{"$or":[{}]}']) {
        for (const op of ['get', 'delete']) {
          const r = await req('POST', col(c.id, op), { json: `{"where_document":${wd}}` });
          if (r.status !== 400 || r.json?.error !== 'InvalidArgumentError' || r.json.message !== 'Invalid where document clause') {
            failures.push(`${op} ${wd}: ${r.status} ${r.text.slice(0, 120)}`);
          }
        }
      }
      const bad = await req('POST', col(c.id, 'get'), { json: '{"where_document":{"$regex":"["}}' });
      assertError(bad, 400, 'InvalidArgumentError');
      const huge = await req('POST', col(c.id, 'get'), { json: '{"where_document":{"$regex":"a{1000000}"}}' });
      if (isKsdb) assertError(huge, 400, 'InvalidArgumentError');
      else assertError(huge, 500, 'InternalError');
    });
    assert.deepEqual(failures, []);
    assert.equal((await req('GET', '/api/v2/heartbeat')).status, 200);
  });
});

// ---------------------------------------------------------------------------
describe('7 configuration', () => {
  const create = (body) => req('POST', `${DB}/collections`, { body: { name: uniqueName('cfg'), ...body } });

  test('7.1 configuration.hnsw', async () => {
    const r = await create({
      configuration: { hnsw: { space: 'cosine', ef_construction: 200, ef_search: 50, max_neighbors: 32, resize_factor: 1.5, sync_threshold: 2000, num_threads: 4, batch_size: 100 } },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.configuration_json.hnsw, {
      space: 'cosine', ef_construction: 200, ef_search: 50, max_neighbors: 32, resize_factor: 1.5, sync_threshold: 2000,
    });
    const g = await req('GET', `${DB}/collections/${r.json.name}`);
    assert.deepEqual(g.json.configuration_json, r.json.configuration_json);
    const partial = await create({ configuration: { hnsw: { space: 'ip' } } });
    assert.deepEqual(partial.json.configuration_json.hnsw, {
      space: 'ip', ef_construction: 100, ef_search: 100, max_neighbors: 16, resize_factor: 1.2, sync_threshold: 1000,
    });
    const empty = await create({ configuration: {} });
    assert.equal(empty.json.configuration_json.hnsw.space, 'l2');
    const nul = await create({ configuration: null, metadata: null });
    assert.equal(nul.status, 200);
  });

  test('7.1 configuration errors', async () => {
    for (const hnsw of [{ foo: 1 }, { space: 'hamming' }, { ef_search: -1 }, { max_neighbors: 'x' }]) {
      assertError(await create({ configuration: { hnsw } }), 422, 'ChromaError');
    }
    assertError(await create({ configuration: { hnsw: { space: 'l2' }, spann: { space: 'l2' } } }), 400, 'InvalidArgumentError', 'Multiple vector index configurations provided');
    for (const hnsw of [{ max_neighbors: 0 }, { sync_threshold: 1 }]) {
      const r = await create({ configuration: { hnsw } });
      if (isKsdb) assertError(r, 400, 'InvalidArgumentError');
      else assert.equal(r.status, 200);
    }
  });

  test('7.1 spann is converted to hnsw keeping the space', async () => {
    const r = await create({ configuration: { spann: { space: 'cosine', search_nprobe: 10 } } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.configuration_json.spann, null);
    assert.equal(r.json.configuration_json.hnsw.space, 'cosine');
    assert.equal(r.json.configuration_json.hnsw.max_neighbors, 16);
  });

  test('7.1 embedding_function is stored opaquely', async () => {
    for (const ef of [{ type: 'legacy' }, { type: 'known', name: 'openai', config: { model: 'x', dims: [1, 2], n: null } }]) {
      const r = await create({ configuration: { embedding_function: ef } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.configuration_json.embedding_function, ef);
      const g = await req('GET', `${DB}/collections/${r.json.name}`);
      assert.deepEqual(g.json.configuration_json.embedding_function, ef);
    }
  });

  test('7.1.2 legacy hnsw: metadata keys', async () => {
    const metadata = { 'hnsw:space': 'cosine', 'hnsw:M': 32, 'hnsw:construction_ef': 200, 'hnsw:search_ef': 50, other: 'x' };
    const r = await create({ metadata, configuration: { embedding_function: { type: 'legacy' } } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.metadata, metadata);
    assert.deepEqual(r.json.configuration_json.hnsw, {
      space: 'cosine', ef_construction: 200, ef_search: 50, max_neighbors: 32, resize_factor: 1.2, sync_threshold: 1000,
    });
    const r2 = await create({ metadata: { 'hnsw:resize_factor': 2.5, 'hnsw:sync_threshold': 10, 'hnsw:batch_size': 5, 'hnsw:num_threads': 2 } });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.json.configuration_json.hnsw.resize_factor, 2.5);
    assert.equal(r2.json.configuration_json.hnsw.sync_threshold, 10);
    // configuration.hnsw wins over metadata.
    const both = await create({ metadata: { 'hnsw:space': 'cosine' }, configuration: { hnsw: { space: 'ip' } } });
    assert.equal(both.json.configuration_json.hnsw.space, 'ip');
    assert.deepEqual(both.json.metadata, { 'hnsw:space': 'cosine' });
    for (const bad of [{ 'hnsw:foo': 1 }, { 'hnsw:M': '16' }, { 'hnsw:space': 'hamming' }, { 'hnsw:sync_threshold': 1 }, { 'hnsw:batch_size': 1 }]) {
      assertError(await create({ metadata: bad }), 400, 'InvalidArgumentError', 'Failed to parse hnsw parameters from segment metadata');
    }
  });

  test('7.3 distances of the three spaces', async () => {
    const expected = {
      l2: [['a', 1], ['b', 2], ['d', 8], ['c', 13]],
      cosine: [['c', 0.010050476], ['a|b', 0.29289323], ['a|b', 0.29289323], ['d', 2]],
      ip: [['c', -6], ['b', -1], ['a', 0], ['d', 3]],
    };
    for (const space of ['l2', 'cosine', 'ip']) {
      const c = await createCollection({ configuration: { hnsw: { space } } });
      await add(c.id, { ids: ['a', 'b', 'c', 'd'], embeddings: [[1, 0], [0, 2], [3, 4], [-1, -1]] });
      const r = await query(c.id, { query_embeddings: [[1, 1]], n_results: 4, include: ['distances', 'embeddings'] });
      expected[space].forEach(([id, dist], i) => {
        assert.ok(id.split('|').includes(r.ids[0][i]), `${space}[${i}] ${r.ids[0][i]}`);
        assertClose(r.distances[0][i], dist, `${space}[${i}]`);
      });
      // Returned unnormalised (to float32 precision: the reference rescales
      // its normalised copy, [-1,-1] comes back as -0.99999994).
      const emb = Object.fromEntries(r.ids[0].map((id, i) => [id, r.embeddings[0][i]]));
      const want = { a: [1, 0], b: [0, 2], c: [3, 4], d: [-1, -1] };
      for (const [id, v] of Object.entries(want)) v.forEach((x, j) => assertClose(emb[id][j], x, `${space} ${id}`));
    }
  });

  test('7.3 cosine with zero vectors is distance 1', async () => {
    const c = await createCollection({ configuration: { hnsw: { space: 'cosine' } } });
    await add(c.id, { ids: ['z', 'x'], embeddings: [[0, 0], [1, 0]] });
    const r = await query(c.id, { query_embeddings: [[0, 1], [0, 0]], n_results: 2 });
    assert.deepEqual(r.ids[0].slice().sort(), ['x', 'z']);
    assertClose(r.distances[0][0], 1);
    assertClose(r.distances[0][1], 1);
    assertClose(r.distances[1][0], 1);
  });
});

// ---------------------------------------------------------------------------
describe('8 get and query layout', () => {
  test('8.1 get: key order, include echo, null for non-included', async () => {
    const c = await seeded();
    const r = await req('POST', col(c.id, 'get'), { body: {} });
    assert.deepEqual(Object.keys(r.json), GET_KEYS);
    assert.deepEqual(r.json, {
      ids: ['a', 'b', 'c'], embeddings: null, documents: ['hello world', 'foo bar', null], uris: null,
      metadatas: [{ k: 1, s: 'x' }, null, { f: 1.5, b: true }], include: ['documents', 'metadatas'],
    });
    const all = await get(c.id, { include: ['uris', 'embeddings', 'metadatas', 'documents'] });
    assert.deepEqual(Object.keys(all), GET_KEYS);
    assert.deepEqual(all.include, ['uris', 'embeddings', 'metadatas', 'documents']);
    assert.deepEqual(all.embeddings, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    assert.deepEqual(all.uris, ['u1', null, 'u3']);
    const dup = await get(c.id, { include: ['documents', 'documents', 'distances'] });
    assert.deepEqual(dup.include, ['documents', 'documents', 'distances']);
    assert.deepEqual(Object.keys(dup), GET_KEYS);
    assert.equal(dup.metadatas, null);
    const none = await get(c.id, { include: [] });
    assert.deepEqual(none, { ids: ['a', 'b', 'c'], embeddings: null, documents: null, uris: null, metadatas: null, include: [] });
  });

  test('8.1 get: limit, offset, ids, filters applied in storage order', async () => {
    const c = await createCollection();
    const ids = Array.from({ length: 15 }, (_, i) => `r${i}`);
    await add(c.id, { ids, embeddings: ids.map((_, i) => [i]), metadatas: ids.map((_, i) => ({ g: i % 3 })) });
    assert.deepEqual((await get(c.id, { where: { g: 1 }, limit: 2, offset: 1, include: [] })).ids, ['r4', 'r7']);
    assert.deepEqual((await get(c.id, { limit: 0 })).ids, []);
    assert.deepEqual((await get(c.id, { offset: 100 })).ids, []);
    assert.deepEqual((await get(c.id, { offset: 13 })).ids, ['r13', 'r14']);
    assert.deepEqual((await get(c.id, { ids: [] })).ids, []);
    assert.deepEqual((await get(c.id, { ids: ['r9', 'r2', 'r9'], limit: 1 })).ids, ['r2']);
    assert.deepEqual((await get(c.id, { ids: ['r1', 'r2', 'r4'], where: { g: 1 } })).ids, ['r1', 'r4']);
  });

  test('8.1 get on an empty collection', async () => {
    const c = await createCollection();
    const r = await req('POST', col(c.id, 'get'), { body: { include: ['documents', 'metadatas'] } });
    assert.equal(r.text, '{"ids":[],"embeddings":null,"documents":[],"uris":null,"metadatas":[],"include":["documents","metadatas"]}');
  });

  test('8.2 query: layout, key order, defaults', async () => {
    const c = await seeded();
    const r = await req('POST', col(c.id, 'query'), {
      body: { query_embeddings: [[1, 0, 0.1], [0, 1, 0.1]], n_results: 2, include: ['embeddings', 'documents', 'metadatas', 'uris', 'distances'] },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), QUERY_KEYS);
    assert.deepEqual(r.json.ids, [['a', 'c'], ['b', 'c']]);
    assert.deepEqual(r.json.embeddings, [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 0, 1]]]);
    assert.deepEqual(r.json.documents, [['hello world', null], ['foo bar', null]]);
    assert.deepEqual(r.json.uris, [['u1', 'u3'], [null, 'u3']]);
    assert.deepEqual(r.json.metadatas, [[{ k: 1, s: 'x' }, { f: 1.5, b: true }], [null, { f: 1.5, b: true }]]);
    assertClose(r.json.distances[0][0], 0.01);
    assertClose(r.json.distances[0][1], 1.81);
    assertClose(r.json.distances[1][0], 0.01);
    assertClose(r.json.distances[1][1], 1.81);
    assert.deepEqual(r.json.include, ['embeddings', 'documents', 'metadatas', 'uris', 'distances']);
    const d = await query(c.id, { query_embeddings: [[1, 0, 0]] });
    assert.deepEqual(d.include, ['documents', 'metadatas', 'distances']);
    assert.equal(d.embeddings, null);
    assert.equal(d.uris, null);
    assert.equal(d.ids[0].length, 3);
  });

  test('8.2 query: n_results, ids, where, empty inputs', async () => {
    const c = await createCollection();
    const ids = Array.from({ length: 12 }, (_, i) => `q${i}`);
    await add(c.id, { ids, embeddings: ids.map((_, i) => [i, 0]), metadatas: ids.map((_, i) => ({ even: i % 2 === 0 })) });
    assert.equal((await query(c.id, { query_embeddings: [[0, 0]] })).ids[0].length, 10);
    assert.equal((await query(c.id, { query_embeddings: [[0, 0]], n_results: null })).ids[0].length, 10);
    const zero = await query(c.id, { query_embeddings: [[0, 0], [1, 0]], n_results: 0 });
    assert.deepEqual(zero.ids, [[], []]);
    assert.deepEqual(zero.distances, [[], []]);
    assert.equal((await query(c.id, { query_embeddings: [[0, 0]], n_results: 100 })).ids[0].length, 12);
    assert.deepEqual((await query(c.id, { query_embeddings: [[0, 0]], ids: [] })).ids, [[]]);
    assert.deepEqual((await query(c.id, { query_embeddings: [[0, 0]], ids: ['q5', 'q3', 'q5'], include: [] })).ids, [['q3', 'q5']]);
    assert.deepEqual((await query(c.id, { query_embeddings: [[0, 0]], where: { even: false }, n_results: 3, include: [] })).ids, [['q1', 'q3', 'q5']]);
    const nomatch = await req('POST', col(c.id, 'query'), { body: { query_embeddings: [[0, 0]], where: { even: 'x' } } });
    assert.equal(nomatch.text, '{"ids":[[]],"embeddings":null,"documents":[[]],"uris":null,"metadatas":[[]],"distances":[[]],"include":["documents","metadatas","distances"]}');
    const empty = await req('POST', col(c.id, 'query'), { body: { query_embeddings: [] } });
    assert.equal(empty.text, '{"ids":[],"embeddings":null,"documents":[],"uris":null,"metadatas":[],"distances":[],"include":["documents","metadatas","distances"]}');
    // ?limit=&offset= on query are accepted and ignored.
    const lim = await req('POST', `${col(c.id, 'query')}?limit=1&offset=5`, { body: { query_embeddings: [[0, 0]], n_results: 3, include: [] } });
    assert.equal(lim.status, 200);
    assert.deepEqual(lim.json.ids, [['q0', 'q1', 'q2']]);
    await unchanged(c.id, async () => {
      assertError(await req('POST', col(c.id, 'query'), { body: { query_embeddings: [[0, 0, 0]] } }), 400, 'InvalidArgumentError', 'Collection expecting embedding with dimension of 2, got 3');
      assertError(await req('POST', col(c.id, 'query'), { body: { query_embeddings: [[0, 0], [1]] } }), 400, 'InvalidArgumentError');
    });
  });

  test('8.2 query with unknown ids', async () => {
    const c = await seeded();
    const r = await req('POST', col(c.id, 'query'), { body: { query_embeddings: [[1, 0, 0]], ids: ['a', 'nosuch'], include: [] } });
    if (isKsdb) {
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.ids, [['a']]);
    } else {
      assertError(r, 500, 'InternalError');
    }
  });

  test('8.2 query on an empty collection: no dimension check', async () => {
    const c = await createCollection();
    const r = await req('POST', col(c.id, 'query'), { body: { query_embeddings: [[1, 2, 3], [4, 5, 6]] } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, '{"ids":[[],[]],"embeddings":null,"documents":[[],[]],"uris":null,"metadatas":[[],[]],"distances":[[],[]],"include":["documents","metadatas","distances"]}');
  });

  test('8.3 base64 embeddings', async () => {
    const c = await createCollection();
    const r = await req('POST', col(c.id, 'add'), { body: { ids: ['a', 'b'], embeddings: ['AACAPwAAAEAAAEBA', f32Base64([0.5, 0.25, -1])] } });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual((await get(c.id, { include: ['embeddings'] })).embeddings, [[1, 2, 3], [0.5, 0.25, -1]]);
    assert.equal((await req('POST', col(c.id, 'upsert'), { body: { ids: ['c'], embeddings: [f32Base64([7, 8, 9])] } })).status, 200);
    assert.equal((await req('POST', col(c.id, 'update'), { body: { ids: ['a', 'b'], embeddings: [null, f32Base64([0.1, 0.2, 0.3])] } })).status, 200);
    const g = await get(c.id, { include: ['embeddings'] });
    assert.deepEqual(g.embeddings, [[1, 2, 3], [0.1, 0.2, 0.3], [7, 8, 9]]);
    await unchanged(c.id, async () => {
      assertError(await req('POST', col(c.id, 'add'), { body: { ids: ['z'], embeddings: ['!!!!'] } }), 400, 'InvalidArgumentError', 'Base64 decoding error');
      assertError(await req('POST', col(c.id, 'add'), { body: { ids: ['z'], embeddings: [Buffer.alloc(5).toString('base64')] } }), 400, 'InvalidArgumentError', 'Base64 decoding error');
      assertError(await req('POST', col(c.id, 'add'), { body: { ids: ['z'], embeddings: [''] } }), 400, 'InvalidArgumentError', 'Each embedding must have at least 1 dimension');
      assertError(await req('POST', col(c.id, 'add'), { body: { ids: ['z'], embeddings: [f32Base64([1, 2])] } }), 400, 'InvalidArgumentError', 'dimension of 3, got 2');
      assertError(await req('POST', col(c.id, 'update'), { body: { ids: ['a'], embeddings: ['!!!!'] } }), 400, 'InvalidArgumentError', 'Base64 decoding error');
      assertError(await req('POST', col(c.id, 'add'), { body: { ids: ['z', 'y'], embeddings: [[1, 2, 3], 'AACAPwAAAEAAAEBA'] } }), 422, 'ChromaError');
      assertError(await req('POST', col(c.id, 'query'), { body: { query_embeddings: ['AACAPwAAAEAAAEBA'] } }), 422, 'ChromaError');
    });
  });
});
