// Settings and statistics of the PostgreSQL store's connection pool (pool.h),
// apart from the pool itself so configuration code need not see libpq types.
#ifndef KSDB_STORAGE_POSTGRES_POOL_OPTIONS_H_
#define KSDB_STORAGE_POSTGRES_POOL_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ksdb::storage::postgres {

struct PoolOptions {
  size_t pool_size = 20;     // connections kept open (at least 1)
  size_t max_overflow = 10;  // extra connections while all pooled ones are busy
  std::chrono::milliseconds checkout_timeout{30000};
  bool pre_ping = true;  // check idle connections before handing them out
};

// A snapshot of the pool's gauges and counters (counters since creation).
struct PoolStats {
  size_t pool_size = 0;
  size_t max_overflow = 0;
  size_t in_use = 0;            // checked out now
  size_t idle = 0;              // open and waiting in the pool
  size_t overflow = 0;          // open connections beyond pool_size
  size_t waiting = 0;           // checkouts blocked right now
  uint64_t checkouts = 0;       // successful checkouts
  uint64_t waits = 0;           // checkouts that had to wait
  uint64_t timeouts = 0;        // checkouts that gave up
  uint64_t reconnects = 0;      // connections opened in place of discarded ones
  uint64_t discarded = 0;       // connections closed as broken (on return or by pre-ping)
  uint64_t connect_errors = 0;  // failed attempts to open a connection
};

}  // namespace ksdb::storage::postgres

#endif  // KSDB_STORAGE_POSTGRES_POOL_OPTIONS_H_
