#include "storage/migration_runner.h"

namespace ksdb::storage {
namespace {

Status CheckNotNewer(const MigrationTarget& target, int64_t version, int64_t latest) {
  if (version <= latest)
    return Status::Ok();
  return target.NewerSchemaError(version, latest);
}

// The body of one migration's transaction. Re-reads the version under the
// exclusive lock: another process may have migrated while we waited for it.
Status ApplyInTransaction(MigrationTarget& target, const Migration& migration, int64_t latest) {
  KSDB_ASSIGN_OR_RETURN(int64_t version, target.ReadVersion());
  KSDB_RETURN_IF_ERROR(CheckNotNewer(target, version, latest));
  if (version >= migration.version)
    return Status::Ok();
  return target.Apply(migration);
}

Status ApplyOne(MigrationTarget& target, const Migration& migration, int64_t latest) {
  KSDB_RETURN_IF_ERROR(target.BeginExclusive());
  Status status = ApplyInTransaction(target, migration, latest);
  if (status.ok())
    status = target.Commit();
  if (!status.ok())
    target.RollbackQuietly();
  return status;
}

}  // namespace

Status RunMigrations(std::span<const Migration> migrations, MigrationTarget& target) {
  const int64_t latest = migrations.back().version;
  KSDB_ASSIGN_OR_RETURN(int64_t version, target.ReadVersion());
  KSDB_RETURN_IF_ERROR(CheckNotNewer(target, version, latest));
  for (const Migration& migration : migrations) {
    if (migration.version <= version)
      continue;
    KSDB_RETURN_IF_ERROR(ApplyOne(target, migration, latest));
  }
  return Status::Ok();
}

Status NewerSchemaStatus(const std::string& store, const std::string& holder, int64_t version,
                         int64_t latest) {
  return Status::IoError(store + ": " + holder + " was written by a newer ksdb (schema v" +
                         std::to_string(version) + "); this build supports up to schema v" +
                         std::to_string(latest));
}

}  // namespace ksdb::storage
