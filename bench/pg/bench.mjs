// bench/pg/bench.mjs: ksdb on PostgreSQL vs SQLite, through the HTTP API.
//
//   node bench.mjs ingest URL [--records N] [--dim D] [--batch B] [--queries Q]
//       creates a collection, ingests N random records in batches (records/s),
//       then runs Q single queries one after another (p50/p99 ms). Prints JSON.
//   node bench.mjs read URL1[,URL2...] --collection NAME [--clients C] [--seconds S] [--dim D]
//       C clients (spread round-robin over the servers) send top-10 queries for
//       S seconds; prints queries/s as JSON.
const DBP = '/api/v2/tenants/default_tenant/databases/default_database';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

function vector(dim) {
  return Array.from({ length: dim }, () => Math.random() * 2 - 1);
}

async function post(url, path, body) {
  const r = await fetch(url + path, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function ingest(url) {
  const records = Number(arg('records', 5000));
  const dim = Number(arg('dim', 64));
  const batch = Number(arg('batch', 500));
  const queries = Number(arg('queries', 300));
  const name = arg('collection', 'bench-pg');
  const c = await post(url, `${DBP}/collections`, { name, get_or_create: true });
  const bodies = [];
  for (let start = 0; start < records; start += batch) {
    const n = Math.min(batch, records - start);
    const ids = Array.from({ length: n }, (_, i) => `r${start + i}`);
    bodies.push({ ids, embeddings: ids.map(() => vector(dim)), documents: ids.map((id) => `doc ${id}`) });
  }
  const t0 = performance.now();
  for (const body of bodies) await post(url, `${DBP}/collections/${c.id}/add`, body);
  const ingestSeconds = (performance.now() - t0) / 1000;
  const times = [];
  for (let i = 0; i < queries; ++i) {
    const q0 = performance.now();
    await post(url, `${DBP}/collections/${c.id}/query`, { query_embeddings: [vector(dim)], n_results: 10 });
    times.push(performance.now() - q0);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({
    records, dim, batch, ingest_records_per_s: Math.round(records / ingestSeconds),
    query_p50_ms: +percentile(times, 50).toFixed(2), query_p99_ms: +percentile(times, 99).toFixed(2),
  }));
}

async function read(urls) {
  const clients = Number(arg('clients', 8));
  const seconds = Number(arg('seconds', 5));
  const dim = Number(arg('dim', 64));
  const name = arg('collection', 'bench-pg');
  const ids = [];
  for (const url of urls) {
    const r = await fetch(`${url}${DBP}/collections/${name}`);
    ids.push((await r.json()).id);
  }
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: clients }, async (_, k) => {
    const url = urls[k % urls.length];
    const id = ids[k % urls.length];
    while (performance.now() < deadline) {
      await post(url, `${DBP}/collections/${id}/query`, { query_embeddings: [vector(dim)], n_results: 10 });
      done += 1;
    }
  }));
  console.log(JSON.stringify({ servers: urls.length, clients, seconds, queries_per_s: Math.round(done / seconds) }));
}

const [mode, target] = process.argv.slice(2);
if (mode === 'ingest') await ingest(target);
else if (mode === 'read') await read(target.split(','));
else {
  console.error('usage: node bench.mjs ingest URL [...] | read URL1[,URL2] [...]');
  process.exit(2);
}
