// The versioned-migration procedure shared by the record stores.
//
// A store's schema is a list of migrations numbered 1, 2, 3, ... Each one runs
// in its own transaction together with the row that records it (in the store's
// schema_migrations table), so a crash leaves the schema at some whole version.
// Migrations are append-only: once released, a migration's SQL never changes;
// a schema change gets a new number.
//
// The runner holds the procedure (read the version, refuse a newer schema,
// apply each missing migration under the store's exclusive migration lock,
// re-reading the version there so two processes opening the same database at
// once never apply a migration twice); a MigrationTarget supplies the
// database-specific steps.
#ifndef KSDB_STORAGE_MIGRATION_RUNNER_H_
#define KSDB_STORAGE_MIGRATION_RUNNER_H_

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace ksdb::storage {

struct Migration {
  int64_t version;   // 1, 2, 3, ... without gaps
  const char* name;  // short description, recorded alongside the version
  const char* sql;   // one or more statements
};

// The database-specific half of RunMigrations.
class MigrationTarget {
 public:
  virtual ~MigrationTarget() = default;

  // The highest recorded version, 0 when nothing was ever applied.
  virtual Result<int64_t> ReadVersion() = 0;
  // Starts a transaction that excludes every other migrating process.
  virtual Status BeginExclusive() = 0;
  // Inside that transaction: runs the migration's SQL and records it.
  virtual Status Apply(const Migration& migration) = 0;
  virtual Status Commit() = 0;
  // Ends a failed transaction; errors are ignored (one is being reported).
  virtual void RollbackQuietly() = 0;
  // The error for a schema newer than this build knows, naming the store.
  virtual Status NewerSchemaError(int64_t version, int64_t latest) const = 0;
};

// Brings `target` up to the last of `migrations` (ascending, non-empty).
Status RunMigrations(std::span<const Migration> migrations, MigrationTarget& target);

// The standard wording of MigrationTarget::NewerSchemaError (IoError): `store`
// describes the store (e.g. "sqlite store '/x/ksdb.sqlite3'"), `holder` what was
// written (e.g. "data directory", "database").
Status NewerSchemaStatus(const std::string& store, const std::string& holder, int64_t version,
                         int64_t latest);

}  // namespace ksdb::storage

#endif  // KSDB_STORAGE_MIGRATION_RUNNER_H_
