// Reproducible driver for profiling ksdb's query path (not part of run.sh).
//
//   node profile_query.mjs --url http://127.0.0.1:PORT [--count 100000]
//        [--queries 2000] [--clients 8] [--pid SERVER_PID] [--mode all|raw|client|concurrent]
//        [--load-only]
//
// Loads --count records (384-d, cosine, the metadata and documents of
// bench.mjs's scale set) into the collection "profile-<count>" once, through
// the raw HTTP add with base64 embeddings in batches of 1000; a later run
// against the same --path reuses them. Then measures, each --queries queries
// (n_results 10, include metadatas/documents/distances, as the JS client sends
// them by default):
//   raw        sequential queries over one keep-alive node:http connection
//              with a prebuilt body: p50/p99 latency, almost no client cost;
//   client     sequential col.query() through the official JS client: p50/p99;
//   concurrent --clients JS clients querying at once: queries/s.
// With --pid, the server's CPU time (utime+stime from /proc) per query is
// reported for every phase: on a shared 2-core machine it is the number that
// says what one request costs the server. Output: one JSON object on stdout.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ChromaClient } from 'chromadb';
import { randomVectors } from './data.mjs';

const kDim = 384;
const kBatch = 1000;
const kTopK = 10;
const kQuerySet = 200;
const kBuckets = 100;
const kInclude = ['metadatas', 'documents', 'distances'];
const kDbPath = '/api/v2/tenants/default_tenant/databases/default_database';

const noEmbed = {
  generate: async () => {
    throw new Error('noEmbed: embeddings are passed explicitly');
  },
};

function parseOptions() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8000' },
      count: { type: 'string', default: '100000' },
      queries: { type: 'string', default: '2000' },
      clients: { type: 'string', default: '8' },
      pid: { type: 'string' },
      mode: { type: 'string', default: 'all' },
      'load-only': { type: 'boolean', default: false },
    },
  });
  return {
    url: values.url.replace(/\/+$/, ''),
    count: Number.parseInt(values.count, 10),
    queries: Number.parseInt(values.queries, 10),
    clients: Number.parseInt(values.clients, 10),
    pid: values.pid ? Number.parseInt(values.pid, 10) : 0,
    mode: values.mode,
    loadOnly: values['load-only'],
  };
}

function log(msg) {
  process.stderr.write(`[profile ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}


const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// One request over the shared keep-alive agent; resolves {status, text}.
function send(base, method, path, body) {
  const url = new URL(base + path);
  return new Promise((resolve, reject) => {
    const headers = body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {};
    const r = http.request({ host: url.hostname, port: url.port, path: url.pathname, method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

async function sendJson(base, method, path, value) {
  const res = await send(base, method, path, value === undefined ? undefined : JSON.stringify(value));
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.text ? JSON.parse(res.text) : undefined;
}

function base64Row(data, i) {
  return Buffer.from(data.buffer, data.byteOffset + i * kDim * 4, kDim * 4).toString('base64');
}

async function collectionFor(base, count) {
  return sendJson(base, 'POST', `${kDbPath}/collections`, {
    name: `profile-${count}`,
    configuration: { hnsw: { space: 'cosine' } },
    get_or_create: true,
  });
}

// Adds the records the collection lacks (a fresh one gets all of them).
async function load(base, col, count) {
  const have = await sendJson(base, 'GET', `${kDbPath}/collections/${col.id}/count`);
  if (have >= count) {
    log(`collection ${col.name} already holds ${have} records`);
    return;
  }
  const data = randomVectors(count, kDim, 4343);
  const start = performance.now();
  for (let from = have; from < count; from += kBatch) {
    const to = Math.min(count, from + kBatch);
    const body = { ids: [], embeddings: [], metadatas: [], documents: [] };
    for (let i = from; i < to; i++) {
      body.ids.push(`x-${i}`);
      body.embeddings.push(base64Row(data, i));
      body.metadatas.push({ i, group: i % 10, tag: `tag-${i % 7}`, bucket: i % kBuckets });
      body.documents.push(`document ${i} of group ${i % 10}`);
    }
    await sendJson(base, 'POST', `${kDbPath}/collections/${col.id}/add`, body);
    if (to % 20000 === 0) log(`load ${to}/${count}`);
  }
  log(`loaded ${count - have} records in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

// utime+stime of `pid` in milliseconds (0 without a pid).
function cpuMs(pid) {
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;  // USER_HZ = 100
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (x, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

function row(data, i) {
  return Array.from(data.subarray(i * kDim, (i + 1) * kDim));
}

// Runs `fn(q)` for q in [0, n) sequentially; latency percentiles and server CPU per call.
async function sequential(name, n, pid, fn) {
  const latencies = [];
  const cpu0 = cpuMs(pid);
  for (let q = 0; q < n; q++) {
    const start = performance.now();
    await fn(q);
    latencies.push(performance.now() - start);
  }
  const result = {
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    server_cpu_ms_per_query: pid ? round((cpuMs(pid) - cpu0) / n) : null,
  };
  log(`${name}: ${JSON.stringify(result)}`);
  return result;
}

async function rawPhase(opts, col, queries) {
  const bodies = [];
  for (let q = 0; q < kQuerySet; q++) {
    bodies.push(JSON.stringify({ include: kInclude, n_results: kTopK, query_embeddings: [row(queries, q)] }));
  }
  const path = `${kDbPath}/collections/${col.id}/query`;
  const check = JSON.parse((await send(opts.url, 'POST', path, bodies[0])).text);
  if (check.ids[0].length !== kTopK) throw new Error(`raw query: unexpected answer ${JSON.stringify(check)}`);
  return sequential('raw', opts.queries, opts.pid, (q) => send(opts.url, 'POST', path, bodies[q % kQuerySet]));
}

function makeClient(url) {
  const u = new URL(url);
  return new ChromaClient({ host: u.hostname, port: Number(u.port || 80), ssl: false });
}

async function clientPhase(opts, col, queries) {
  const handle = await makeClient(opts.url).getCollection({ name: col.name, embeddingFunction: noEmbed });
  const args = (q) => ({ queryEmbeddings: [row(queries, q % kQuerySet)], nResults: kTopK });
  for (let q = 0; q < 20; q++) await handle.query(args(q));
  return sequential('client', opts.queries, opts.pid, (q) => handle.query(args(q)));
}

async function concurrentPhase(opts, col, queries) {
  const handles = [];
  for (let c = 0; c < opts.clients; c++) {
    handles.push(await makeClient(opts.url).getCollection({ name: col.name, embeddingFunction: noEmbed }));
  }
  const perClient = Math.ceil(opts.queries / opts.clients);
  const cpu0 = cpuMs(opts.pid);
  const start = performance.now();
  await Promise.all(handles.map(async (handle, c) => {
    for (let k = 0; k < perClient; k++) {
      const q = (c * perClient + k) % kQuerySet;
      await handle.query({ queryEmbeddings: [row(queries, q)], nResults: kTopK });
    }
  }));
  const total = perClient * opts.clients;
  const result = {
    queries_per_s: round(total / ((performance.now() - start) / 1000), 1),
    server_cpu_ms_per_query: opts.pid ? round((cpuMs(opts.pid) - cpu0) / total) : null,
  };
  log(`concurrent (${opts.clients} clients): ${JSON.stringify(result)}`);
  return result;
}

async function main() {
  const opts = parseOptions();
  const col = await collectionFor(opts.url, opts.count);
  await load(opts.url, col, opts.count);
  if (opts.loadOnly) return;
  const queries = randomVectors(kQuerySet, kDim, 4242);
  const out = { count: opts.count, queries: opts.queries };
  if (opts.mode === 'all' || opts.mode === 'raw') out.raw = await rawPhase(opts, col, queries);
  if (opts.mode === 'all' || opts.mode === 'client') out.client = await clientPhase(opts, col, queries);
  if (opts.mode === 'all' || opts.mode === 'concurrent') {
    out.concurrent = await concurrentPhase(opts, col, queries);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  agent.destroy();
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
