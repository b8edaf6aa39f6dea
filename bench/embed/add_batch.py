"""End-to-end server-side embedding: 1000 short documents (no embeddings) added through one
POST /collections/{name}/add_batch to a ksdb started with --embedder static:DIR; prints the median of 7.

Usage: start `ksdb run --port 18777 --embedder static:MODEL_DIR`, then /usr/bin/python3 bench/embed/add_batch.py
"""
import http.client, json, random, statistics, time
words = "the a cat dog stock market fell rose river bank money tree house city music film data vector search fast slow light dark red blue green".split()
rng = random.Random(7)
def docs(n): return [" ".join(rng.choice(words) for _ in range(rng.randint(5, 20))) for _ in range(n)]
conn = http.client.HTTPConnection("127.0.0.1", 18777)
def req(method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers={"Content-Type": "application/json"})
    r = conn.getresponse(); data = r.read()
    if r.status >= 300: raise SystemExit(f"{r.status} {data[:300]}")
    return data
times = []
for run in range(7):
    name = f"docs{run}"
    req("POST", "/api/v2/tenants/default_tenant/databases/default_database/collections", {"name": name})
    body = {"ids": [f"{run}-{i}" for i in range(1000)], "documents": docs(1000), "metadatas": [{"i": i} for i in range(1000)]}
    payload = json.dumps(body)
    t = time.perf_counter()
    conn.request("POST", f"/collections/{name}/add_batch", body=payload, headers={"Content-Type": "application/json"})
    r = conn.getresponse(); r.read()
    times.append((time.perf_counter() - t) * 1000)
    assert r.status < 300, r.status
print("add_batch 1000 docs embedded server-side: median %.1f ms, runs %s" % (statistics.median(times), [round(x,1) for x in times]))
