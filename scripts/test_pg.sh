#!/usr/bin/env bash
# scripts/test_pg.sh [BUILD_DIR]: runs the record-store tests against both stores.
#
# Starts a throwaway PostgreSQL cluster (scripts/pg_test_cluster.sh: initdb in a
# temp dir, a free port on 127.0.0.1, trust auth), runs BUILD_DIR's storage_test
# (default: build) with KSDB_TEST_PG_URL and KSDB_TEST_PG_RESTART set, so every
# parameterised store test runs on SQLite and PostgreSQL, plus the pool and
# restart tests, and always stops and removes the cluster on exit.
#
# The binary runs its tests one after another: the restart tests restart the
# cluster, which would break tests running beside them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-$root/build}"
bin="$build_dir/tests/unit/storage/storage_test"
if [[ ! -x "$bin" ]]; then
  echo "test_pg: $bin not found; build the storage_test target first" >&2
  exit 1
fi

# Under /tmp: the postgres user must be able to reach the directory.
cluster_dir="$(mktemp -d /tmp/ksdb_pg_test.XXXXXX)"
cleanup() { "$root/scripts/pg_test_cluster.sh" stop "$cluster_dir"; }
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
echo "test_pg: PostgreSQL test cluster at $KSDB_TEST_PG_URL"
# A bounded run: a hung test must not hold CI forever.
timeout 600 "$bin" --gtest_brief=1 "${@:2}"
