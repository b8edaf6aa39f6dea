#!/usr/bin/env bash
# bench/pg/run.sh [BUILD_DIR] [RECORDS]: ksdb on PostgreSQL vs SQLite.
#
# Starts a throwaway PostgreSQL cluster (scripts/pg_test_cluster.sh), then
#   1. ingest RECORDS (default 5000) 64-d records in batches of 500 through the
#      server and time 300 single queries: once with the default SQLite store,
#      once with --store postgresql://...;
#   2. read throughput on the PostgreSQL data: 8 clients for 5 s against one
#      server, then spread over two servers on the same database.
# Prints one JSON line per measurement; stops everything on exit. Modest sizes
# on purpose: the machine is shared.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${1:-$root/build}"
records="${2:-5000}"
ksdb="$build_dir/src/cli/ksdb"
here="$root/bench/pg"
[[ -x "$ksdb" ]] || { echo "bench/pg: $ksdb not found" >&2; exit 1; }

cluster_dir="$(mktemp -d /tmp/ksdb_pg_bench.XXXXXX)"
work="$(mktemp -d /tmp/ksdb_pg_bench_work.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$root/scripts/pg_test_cluster.sh" stop "$cluster_dir"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$root/scripts/pg_test_cluster.sh" start "$cluster_dir" >/dev/null
pg_url="$("$root/scripts/pg_test_cluster.sh" url "$cluster_dir")"

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# start NAME [ksdb args...]: starts a server, sets URL.
start() {
  local name="$1" port i
  shift
  port="$(free_port)"
  "$ksdb" run --path "$work/$name" --host 127.0.0.1 --port "$port" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  URL="http://127.0.0.1:$port"
  for ((i = 0; i < 300; i++)); do
    node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' \
      "$URL/api/v2/heartbeat" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench/pg: $name did not start" >&2
  cat "$work/$name.log" >&2
  return 1
}

start sqlite
echo "sqlite ingest+query: $(node "$here/bench.mjs" ingest "$URL" --records "$records")"
start pg_a --store "$pg_url"
url_a="$URL"
echo "postgresql ingest+query: $(node "$here/bench.mjs" ingest "$url_a" --records "$records")"
echo "postgresql read, 1 server: $(node "$here/bench.mjs" read "$url_a")"
start pg_b --store "$pg_url"
url_b="$URL"
echo "postgresql read, 2 servers: $(node "$here/bench.mjs" read "$url_a,$url_b")"
