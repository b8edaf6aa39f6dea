// The PostgreSQL implementation of RecordStore (see storage/record_store.h for
// the contract it shares with the SQLite store).
//
// Every call leases a connection from a ConnectionPool (pool.h): reads run in
// parallel on their own connections and see the last committed state; one
// write transaction at a time per process (a mutex) and per database (an
// advisory lock), so several servers may share a database safely. Schema
// migrations run on open (migrations.h). Errors name the store by its URL
// without the password and never carry SQL.
#ifndef KSDB_STORAGE_POSTGRES_POSTGRES_STORE_H_
#define KSDB_STORAGE_POSTGRES_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "common/result.h"
#include "storage/postgres/pool_options.h"
#include "storage/postgres/url.h"
#include "storage/record_store.h"

namespace ksdb::storage {

// A RecordStore on PostgreSQL that also reports its pool.
//
// Change log pruning (PoolOptions::change_log_retention): each store instance
// (one per server) registers under a random server id when it opens and,
// from every ReadChangesSince(since) call, reports `since` as followed (the
// engine has applied everything up to it), at most once per pass and at
// least every min(retention / 4, 60 s). Every min(retention / 10, 60 s) a
// follow pass also prunes: entries at or below the lowest followed seq of the
// servers seen within the retention are deleted. A server that comes back
// after entries above its `since` were pruned is registered again at the last
// sequence number and told so through ChangeVisitor::missed (it reloads
// everything from the store); without `missed` it gets an IoError from
// ReadChangesSince saying so and no longer holds back pruning.
class PostgresRecordStore : public RecordStore {
 public:
  // Gauges and counters of the connection pool.
  virtual postgres::PoolStats PoolStats() const = 0;
  // Prunes the change log now (follow passes also do it periodically).
  // Returns the highest sequence number whose entries may be gone (0: none).
  // A no-op returning the current value when the retention is 0.
  virtual Result<uint64_t> PruneChangeLog() = 0;
  // This instance's id in ksdb.followers.
  virtual const std::string& server_id() const = 0;
};

// Connects (one connection, to fail fast), applies the migrations and returns
// the store. Unavailable with libpq's reason if the database cannot be
// reached; IoError if it holds a foreign `ksdb` schema or a newer one.
Result<std::unique_ptr<PostgresRecordStore>> OpenPostgresStore(
    const postgres::ConnectParams& params, const postgres::PoolOptions& pool_options);

}  // namespace ksdb::storage

#endif  // KSDB_STORAGE_POSTGRES_POSTGRES_STORE_H_
