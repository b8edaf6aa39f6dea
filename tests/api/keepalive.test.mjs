// Keep-alive behaviour seen by the official JS client: a client whose event
// loop was blocked for longer than ksdb's former 5 s idle timeout reuses its
// pooled socket for the next request, which must still work (the reference
// never closes idle sockets; a server that closed it meanwhile made that
// request fail with "other side closed").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeClient } from './lib/client.mjs';

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
