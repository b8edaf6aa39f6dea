#!/usr/bin/env bash
# scripts/test_pg_api.sh [BUILD_DIR]: ksdb on PostgreSQL, end to end.
#
# Starts a throwaway PostgreSQL cluster (scripts/pg_test_cluster.sh), then:
#   1. the engine unit tests (db_test, db_index_test, db_embed_test) on
#      PostgreSQL (KSDB_TEST_ENGINE_STORE=postgresql; ctest runs them on SQLite);
#   2. a ksdb server with --store on its own database, and the JS API suite
#      (tests/api) against it; servers the suite starts itself get the same
#      kind of store through KSDB_EXTRA_ARGS;
#   3. the two-server test (multi_server.test.mjs) and the fault tests
#      (pg_fault.test.mjs: database restarted during an ingest, unreachable
#      at start), each on a database of its own.
# Always stops the servers and removes the cluster on exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$(cd "${1:-$root/build}" && pwd)"
ksdb_bin="$build_dir/src/cli/ksdb"
api_dir="$root/tests/api"
for bin in "$ksdb_bin" "$build_dir/tests/unit/db/db_test"; do
  if [[ ! -x "$bin" ]]; then
    echo "test_pg_api: $bin not found; build ksdb and the db tests first" >&2
    exit 1
  fi
done

cluster_dir="$(mktemp -d /tmp/ksdb_pg_api.XXXXXX)"
work_dir="$(mktemp -d /tmp/ksdb_pg_api_work.XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  "$root/scripts/pg_test_cluster.sh" stop "$cluster_dir"
  rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$root/scripts/pg_test_cluster.sh" start "$cluster_dir"
eval "$("$root/scripts/pg_test_cluster.sh" env "$cluster_dir")"
export KSDB_TEST_PG_URL KSDB_TEST_PG_RESTART
# The tests drop their databases WITH (FORCE), which must also end an
# autovacuum worker busy in them: PostgreSQL 15 lets a non-superuser do that
# only with pg_signal_backend (else "must be a member of the role whose process
# is being terminated"). The throwaway cluster trusts local logins.
psql -q "${KSDB_TEST_PG_URL/\/\/ksdb@/\/\/postgres@}" -c "GRANT pg_signal_backend TO ksdb"
base_url="${KSDB_TEST_PG_URL%/*}"
echo "test_pg_api: PostgreSQL test cluster at $KSDB_TEST_PG_URL"

for db in ksdb_api ksdb_restart ksdb_embed ksdb_multi ksdb_fault; do
  psql -q "$KSDB_TEST_PG_URL" -c "CREATE DATABASE $db"
done

status=0
echo "test_pg_api: === engine tests on PostgreSQL (ctest runs them on SQLite) ==="
for t in db_test db_index_test db_embed_test; do
  bin="$build_dir/tests/unit/db/$t"
  if [[ -n "${KSDB_PG_API_SKIP_ENGINE:-}" ]]; then
    echo "test_pg_api: KSDB_PG_API_SKIP_ENGINE set, $t skipped"
  elif [[ -x "$bin" ]]; then
    KSDB_TEST_ENGINE_STORE=postgresql timeout 600 "$bin" --gtest_brief=1 || status=1
  else
    echo "test_pg_api: $t not built, skipped"
  fi
done

(cd "$api_dir" && if [[ ! -d node_modules ]]; then npm ci --no-audit --no-fund --loglevel=error; fi)
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});')"
"$ksdb_bin" run --path "$work_dir/server" --store "$base_url/ksdb_api" --host 127.0.0.1 \
  --port "$port" --allow-reset >"$work_dir/server.log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port"
for ((i = 0; i < 300; i++)); do
  if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' \
      "$url/api/v2/heartbeat" 2>/dev/null; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$work_dir/server.log" >&2; exit 1; }
  sleep 0.1
done
echo "test_pg_api: === JS API suite against ksdb on PostgreSQL ($url) ==="
# Suites that start servers of their own get a database each (through
# KSDB_EXTRA_ARGS): they expect to see only their own collections.
suite() {
  local extra="$1"
  shift
  (cd "$api_dir" && CHROMA_URL="$url" KSDB_TARGET=ksdb KSDB_BIN="$ksdb_bin" \
    KSDB_EXTRA_ARGS="$extra" KSDB_PG_MULTI_URL="$base_url/ksdb_multi" \
    KSDB_PG_FAULT_URL="$base_url/ksdb_fault" \
    timeout 900 node --test --test-concurrency=1 "$@") || status=1
}
others=()
for f in "$api_dir"/*.test.mjs; do
  case "$(basename "$f")" in restart.test.mjs|embed.test.mjs) ;; *) others+=("./$(basename "$f")") ;; esac
done
suite "" "${others[@]}"
suite "--store $base_url/ksdb_restart" ./restart.test.mjs
suite "--store $base_url/ksdb_embed" ./embed.test.mjs

if ((status)); then
  echo "test_pg_api: FAILED"
else
  echo "test_pg_api: all passed"
fi
exit "$status"
