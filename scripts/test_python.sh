#!/usr/bin/env bash
# The Python client's tests (tests/python), against both faces of ksdb:
#   1. builds the server and the ksdb._native extension (build dir: $1 or
#      build-python);
#   2. starts `ksdb run` on a free 127.0.0.1 port with a temporary data
#      directory and waits (bounded) for /api/v2/heartbeat;
#   3. runs pytest with Debian's /usr/bin/python3: every client test runs with
#      HttpClient (that server) and PersistentClient (the engine in-process);
#   4. stops the server (also on failure) and removes the data directory.
# Extra arguments after the build dir go to pytest (e.g. -k batching).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-python}"
[[ $# -gt 0 ]] && shift
python=/usr/bin/python3

# An existing build dir (e.g. test.sh's build/) keeps its own settings; a new
# one is configured as a Release build without benchmarks.
if [[ -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -DKSDB_BUILD_PYTHON=ON >/dev/null
else
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKSDB_BUILD_BENCH=OFF \
    -DKSDB_BUILD_PYTHON=ON -DPython_EXECUTABLE="$python" >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target ksdb ksdb_native

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data="$(mktemp -d -t ksdb-python-test.XXXXXX)"
log="$data.log"
# Server-side embeddings with the default GloVe model when it is installed
# (scripts/install_glove.sh; scripts/test.sh installs it), for the
# documents-only tests; both clients get the same embedder.
embedder_args=()
model="$root/models/glove-6B-100d-static"
if [[ -f "$model/model.safetensors" ]]; then
  export KSDB_TEST_EMBEDDER="static:$model"
  embedder_args=(--embedder "$KSDB_TEST_EMBEDDER")
fi
"$build/src/cli/ksdb" run --path "$data" --host 127.0.0.1 --port "$port" \
  "${embedder_args[@]}" >"$log" 2>&1 &
server_pid=$!
cleanup() {
  kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$data" "$log"
}
trap cleanup EXIT

url="http://127.0.0.1:$port"
for _ in $(seq 1 200); do
  if curl -fsS "$url/api/v2/heartbeat" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "test_python: ksdb exited before answering:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.05
done
curl -fsS "$url/api/v2/heartbeat" >/dev/null || { echo "test_python: no heartbeat at $url" >&2; cat "$log" >&2; exit 1; }

cd "$root"
PYTHONPATH="$root/python" KSDB_NATIVE_DIR="$build/python/ksdb" KSDB_TEST_URL="$url" \
  KSDB_REQUIRE_NATIVE=1 PYTHONDONTWRITEBYTECODE=1 \
  "$python" -m pytest -q -rs -p no:cacheprovider tests/python "$@"
