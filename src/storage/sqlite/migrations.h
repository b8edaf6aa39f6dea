// Versioned schema migrations of the SQLite record store, applied by the
// shared runner of storage/migration_runner.h (one transaction per migration,
// append-only, recorded in schema_migrations).
#ifndef KSDB_STORAGE_SQLITE_MIGRATIONS_H_
#define KSDB_STORAGE_SQLITE_MIGRATIONS_H_

#include <cstdint>
#include <span>

#include "common/status.h"
#include "storage/migration_runner.h"
#include "storage/sqlite/sqlite_handle.h"

namespace ksdb::storage::sqlite {

// The migrations this build knows, in ascending version order.
std::span<const Migration> Migrations();

// The highest version in Migrations().
int64_t LatestSchemaVersion();

// PRAGMA application_id stamped into every ksdb database ("ksdb" in ASCII).
inline constexpr int64_t kApplicationId = 0x6B736462;

// Checks that `conn` holds an empty database or a ksdb database, then brings
// its schema up to LatestSchemaVersion(). Errors (IoError, naming the file):
// not an SQLite database, an SQLite database of some other application, or a
// schema written by a newer ksdb. Must run before any other statement on the
// store's connections.
Status ApplyMigrations(Connection& conn);

}  // namespace ksdb::storage::sqlite

#endif  // KSDB_STORAGE_SQLITE_MIGRATIONS_H_
