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

#include "common/result.h"
#include "storage/postgres/pool_options.h"
#include "storage/postgres/url.h"
#include "storage/record_store.h"

namespace ksdb::storage {

// A RecordStore on PostgreSQL that also reports its pool.
class PostgresRecordStore : public RecordStore {
 public:
  // Gauges and counters of the connection pool.
  virtual postgres::PoolStats PoolStats() const = 0;
};

// Connects (one connection, to fail fast), applies the migrations and returns
// the store. Unavailable with libpq's reason if the database cannot be
// reached; IoError if it holds a foreign `ksdb` schema or a newer one.
Result<std::unique_ptr<PostgresRecordStore>> OpenPostgresStore(
    const postgres::ConnectParams& params, const postgres::PoolOptions& pool_options);

}  // namespace ksdb::storage

#endif  // KSDB_STORAGE_POSTGRES_POSTGRES_STORE_H_
