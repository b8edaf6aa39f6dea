// Keep-alive behaviour seen by the official JS client: a client whose event
// loop was blocked for longer than ksdb's former 5 s idle timeout reuses its
// pooled socket for the next request, which must still work (the reference
// never closes idle sockets; a server that closed it meanwhile made that
// request fail with "other side closed"). And many idle or stalled sockets
// must not starve a new client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { makeClient } from './lib/client.mjs';
import { CHROMA_URL } from './lib/env.mjs';

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
async function openIdleSockets(count, prefix) {
  const url = new URL(CHROMA_URL);
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
function heartbeatOnNewConnection() {
  const url = new URL(CHROMA_URL);
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
