#include "storage/postgres/migrations.h"

#include <chrono>
#include <string>

namespace ksdb::storage::postgres {
namespace {

// Version 1: the initial schema, the SQLite store's tables in PostgreSQL types.
//
// - Catalog tables carry an identity column `ord`, the insertion order the
//   Load* calls return (SQLite uses its rowid); upserts keep it.
// - Documents and uris are bytea, not text: they round-trip every byte the
//   API accepts (text refuses NUL) whatever the database encoding.
// - records_by_position serves the ordered scan; the (collection_id,
//   record_id) key serves upserts and deletes.
// - Catalog writes are upserts (ON CONFLICT DO UPDATE), never delete + insert,
//   which would cascade a collection's deletion to its records.
constexpr char kSchemaV1[] = R"sql(
CREATE SCHEMA IF NOT EXISTS ksdb;
CREATE TABLE ksdb.schema_migrations (
  version bigint PRIMARY KEY,
  name text NOT NULL,
  applied_at_us bigint NOT NULL
);
CREATE TABLE ksdb.meta (
  key text PRIMARY KEY,
  value bigint NOT NULL
);
CREATE TABLE ksdb.tenants (
  name text PRIMARY KEY,
  resource_name text,
  ord bigint GENERATED ALWAYS AS IDENTITY
);
CREATE TABLE ksdb.databases (
  id text PRIMARY KEY,
  name text NOT NULL,
  tenant text NOT NULL,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  UNIQUE (tenant, name)
);
CREATE TABLE ksdb.collections (
  id text PRIMARY KEY,
  name text NOT NULL,
  tenant text NOT NULL,
  "database" text NOT NULL,
  metadata bytea,
  config bytea NOT NULL,
  dimension bigint,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  UNIQUE (tenant, "database", name)
);
CREATE TABLE ksdb.records (
  collection_id text NOT NULL REFERENCES ksdb.collections (id) ON DELETE CASCADE,
  record_id text NOT NULL,
  position bigint NOT NULL,
  seq bigint NOT NULL,
  embedding bytea NOT NULL,
  document bytea,
  uri bytea,
  metadata bytea,
  created_at_us bigint NOT NULL,
  updated_at_us bigint NOT NULL,
  PRIMARY KEY (collection_id, record_id)
);
CREATE INDEX records_by_position ON ksdb.records (collection_id, position);
)sql";

// Version 2: following other servers' writes.
// - records_by_seq serves "records written after sequence number N".
// - changes logs what the records table cannot show by itself (deletes and
//   catalog changes), under the sequence number of their transaction; several
//   rows may share one number. kind: 0 = catalog, 1 = record delete (one row
//   per deleted record id).
constexpr char kSchemaV2[] = R"sql(
CREATE INDEX records_by_seq ON ksdb.records (seq);
CREATE TABLE ksdb.changes (
  seq bigint NOT NULL,
  kind smallint NOT NULL,
  collection_id text,
  record_id text
);
CREATE INDEX changes_by_seq ON ksdb.changes (seq);
)sql";

// Version 3: record ids of any length and any bytes.
// - record_id becomes bytea: text refuses NUL. Existing ids are valid UTF-8
//   (the connections' client_encoding), so convert_to gives their exact bytes.
// - Records are keyed by (collection_id, record_key), record_key being the
//   SHA-256 of the id: a btree key holds at most ~2.7 KB, and the API accepts
//   ids of megabytes. A generated column, so the key can never disagree with
//   the id it is computed from.
// - The change log's record ids become bytea for the same reason.
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE ksdb.records DROP CONSTRAINT records_pkey;
ALTER TABLE ksdb.records ALTER COLUMN record_id TYPE bytea USING convert_to(record_id, 'UTF8');
ALTER TABLE ksdb.records
  ADD COLUMN record_key bytea NOT NULL GENERATED ALWAYS AS (sha256(record_id)) STORED;
ALTER TABLE ksdb.records ADD PRIMARY KEY (collection_id, record_key);
ALTER TABLE ksdb.changes ALTER COLUMN record_id TYPE bytea USING convert_to(record_id, 'UTF8');
)sql";

// Version 4: pruning the change log (statements.h has the rules).
// - followers: one row per server, the sequence number it has applied all
//   changes up to, and when it last reported (the database's clock).
// - meta 'changes_pruned_through' (absent = 0) is the highest pruned seq.
constexpr char kSchemaV4[] = R"sql(
CREATE TABLE ksdb.followers (
  server_id text PRIMARY KEY,
  followed_seq bigint NOT NULL,
  seen_at timestamptz NOT NULL
);
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial schema", kSchemaV1},
    {2, "change log and records by sequence number", kSchemaV2},
    {3, "record ids as bytea, keyed by their sha256", kSchemaV3},
    {4, "followers of the change log, for pruning it", kSchemaV4},
};

// Reads pg_class with the statement's snapshot, not the session's catalog
// cache: after waiting for the migration lock, a table another server has
// just created must be seen.
constexpr char kHasMigrationsTable[] =
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
    "ON n.oid = c.relnamespace WHERE n.nspname = 'ksdb' AND c.relname = 'schema_migrations')";
constexpr char kMaxVersion[] = "SELECT coalesce(max(version), 0) FROM ksdb.schema_migrations";
constexpr char kCountKsdbRelations[] =
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'ksdb'";
constexpr char kAdvisoryLock[] = "SELECT pg_advisory_xact_lock($1)";
constexpr char kBeginUnlimited[] =
    "BEGIN; SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0";
constexpr char kRecordMigration[] =
    "INSERT INTO ksdb.schema_migrations (version, name, applied_at_us) VALUES ($1, $2, $3)";

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<int64_t> QueryInt64(Connection& conn, const char* sql, std::string_view what) {
  KSDB_ASSIGN_OR_RETURN(ResultHandle result, conn.Query(sql, Params(), what));
  if (PQntuples(result.get()) != 1 || PQnfields(result.get()) != 1)
    return Status::Internal(conn.store_name() + ": " + std::string(what) + ": expected one value");
  return GetInt64(result.get(), 0, 0);
}

Result<bool> QueryBool(Connection& conn, const char* sql, std::string_view what) {
  KSDB_ASSIGN_OR_RETURN(ResultHandle result, conn.Query(sql, Params(), what));
  if (PQntuples(result.get()) != 1 || PQgetlength(result.get(), 0, 0) != 1)
    return Status::Internal(conn.store_name() + ": " + std::string(what) + ": expected a bool");
  return PQgetvalue(result.get(), 0, 0)[0] != 0;
}

class PostgresMigrationTarget final : public MigrationTarget {
 public:
  explicit PostgresMigrationTarget(Connection& conn) : conn_(conn) {}

  Result<int64_t> ReadVersion() override {
    KSDB_ASSIGN_OR_RETURN(bool has_table,
                          QueryBool(conn_, kHasMigrationsTable, "read schema version"));
    if (!has_table)
      return int64_t{0};
    return QueryInt64(conn_, kMaxVersion, "read schema version");
  }

  Status BeginExclusive() override {
    // A migration may rewrite a large table, and a server opening while
    // another migrates must wait for it rather than fail to start: the
    // session's statement and lock limits do not apply here.
    KSDB_RETURN_IF_ERROR(conn_.Exec(kBeginUnlimited, "begin schema migration"));
    return LockAdvisory(conn_, kMigrationLockKey, "lock schema migration");
  }

  Status Apply(const Migration& migration) override {
    const std::string what = "apply schema migration v" + std::to_string(migration.version);
    KSDB_RETURN_IF_ERROR(conn_.Exec(migration.sql, what));
    Params params;
    params.AddInt64(migration.version);
    params.AddText(migration.name);
    params.AddInt64(NowMicros());
    return conn_.Run(kRecordMigration, params, "record schema migration");
  }

  Status Commit() override { return conn_.Exec("COMMIT", "commit schema migration"); }

  void RollbackQuietly() override { conn_.RollbackQuietly(); }

  Status NewerSchemaError(int64_t version, int64_t latest) const override {
    return NewerSchemaStatus(conn_.store_name(), "database", version, latest);
  }

 private:
  Connection& conn_;
};

// A `ksdb` schema with relations but without our migrations table belongs to
// someone else: refuse it rather than add tables to it.
Status CheckOwnership(Connection& conn, MigrationTarget& target) {
  KSDB_ASSIGN_OR_RETURN(int64_t version, target.ReadVersion());
  if (version > 0)
    return Status::Ok();
  KSDB_ASSIGN_OR_RETURN(int64_t relations, QueryInt64(conn, kCountKsdbRelations, "read schema"));
  if (relations == 0)
    return Status::Ok();
  return Status::IoError(conn.store_name() +
                         ": the database has a schema 'ksdb' that is not a ksdb store");
}

}  // namespace

Status LockAdvisory(Connection& conn, int64_t key, std::string_view what) {
  Params params;
  params.AddInt64(key);
  return conn.Run(kAdvisoryLock, params, what);
}

std::span<const Migration> Migrations() {
  return kMigrations;
}

Status ApplyMigrations(Connection& conn) {
  PostgresMigrationTarget target(conn);
  KSDB_RETURN_IF_ERROR(CheckOwnership(conn, target));
  return RunMigrations(kMigrations, target);
}

}  // namespace ksdb::storage::postgres
