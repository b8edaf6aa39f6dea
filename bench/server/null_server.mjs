// A "null" Chroma server in the benchmark's own process: it reads each request
// body and answers at once with a minimal valid response, without storing or
// searching anything. Timing the JS client against it gives the client-side
// floor (validation, base64 packing, JSON encoding, HTTP) that every server
// measured through the client pays as well.
import http from 'node:http';

const kCollection = {
  id: '00000000-0000-4000-8000-000000000000',
  name: 'null',
  configuration_json: { hnsw: { space: 'cosine' }, embedding_function: { type: 'legacy' } },
  metadata: null,
  dimension: null,
  tenant: 'default_tenant',
  database: 'default_database',
  version: 0,
  log_position: 0,
};

// A query answer of `k` results per query, shaped like the reference's.
function queryAnswer(body, k) {
  const n = JSON.parse(body).query_embeddings?.length ?? 1;
  const rows = (make) => Array.from({ length: n }, () => Array.from({ length: k }, make));
  return {
    ids: rows((_, i) => `d-${i}`),
    distances: rows((_, i) => i / k),
    documents: rows((_, i) => `document ${i} of group ${i % 10}`),
    metadatas: rows((_, i) => ({ i, group: i % 10, tag: `tag-${i % 7}` })),
    embeddings: null,
    uris: null,
    include: ['metadatas', 'documents', 'distances'],
  };
}

function answer(req, body) {
  if (req.url.endsWith('/pre-flight-checks')) {
    return { max_batch_size: 1 << 20, supports_base64_encoding: true };
  }
  if (req.url.endsWith('/query')) return queryAnswer(body, 10);
  if (req.method === 'POST' && req.url.endsWith('/collections')) return kCollection;
  return {};
}

// Starts the null server on a free 127.0.0.1 port; resolves {url, close()}.
export async function startNullServer() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer(req, Buffer.concat(chunks).toString('utf8'))));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
