// Two ksdb servers on one PostgreSQL database (ksdb only). Needs KSDB_BIN and
// KSDB_PG_MULTI_URL (an empty database of its own; scripts/test_pg_api.sh
// sets both). A write acknowledged by either server must be visible to reads
// on the other within KSDB_FOLLOW_BOUND_MS (default 1000 ms): each check polls
// until it holds or the bound passes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { req } from './lib/http.mjs';
import { isKsdb, KSDB_BIN } from './lib/env.mjs';
import { startKsdb } from './lib/server_process.mjs';

const PG_URL = process.env.KSDB_PG_MULTI_URL || '';
const BOUND_MS = Number(process.env.KSDB_FOLLOW_BOUND_MS || 1000);
const skip = !isKsdb ? 'ksdb only' : !KSDB_BIN ? 'KSDB_BIN not set'
  : !PG_URL ? 'KSDB_PG_MULTI_URL not set (scripts/test_pg_api.sh sets it)' : false;
const DBP = '/api/v2/tenants/default_tenant/databases/default_database';

const tempDirs = [];
const servers = [];
let a;
let b;

async function start() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksdb-multi-'));
  tempDirs.push(dir);
  const s = await startKsdb(KSDB_BIN, dir, ['--store', PG_URL]);
  servers.push(s);
  return s;
}

// Expects `status` (default: 201 for add, 200 otherwise).
async function call(base, method, p, body, status = defaultStatus(method, p)) {
  const r = await req(method, p, { base, body });
  assert.equal(r.status, status, `${method} ${base}${p}: ${r.text}`);
  return r.json;
}

function defaultStatus(method, p) {
  if (method !== 'POST') return 200;
  return /\/add$/.test(p) ? 201 : 200;
}

// Polls `check` (which throws until its condition holds) every 20 ms until it
// passes; fails with its last error once BOUND_MS have passed.
async function within(check) {
  const deadline = Date.now() + BOUND_MS;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function getAll(base, id) {
  return call(base, 'POST', `${DBP}/collections/${id}/get`, { include: ['documents', 'metadatas', 'embeddings'] });
}

describe('two servers on one PostgreSQL database', { skip }, () => {
  before(async () => {
    a = await start();
    b = await start();
  });
  after(async () => {
    for (const s of servers) await s.proc.stop();
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('collection create on A is visible on B', async () => {
    const c = await call(a.url, 'POST', `${DBP}/collections`, { name: 'multi-create' });
    await within(async () => {
      const got = await call(b.url, 'GET', `${DBP}/collections/multi-create`);
      assert.equal(got.id, c.id);
    });
  });

  test('records added on A are visible and queryable on B; updates and deletes on B reach A', async () => {
    const c = await call(a.url, 'POST', `${DBP}/collections`, { name: 'multi-records' });
    await call(a.url, 'POST', `${DBP}/collections/${c.id}/add`, {
      ids: ['r1', 'r2', 'r3'], embeddings: [[1, 0], [0, 1], [1, 1]], documents: ['one', 'two', 'three'],
    });
    await within(async () => {
      const got = await getAll(b.url, c.id);
      assert.deepEqual(got.ids, ['r1', 'r2', 'r3']);
      const q = await call(b.url, 'POST', `${DBP}/collections/${c.id}/query`, {
        query_embeddings: [[0, 1]], n_results: 1, include: ['documents'],
      });
      assert.deepEqual(q.ids, [['r2']]);
    });
    await call(b.url, 'POST', `${DBP}/collections/${c.id}/update`, {
      ids: ['r1'], embeddings: [[5, 5]], metadatas: [{ k: 1 }],
    });
    await call(b.url, 'POST', `${DBP}/collections/${c.id}/upsert`, {
      ids: ['r4'], embeddings: [[9, 9]], documents: ['four'],
    });
    await call(b.url, 'POST', `${DBP}/collections/${c.id}/delete`, { ids: ['r2'] });
    await within(async () => {
      const got = await getAll(a.url, c.id);
      assert.deepEqual(got.ids, ['r1', 'r3', 'r4']);
      assert.deepEqual(got.metadatas[0], { k: 1 });
      assert.deepEqual(got.embeddings[0], [5, 5]);
      const q = await call(a.url, 'POST', `${DBP}/collections/${c.id}/query`, {
        query_embeddings: [[9, 9]], n_results: 1, include: [],
      });
      assert.deepEqual(q.ids, [['r4']]);
    });
    // A write on A merges onto B's update even if A has not followed it yet.
    // (A documents-only update needs an embedder; this one carries the vector.)
    await call(b.url, 'POST', `${DBP}/collections/${c.id}/update`, {
      ids: ['r3'], documents: ['THREE'], embeddings: [[1, 1]],
    });
    await call(a.url, 'POST', `${DBP}/collections/${c.id}/update`, { ids: ['r3'], metadatas: [{ m: 2 }] });
    await within(async () => {
      for (const s of [a, b]) {
        const got = await call(s.url, 'POST', `${DBP}/collections/${c.id}/get`, { ids: ['r3'] });
        assert.deepEqual(got.documents, ['THREE']);
        assert.deepEqual(got.metadatas, [{ m: 2 }]);
      }
    });
  });

  test('rename on B and delete on A reach the other server', async () => {
    const c = await call(a.url, 'POST', `${DBP}/collections`, { name: 'multi-rename' });
    await within(() => call(b.url, 'GET', `${DBP}/collections/multi-rename`));
    await call(b.url, 'PUT', `${DBP}/collections/${c.id}`, { new_name: 'multi-renamed', new_metadata: { v: 2 } });
    await within(async () => {
      const got = await call(a.url, 'GET', `${DBP}/collections/multi-renamed`);
      assert.equal(got.id, c.id);
      assert.deepEqual(got.metadata, { v: 2 });
      await call(a.url, 'GET', `${DBP}/collections/multi-rename`, undefined, 404);
    });
    await call(a.url, 'DELETE', `${DBP}/collections/multi-renamed`);
    await within(() => call(b.url, 'GET', `${DBP}/collections/multi-renamed`, undefined, 404));
  });

  test('tenants and databases created on A are visible on B', async () => {
    await call(a.url, 'POST', '/api/v2/tenants', { name: 'multi-tenant' });
    await call(a.url, 'POST', '/api/v2/tenants/multi-tenant/databases', { name: 'multi-db' });
    await within(() => call(b.url, 'GET', '/api/v2/tenants/multi-tenant/databases/multi-db'));
  });

  test('a restarted server applies what the other wrote while it was down', async () => {
    const c = await call(a.url, 'POST', `${DBP}/collections`, { name: 'multi-restart' });
    const ids = Array.from({ length: 50 }, (_, i) => `x${i}`);
    await call(a.url, 'POST', `${DBP}/collections/${c.id}/add`, {
      ids, embeddings: ids.map((_, i) => [i, 1]),
    });
    await within(async () => assert.equal(await call(b.url, 'GET', `${DBP}/collections/${c.id}/count`), 50));
    // B writes its index snapshot on SIGTERM; A then changes the collection.
    const bDir = tempDirs[1];
    await b.proc.stop();
    await call(a.url, 'POST', `${DBP}/collections/${c.id}/delete`, { ids: ['x0', 'x1'] });
    await call(a.url, 'POST', `${DBP}/collections/${c.id}/add`, { ids: ['y'], embeddings: [[100, 100]] });
    const s = await startKsdb(KSDB_BIN, bDir, ['--store', PG_URL]);
    servers.push(s);
    b = s;
    assert.equal(await call(b.url, 'GET', `${DBP}/collections/${c.id}/count`), 49);
    const q = await call(b.url, 'POST', `${DBP}/collections/${c.id}/query`, {
      query_embeddings: [[100, 100]], n_results: 1, include: [],
    });
    assert.deepEqual(q.ids, [['y']]);
    const got = await call(b.url, 'POST', `${DBP}/collections/${c.id}/get`, { ids: ['x0', 'x2'] });
    assert.deepEqual(got.ids, ['x2']);
  });

  test('stats report the store, the pool and the follower', async () => {
    const stats = await call(b.url, 'GET', '/api/v2/ksdb/stats');
    assert.equal(stats.store, 'postgresql');
    assert.equal(stats.pool.pool_size, 20);
    assert.ok(stats.pool.checkouts > 0);
    assert.equal(typeof stats.follower.passes, 'number');
    assert.equal(stats.follower.errors, 0);
  });
});
