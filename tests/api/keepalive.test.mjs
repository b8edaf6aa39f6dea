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

// ksdb's default worker cap is 512: idle sockets must not each hold a worker.
test('600 idle connections do not keep a new request from being served', { timeout: 30000 }, async () => {
  const sockets = await openIdleSockets(600);
  try {
    const client = makeClient();
    assert.equal(typeof (await client.heartbeat()), 'number');
  } finally {
    closeAll(sockets);
  }
});

test('connections stalled halfway through a request line do not block others', { timeout: 30000 }, async () => {
  const sockets = await openIdleSockets(100, 'GET /api/v2/heart');
  try {
    const client = makeClient();
    assert.equal(typeof (await client.heartbeat()), 'number');
  } finally {
    closeAll(sockets);
  }
});
