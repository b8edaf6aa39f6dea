#!/usr/bin/env bash
# Server-level benchmark: ksdb vs the reference Chroma server (npm chromadb
# 3.0.9), both driven by the official JS client through bench/server/bench.mjs.
#
#   bench/server/run.sh [--target both|ksdb|reference] [--runs N] [--ingest-runs N]
#                       [--ksdb-bin PATH] [--no-build] [--record] [--scale N] [--scale-only]
#                       [--data random|clustered]
#
# Installs the npm packages (npm ci, only when node_modules is missing), builds
# ksdb in Release into build-bench (unless --ksdb-bin or --no-build), then for
# each target starts the server on a free 127.0.0.1 port with a temp data
# directory, runs the benchmark against it and stops it. Prints a markdown
# table, writes the raw JSON to bench/server/results/run-<UTC>.json and copies
# it to bench/server/results/latest.json. --record also appends the markdown
# section to bench/RESULTS.md. --scale N adds the measurements at scale (the
# issue's: N=100000 records x 384 ingest records/s, query p50/p99, 8-client
# queries/s, 1%-filtered p50) against every target; --scale-only skips the rest.
# --data picks the vectors: uniform random per component (default; no
# neighbourhood structure, the hardest case for a graph index) or bench/ann's
# generated Gaussian clusters (closer to an embedding model's output).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH_DIR="$ROOT/bench/server"
RESULTS_DIR="$BENCH_DIR/results"
BUILD_DIR="$ROOT/build-bench"
TARGET="both"
RUNS=5
INGEST_RUNS=5
KSDB_BIN="${KSDB_BIN:-}"
BUILD=1
RECORD=0
SCALE=0
SCALE_ONLY=0
DATA_KIND=random
COMMAND="bench/server/run.sh $*"

usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

while (($#)); do
  case "$1" in
    --target) TARGET="${2:-}"; shift 2 || usage ;;
    --runs) RUNS="${2:-}"; shift 2 || usage ;;
    --ingest-runs) INGEST_RUNS="${2:-}"; shift 2 || usage ;;
    --ksdb-bin) KSDB_BIN="${2:-}"; shift 2 || usage ;;
    --no-build) BUILD=0; shift ;;
    --record) RECORD=1; shift ;;
    --scale) SCALE="${2:-}"; shift 2 || usage ;;
    --scale-only) SCALE_ONLY=1; shift ;;
    --data) DATA_KIND="${2:-}"; shift 2 || usage ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage ;;
  esac
done
case "$TARGET" in both|ksdb|reference) ;; *) usage ;; esac
[[ "$SCALE" =~ ^[0-9]+$ ]] || usage
[[ "$DATA_KIND" == random || "$DATA_KIND" == clustered ]] || usage
SCALE_ARGS=(--scale "$SCALE" --data "$DATA_KIND")
if ((SCALE_ONLY)); then
  ((SCALE > 0)) || { echo "run.sh: --scale-only needs --scale N" >&2; exit 2; }
  SCALE_ARGS+=(--scale-only)
fi

log() { echo "[run.sh] $*" >&2; }

# --- npm dependencies (idempotent) ------------------------------------------
if [[ ! -d "$BENCH_DIR/node_modules" ]]; then
  log "npm ci in bench/server"
  (cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
CHROMA_BIN="$BENCH_DIR/node_modules/.bin/chroma"

# --- ksdb build ----------------------------------------------------------------
if [[ "$TARGET" != reference ]]; then
  if [[ -z "$KSDB_BIN" ]]; then
    KSDB_BIN="$BUILD_DIR/src/cli/ksdb"
    if ((BUILD)); then
      log "building ksdb (Release) in $BUILD_DIR"
      KSDB_BUILD_TYPE=Release "$ROOT/scripts/build.sh" "$BUILD_DIR" -DKSDB_BUILD_TESTS=OFF >&2
    fi
  fi
  if [[ ! -x "$KSDB_BIN" ]]; then
    log "ksdb executable not found: $KSDB_BIN"
    exit 2
  fi
fi

# --- server lifecycle ---------------------------------------------------------
WORK_DIR="$(mktemp -d -t ksdb-bench-XXXXXX)"
BENCH_LOG_DIR="$WORK_DIR"
# shellcheck source=../lib/servers.sh
source "$ROOT/bench/lib/servers.sh"

cleanup() {
  stop_server
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bench_target NAME BIN: one server, one benchmark, result in $WORK_DIR/NAME.json.
bench_target() {
  local name="$1" bin="$2"
  start_server "$name" "$bin"
  node "$BENCH_DIR/bench.mjs" --url "$SERVER_URL" --label "$name" --runs "$RUNS" \
    --ingest-runs "$INGEST_RUNS" "${SCALE_ARGS[@]}" --out "$WORK_DIR/$name.json" >/dev/null
  stop_server
}

start_s=$SECONDS
if [[ "$TARGET" != ksdb ]]; then bench_target reference "$CHROMA_BIN"; fi
if [[ "$TARGET" != reference ]]; then bench_target ksdb "$KSDB_BIN"; fi
log "benchmark took $((SECONDS - start_s)) s"

# --- report ---------------------------------------------------------------------
mkdir -p "$RESULTS_DIR"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$RESULTS_DIR/run-$stamp.json"
commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$ROOT" status --porcelain -- src 2>/dev/null | head -1)"
if [[ -n "$dirty" ]]; then commit="$commit (+ uncommitted changes in src/)"; fi
node "$BENCH_DIR/report.mjs" \
  --reference "$WORK_DIR/reference.json" --ksdb "$WORK_DIR/ksdb.json" \
  --command "$COMMAND" --commit "$commit" --json-out "$out" >"$WORK_DIR/section.md"
cp "$out" "$RESULTS_DIR/latest.json"
cat "$WORK_DIR/section.md"
if ((RECORD)); then
  { echo; cat "$WORK_DIR/section.md"; } >>"$ROOT/bench/RESULTS.md"
  log "appended the section to bench/RESULTS.md"
fi
log "raw results: $out (and results/latest.json)"
