// Keep-alive behaviour seen by the official JS client: a client whose event
// loop was blocked for longer than ksdb's former 5 s idle timeout reuses its
// pooled socket for the next request, which must still work (the reference
// never closes idle sockets; a server that closed it meanwhile made that
// request fail with "other side closed"). And many idle or stalled sockets
// must not starve a new client. ksdb only: `ksdb run --max-connections N`
// caps open connections (a 503 beyond it) and rejects a cap of 0.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeClient } from './lib/client.mjs';
import { CHROMA_URL, isKsdb, KSDB_BIN } from './lib/env.mjs';
import { ServerProcess, startKsdb } from './lib/server_process.mjs';

// Blocks this thread (and so the event loop) for `ms` without burning CPU.
function blockEventLoop(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('a request after the event loop was blocked for 6 s succeeds on the pooled socket', async () => {
  const client = makeClient();
  const before = await client.heartbeat();
  assert.equal(typeof before, 'number');
  blockEventLoop(6000);
  const afterBlock = await client.heartbeat();
  assert.equal(typeof afterBlock, 'number');
});

// Opens `count` TCP connections to the server and resolves once all are
// connected; each first sends `prefix` (if any) and then nothing more.
async function openIdleSockets(count, prefix, base = CHROMA_URL) {
  const url = new URL(base);
  const sockets = [];
  await Promise.all(
    Array.from({ length: count }, () => new Promise((resolve, reject) => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
        if (prefix) socket.write(prefix);
        resolve();
      });
      socket.on('error', reject);
      sockets.push(socket);
    })),
  );
  return sockets;
}

function closeAll(sockets) {
  for (const socket of sockets) socket.destroy();
}

// GET /api/v2/heartbeat on a new connection (not a pooled keep-alive socket
// that the server may already be serving); resolves to the status code, or
// rejects after 20 s without a response.
function heartbeatOnNewConnection(base = CHROMA_URL) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    let response = '';
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(`GET /api/v2/heartbeat HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
    });
    socket.setTimeout(20000, () => {
      socket.destroy();
      reject(new Error('no response within 20 s'));
    });
    socket.on('data', (chunk) => { response += chunk.toString('latin1'); });
    socket.on('end', () => resolve(Number(response.split(' ')[1])));
    socket.on('close', () => resolve(Number(response.split(' ')[1])));
    socket.on('error', reject);
  });
}

// ksdb's default worker cap is 512: idle sockets must not each hold a worker.
test('600 idle connections do not keep a new request from being served', { timeout: 30000 }, async () => {
  const sockets = await openIdleSockets(600);
  try {
    assert.equal(await heartbeatOnNewConnection(), 200);
  } finally {
    closeAll(sockets);
  }
});

test('600 connections stalled halfway through a request line do not block others', { timeout: 30000 }, async () => {
  const sockets = await openIdleSockets(600, 'GET /api/v2/heart');
  try {
    assert.equal(await heartbeatOnNewConnection(), 200);
  } finally {
    closeAll(sockets);
  }
});

const ksdbOnly = !isKsdb ? 'ksdb only' : !KSDB_BIN ? 'KSDB_BIN not set' : false;
const tempDirs = [];
const servers = [];
after(async () => {
  for (const p of servers) await p.stop('SIGKILL');
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ksdb-keepalive-'));
  tempDirs.push(d);
  return d;
}

test('--max-connections caps open connections with a 503', { skip: ksdbOnly, timeout: 60000 }, async () => {
  const s = await startKsdb(KSDB_BIN, tempDir(), ['--max-connections', '3']);
  servers.push(s.proc);
  // waitReady's fetch may still hold a pooled socket: a new connection is
  // refused only once three are open, whoever holds them.
  const sockets = await openIdleSockets(3, undefined, s.url);
  try {
    assert.equal(await heartbeatOnNewConnection(s.url), 503);
  } finally {
    closeAll(sockets);
  }
  // Closed sockets free their places once the server has noticed.
  let status = 0;
  for (let i = 0; i < 200 && status !== 200; i++) status = await heartbeatOnNewConnection(s.url);
  assert.equal(status, 200);
  const exit = await s.proc.stop();
  assert.equal(exit?.code, 0);
});

test('--max-connections 0 is refused at start', { skip: ksdbOnly, timeout: 30000 }, async () => {
  const proc = new ServerProcess(KSDB_BIN, ['run', '--path', tempDir(), '--host', '127.0.0.1',
    '--port', '0', '--max-connections', '0']);
  servers.push(proc);
  const result = await proc.waitExit();
  assert.ok(result, 'ksdb did not exit');
  assert.notEqual(result.code, 0);
  assert.match(proc.output, /--max-connections/);
});
