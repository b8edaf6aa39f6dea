// Server-side latency probe for ksdb's query path (not part of run.sh).
//
//   node latency_probe.mjs --url http://127.0.0.1:PORT [--count 100000]
//        [--data clustered|random] [--queries 2000] [--pid SERVER_PID] [--load-only]
//        [--cases heartbeat,query,query_noinclude,query_n1,query_noinclude_n1]
//        [--gap-us N]
//
// Loads --count records (384-d cosine, bench.mjs's scale metadata and
// documents) into "probe-<data>-<count>" once (raw HTTP add, base64, batches
// of 1000; a later run on the same data dir reuses them). Then captures the
// exact bytes the official JS client sends for one query (through a
// pass-through TCP proxy in this process) and replays variants of that
// request over one raw keep-alive TCP connection (node `net`, a prebuilt
// buffer per request, the response read up to its Content-Length), so the
// client's own cost is almost nil. Per case: p50/p99 and, with --pid, the
// server's CPU time per request. The cases separate the costs:
//   heartbeat            transport + HTTP only;
//   query                the JS client's request (include documents,
//                        metadatas, distances; n_results 10);
//   query_noinclude      the same with include [] (no record fetch/encode);
//   query_n1             n_results 1 (search at ef 100 still, fetch 1);
//   query_noinclude_n1   both;
//   query_tiny           the JS client's request on a 100-record collection
//                        (an exact scan of 100 rows: everything but the search);
//   query_tiny_noinclude the same with include [].
//   client               col.query() through the official JS client (as bench.mjs);
//   client_null          the same against bench/server/null_server.mjs in this
//                        process (the client's own floor plus node's server).
// --gap-us keeps this process busy for N microseconds before each raw
// request (not timed), as the JS client is between its queries: on a small
// machine the client's work between requests evicts the server's caches.
// Output: one JSON object on stdout.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ChromaClient } from 'chromadb';
import { vectorsOfKind } from './data.mjs';
import { RawConnection, buildRequest } from './raw_http.mjs';
import { startNullServer } from './null_server.mjs';

const kDim = 384;
const kBatch = 1000;
const kTopK = 10;
const kQuerySet = 200;
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
      data: { type: 'string', default: 'clustered' },
      queries: { type: 'string', default: '2000' },
      pid: { type: 'string' },
      cases: { type: 'string', default: 'heartbeat,query,query_noinclude,query_n1,query_noinclude_n1' },
      'load-only': { type: 'boolean', default: false },
      'gap-us': { type: 'string', default: '0' },
    },
  });
  const url = new URL(values.url);
  return {
    host: url.hostname,
    port: Number(url.port),
    count: Number.parseInt(values.count, 10),
    data: values.data,
    queries: Number.parseInt(values.queries, 10),
    pid: values.pid ? Number.parseInt(values.pid, 10) : 0,
    cases: values.cases.split(','),
    loadOnly: values['load-only'],
    gapUs: Number.parseInt(values['gap-us'], 10),
  };
}

function log(msg) {
  process.stderr.write(`[probe ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function sendJson(conn, opts, method, path, value) {
  const body = value === undefined ? '' : JSON.stringify(value);
  const res = await conn.request(buildRequest(method, path, `${opts.host}:${opts.port}`, { 'content-type': 'application/json' }, body));
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.body}`);
  return res.body.length ? JSON.parse(res.body.toString()) : undefined;
}

function base64Row(data, i) {
  return Buffer.from(data.buffer, data.byteOffset + i * kDim * 4, kDim * 4).toString('base64');
}

// Adds the records the collection lacks (a fresh one gets all of them).
async function load(conn, opts, col) {
  const have = await sendJson(conn, opts, 'GET', `${kDbPath}/collections/${col.id}/count`);
  if (have >= opts.count) {
    log(`collection ${col.name} already holds ${have} records`);
    return;
  }
  const data = vectorsOfKind(opts.data)(opts.count, kDim, 4343);
  const start = performance.now();
  for (let from = have; from < opts.count; from += kBatch) {
    const to = Math.min(opts.count, from + kBatch);
    const body = { ids: [], embeddings: [], metadatas: [], documents: [] };
    for (let i = from; i < to; i++) {
      body.ids.push(`x-${i}`);
      body.embeddings.push(base64Row(data, i));
      body.metadatas.push({ i, group: i % 10, tag: `tag-${i % 7}`, bucket: i % 100 });
      body.documents.push(`document ${i} of group ${i % 10}`);
    }
    await sendJson(conn, opts, 'POST', `${kDbPath}/collections/${col.id}/add`, body);
    if (to % 20000 === 0) log(`load ${to}/${opts.count}`);
  }
  log(`loaded ${opts.count - have} records in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

async function waitUntilIndexed(conn, opts) {
  for (;;) {
    const stats = await sendJson(conn, opts, 'GET', '/api/v2/ksdb/stats');
    if (!stats || !stats.vectors_pending) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// The raw bytes of the first request whose request line contains `marker`
// that `run(url)` makes, through a pass-through proxy to the server.
async function captureRequest(opts, marker, run) {
  const captured = [];
  const sockets = [];
  const proxy = net.createServer((client) => {
    const upstream = net.connect({ host: opts.host, port: opts.port });
    sockets.push(client, upstream);
    client.on('data', (chunk) => {
      captured.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  await run(`http://127.0.0.1:${proxy.address().port}`);
  // close() alone would wait for the client's keep-alive connection to end.
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => proxy.close(resolve));
  const all = Buffer.concat(captured).toString('latin1');
  const at = all.lastIndexOf('POST ', all.indexOf(marker));
  const headEnd = all.indexOf('\r\n\r\n', at);
  const head = all.slice(at, headEnd);
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)[1]);
  const body = all.slice(headEnd + 4, headEnd + 4 + length);
  return { head, body };
}

// The captured request with its JSON body changed by `edit` (Content-Length fixed).
function variant(captured, edit, hostPort) {
  const body = edit ? JSON.stringify(edit(JSON.parse(captured.body))) : captured.body;
  const head = captured.head
    .replace(/\r\ncontent-length:\s*\d+/i, `\r\ncontent-length: ${Buffer.byteLength(body, 'latin1')}`)
    .replace(/\r\nhost:[^\r]*/i, `\r\nhost: ${hostPort}`);
  return Buffer.from(`${head}\r\n\r\n${body}`, 'latin1');
}

function cpuMs(pid) {
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;  // USER_HZ = 100
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (x, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

// Keeps this thread busy for `us` microseconds.
function spin(us) {
  const end = performance.now() + us / 1000;
  let sink = 0;
  while (performance.now() < end) sink += Math.sqrt(sink + 1);
  return sink;
}

async function measure(conn, name, n, pid, gapUs, requestOf) {
  for (let q = 0; q < 50; q++) await conn.request(requestOf(q));
  const latencies = [];
  const cpu0 = cpuMs(pid);
  for (let q = 0; q < n; q++) {
    const request = requestOf(q);
    spin(gapUs);
    const start = performance.now();
    const res = await conn.request(request);
    latencies.push(performance.now() - start);
    if (res.status !== 200) throw new Error(`${name}: status ${res.status}: ${res.body}`);
  }
  latencies.sort((a, b) => a - b);
  const result = {
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    server_cpu_ms_per_request: pid ? round((cpuMs(pid) - cpu0) / n) : null,
  };
  log(`${name}: ${JSON.stringify(result)}`);
  return result;
}

// Sequential col.query() calls through the official JS client, against the
// probed server or (`nullServer`) node's do-nothing server.
async function measureClient(opts, name, nullServer, collectionName, queries) {
  const url = new URL(nullServer ? nullServer.url : `http://${opts.host}:${opts.port}`);
  const client = new ChromaClient({ host: url.hostname, port: Number(url.port), ssl: false });
  const handle = nullServer
    ? await client.createCollection({ name: 'null', embeddingFunction: noEmbed })
    : await client.getCollection({ name: `probe-${opts.data}-${opts.count}`, embeddingFunction: noEmbed });
  const args = (q) => ({
    queryEmbeddings: [Array.from(queries.subarray((q % kQuerySet) * kDim, (q % kQuerySet + 1) * kDim))],
    nResults: kTopK,
  });
  for (let q = 0; q < 50; q++) await handle.query(args(q));
  const latencies = [];
  const cpu0 = cpuMs(opts.pid);
  for (let q = 0; q < opts.queries; q++) {
    const start = performance.now();
    await handle.query(args(q));
    latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);
  const result = {
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    server_cpu_ms_per_request: opts.pid && !nullServer ? round((cpuMs(opts.pid) - cpu0) / opts.queries) : null,
  };
  if (nullServer) await nullServer.close();
  log(`${name}: ${JSON.stringify(result)}`);
  return result;
}

function withQuery(body, queries, q) {
  const copy = { ...body };
  const vector = queries.subarray((q % kQuerySet) * kDim, (q % kQuerySet + 1) * kDim);
  copy.query_embeddings = typeof body.query_embeddings[0] === 'string'
    ? [Buffer.from(vector.buffer, vector.byteOffset, kDim * 4).toString('base64')]
    : [Array.from(vector)];
  return copy;
}

async function main() {
  const opts = parseOptions();
  const conn = await RawConnection.open(opts.host, opts.port);
  const name = `probe-${opts.data}-${opts.count}`;
  const col = await sendJson(conn, opts, 'POST', `${kDbPath}/collections`, {
    name,
    configuration: { hnsw: { space: 'cosine' } },
    get_or_create: true,
  });
  await load(conn, opts, col);
  await waitUntilIndexed(conn, opts);
  if (opts.loadOnly) {
    conn.close();
    return;
  }
  const queries = vectorsOfKind(opts.data)(kQuerySet, kDim, 4242);
  const captured = await captureRequest(opts, '/query', async (url) => {
    const u = new URL(url);
    const client = new ChromaClient({ host: u.hostname, port: Number(u.port), ssl: false });
    const handle = await client.getCollection({ name, embeddingFunction: noEmbed });
    await handle.query({ queryEmbeddings: [Array.from(queries.subarray(0, kDim))], nResults: kTopK });
  });
  log(`captured head:\n${captured.head}`);
  log(`captured body (${captured.body.length} bytes): ${captured.body.slice(0, 160)}...`);
  const tiny = await sendJson(conn, opts, 'POST', `${kDbPath}/collections`, {
    name: `${name}-tiny`,
    configuration: { hnsw: { space: 'cosine' } },
    get_or_create: true,
  });
  await load(conn, { ...opts, count: 100 }, tiny);
  const tinyCaptured = { ...captured, head: captured.head.replace(col.id, tiny.id) };
  const hostPort = `${opts.host}:${opts.port}`;
  const prebuild = (edit, base = captured) => {
    const requests = [];
    for (let q = 0; q < kQuerySet; q++) {
      requests.push(variant(base, (body) => (edit ? edit(withQuery(body, queries, q)) : withQuery(body, queries, q)), hostPort));
    }
    return (q) => requests[q % kQuerySet];
  };
  const heartbeat = Buffer.from(`GET /api/v2/heartbeat HTTP/1.1\r\nhost: ${hostPort}\r\n\r\n`);
  const cases = {
    heartbeat: () => heartbeat,
    query: prebuild(null),
    query_noinclude: prebuild((b) => ({ ...b, include: [] })),
    query_n1: prebuild((b) => ({ ...b, n_results: 1 })),
    query_noinclude_n1: prebuild((b) => ({ ...b, include: [], n_results: 1 })),
    query_tiny: prebuild(null, tinyCaptured),
    query_tiny_noinclude: prebuild((b) => ({ ...b, include: [] }), tinyCaptured),
  };
  const out = { count: opts.count, data: opts.data, queries: opts.queries };
  for (const name of opts.cases) {
    if (name.startsWith('client')) {
      out[name] = await measureClient(opts, name, name === 'client' ? null : await startNullServer(), name, queries);
    } else {
      out[name] = await measure(conn, name, opts.queries, opts.pid, opts.gapUs, cases[name]);
    }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  conn.close();
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
