#!/usr/bin/env bash
# Python client benchmark (issue 5): ksdb through its Python HttpClient vs the
# reference Chroma server through the official chromadb JS client, one run.
#
#   bench/python/run.sh [--n N] [--data random|clustered] [--small-runs R] [--big-runs R] [--peer-big-runs R]
#                       [--rev REV] [--no-build] [--no-reference] [--native] [--json-out FILE]
#
#  1. builds ksdb and ksdb._native (Release) in build-pybench from the working
#     tree, or with --rev REV from a clean `git archive REV` export (in
#     build-pybench/rev-<sha>; the server and package of that commit, whatever
#     is being edited meanwhile); --no-build uses the last build as it is;
#  2. creates a venv (system site packages, so Debian's numpy; offline) in a
#     temp dir and `pip install ./python` into it;
#  3. writes the data set: N (default 100,000) unit 384-d float32 rows, fixed
#     seed (bench.py gen): standard normal (--data random, the default: no
#     neighbourhood structure, the slowest case for graph construction) or
#     bench/ann's generated clusters (--data clustered: closer to embeddings);
#  4. starts `ksdb run` on a free 127.0.0.1 port with a temp data dir, runs
#     bench.py (1000-record add x R (default 5) with lists and numpy; N records
#     in one add call x R (default 5): time to acknowledge, and time until
#     /api/v2/ksdb/stats reports no vector pending for the HNSW graph), stops it;
#  5. starts the reference `chroma run` (bench/server/node_modules, as
#     bench/server/run.sh does) and runs peer.mjs: the 1000-record add x R and
#     the N records in batches of its max_batch_size x --peer-big-runs
#     (default 1: about a minute each), stops it;
#  6. prints a markdown table of medians with the issue's targets and the load.
# Servers and temp dirs are removed on exit (also on failure or Ctrl-C).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/python"
BUILD_DIR="$ROOT/build-pybench"
SERVER_BENCH="$ROOT/bench/server"
N=100000
KIND=random
SMALL_RUNS=5
BIG_RUNS=5
PEER_BIG_RUNS=1
BUILD=1
REFERENCE=1
REV=""
NATIVE=()
JSON_OUT=""
COMMAND="bench/python/run.sh $*"

usage() {
  sed -n '2,27p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

while (($#)); do
  case "$1" in
    --n) N="${2:-}"; shift 2 || usage ;;
    --data) KIND="${2:-}"; shift 2 || usage ;;
    --small-runs) SMALL_RUNS="${2:-}"; shift 2 || usage ;;
    --big-runs) BIG_RUNS="${2:-}"; shift 2 || usage ;;
    --peer-big-runs) PEER_BIG_RUNS="${2:-}"; shift 2 || usage ;;
    --rev) REV="${2:-}"; shift 2 || usage ;;
    --no-build) BUILD=0; shift ;;
    --no-reference) REFERENCE=0; shift ;;
    --native) NATIVE=(--native); shift ;;
    --json-out) JSON_OUT="${2:-}"; shift 2 || usage ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ "$KIND" == random || "$KIND" == clustered ]] || usage
for value in "$N" "$SMALL_RUNS" "$BIG_RUNS" "$PEER_BIG_RUNS"; do
  [[ "$value" =~ ^[0-9]+$ ]] || usage
done

log() { echo "[bench/python/run.sh $(date +%H:%M:%S)] $*" >&2; }

WORK="$(mktemp -d -t ksdb-pybench-XXXXXX)"
BENCH_LOG_DIR="$WORK"
# shellcheck source=../lib/servers.sh
source "$ROOT/bench/lib/servers.sh"

cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. build -------------------------------------------------------------------
SOURCE="$ROOT"
if [[ -n "$REV" ]]; then
  sha="$(git -C "$ROOT" rev-parse --short "$REV^{commit}")"
  SOURCE="$BUILD_DIR/rev-$sha/source"
  BUILD_DIR="$BUILD_DIR/rev-$sha/build"
  if [[ ! -f "$SOURCE/CMakeLists.txt" ]]; then
    mkdir -p "$SOURCE"
    git -C "$ROOT" archive "$sha" | tar -x -C "$SOURCE"
  fi
fi
KSDB_BIN="$BUILD_DIR/src/cli/ksdb"
if ((BUILD)); then
  log "building ksdb and ksdb_native (Release) from $SOURCE in $BUILD_DIR"
  cmake -S "$SOURCE" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DKSDB_BUILD_TESTS=OFF \
    -DKSDB_BUILD_BENCH=OFF -DKSDB_BUILD_PYTHON=ON -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target ksdb ksdb_native >&2
fi
[[ -x "$KSDB_BIN" ]] || { log "no ksdb executable at $KSDB_BIN (drop --no-build)"; exit 2; }
NATIVE_SO="$(ls "$BUILD_DIR"/python/ksdb/_native*.so 2>/dev/null | head -1 || true)"

# --- 2. venv with the package (offline) ---------------------------------------------
log "venv + pip install $SOURCE/python"
/usr/bin/python3 -m venv --system-site-packages "$WORK/venv"
if [[ -n "$NATIVE_SO" ]]; then
  KSDB_NATIVE_SO="$NATIVE_SO" "$WORK/venv/bin/pip" install -q --no-index --no-build-isolation \
    "$SOURCE/python" >&2
else
  KSDB_SKIP_NATIVE=1 "$WORK/venv/bin/pip" install -q --no-index --no-build-isolation \
    "$SOURCE/python" >&2
fi
PYTHON="$WORK/venv/bin/python"
# The installed package, not the source tree, is what gets measured.
(cd "$WORK" && "$PYTHON" -c 'import ksdb, numpy; print("ksdb from", ksdb.__file__)' >&2)

# --- 3. data ----------------------------------------------------------------------------
DATA="$WORK/vectors.f32"
"$PYTHON" "$HERE/bench.py" gen --out "$DATA" --n "$N" --kind "$KIND"

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS

# --- 4. ksdb through the Python client ------------------------------------------------------
start_server ksdb "$KSDB_BIN"
(cd "$WORK" && "$PYTHON" "$HERE/bench.py" run --data "$DATA" --port "$SERVER_PORT" \
  --small-runs "$SMALL_RUNS" --big-runs "$BIG_RUNS" "${NATIVE[@]}" \
  --json-out "$WORK/ksdb.json" >/dev/null)
stop_server
LOAD_MID="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- 5. the reference server through its JS client --------------------------------------------
REFERENCE_ARGS=()
if ((REFERENCE)); then
  if [[ ! -d "$SERVER_BENCH/node_modules" ]]; then
    log "npm ci in bench/server"
    (cd "$SERVER_BENCH" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  start_server reference "$SERVER_BENCH/node_modules/.bin/chroma"
  node "$HERE/peer.mjs" --url "$SERVER_URL" --data "$DATA" --small-runs "$SMALL_RUNS" \
    --big-runs "$PEER_BIG_RUNS" --out "$WORK/reference.json" >/dev/null
  stop_server
  REFERENCE_ARGS=(--reference "$WORK/reference.json")
fi
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
log "benchmark took $((SECONDS - started)) s"

# --- 6. report --------------------------------------------------------------------------------
if [[ -n "$REV" ]]; then
  commit="$sha (clean export)"
else
  commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git -C "$ROOT" status --porcelain -- src python 2>/dev/null | head -1)" ]]; then
    commit="$commit (+ uncommitted changes in src/ or python/)"
  fi
fi
"$PYTHON" "$HERE/bench.py" report --ksdb "$WORK/ksdb.json" "${REFERENCE_ARGS[@]}" \
  --command "$COMMAND" --commit "$commit" --kind "$KIND" \
  --load "before $LOAD_BEFORE; after ksdb $LOAD_MID; at the end $LOAD_AFTER (1/5/15-min, $(nproc) cores)"
if [[ -n "$JSON_OUT" ]]; then
  "$PYTHON" -c 'import json, sys; print(json.dumps({"ksdb": json.load(open(sys.argv[1])), "reference": json.load(open(sys.argv[2])) if len(sys.argv) > 2 else None}, indent=1))' \
    "$WORK/ksdb.json" ${REFERENCE_ARGS[1]:+"${REFERENCE_ARGS[1]}"} >"$JSON_OUT"
  log "raw results: $JSON_OUT"
fi
