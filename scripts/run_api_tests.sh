#!/usr/bin/env bash
# Runs the HTTP API test suite (tests/api, node's built-in test runner)
# against ksdb, the reference Chroma server (npm chromadb 3.0.9), or both.
#
#   scripts/run_api_tests.sh [--target ksdb|reference|both] [--ksdb-bin PATH]
#
# Every server is started here on a free 127.0.0.1 port with its own temp
# --path, and stopped (and its directory removed) on exit. With --target both
# the suite runs against each server, then the differential test compares them.
# Exit code is non-zero when any test fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
API_DIR="$ROOT/tests/api"
TARGET="reference"
KSDB_BIN="${KSDB_BIN:-}"

usage() {
  echo "usage: $0 [--target ksdb|reference|both] [--ksdb-bin PATH]" >&2
  exit 2
}

while (($#)); do
  case "$1" in
    --target) TARGET="${2:-}"; shift 2 || usage ;;
    --target=*) TARGET="${1#*=}"; shift ;;
    --ksdb-bin) KSDB_BIN="${2:-}"; shift 2 || usage ;;
    --ksdb-bin=*) KSDB_BIN="${1#*=}"; shift ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
case "$TARGET" in ksdb|reference|both) ;; *) usage ;; esac

if [[ "$TARGET" != reference ]]; then
  if [[ -z "$KSDB_BIN" ]]; then
    for cand in "$ROOT/build/src/cli/ksdb" "$ROOT/build/ksdb" "$ROOT/build/bin/ksdb"; do
      if [[ -x "$cand" ]]; then KSDB_BIN="$cand"; break; fi
    done
  fi
  if [[ -z "$KSDB_BIN" || ! -x "$KSDB_BIN" ]]; then
    echo "run_api_tests: ksdb executable not found (use --ksdb-bin PATH)" >&2
    exit 2
  fi
  KSDB_BIN="$(cd "$(dirname "$KSDB_BIN")" && pwd)/$(basename "$KSDB_BIN")"
fi

# --- npm dependencies (idempotent) ------------------------------------------
install_deps() {
  local stamp="$API_DIR/node_modules/.package-lock.json"
  if [[ ! -d "$API_DIR/node_modules" || ! -f "$stamp" \
        || "$API_DIR/package-lock.json" -nt "$stamp" ]]; then
    echo "run_api_tests: npm ci in tests/api"
    (cd "$API_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
install_deps

# --- server lifecycle ---------------------------------------------------------
PIDS=()
TMPDIRS=()

cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    # Bounded wait (10 s) for a clean exit, then SIGKILL.
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for d in "${TMPDIRS[@]}"; do
    rm -rf "$d"
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Prints a free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# wait_ready URL PID LOG: polls /api/v2/heartbeat for up to 30 s.
wait_ready() {
  local url="$1" pid="$2" log="$3" i
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run_api_tests: server exited early; log:" >&2
      tail -n 50 "$log" >&2 || true
      return 1
    fi
    if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' \
        "$url/api/v2/heartbeat" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "run_api_tests: server at $url not ready after 30 s; log:" >&2
  tail -n 50 "$log" >&2 || true
  return 1
}

# start_server KIND -> sets STARTED_URL
start_server() {
  local kind="$1" dir port log pid
  dir="$(mktemp -d "${TMPDIR:-/tmp}/ksdb-api-$kind.XXXXXX")"
  TMPDIRS+=("$dir")
  port="$(free_port)"
  log="$dir.log"
  TMPDIRS+=("$log")
  if [[ "$kind" == ksdb ]]; then
    "$KSDB_BIN" run --path "$dir" --host 127.0.0.1 --port "$port" --allow-reset >"$log" 2>&1 &
  else
    "$API_DIR/node_modules/.bin/chroma" run --path "$dir" --host 127.0.0.1 --port "$port" \
      >"$log" 2>&1 &
  fi
  pid=$!
  PIDS+=("$pid")
  STARTED_URL="http://127.0.0.1:$port"
  wait_ready "$STARTED_URL" "$pid" "$log"
  echo "run_api_tests: $kind ready at $STARTED_URL (pid $pid)"
}

# run_suite KIND URL [REFERENCE_URL]: node --test over every *.test.mjs, or over
# the space-separated file names in KSDB_API_TESTS when that is set.
run_suite() {
  local kind="$1" url="$2" ref="${3:-}" files
  echo "run_api_tests: === suite against $kind ($url) ==="
  files="${KSDB_API_TESTS:-}"
  (cd "$API_DIR" && CHROMA_URL="$url" KSDB_TARGET="$kind" KSDB_BIN="$KSDB_BIN" \
    REFERENCE_URL="$ref" node --test --test-concurrency=1 ${files:-./*.test.mjs})
}

status=0
case "$TARGET" in
  reference)
    start_server reference
    run_suite reference "$STARTED_URL" || status=1
    ;;
  ksdb)
    start_server ksdb
    run_suite ksdb "$STARTED_URL" || status=1
    ;;
  both)
    start_server reference
    ref_url="$STARTED_URL"
    start_server ksdb
    ksdb_url="$STARTED_URL"
    run_suite reference "$ref_url" || status=1
    run_suite ksdb "$ksdb_url" || status=1
    echo "run_api_tests: === differential ksdb vs reference ==="
    (cd "$API_DIR" && CHROMA_URL="$ksdb_url" KSDB_TARGET=ksdb KSDB_BIN="$KSDB_BIN" \
      REFERENCE_URL="$ref_url" node --test ./differential.test.mjs) || status=1
    ;;
esac

if ((status)); then
  echo "run_api_tests: FAILED ($TARGET)"
else
  echo "run_api_tests: all passed ($TARGET)"
fi
exit "$status"
