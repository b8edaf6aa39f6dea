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

  // Session limits set on every connection when the pool opens it (0 = no
  // limit). A statement running longer than statement_timeout, or waiting
  // longer than lock_timeout for a lock (a table lock, or the write lock a
  // peer server holds), is cancelled; a connection left idle inside a
  // transaction longer than idle_in_transaction_timeout is closed by the
  // server, which releases whatever that transaction held. Each surfaces as
  // Unavailable naming the setting. Schema migrations run without the
  // statement and lock limits; read snapshots that call back into the engine
  // between fetches run without the idle-in-transaction limit.
  std::chrono::milliseconds statement_timeout{30000};
  std::chrono::milliseconds lock_timeout{10000};
  std::chrono::milliseconds idle_in_transaction_timeout{60000};

  // Pruning of the change log (0 = never prune). A server that has not
  // followed the log for this long no longer holds back pruning; if it comes
  // back after entries it had not read were pruned, reading changes fails
  // (see PostgresRecordStore::ReadChangesSince) instead of missing deletes.
  std::chrono::seconds change_log_retention{600};
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
