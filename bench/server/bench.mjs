// Server-level benchmark of one Chroma-compatible server (ksdb or the
// reference Chroma), driven through the official chromadb 3.0.9 JS client.
//
//   node bench.mjs --url http://127.0.0.1:PORT [--label NAME] [--runs N]
//                  [--ingest-runs N] [--out FILE] [--scale N] [--scale-only]
//
// --scale N adds the server-level measurements at scale: N records
// (384-d, cosine) ingested once in batches of 1000 (records/s), then single
// query p50/p99 and recall@10, queries/s with 8 concurrent clients (and with
// 8 raw-HTTP clients sending the same requests, which shows the server's own
// capacity), and the p50/recall of queries with a metadata filter matching 1%
// of the records.
// --scale-only skips the default measurements.
//
// Every measurement is repeated and reported as the median over its runs.
// The same client calls are also timed against an in-process null server
// (null_server.mjs) first: that client-side floor is part of every number.
// The data set is generated from a fixed seed, so two servers benchmarked in
// the same or in different processes see exactly the same records and
// queries. Progress goes to stderr; the result is one JSON object on stdout
// (and in --out FILE when given).
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ChromaClient } from 'chromadb';
import { startNullServer } from './null_server.mjs';
import { kDataKinds, vectorsOfKind } from './data.mjs';
import { RawConnection, buildRequest } from './raw_http.mjs';

const kDim = 384;
const kSmallCount = 1000;
const kIngestCount = 20000;
const kIngestBatch = 1000;
const kQueryCount = 200;
const kTopK = 10;
const kConcurrentClients = 8;
const kConcurrentQueries = 2000;
// The raw-HTTP clients are ~20x cheaper per query than the JS client, so a
// run of 2000 would last a fraction of a second.
const kRawConcurrentQueries = 8000;
const kGroups = 10;
const kFilterGroup = 3;
const kWarmupQueries = 20;

// An embedding function that must never be called: embeddings are always
// passed explicitly. Having no getConfig makes the client send
// `embedding_function: {"type":"legacy"}` instead of importing
// @chroma-core/default-embed (the approach of tests/api/lib/client.mjs).
const noEmbed = {
  generate: async () => {
    throw new Error('noEmbed: the benchmark passes embeddings explicitly');
  },
};

function parseOptions() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.CHROMA_URL || 'http://127.0.0.1:8000' },
      label: { type: 'string', default: 'server' },
      runs: { type: 'string', default: process.env.BENCH_RUNS || '5' },
      'ingest-runs': { type: 'string', default: process.env.BENCH_INGEST_RUNS || '5' },
      out: { type: 'string' },
      scale: { type: 'string', default: process.env.BENCH_SCALE || '0' },
      'scale-only': { type: 'boolean', default: false },
      data: { type: 'string', default: process.env.BENCH_DATA || 'random' },
    },
  });
  if (!(values.data in kDataKinds)) throw new Error(`--data: random or clustered, not ${values.data}`);
  return {
    url: values.url.replace(/\/+$/, ''),
    label: values.label,
    runs: Math.max(1, Number.parseInt(values.runs, 10)),
    ingestRuns: Math.max(1, Number.parseInt(values['ingest-runs'], 10)),
    out: values.out,
    scale: Math.max(0, Number.parseInt(values.scale, 10) || 0),
    scaleOnly: values['scale-only'],
    data: values.data,
  };
}

function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// --- data ---------------------------------------------------------------------


function row(data, i) {
  return Array.from(data.subarray(i * kDim, (i + 1) * kDim));
}

// Records [from, to) of the data set `data`, as the client's add arguments.
function records(prefix, data, from, to) {
  const ids = [];
  const embeddings = [];
  const metadatas = [];
  const documents = [];
  for (let i = from; i < to; i++) {
    ids.push(`${prefix}-${i}`);
    embeddings.push(row(data, i));
    metadatas.push({ i, group: i % kGroups, tag: `tag-${i % 7}` });
    documents.push(`document ${i} of group ${i % kGroups}`);
  }
  return { ids, embeddings, metadatas, documents };
}

// --- exact ground truth (cosine) ----------------------------------------------

function normalizedCopy(data, count) {
  const out = new Float32Array(count * kDim);
  for (let i = 0; i < count; i++) {
    let norm = 0;
    for (let d = 0; d < kDim; d++) norm += data[i * kDim + d] ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < kDim; d++) out[i * kDim + d] = data[i * kDim + d] * inv;
  }
  return out;
}

// The ids of the exact top-k cosine neighbours of every query, among the
// records that `accept(i)` admits.
function exactTopK(base, baseCount, queries, queryCount, prefix, accept = () => true) {
  const nb = normalizedCopy(base, baseCount);
  const nq = normalizedCopy(queries, queryCount);
  const truth = [];
  for (let q = 0; q < queryCount; q++) {
    const best = [];
    for (let i = 0; i < baseCount; i++) {
      if (!accept(i)) continue;
      let dot = 0;
      for (let d = 0; d < kDim; d++) dot += nq[q * kDim + d] * nb[i * kDim + d];
      const dist = 1 - dot;
      if (best.length < kTopK || dist < best[best.length - 1].dist) {
        best.push({ i, dist });
        best.sort((x, y) => x.dist - y.dist);
        if (best.length > kTopK) best.pop();
      }
    }
    truth.push(new Set(best.map((b) => `${prefix}-${b.i}`)));
  }
  return truth;
}

function recallAtK(results, truth) {
  let hits = 0;
  let total = 0;
  results.forEach((ids, q) => {
    for (const id of ids.slice(0, kTopK)) if (truth[q].has(id)) hits++;
    total += truth[q].size;
  });
  return total ? hits / total : 0;
}

// --- statistics -----------------------------------------------------------------

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

const median = (values) => percentile(values, 50);

function round(x, digits = 3) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function timed(fn) {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, start, value };
}

// --- client helpers -------------------------------------------------------------

function makeClient(url) {
  const u = new URL(url);
  return new ChromaClient({ host: u.hostname, port: Number(u.port || 80), ssl: false });
}

let collectionSeq = 0;

async function newCollection(client, tag) {
  collectionSeq += 1;
  return client.createCollection({
    name: `bench-${tag}-${process.pid}-${collectionSeq}`,
    configuration: { hnsw: { space: 'cosine' } },
    embeddingFunction: noEmbed,
  });
}

async function dropCollection(client, col) {
  await client.deleteCollection({ name: col.name });
}

// --- measurements -----------------------------------------------------------------

// 1000 single-record add calls, one after the other; resolves the ms taken.
async function timeSequentialAdds(col, all) {
  const t = await timed(async () => {
    for (let i = 0; i < kSmallCount; i++) {
      await col.add({
        ids: [all.ids[i]],
        embeddings: [all.embeddings[i]],
        metadatas: [all.metadatas[i]],
        documents: [all.documents[i]],
      });
    }
  });
  return t.ms;
}

// 1. 1000 records added one request each vs in one add call.
async function benchSmallAdds(client, runs, data) {
  const all = records('s', data, 0, kSmallCount);
  const sequentialMs = [];
  const batchMs = [];
  for (let r = 0; r < runs; r++) {
    const seqCol = await newCollection(client, 'seq');
    sequentialMs.push(await timeSequentialAdds(seqCol, all));
    await dropCollection(client, seqCol);
    const batchCol = await newCollection(client, 'batch');
    batchMs.push((await timed(() => batchCol.add(all))).ms);
    if ((await batchCol.count()) !== kSmallCount) throw new Error('batch add: wrong count');
    await dropCollection(client, batchCol);
    log(`small adds run ${r + 1}/${runs}: sequential ${sequentialMs[r].toFixed(0)} ms, batch ${batchMs[r].toFixed(1)} ms`);
  }
  const seqMedian = median(sequentialMs);
  const batchMedian = median(batchMs);
  return {
    sequential_1000_ms: round(seqMedian, 1),
    batch_1000_ms: round(batchMedian, 2),
    sequential_over_batch: round(seqMedian / batchMedian, 2),
    runs: { sequential_ms: sequentialMs.map((x) => round(x, 1)), batch_ms: batchMs.map((x) => round(x, 2)) },
  };
}

// Base64 of little-endian float32, the encoding both official clients send.
function base64Row(vec) {
  return Buffer.from(new Float32Array(vec).buffer).toString('base64');
}

// 1b. The same 1000-record batch add as raw HTTP: the body (base64 embeddings,
// as the clients send it) is encoded once, outside the timing, and the
// identical bytes go to both servers, so this measures server work plus one
// loopback round trip and nothing of the client library.
async function benchRawBatchAdd(client, url, runs, data) {
  const all = records('r', data, 0, kSmallCount);
  const body = JSON.stringify({
    ids: all.ids,
    embeddings: all.embeddings.map(base64Row),
    documents: all.documents,
    metadatas: all.metadatas,
  });
  const ms = [];
  for (let r = 0; r < runs; r++) {
    const col = await newCollection(client, 'raw');
    const path = `${url}/api/v2/tenants/default_tenant/databases/default_database/collections/${col.id}/add`;
    const t = await timed(async () => {
      const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (res.status !== 201) throw new Error(`raw add: status ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    });
    ms.push(t.ms);
    if ((await col.count()) !== kSmallCount) throw new Error('raw add: wrong count');
    await dropCollection(client, col);
    log(`raw batch add run ${r + 1}/${runs}: ${t.ms.toFixed(1)} ms`);
  }
  return { batch_1000_ms: round(median(ms), 2), body_bytes: body.length, runs_ms: ms.map((x) => round(x, 2)) };
}

// 0. The client-side floor: the same small adds and single queries against
// the in-process null server (null_server.mjs), which does no work. Every
// server measured through the client pays at least this much.
async function benchClientFloor(runs, data, queries) {
  const nullServer = await startNullServer();
  try {
    const client = makeClient(nullServer.url);
    const col = await newCollection(client, 'floor');
    const all = records('s', data, 0, kSmallCount);
    const sequentialMs = [];
    const batchMs = [];
    const queryP50 = [];
    for (let r = 0; r < runs; r++) {
      sequentialMs.push(await timeSequentialAdds(col, all));
      batchMs.push((await timed(() => col.add(all))).ms);
      queryP50.push(percentile((await runQueries(col, queries, null)).latencies, 50));
    }
    log(`client floor: sequential ${median(sequentialMs).toFixed(0)} ms, batch ${median(batchMs).toFixed(1)} ms, query p50 ${median(queryP50).toFixed(2)} ms`);
    return {
      sequential_1000_ms: round(median(sequentialMs), 1),
      batch_1000_ms: round(median(batchMs), 2),
      query_p50_ms: round(median(queryP50), 3),
      runs: { sequential_ms: sequentialMs.map((x) => round(x, 1)), batch_ms: batchMs.map((x) => round(x, 2)), query_p50_ms: queryP50.map((x) => round(x, 3)) },
    };
  } finally {
    await nullServer.close();
  }
}

// 2. 20,000 records in batches of 1000. Returns the last run's collection,
// which the query measurements use.
async function benchIngest(client, runs, data) {
  const seconds = [];
  let kept = null;
  for (let r = 0; r < runs; r++) {
    if (kept) await dropCollection(client, kept);
    const col = await newCollection(client, 'ingest');
    const batches = [];
    for (let from = 0; from < kIngestCount; from += kIngestBatch) {
      batches.push(records('d', data, from, Math.min(kIngestCount, from + kIngestBatch)));
    }
    const t = await timed(async () => {
      for (const batch of batches) await col.add(batch);
    });
    if ((await col.count()) !== kIngestCount) throw new Error('ingest: wrong count');
    seconds.push(t.ms / 1000);
    kept = col;
    log(`ingest run ${r + 1}/${runs}: ${(t.ms / 1000).toFixed(2)} s`);
  }
  const s = median(seconds);
  return {
    result: {
      total_s: round(s, 3),
      records_per_s: round(kIngestCount / s, 0),
      runs: { total_s: seconds.map((x) => round(x, 3)) },
    },
    collection: kept,
  };
}

// Sequential single queries; returns per-query latencies and result ids.
async function runQueries(col, queries, where, count = kQueryCount) {
  const latencies = [];
  const ids = [];
  for (let q = 0; q < count; q++) {
    const args = { queryEmbeddings: [row(queries, q)], nResults: kTopK };
    if (where) args.where = where;
    const t = await timed(() => col.query(args));
    latencies.push(t.ms);
    ids.push(t.value.ids[0]);
  }
  return { latencies, ids };
}

// 3. single query latency and recall@10; 5. the same with a ~10% filter.
async function benchQueries(col, runs, queries, truth, where, name) {
  const p50 = [];
  const p99 = [];
  const recalls = [];
  for (let r = 0; r < runs; r++) {
    const { latencies, ids } = await runQueries(col, queries, where);
    p50.push(percentile(latencies, 50));
    p99.push(percentile(latencies, 99));
    recalls.push(recallAtK(ids, truth));
    log(`${name} run ${r + 1}/${runs}: p50 ${p50[r].toFixed(2)} ms, p99 ${p99[r].toFixed(2)} ms, recall ${recalls[r].toFixed(3)}`);
  }
  return {
    p50_ms: round(median(p50), 3),
    p99_ms: round(median(p99), 3),
    recall_at_10: round(median(recalls), 4),
    runs: { p50_ms: p50.map((x) => round(x, 3)), p99_ms: p99.map((x) => round(x, 3)), recall_at_10: recalls.map((x) => round(x, 4)) },
  };
}

// 4. throughput with 8 concurrent clients, each its own ChromaClient.
async function benchConcurrent(url, collectionName, runs, queries) {
  const handles = [];
  for (let c = 0; c < kConcurrentClients; c++) {
    const client = makeClient(url);
    handles.push(await client.getCollection({ name: collectionName, embeddingFunction: noEmbed }));
  }
  const perClient = kConcurrentQueries / kConcurrentClients;
  const qps = [];
  for (let r = 0; r < runs; r++) {
    const t = await timed(() => Promise.all(handles.map(async (col, c) => {
      for (let k = 0; k < perClient; k++) {
        const q = (c * perClient + k) % kQueryCount;
        await col.query({ queryEmbeddings: [row(queries, q)], nResults: kTopK });
      }
    })));
    qps.push(kConcurrentQueries / (t.ms / 1000));
    log(`concurrent run ${r + 1}/${runs}: ${qps[r].toFixed(0)} queries/s`);
  }
  return {
    queries_per_s: round(median(qps), 1),
    clients: kConcurrentClients,
    queries: kConcurrentQueries,
    runs: { queries_per_s: qps.map((x) => round(x, 1)) },
  };
}

// 4b. The same single queries from 8 raw-HTTP clients: each a keep-alive
// socket sending prebuilt bytes (the body the JS client sends: the vector as
// JSON numbers, n_results, include documents/metadatas/distances). Through the
// JS client (4.) this one node process spends ~0.5 ms of CPU per query, so on
// a 2-core machine 4. is bounded by the client; this shows what the server
// itself sustains with 8 connections.
async function benchConcurrentRaw(url, collectionId, runs, queries) {
  const u = new URL(url);
  const path = `/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/query`;
  const requests = [];
  for (let q = 0; q < kQueryCount; q++) {
    const body = JSON.stringify({
      query_embeddings: [row(queries, q)],
      n_results: kTopK,
      include: ['documents', 'metadatas', 'distances'],
    });
    requests.push(buildRequest('POST', path, u.host, { 'content-type': 'application/json' }, body));
  }
  const conns = await Promise.all(
    Array.from({ length: kConcurrentClients }, () => RawConnection.open(u.hostname, Number(u.port))));
  try {
    // Untimed: every request is answered with the top kTopK.
    for (let q = 0; q < kQueryCount; q++) {
      const res = await conns[q % conns.length].request(requests[q]);
      if (res.status !== 200) throw new Error(`raw query: status ${res.status}: ${res.body}`);
      if (JSON.parse(res.body.toString()).ids[0].length !== kTopK) throw new Error('raw query: wrong hit count');
    }
    const perClient = kRawConcurrentQueries / kConcurrentClients;
    const qps = [];
    for (let r = 0; r < runs; r++) {
      const t = await timed(() => Promise.all(conns.map(async (conn, c) => {
        for (let k = 0; k < perClient; k++) {
          const res = await conn.request(requests[(c * perClient + k) % kQueryCount]);
          if (res.status !== 200) throw new Error(`raw query: status ${res.status}`);
        }
      })));
      qps.push(kRawConcurrentQueries / (t.ms / 1000));
      log(`raw concurrent run ${r + 1}/${runs}: ${qps[r].toFixed(0)} queries/s`);
    }
    return {
      queries_per_s: round(median(qps), 1),
      clients: kConcurrentClients,
      queries: kRawConcurrentQueries,
      runs: { queries_per_s: qps.map((x) => round(x, 1)) },
    };
  } finally {
    for (const conn of conns) conn.close();
  }
}

// --- scale measurements (--scale N) ----------------------------------------------

const kScaleBatch = 1000;
const kScaleBuckets = 100; // `bucket == kScaleFilterBucket` matches 1% of the records
const kScaleFilterBucket = 37;

// Records [from, to) of the scale set: the default metadata plus `bucket`.
function scaleRecords(data, from, to) {
  const batch = records('x', data, from, to);
  batch.metadatas.forEach((m, j) => {
    m.bucket = (from + j) % kScaleBuckets;
  });
  return batch;
}

// N records in batches of 1000, once (a run at this size takes minutes);
// then the query measurements on that collection.
// ksdb only (GET /api/v2/ksdb/stats): polls until no vector is pending and
// returns the seconds since `startMs`; null for servers without the endpoint.
async function waitUntilIndexed(url, startMs) {
  const statsUrl = `${url}/api/v2/ksdb/stats`;
  const deadline = performance.now() + 30 * 60 * 1000;
  for (;;) {
    const response = await fetch(statsUrl);
    if (response.status === 404) return null;
    const pending = (await response.json()).vectors_pending;
    if (pending === undefined) return null;
    if (pending === 0) return (performance.now() - startMs) / 1000;
    if (performance.now() > deadline) throw new Error(`index not complete: ${pending} pending`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function benchScale(client, url, runs, count, queries, vectors) {
  const data = vectors(count, kDim, 4343);
  const inBucket = (i) => i % kScaleBuckets === kScaleFilterBucket;
  log(`scale ${count}: exact ground truth`);
  const truth = exactTopK(data, count, queries, kQueryCount, 'x');
  const filteredTruth = exactTopK(data, count, queries, kQueryCount, 'x', inBucket);
  // The ground truth blocks the event loop for tens of seconds. Servers that
  // close idle keep-alive sockets sooner (ksdb did after 5 s until its own
  // connection loop; now 300 s, like the reference's never) would leave the
  // client a dead socket: yield so it sees any such close first.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const col = await newCollection(client, 'scale');
  let sent = 0;
  const t = await timed(async () => {
    for (let from = 0; from < count; from += kScaleBatch) {
      await col.add(scaleRecords(data, from, Math.min(count, from + kScaleBatch)));
      sent = Math.min(count, from + kScaleBatch);
      if (sent % 20000 === 0) log(`scale ingest: ${sent}/${count}`);
    }
  });
  if ((await col.count()) !== count) throw new Error('scale ingest: wrong count');
  const ingestS = t.ms / 1000;
  log(`scale ingest: ${count} records in ${ingestS.toFixed(1)} s`);
  // ksdb acknowledges a write once it is durable and exactly searchable; its
  // background indexer then links the vectors into the graph. Queries are
  // measured on the built index, and the time until then is reported too.
  const indexedS = await waitUntilIndexed(url, t.start);
  if (indexedS !== null) log(`scale ingest: graph complete ${indexedS.toFixed(1)} s after the first add`);
  await runQueries(col, queries, null, kWarmupQueries);
  const query = await benchQueries(col, runs, queries, truth, null, `scale ${count} query`);
  const concurrent = await benchConcurrent(url, col.name, runs, queries);
  const concurrentRaw = await benchConcurrentRaw(url, col.id, runs, queries);
  const filtered = await benchQueries(col, runs, queries, filteredTruth,
    { bucket: kScaleFilterBucket }, `scale ${count} 1%-filtered query`);
  await dropCollection(client, col);
  return {
    count,
    batch: kScaleBatch,
    filter: { bucket: kScaleFilterBucket },
    filter_fraction: 1 / kScaleBuckets,
    ingest: { total_s: round(ingestS, 3), records_per_s: round(count / ingestS, 0) },
    indexed: indexedS === null ? null
      : { total_s: round(indexedS, 3), records_per_s: round(count / indexedS, 0) },
    query,
    concurrent,
    concurrent_raw: concurrentRaw,
    filtered_query: filtered,
  };
}

async function main() {
  const opts = parseOptions();
  log(`target ${opts.label} at ${opts.url}, runs ${opts.runs}, ingest runs ${opts.ingestRuns}`);
  const client = makeClient(opts.url);
  const vectors = vectorsOfKind(opts.data);
  const base = vectors(kIngestCount, kDim, 42);
  const queries = vectors(kQueryCount, kDim, 4242);
  const wherePredicate = (i) => i % kGroups === kFilterGroup;
  const version = await client.version();
  log(`server version ${version}`);
  const result = {
    label: opts.label,
    url: opts.url,
    server_version: version,
    date_utc: new Date().toISOString(),
    runs: opts.runs,
    ingest_runs: opts.ingestRuns,
    data: opts.data,
    data_description: kDataKinds[opts.data],
  };
  if (!opts.scaleOnly) {
    result.params = {
      dim: kDim, small_count: kSmallCount, ingest_count: kIngestCount, ingest_batch: kIngestBatch,
      query_count: kQueryCount, top_k: kTopK, space: 'cosine', concurrent_clients: kConcurrentClients,
      concurrent_queries: kConcurrentQueries, filter: { group: kFilterGroup }, filter_fraction: 1 / kGroups,
    };
    const truth = exactTopK(base, kIngestCount, queries, kQueryCount, 'd');
    const filteredTruth = exactTopK(base, kIngestCount, queries, kQueryCount, 'd', wherePredicate);
    result.client_floor = await benchClientFloor(opts.runs, base, queries);
    result.small_adds = await benchSmallAdds(client, opts.runs, base);
    result.raw_batch_add = await benchRawBatchAdd(client, opts.url, opts.runs, base);
    const ingest = await benchIngest(client, opts.ingestRuns, base);
    const col = ingest.collection;
    result.ingest = ingest.result;
    // Warm-up: the first queries after an ingest may load or build index state.
    await runQueries(col, queries, null, kWarmupQueries);
    result.query = await benchQueries(col, opts.runs, queries, truth, null, 'query');
    result.concurrent = await benchConcurrent(opts.url, col.name, opts.runs, queries);
    result.concurrent_raw = await benchConcurrentRaw(opts.url, col.id, opts.runs, queries);
    result.filtered_query = await benchQueries(col, opts.runs, queries, filteredTruth, { group: kFilterGroup }, 'filtered query');
    await dropCollection(client, col);
  }
  if (opts.scale > 0) {
    result.scale = await benchScale(client, opts.url, opts.runs, opts.scale, queries, vectors);
  }
  const json = JSON.stringify(result, null, 2);
  if (opts.out) writeFileSync(opts.out, `${json}\n`);
  process.stdout.write(`${json}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e?.stack || e}\n`);
  process.exit(1);
});
