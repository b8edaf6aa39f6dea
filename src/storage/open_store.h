// Opening the record store a server is configured with: SQLite (a file path)
// or PostgreSQL (a postgresql:// URL, see storage/postgres/url.h).
#ifndef KSDB_STORAGE_OPEN_STORE_H_
#define KSDB_STORAGE_OPEN_STORE_H_

#include <memory>
#include <string>

#include "common/result.h"
#include "storage/postgres/pool_options.h"
#include "storage/record_store.h"

namespace ksdb::storage {

struct StoreOptions {
  // A path to the SQLite file, or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB.
  std::string location;
  SqliteOptions sqlite;
  // Pool defaults; the URL's query (pool_size=, max_overflow=, ...) overrides.
  postgres::PoolOptions postgres_pool;
};

// True when `location` names a PostgreSQL store rather than a file.
bool IsPostgresLocation(const std::string& location);

// Opens the store at options.location. InvalidArgument for a malformed URL
// (the message never contains the password); otherwise as OpenSqliteStore /
// OpenPostgresStore (Unavailable when the database cannot be reached).
Result<std::unique_ptr<RecordStore>> OpenRecordStore(const StoreOptions& options);

}  // namespace ksdb::storage

#endif  // KSDB_STORAGE_OPEN_STORE_H_
