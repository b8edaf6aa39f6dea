// Versioned schema migrations of the SQLite record store.
//
// Each migration has a number and a block of SQL. ApplyMigrations runs every
// migration newer than the database's recorded version, each in its own
// transaction together with the row that records it in schema_migrations, so a
// crash leaves the schema at some whole version. Migrations are append-only:
// once released, a migration's SQL never changes; new schema changes get a new
// number.
#ifndef KSDB_STORAGE_SQLITE_MIGRATIONS_H_
#define KSDB_STORAGE_SQLITE_MIGRATIONS_H_

#include <cstdint>
#include <span>

#include "common/status.h"
#include "storage/sqlite/sqlite_handle.h"

namespace ksdb::storage::sqlite {

struct Migration {
  int64_t version;   // 1, 2, 3, ... without gaps
  const char* name;  // short description, recorded alongside the version
  const char* sql;   // one or more statements
};

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
