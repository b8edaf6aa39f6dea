"""Python client benchmarks (issue 5 targets).

  1. 1000 records with 384-d embeddings, documents and metadata through one
     HttpClient.add call (median of --repeats, fresh collection each time);
  2. N x 384 records in one add call (auto-batched), records/s, for HttpClient
     and PersistentClient; then one exact query to show the data is searchable.

Usage (a server must be running for HttpClient; see scripts/test_python.sh):
  PYTHONPATH=python KSDB_NATIVE_DIR=build-python/python/ksdb \\
    /usr/bin/python3 bench/python/bench.py --port 8000 --big 20000
Embeddings are numpy float32 for the big add (what users of that scale pass) and
Python lists for the 1000-record add (the seed's script).
"""

import argparse
import shutil
import statistics
import tempfile
import time
import uuid

import numpy as np

import ksdb


def small_add(client: ksdb.ClientAPI, repeats: int, as_numpy: bool) -> float:
    rng = np.random.default_rng(7)
    times = []
    for _ in range(repeats):
        matrix = rng.random((1000, 384), dtype=np.float32)
        embeddings = matrix if as_numpy else matrix.tolist()
        ids = [f"id{i}" for i in range(1000)]
        docs = [f"document {i}" for i in range(1000)]
        metas = [{"i": i, "group": i % 10} for i in range(1000)]
        col = client.create_collection("bench-" + uuid.uuid4().hex[:8])
        start = time.perf_counter()
        col.add(ids=ids, embeddings=embeddings, documents=docs, metadatas=metas)
        times.append(time.perf_counter() - start)
        client.delete_collection(col.name)
    return statistics.median(times) * 1000


def big_add(client: ksdb.ClientAPI, n: int) -> float:
    matrix = np.random.default_rng(11).random((n, 384), dtype=np.float32)
    ids = [str(i) for i in range(n)]
    col = client.create_collection("bench-big-" + uuid.uuid4().hex[:8])
    start = time.perf_counter()
    col.add(ids=ids, embeddings=matrix)
    elapsed = time.perf_counter() - start
    assert col.count() == n
    hit = col.query(query_embeddings=matrix[n // 2], n_results=1, include=["distances"])
    assert hit["ids"][0][0] == str(n // 2), hit
    client.delete_collection(col.name)
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--big", type=int, default=20000, help="records in the big add")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-native", action="store_true")
    args = parser.parse_args()

    clients = []
    if not args.no_http:
        clients.append(("HttpClient", ksdb.HttpClient(host=args.host, port=args.port), None))
    if not args.no_native and ksdb.native_available():
        path = tempfile.mkdtemp(prefix="ksdb-bench-")
        clients.append(("PersistentClient", ksdb.PersistentClient(path=path), path))
    for name, client, path in clients:
        lists_ms = small_add(client, args.repeats, as_numpy=False)
        numpy_ms = small_add(client, args.repeats, as_numpy=True)
        rate = big_add(client, args.big)
        print(
            f"{name}: add 1000x384 (lists) {lists_ms:.1f} ms, (numpy) {numpy_ms:.1f} ms "
            f"[median of {args.repeats}]; add {args.big}x384 in one call {rate:,.0f} records/s"
        )
        client.close()
        if path:
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
