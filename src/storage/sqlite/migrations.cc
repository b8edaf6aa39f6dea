#include "storage/sqlite/migrations.h"

#include <chrono>
#include <string>

namespace ksdb::storage::sqlite {
namespace {

// Version 1: the initial schema.
//
// records is an ordinary rowid table, not WITHOUT ROWID. A WITHOUT ROWID table
// keeps whole rows inside its primary-key B-tree, which suits small rows; ours
// carry an embedding of kilobytes (384 floats = 1.5 KiB, often more). With the
// (collection_id, record_id) key, a 20k-row batch of random ids would then be
// 20k random inserts of big rows into the middle of the tree (page splits that
// move those payloads around, overflow chains hanging off interior positions).
// As a rowid table, new rows are appended at the end of the table B-tree and
// only the two narrow indexes take random inserts. The ordered scan walks
// records_by_position (entries: collection_id, position, rowid) and fetches
// each row by integer rowid; rows were appended in position order, so those
// fetches read the table pages nearly sequentially.
//
// Catalog writes use UPSERT (ON CONFLICT DO UPDATE), never REPLACE: REPLACE
// deletes the old collections row, which would cascade to its records.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at_us INTEGER NOT NULL
);
CREATE TABLE meta (
  key TEXT NOT NULL PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE tenants (
  name TEXT NOT NULL PRIMARY KEY,
  resource_name TEXT
);
CREATE TABLE databases (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  UNIQUE (tenant, name)
);
CREATE TABLE collections (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  "database" TEXT NOT NULL,
  metadata BLOB,
  config BLOB NOT NULL,
  dimension INTEGER,
  UNIQUE (tenant, "database", name)
);
CREATE TABLE records (
  collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  record_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  embedding BLOB NOT NULL,
  document TEXT,
  uri TEXT,
  metadata BLOB,
  created_at_us INTEGER NOT NULL,
  updated_at_us INTEGER NOT NULL,
  PRIMARY KEY (collection_id, record_id)
);
CREATE INDEX records_by_position ON records (collection_id, position);
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial schema", kSchemaV1},
};

constexpr char kHasMigrationsTable[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
constexpr char kMaxVersion[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
constexpr char kCountTables[] = "SELECT count(*) FROM sqlite_master";
constexpr char kApplicationIdQuery[] = "PRAGMA application_id";
constexpr char kRecordMigration[] =
    "INSERT INTO schema_migrations (version, name, applied_at_us) VALUES (?1, ?2, ?3)";

Status NotKsdb(const Connection& conn) {
  return Status::IoError("sqlite store '" + conn.path() +
                         "': the file is an SQLite database of some other application, "
                         "not a ksdb store");
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An empty database (a new file) is fine; anything else must carry our
// application id.
Status CheckOwnership(Connection& conn) {
  KSDB_ASSIGN_OR_RETURN(int64_t app_id, conn.QueryInt64(kApplicationIdQuery, "read header"));
  if (app_id == kApplicationId)
    return Status::Ok();
  if (app_id != 0)
    return NotKsdb(conn);
  KSDB_ASSIGN_OR_RETURN(int64_t tables, conn.QueryInt64(kCountTables, "read schema"));
  if (tables != 0)
    return NotKsdb(conn);
  return Status::Ok();
}

// The SQLite steps of RunMigrations. BEGIN IMMEDIATE takes SQLite's write
// lock, which excludes every other migrating connection.
class SqliteMigrationTarget final : public MigrationTarget {
 public:
  explicit SqliteMigrationTarget(Connection& conn) : conn_(conn) {}

  Result<int64_t> ReadVersion() override {
    KSDB_ASSIGN_OR_RETURN(int64_t has_table,
                          conn_.QueryInt64(kHasMigrationsTable, "read schema version"));
    if (has_table == 0)
      return int64_t{0};
    return conn_.QueryInt64(kMaxVersion, "read schema version");
  }

  Status BeginExclusive() override {
    return conn_.Exec("BEGIN IMMEDIATE", "begin schema migration");
  }

  Status Apply(const Migration& migration) override {
    const std::string what = "apply schema migration v" + std::to_string(migration.version);
    KSDB_RETURN_IF_ERROR(conn_.Exec(migration.sql, what));
    KSDB_RETURN_IF_ERROR(Record(migration));
    const std::string stamp = "PRAGMA application_id = " + std::to_string(kApplicationId);
    return conn_.Exec(stamp.c_str(), "stamp application id");
  }

  Status Commit() override { return conn_.Exec("COMMIT", "commit schema migration"); }

  void RollbackQuietly() override { conn_.RollbackQuietly(); }

  Status NewerSchemaError(int64_t version, int64_t latest) const override {
    return NewerSchemaStatus("sqlite store '" + conn_.path() + "'", "data directory", version,
                             latest);
  }

 private:
  Status Record(const Migration& migration) {
    KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          conn_.Prepare(kRecordMigration, "record migration"));
    const std::string name = migration.name;
    stmt.BindInt64(1, migration.version);
    stmt.BindText(2, name);
    stmt.BindInt64(3, NowMicros());
    return stmt.Run("record migration");
  }

  Connection& conn_;
};

}  // namespace

std::span<const Migration> Migrations() {
  return kMigrations;
}

int64_t LatestSchemaVersion() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

Status ApplyMigrations(Connection& conn) {
  KSDB_RETURN_IF_ERROR(CheckOwnership(conn));
  SqliteMigrationTarget target(conn);
  return RunMigrations(kMigrations, target);
}

}  // namespace ksdb::storage::sqlite
