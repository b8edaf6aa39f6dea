"""Python client benchmark (issue 5 targets), run by bench/python/run.sh.

Workloads (the same data for ksdb here and for the reference server through
bench/python/peer.mjs, which reads the file `gen` writes):
  small: records 0..999 (384-d embeddings, ids "id-<n>", metadata {"i": n})
         in one HttpClient.add call, into a fresh cosine collection; embeddings
         given as Python lists (the seed's script) and as a numpy array;
  big:   all N records (default 100,000) in one add call with a numpy array
         (auto-batched by the client). Two times per run, from the start of
         the call: until add returns (every record durable and found by exact
         search) and until GET /api/v2/ksdb/stats reports no vector pending
         for the HNSW graph.

Data: random normal 384-d float32 rows, normalised, from a fixed seed.

  python bench.py gen --out vectors.f32 [--n 100000]
  python bench.py run --data vectors.f32 --port P [--small-runs 5] [--big-runs 5]
                      [--json-out FILE] [--native]
`run` prints one JSON object (times per run and medians) on stdout and
progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from typing import Any, Callable, Dict, List, Optional

import numpy as np

try:
    import ksdb
except ImportError:  # `gen` needs only numpy
    ksdb = None  # type: ignore[assignment]

DIM = 384
SEED = 20261124
SMALL = 1000
# Upper bound on the wait for the background indexer after a big add.
INDEX_WAIT_S = 900.0
STATS_POLL_S = 0.05


def log(message: str) -> None:
    sys.stderr.write(f"[bench.py {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


# The clustered kind: bench/ann's generated set (centres N(0, 1), 2000 of
# them, rows = centre + N(0, 0.5) per dimension). Plain standard normal rows
# have no neighbourhood structure at all (HNSW recall@10 ~0.1 at ef 100): the
# slowest case for graph construction and unlike any embedding model's output.
CLUSTERS = 2000
SPREAD = 0.5
DATA_KINDS = {
    "random": "random unit 384-d float32",
    "clustered": f"clustered unit 384-d float32 ({CLUSTERS} Gaussian clusters, spread {SPREAD})",
}


def generate(n: int, kind: str = "random") -> np.ndarray:
    """n unit-length 384-d float32 rows of the given kind (fixed seed)."""
    rng = np.random.default_rng(SEED)
    if kind == "clustered":
        centres = rng.standard_normal((CLUSTERS, DIM), dtype=np.float32)
        matrix = centres[rng.integers(0, CLUSTERS, n)]
        matrix += SPREAD * rng.standard_normal((n, DIM), dtype=np.float32)
    else:
        matrix = rng.standard_normal((n, DIM), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix


def load(path: str) -> np.ndarray:
    return np.fromfile(path, dtype="<f4").reshape(-1, DIM)


def ids_for(n: int) -> List[str]:
    return [f"id-{i}" for i in range(n)]


def metadatas_for(n: int) -> List[Dict[str, int]]:
    return [{"i": i} for i in range(n)]


def new_collection(client: ksdb.ClientAPI, tag: str) -> ksdb.Collection:
    return client.create_collection(
        f"bench-{tag}-{uuid.uuid4().hex[:8]}", configuration={"hnsw": {"space": "cosine"}}
    )


# --- server statistics (vectors waiting for the HNSW graph) ---


def _find_pending(stats: Any) -> Optional[int]:
    """The stats' count of vectors not yet in a graph: `vectors_pending`, else
    any integer field whose name contains "pending"; None if there is none."""
    if not isinstance(stats, dict):
        return None
    if isinstance(stats.get("vectors_pending"), int):
        return stats["vectors_pending"]
    for key, value in stats.items():
        if "pending" in key and isinstance(value, int):
            return value
    for value in stats.values():
        found = _find_pending(value)
        if found is not None:
            return found
    return None


class Stats:
    """GET /api/v2/ksdb/stats of one server (a separate connection)."""

    def __init__(self, host: str, port: int) -> None:
        self._url = f"http://{host}:{port}/api/v2/ksdb/stats"

    def pending(self) -> Optional[int]:
        with urllib.request.urlopen(self._url, timeout=30) as response:
            return _find_pending(json.loads(response.read()))

    def wait_for_zero_pending(self, deadline: float) -> Optional[int]:
        """Polls until nothing is pending; returns the last count seen (None
        when the server does not report one: indexing is synchronous)."""
        while True:
            pending = self.pending()
            if not pending or time.perf_counter() >= deadline:
                return pending
            time.sleep(STATS_POLL_S)


# --- measurements ---


def small_add(client: ksdb.ClientAPI, data: np.ndarray, as_numpy: bool) -> float:
    """ms for one add of records 0..999 into a fresh collection."""
    matrix = data[:SMALL]
    embeddings = matrix if as_numpy else matrix.tolist()
    ids, metadatas = ids_for(SMALL), metadatas_for(SMALL)
    col = new_collection(client, "small")
    start = time.perf_counter()
    col.add(ids=ids, embeddings=embeddings, metadatas=metadatas)
    elapsed = time.perf_counter() - start
    if col.count() != SMALL:
        raise RuntimeError("small add: wrong count")
    client.delete_collection(col.name)
    return elapsed * 1000


def check_exact_hits(col: ksdb.Collection, data: np.ndarray, rows: List[int]) -> None:
    """Each row's own vector must find that record first (exact search)."""
    hits = col.query(query_embeddings=data[rows], n_results=1, include=["distances"])
    found = [h[0] if h else None for h in hits["ids"]]
    expected = [f"id-{r}" for r in rows]
    if found != expected:
        raise RuntimeError(f"records not searchable right after add: {found} != {expected}")


def big_add(client: ksdb.ClientAPI, stats: Optional[Stats], data: np.ndarray) -> Dict[str, Any]:
    """One add of every row; the acknowledged and the fully-indexed times."""
    n = len(data)
    ids, metadatas = ids_for(n), metadatas_for(n)
    col = new_collection(client, "big")
    requests_before = client._transport.request_count
    start = time.perf_counter()
    col.add(ids=ids, embeddings=data, metadatas=metadatas)
    acked = time.perf_counter()
    requests = client._transport.request_count - requests_before
    pending_at_ack = stats.pending() if stats else None
    # Searchable as soon as acknowledged (the last rows are the likeliest to
    # be still pending); the background indexer keeps running meanwhile.
    if col.count() != n:
        raise RuntimeError("big add: wrong count")
    check_exact_hits(col, data, [0, n // 2, n - 1])
    pending_left = stats.wait_for_zero_pending(acked + INDEX_WAIT_S) if stats else None
    indexed = time.perf_counter()
    if pending_left:
        raise RuntimeError(f"{pending_left} vectors still pending after {INDEX_WAIT_S} s")
    client.delete_collection(col.name)
    ack_s, index_s = acked - start, indexed - start
    result = {
        "ack_s": round(ack_s, 3),
        "acked_records_per_s": round(n / ack_s),
        "indexed_s": round(index_s, 3),
        "indexed_records_per_s": round(n / index_s),
        "requests": requests,
        "pending_at_ack": pending_at_ack,
    }
    log(
        f"big add {n}: acknowledged in {ack_s:.2f} s ({n / ack_s:,.0f}/s), pending then "
        f"{pending_at_ack}, all in the graph after {index_s:.2f} s ({n / index_s:,.0f}/s), "
        f"{requests} requests"
    )
    return result


def repeat(runs: int, label: str, measure: Callable[[], Any]) -> List[Any]:
    values = []
    for run in range(runs):
        values.append(measure())
        if not isinstance(values[-1], dict):
            log(f"{label} run {run + 1}/{runs}: {values[-1]:.1f}")
    return values


def bench_client(
    client: ksdb.ClientAPI, stats: Optional[Stats], data: np.ndarray, args: argparse.Namespace
) -> Dict[str, Any]:
    lists_ms = repeat(args.small_runs, "small add (lists), ms:", lambda: small_add(client, data, False))
    numpy_ms = repeat(args.small_runs, "small add (numpy), ms:", lambda: small_add(client, data, True))
    big = repeat(args.big_runs, "big add", lambda: big_add(client, stats, data))
    median = statistics.median
    return {
        "max_batch_size": client.get_max_batch_size(),
        "small_lists_ms": [round(x, 2) for x in lists_ms],
        "small_numpy_ms": [round(x, 2) for x in numpy_ms],
        "small_lists_ms_median": round(median(lists_ms), 2),
        "small_numpy_ms_median": round(median(numpy_ms), 2),
        "big_n": len(data),
        "big_runs": big,
        "big_acked_records_per_s_median": median(r["acked_records_per_s"] for r in big),
        "big_indexed_records_per_s_median": median(r["indexed_records_per_s"] for r in big),
        "pending_reported": any(r["pending_at_ack"] is not None for r in big),
    }


def run(args: argparse.Namespace) -> None:
    if ksdb is None:
        sys.exit("bench.py run: the ksdb package is not importable (pip install ./python)")
    data = load(args.data)
    if args.n:
        data = data[: args.n]
    result: Dict[str, Any] = {"dim": DIM, "n": len(data), "seed": SEED}
    client = ksdb.HttpClient(host=args.host, port=args.port)
    try:
        result["http"] = bench_client(client, Stats(args.host, args.port), data, args)
    finally:
        client.close()
    if args.native:
        path = tempfile.mkdtemp(prefix="ksdb-bench-native-")
        native = ksdb.PersistentClient(path=path)
        try:
            # No stats route in-process: the time to acknowledge only.
            result["native"] = bench_client(native, None, data, args)
        finally:
            native.close()
            shutil.rmtree(path, ignore_errors=True)
    text = json.dumps(result, indent=1)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    print(text)


# --- report ---


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def report(args: argparse.Namespace) -> None:
    """A markdown section from run's JSON (and peer.mjs's, when given)."""
    with open(args.ksdb, encoding="utf-8") as f:
        http = json.load(f)["http"]
    ref: Optional[Dict[str, Any]] = None
    if args.reference:
        with open(args.reference, encoding="utf-8") as f:
            ref = json.load(f)
    n = http["big_n"]
    small, small_np = http["small_lists_ms_median"], http["small_numpy_ms_median"]
    acked, indexed = http["big_acked_records_per_s_median"], http["big_indexed_records_per_s_median"]
    runs_small, runs_big = len(http["small_lists_ms"]), len(http["big_runs"])

    def ref_cell(value: Any, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    def ratio(ours: float, theirs: Optional[float], higher_is_better: bool) -> str:
        if not theirs or not ours:
            return "-"
        return f"{ours / theirs if higher_is_better else theirs / ours:.1f}x"

    ref_small = ref["small_ms_median"] if ref else None
    ref_big = ref["big_records_per_s_median"] if ref else None
    lines = [
        f"Run {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}: `{args.command}` at {args.commit}. "
        f"ksdb through `ksdb.HttpClient` (pip-installed in a venv, numpy {np.__version__}); "
        f"reference through the official JS client "
        f"({ref['client'] if ref else 'not run'}), same data ({DATA_KINDS[args.kind]}, seed "
        f"{SEED}, ids `id-<n>`, metadata `{{\"i\": n}}`, cosine). Load averages: {args.load}.",
        "",
        "| measurement | ksdb, Python client | reference, JS client | ratio | issue 5 target |",
        "|---|---:|---:|---:|---|",
        f"| 1000 x 384 in one add, embeddings as lists (ms, median of {runs_small}) | {small:.1f} | "
        f"{ref_cell(ref_small, '.1f')} | {ratio(small, ref_small, False)} | "
        f"<= 100 ms: {_verdict(small <= 100)} |",
        f"| the same with a numpy array (ms) | {small_np:.1f} | | | |",
        f"| {n:,} x 384 in one add call, acknowledged = durable and found by exact search "
        f"(records/s, median of {runs_big}) | {acked:,} | {ref_cell(ref_big, ',')} | "
        f"{ratio(acked, ref_big, True)} | >= 20k/s: {_verdict(acked >= 20000)} |",
        f"| {n:,} x 384, from the start of the call until every vector is in the HNSW graph "
        f"(records/s) | {indexed:,} | {ref_cell(ref_big, ',')} | "
        f"{ratio(indexed, ref_big, True)} | >= 5k/s: {_verdict(indexed >= 5000)} |",
        "",
        f"Per run: lists {http['small_lists_ms']} ms, numpy {http['small_numpy_ms']} ms; big add "
        f"acknowledged {[r['ack_s'] for r in http['big_runs']]} s, all in the graph "
        f"{[r['indexed_s'] for r in http['big_runs']]} s, "
        f"{http['big_runs'][0]['requests']} requests per call (ksdb max_batch_size "
        f"{http['max_batch_size']}, 24 MiB bodies), vectors pending when the call returned "
        f"{[r['pending_at_ack'] for r in http['big_runs']]}.",
    ]
    if not http["pending_reported"]:
        lines.append(
            "The server reported no pending-vector count (`vectors_pending` in /api/v2/ksdb/stats):"
            " it indexes synchronously, so both times are the time to acknowledge."
        )
    if ref:
        lines.append(
            f"Reference: 1000-record add {ref['small_ms']} ms; {ref['big_n']:,} records in "
            f"batches of its max_batch_size {ref['max_batch_size']}: "
            f"{[r['seconds'] for r in ref['big_runs']]} s (until the last add call returned)."
        )
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="action", required=True)
    gen = commands.add_parser("gen", help="write the data set (float32 little-endian rows)")
    gen.add_argument("--out", required=True)
    gen.add_argument("--n", type=int, default=100_000)
    gen.add_argument("--kind", choices=sorted(DATA_KINDS), default="random")
    bench = commands.add_parser("run", help="benchmark a ksdb server")
    bench.add_argument("--data", required=True)
    bench.add_argument("--n", type=int, default=0, help="use only the first N rows")
    bench.add_argument("--host", default="127.0.0.1")
    bench.add_argument("--port", type=int, default=8000)
    bench.add_argument("--small-runs", type=int, default=5)
    bench.add_argument("--big-runs", type=int, default=5)
    bench.add_argument("--native", action="store_true", help="also PersistentClient")
    bench.add_argument("--json-out")
    summary = commands.add_parser("report", help="markdown from run's and peer.mjs's JSON")
    summary.add_argument("--ksdb", required=True)
    summary.add_argument("--reference")
    summary.add_argument("--command", default="bench/python/run.sh")
    summary.add_argument("--commit", default="unknown")
    summary.add_argument("--load", default="not recorded")
    summary.add_argument("--kind", choices=sorted(DATA_KINDS), default="random")
    args = parser.parse_args()
    if args.action == "gen":
        generate(args.n, args.kind).astype("<f4").tofile(args.out)
    elif args.action == "report":
        report(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
