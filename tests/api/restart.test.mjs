// Durability and process-level behaviour of ksdb (ksdb only; needs KSDB_BIN).
// Starts its own servers on free ports and temp data directories:
// acknowledged writes survive SIGKILL, a second server on the same --path
// is refused (data-dir lock), SIGTERM exits 0, reset with --allow-reset.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { req } from './lib/http.mjs';
import { isKsdb, KSDB_BIN } from './lib/env.mjs';
import { startKsdb, freePort, ServerProcess } from './lib/server_process.mjs';

const skip = !isKsdb ? 'ksdb only' : !KSDB_BIN ? 'KSDB_BIN not set' : false;
const DBP = '/api/v2/tenants/default_tenant/databases/default_database';
const ALL = ['embeddings', 'documents', 'metadatas', 'uris'];

const tempDirs = [];
const servers = [];
function tempDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ksdb-restart-'));
  tempDirs.push(d);
  return d;
}
async function start(dir, extra) {
  const s = await startKsdb(KSDB_BIN, dir, extra);
  servers.push(s.proc);
  return s;
}
after(async () => {
  for (const p of servers) await p.stop('SIGKILL');
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

// Sends one request to `base` and asserts the expected status.
async function call(base, method, p, body, status) {
  const r = await req(method, p, { base, body });
  assert.equal(r.status, status, `${method} ${p}: ${r.text}`);
  return r.json;
}

// Everything a client can observe about the given databases.
async function observe(base, dbPaths) {
  const out = {};
  for (const dbp of dbPaths) {
    const list = await call(base, 'GET', `${dbp}/collections`, undefined, 200);
    out[dbp] = {};
    for (const c of list) {
      const records = await call(base, 'POST', `${dbp}/collections/${c.id}/get`, { include: ALL }, 200);
      const cnt = await call(base, 'GET', `${dbp}/collections/${c.id}/count`, undefined, 200);
      let q = null;
      if (c.dimension) {
        q = await call(base, 'POST', `${dbp}/collections/${c.id}/query`, {
          query_embeddings: [Array.from({ length: c.dimension }, (_, i) => (i % 3) - 0.5)],
          n_results: 5, include: ['distances', 'documents'],
        }, 200);
      }
      out[dbp][c.name] = { collection: c, records, count: cnt, query: q };
    }
  }
  return out;
}

// Writes a varied history through the API; every write is acknowledged
// before the next one. Returns the database paths involved.
async function writeHistory(base) {
  const C = `${DBP}/collections`;
  const c1 = await call(base, 'POST', C, {
    name: 'durable-main', metadata: { owner: 'x', ratio: 1.5, on: true },
    configuration: { hnsw: { space: 'cosine', ef_search: 64, max_neighbors: 24 } },
  }, 200);
  const ids = Array.from({ length: 60 }, (_, i) => `r${i}`);
  await call(base, 'POST', `${C}/${c1.id}/add`, {
    ids,
    embeddings: ids.map((_, i) => [Math.cos(i), Math.sin(i), i / 7, 0.1 * i]),
    documents: ids.map((_, i) => (i % 4 === 0 ? null : `doc ${i} ünïcødé`)),
    metadatas: ids.map((_, i) => (i % 5 === 0 ? null : { i, f: i + 0.25, s: `s${i % 3}`, b: i % 2 === 0 })),
    uris: ids.map((_, i) => (i % 6 === 0 ? `uri://${i}` : null)),
  }, 201);
  await call(base, 'POST', `${C}/${c1.id}/upsert`, {
    ids: ['r3', 'new1', 'r7'], embeddings: [[1, 2, 3, 4], [5, 6, 7, 8], [0.5, 0.5, 0.5, 0.5]],
    metadatas: [{ s: null, extra: 'e' }, { fresh: 1 }, null], documents: ['upserted', null, null],
  }, 200);
  await call(base, 'POST', `${C}/${c1.id}/update`, {
    ids: ['r1', 'r2', 'ghost'], embeddings: [null, [9, 9, 9, 9], [1, 1, 1, 1]],
    documents: ['updated doc', null, 'x'], metadatas: [{ i: null, u: true }, {}, { g: 1 }], uris: ['u-new', null, null],
  }, 200);
  await call(base, 'POST', `${C}/${c1.id}/delete`, { ids: ['r10', 'r11', 'nosuch'] }, 200);
  await call(base, 'POST', `${C}/${c1.id}/delete`, { where: { s: 's2' } }, 200);
  await call(base, 'POST', `${C}/${c1.id}/add`, { ids: ['r10'], embeddings: [[0, 0, 0, 1]], documents: ['re-added'] }, 201);
  await call(base, 'PUT', `${C}/${c1.id}`, { new_metadata: { owner: 'y', v: 2 }, new_configuration: { hnsw: { ef_search: 99 } } }, 200);

  const c2 = await call(base, 'POST', C, { name: 'before-rename' }, 200);
  await call(base, 'POST', `${C}/${c2.id}/add`, { ids: ['a', 'b'], embeddings: [[1, 0], [0, 1]] }, 201);
  await call(base, 'PUT', `${C}/${c2.id}`, { new_name: 'after-rename' }, 200);

  const c3 = await call(base, 'POST', C, { name: 'dropped' }, 200);
  await call(base, 'POST', `${C}/${c3.id}/add`, { ids: ['z'], embeddings: [[1]] }, 201);
  await call(base, 'DELETE', `${C}/dropped`, undefined, 200);

  await call(base, 'POST', C, { name: 'never-written', metadata: { 'hnsw:space': 'ip' } }, 200);
  const c6 = await call(base, 'POST', C, { name: 'emptied' }, 200);
  await call(base, 'POST', `${C}/${c6.id}/add`, { ids: ['x', 'y'], embeddings: [[1, 2, 3], [4, 5, 6]] }, 201);
  await call(base, 'POST', `${C}/${c6.id}/delete`, { ids: ['x', 'y'] }, 200);

  await call(base, 'POST', '/api/v2/tenants', { name: 'restart-tenant' }, 200);
  await call(base, 'POST', '/api/v2/tenants/restart-tenant/databases', { name: 'restart-db' }, 200);
  await call(base, 'POST', '/api/v2/tenants/restart-tenant/databases', { name: 'doomed-db' }, 200);
  await call(base, 'DELETE', '/api/v2/tenants/restart-tenant/databases/doomed-db', undefined, 200);
  const otherDb = '/api/v2/tenants/restart-tenant/databases/restart-db';
  const c4 = await call(base, 'POST', `${otherDb}/collections`, { name: 'durable-main', configuration: { hnsw: { space: 'ip' } } }, 200);
  await call(base, 'POST', `${otherDb}/collections/${c4.id}/add`, { ids: ['p'], embeddings: ['AACAPwAAAEAAAEBA'], documents: ['pp'] }, 201);
  await call(base, 'POST', `${otherDb}/collections/${c4.id}/add`, { ids: ['q'], embeddings: [[0.5, 0.25, -1]], documents: ['qq'] }, 201);
  return [DBP, otherDb];
}

async function tenantsAndDbs(base) {
  return {
    tenant: (await req('GET', '/api/v2/tenants/restart-tenant', { base })).status,
    dbs: (await call(base, 'GET', '/api/v2/tenants/restart-tenant/databases', undefined, 200)).map((d) => [d.id, d.name]),
    doomed: (await req('GET', '/api/v2/tenants/restart-tenant/databases/doomed-db', { base })).status,
  };
}

describe('ksdb process lifecycle', { skip }, () => {
  test('acknowledged writes survive SIGKILL; lock; SIGTERM exits 0', async () => {
    const dir = tempDir();
    const first = await start(dir);
    // Reset is off without --allow-reset.
    const reset = await req('POST', '/api/v2/reset', { base: first.url });
    assert.equal(reset.status, 403, reset.text);
    assert.equal(reset.json.error, 'ChromaError');

    const dbs = await writeHistory(first.url);
    const before = await observe(first.url, dbs);
    const beforeTenants = await tenantsAndDbs(first.url);
    assert.deepEqual(Object.keys(before[DBP]).sort(), ['after-rename', 'durable-main', 'emptied', 'never-written']);
    assert.equal(before[DBP].emptied.collection.dimension, 3);
    assert.equal(before[DBP]['never-written'].collection.dimension, null);

    const killed = await first.proc.stop('SIGKILL');
    assert.equal(killed?.signal, 'SIGKILL');

    const second = await start(dir);
    const afterKill = await observe(second.url, dbs);
    assert.deepEqual(afterKill, before);
    assert.deepEqual(await tenantsAndDbs(second.url), beforeTenants);
    assert.equal((await req('GET', `${DBP}/collections/dropped`, { base: second.url })).status, 404);
    // Dimension rules still hold after recovery.
    const emptied = before[DBP].emptied.collection;
    const dimErr = await req('POST', `${DBP}/collections/${emptied.id}/add`, { base: second.url, body: { ids: ['n'], embeddings: [[1, 2]] } });
    assert.equal(dimErr.status, 400, dimErr.text);

    // A second server on the same --path must refuse to start.
    const port = await freePort();
    const intruder = new ServerProcess(KSDB_BIN, ['run', '--path', dir, '--host', '127.0.0.1', '--port', String(port)]);
    servers.push(intruder);
    const res = await intruder.waitExit(20000);
    assert.ok(res, `second server on the same path did not exit; output:\n${intruder.output}`);
    assert.notEqual(res.code, 0, intruder.output);
    assert.match(intruder.output, /lock/i);
    assert.equal((await req('GET', '/api/v2/heartbeat', { base: second.url })).status, 200);

    const term = await second.proc.stop('SIGTERM');
    assert.deepEqual(term, { code: 0, signal: null }, second.proc.output);

    // And once more after a clean shutdown.
    const third = await start(dir);
    assert.deepEqual(await observe(third.url, dbs), before);
    const term3 = await third.proc.stop('SIGTERM');
    assert.equal(term3?.code, 0, third.proc.output);
  });

  test('reset with --allow-reset wipes everything but the defaults', async () => {
    const dir = tempDir();
    const s = await start(dir, ['--allow-reset']);
    const base = s.url;
    const c = await call(base, 'POST', `${DBP}/collections`, { name: 'to-reset' }, 200);
    await call(base, 'POST', `${DBP}/collections/${c.id}/add`, { ids: ['a'], embeddings: [[1]] }, 201);
    await call(base, 'POST', '/api/v2/tenants', { name: 'reset-ten' }, 200);
    const r = await req('POST', '/api/v2/reset', { base });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json, true);
    assert.deepEqual(await call(base, 'GET', `${DBP}/collections`, undefined, 200), []);
    assert.equal((await req('GET', '/api/v2/tenants/reset-ten', { base })).status, 404);
    assert.equal((await req('GET', `${DBP}/collections/${c.id}/count`, { base })).status, 404);
    assert.equal((await req('GET', '/api/v2/tenants/default_tenant', { base })).status, 200);
    assert.equal((await req('GET', DBP, { base })).status, 200);
    // The reset state is durable too.
    await s.proc.stop('SIGKILL');
    const s2 = await start(dir, ['--allow-reset']);
    assert.deepEqual(await call(s2.url, 'GET', `${DBP}/collections`, undefined, 200), []);
    assert.equal((await req('GET', '/api/v2/tenants/reset-ten', { base: s2.url })).status, 404);
    assert.equal((await s2.proc.stop('SIGTERM'))?.code, 0);
  });
});
