#!/usr/bin/env bash
# ANN benchmark: ksdb's HnswIndex vs hnswlib 0.6.2 vs FAISS 1.7.3 (issue 3).
#
#   bench/ann/run.sh [--build-dir DIR] [--no-build] [--dev] [ann_bench options...]
#
# Installs libhnswlib-dev and libfaiss-dev with apt-get when missing, builds
# ksdb_ann_bench in Release into build-ann-bench (or --build-dir DIR), then runs
# it: JSON to bench/ann/results/latest.json (and a timestamped copy), the
# markdown summary to stdout (also saved as results/latest.md), progress to
# stderr. Exact ground truth is cached in DIR/ann_cache. --dev runs small
# subsets (a few minutes on 2 cores) instead of the full suite; any other
# option goes to the binary (see bench/ann/README.md or `--help`), e.g.
# `bench/ann/run.sh --datasets glove --libs ksdb,hnswlib`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RESULTS_DIR="$ROOT/bench/ann/results"
BUILD_DIR="$ROOT/build-ann-bench"
BUILD=1
DEV=0
PASSTHROUGH=()

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

while (($#)); do
  case "$1" in
    --build-dir) BUILD_DIR="${2:-}"; [[ -n "$BUILD_DIR" ]] || usage; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --dev) DEV=1; shift ;;
    -h|--help) usage ;;
    *) PASSTHROUGH+=("$1"); shift ;;
  esac
done
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$ROOT/$BUILD_DIR"

log() { echo "[ann/run.sh] $*" >&2; }

# has_option NAME: whether the caller passed NAME (as NAME VALUE or NAME=VALUE).
has_option() {
  local arg
  for arg in "${PASSTHROUGH[@]}"; do
    [[ "$arg" == "$1" || "$arg" == "$1="* ]] && return 0
  done
  return 1
}

# --- Debian packages (idempotent, as scripts/setup.sh) -------------------------
PACKAGES=(libhnswlib-dev libfaiss-dev)
missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  log "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- build ---------------------------------------------------------------------
BIN="$BUILD_DIR/bench/ann/ksdb_ann_bench"
if ((BUILD)); then
  log "building ksdb_ann_bench (Release) in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DKSDB_BUILD_ANN_BENCH=ON \
    -DKSDB_BUILD_TESTS=OFF -DKSDB_BUILD_PYTHON=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target ksdb_ann_bench >&2
fi
if [[ ! -x "$BIN" ]]; then
  log "benchmark executable not found: $BIN"
  exit 2
fi

# --- run -------------------------------------------------------------------------
ARGS=()
has_option --cache-dir || ARGS+=(--cache-dir "$BUILD_DIR/ann_cache")
if ((DEV)); then
  # Small enough for a busy 2-core machine; same code paths as the full run.
  # Options the caller gave win (the binary would otherwise see them twice).
  DEV_DEFAULTS=(--max-base 20000 --max-queries 200 --generated-n 20000 --generated-queries 200
                --ef 10,32,64,128)
  for ((i = 0; i < ${#DEV_DEFAULTS[@]}; i += 2)); do
    has_option "${DEV_DEFAULTS[i]}" || ARGS+=("${DEV_DEFAULTS[i]}" "${DEV_DEFAULTS[i + 1]}")
  done
fi
mkdir -p "$RESULTS_DIR"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
json="$RESULTS_DIR/run-$stamp.json"
start_s=$SECONDS
"$BIN" "${ARGS[@]}" "${PASSTHROUGH[@]}" --json "$json" >"$RESULTS_DIR/latest.md"
log "benchmark took $((SECONDS - start_s)) s"
cp "$json" "$RESULTS_DIR/latest.json"
cat "$RESULTS_DIR/latest.md"
log "results: $json (and results/latest.json, results/latest.md)"
