// Faults of the PostgreSQL store through the server (ksdb only). Needs
// KSDB_BIN, KSDB_PG_FAULT_URL (a database of its own) and KSDB_TEST_PG_RESTART
// (a command restarting the test cluster); scripts/test_pg_api.sh sets them.
// - The database restarted in the middle of an ingest: requests in flight get
//   clean JSON errors, nothing acknowledged is lost, later requests succeed.
// - The database unreachable at start: a clear message naming the store
//   (without its password) and a non-zero exit.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { req } from './lib/http.mjs';
import { isKsdb, KSDB_BIN } from './lib/env.mjs';
import { startKsdb, ServerProcess } from './lib/server_process.mjs';

const PG_URL = process.env.KSDB_PG_FAULT_URL || '';
const RESTART = process.env.KSDB_TEST_PG_RESTART || '';
const skip = !isKsdb ? 'ksdb only' : !KSDB_BIN ? 'KSDB_BIN not set'
  : !PG_URL || !RESTART ? 'KSDB_PG_FAULT_URL / KSDB_TEST_PG_RESTART not set (scripts/test_pg_api.sh sets them)' : false;
const DBP = '/api/v2/tenants/default_tenant/databases/default_database';

const tempDirs = [];
const servers = [];
function tempDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ksdb-pgfault-'));
  tempDirs.push(d);
  return d;
}
after(async () => {
  for (const p of servers) await p.stop();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

// Runs the restart command; resolves with its exit code.
function restartDatabase() {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', RESTART], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code));
  });
}

function batch(prefix, n) {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  return { ids, embeddings: ids.map((_, i) => [i % 7, i % 5, 1]) };
}

describe('PostgreSQL faults through the server', { skip }, () => {
  test('database restarted during an ingest', async () => {
    const dir = tempDir();
    const s = await startKsdb(KSDB_BIN, dir, ['--store', PG_URL]);
    servers.push(s.proc);
    const c = (await req('POST', `${DBP}/collections`, { base: s.url, body: { name: 'fault-ingest' } })).json;
    const acknowledged = [];
    let failures = 0;
    let restarted = false;
    const restart = (async () => {
      // Restart once the ingest is under way (bounded: 20 s).
      const deadline = Date.now() + 20000;
      while (acknowledged.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await restartDatabase(), 0);
      restarted = true;
    })();
    for (let i = 0; i < 400 && !(restarted && acknowledged.length >= 10); ++i) {
      const body = batch(`b${i}`, 50);
      const r = await req('POST', `${DBP}/collections/${c.id}/add`, { base: s.url, body });
      if (r.status === 201) {
        acknowledged.push(...body.ids);
      } else {
        failures += 1;
        assert.ok(r.status >= 500, `status ${r.status}: ${r.text}`);
        assert.equal(typeof r.json?.error, 'string', `not a JSON error: ${r.text}`);
        assert.doesNotMatch(r.text, /SELECT|INSERT/);
      }
    }
    await restart;
    // Later requests succeed.
    const last = batch('after', 20);
    const r = await req('POST', `${DBP}/collections/${c.id}/add`, { base: s.url, body: last });
    assert.equal(r.status, 201, r.text);
    acknowledged.push(...last.ids);
    const stats = (await req('GET', '/api/v2/ksdb/stats', { base: s.url })).json;
    assert.ok(stats.pool.reconnects + stats.pool.discarded + stats.pool.connect_errors > 0,
      JSON.stringify(stats.pool));
    // Nothing acknowledged is lost: also after reopening from the database.
    await s.proc.stop();
    const again = await startKsdb(KSDB_BIN, tempDir(), ['--store', PG_URL]);
    servers.push(again.proc);
    const got = (await req('POST', `${DBP}/collections/${c.id}/get`, {
      base: again.url, body: { ids: acknowledged, include: [] },
    })).json;
    assert.equal(got.ids.length, acknowledged.length, `failures during the restart: ${failures}`);
  });

  test('database unreachable at start: clear message, non-zero exit', async () => {
    const proc = new ServerProcess(KSDB_BIN, ['run', '--path', tempDir(), '--port', '0',
      '--store', 'postgresql://ksdb:sekret-pw@127.0.0.1:1/ksdb']);
    servers.push(proc);
    const result = await proc.waitExit(30000);
    assert.ok(result, 'the server did not exit');
    assert.notEqual(result.code, 0);
    assert.match(proc.output, /cannot open store postgresql:\/\/ksdb@127\.0\.0\.1:1\/ksdb/);
    assert.doesNotMatch(proc.output, /sekret-pw/);
  });
});
