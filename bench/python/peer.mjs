// The reference side of bench/python: the same workloads as bench.py, through
// the official chromadb JS client (bench/server/node_modules), against the
// server at --url (run.sh starts the reference Chroma server there).
//
//   node bench/python/peer.mjs --url URL --data vectors.f32 [--n N]
//        [--small-runs 5] [--big-runs 1] [--out FILE]
//
// small: records 0..999 (ids "id-<n>", metadata {"i": n}, 384-d embeddings
//        from --data, written by `bench.py gen`) in one collection.add into a
//        fresh cosine collection, ms per run;
// big:   all N records in batches of the server's max_batch_size, one add
//        call after the other, until the last returns (records/s).
// Prints one JSON object on stdout, progress on stderr.

import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ChromaClient } from '../server/node_modules/chromadb/dist/chromadb.mjs';

const kDim = 384;
const kSmall = 1000;

// Embeddings are always passed explicitly; without getConfig the client
// sends a legacy embedding function instead of importing a default one.
const noEmbed = {
  generate: async () => {
    throw new Error('peer.mjs passes embeddings explicitly');
  },
};

function log(message) {
  process.stderr.write(`[peer.mjs ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      data: { type: 'string' },
      n: { type: 'string', default: '0' },
      'small-runs': { type: 'string', default: '5' },
      'big-runs': { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  });
  if (!values.url || !values.data) throw new Error('peer.mjs needs --url and --data');
  return {
    url: new URL(values.url),
    data: values.data,
    n: Number.parseInt(values.n, 10) || 0,
    smallRuns: Math.max(1, Number.parseInt(values['small-runs'], 10)),
    bigRuns: Math.max(0, Number.parseInt(values['big-runs'], 10)),
    out: values.out,
  };
}

// The rows of the data file (float32 little-endian, 384 per row).
function loadRows(path, limit) {
  const bytes = readFileSync(path);
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const count = Math.min(floats.length / kDim, limit || Infinity);
  const rows = new Array(count);
  for (let i = 0; i < count; i++) rows[i] = Array.from(floats.subarray(i * kDim, (i + 1) * kDim));
  return rows;
}

function records(rows, from, to) {
  const ids = [];
  const metadatas = [];
  for (let i = from; i < to; i++) {
    ids.push(`id-${i}`);
    metadatas.push({ i });
  }
  return { ids, embeddings: rows.slice(from, to), metadatas };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

let sequence = 0;

async function newCollection(client, tag) {
  sequence += 1;
  return client.createCollection({
    name: `peer-${tag}-${process.pid}-${sequence}`,
    configuration: { hnsw: { space: 'cosine' } },
    embeddingFunction: noEmbed,
  });
}

async function smallAdd(client, rows) {
  const batch = records(rows, 0, kSmall);
  const col = await newCollection(client, 'small');
  const start = performance.now();
  await col.add(batch);
  const ms = performance.now() - start;
  if ((await col.count()) !== kSmall) throw new Error('small add: wrong count');
  await client.deleteCollection({ name: col.name });
  return ms;
}

async function bigAdd(client, rows, batchSize) {
  const n = rows.length;
  // The arguments are built before the clock starts, as the Python side
  // receives its numpy array ready.
  const batches = [];
  for (let from = 0; from < n; from += batchSize) {
    batches.push(records(rows, from, Math.min(n, from + batchSize)));
  }
  const col = await newCollection(client, 'big');
  const start = performance.now();
  for (const batch of batches) await col.add(batch);
  const seconds = (performance.now() - start) / 1000;
  if ((await col.count()) !== n) throw new Error('big add: wrong count');
  await client.deleteCollection({ name: col.name });
  log(`big add ${n} in ${batches.length} batches of ${batchSize}: ${seconds.toFixed(2)} s`);
  return { seconds: Math.round(seconds * 1000) / 1000, records_per_s: Math.round(n / seconds) };
}

async function main() {
  const opts = options();
  const rows = loadRows(opts.data, opts.n);
  const client = new ChromaClient({
    host: opts.url.hostname,
    port: Number(opts.url.port || 80),
    ssl: false,
  });
  const maxBatchSize = await client.getMaxBatchSize();
  const smallMs = [];
  for (let r = 0; r < opts.smallRuns; r++) {
    smallMs.push(await smallAdd(client, rows));
    log(`small add run ${r + 1}/${opts.smallRuns}: ${smallMs[r].toFixed(1)} ms`);
  }
  const big = [];
  for (let r = 0; r < opts.bigRuns; r++) big.push(await bigAdd(client, rows, maxBatchSize));
  const result = {
    client: 'chromadb (JS) 3.0.9',
    max_batch_size: maxBatchSize,
    small_ms: smallMs.map((x) => Math.round(x * 100) / 100),
    small_ms_median: Math.round(median(smallMs) * 100) / 100,
    big_n: rows.length,
    big_runs: big,
    big_records_per_s_median: big.length ? median(big.map((b) => b.records_per_s)) : null,
  };
  const text = JSON.stringify(result, null, 1);
  if (opts.out) writeFileSync(opts.out, `${text}\n`);
  process.stdout.write(`${text}\n`);
}

main().catch((error) => {
  process.stderr.write(`peer.mjs: ${error.stack || error}\n`);
  process.exit(1);
});
