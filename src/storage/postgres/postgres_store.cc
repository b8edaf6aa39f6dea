#include "storage/postgres/postgres_store.h"

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "storage/postgres/migrations.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/record_columns.h"
#include "storage/postgres/statements.h"
#include "storage/postgres/write_transaction.h"
#include "storage/stored_values.h"

namespace ksdb::storage {
namespace {

using postgres::Connection;
using postgres::ConnectionPool;
using postgres::Params;
using postgres::ResultHandle;

Status CorruptColumn(const Connection& conn, std::string_view what, const Status& cause) {
  return Status::Corruption(conn.store_name() + ": " + std::string(what) + ": " + cause.message());
}

Result<RecordRow> ReadRecordRow(const PGresult* result, int row, const std::string& collection_id,
                                const Connection& conn) {
  Result<RecordRow> record = postgres::ReadRecordColumns(result, row, collection_id);
  if (!record.ok() && record.status().code() == StatusCode::kCorruption)
    return CorruptColumn(conn, "scan records", record.status());
  return record;
}

Result<CollectionRow> ReadCollectionRow(const PGresult* result, int row, const Connection& conn) {
  StoredCollectionColumns columns;
  columns.id = postgres::GetText(result, row, 0);
  columns.name = postgres::GetText(result, row, 1);
  columns.tenant = postgres::GetText(result, row, 2);
  columns.database = postgres::GetText(result, row, 3);
  columns.metadata = postgres::GetBytes(result, row, 4);
  columns.config = postgres::GetBytes(result, row, 5);
  if (!postgres::IsNull(result, row, 6)) {
    Result<int64_t> dimension = postgres::GetInt64(result, row, 6);
    if (!dimension.ok())
      return CorruptColumn(conn, "load collections", dimension.status());
    columns.dimension = *dimension;
  }
  return DecodeCollectionRow(std::move(columns));
}

class PostgresStore final : public PostgresRecordStore {
 public:
  PostgresStore(const postgres::ConnectParams& params, const postgres::PoolOptions& options)
      : pool_([params, options] { return Connection::Open(params, options); }, options,
              postgres::StoreName(params)) {}

  Status Migrate();

  Result<std::unique_ptr<WriteTransaction>> BeginWrite() override;
  Result<std::vector<TenantRow>> LoadTenants() override;
  Result<std::vector<DatabaseRow>> LoadDatabases() override;
  Result<std::vector<CollectionRow>> LoadCollections() override;
  Status ScanRecords(const std::string& collection_id,
                     const std::function<Status(RecordRow&&)>& fn) override;
  Result<uint64_t> LastSequence() override;
  bool shared() const override { return true; }
  Result<uint64_t> ReadChangesSince(uint64_t since, const ChangeVisitor& visitor) override;
  postgres::PoolStats PoolStats() const override { return pool_.Stats(); }

 private:
  // Runs the catalog query `sql` and converts each result row with
  // `read_row`, a Result<Row>(const PGresult*, int row, const Connection&)
  // callable. `what` names the operation in error messages.
  template <typename Row, typename ReadRow>
  Result<std::vector<Row>> LoadAll(const char* sql, std::string_view what, ReadRow read_row);
  // The body of ScanRecords, inside its read-only transaction on `conn`.
  Status ScanInTransaction(Connection& conn, const std::string& collection_id,
                           const std::function<Status(RecordRow&&)>& fn);

  // The body of ReadChangesSince, inside its snapshot transaction on `conn`.
  Result<uint64_t> ChangesInTransaction(Connection& conn, uint64_t since,
                                        const ChangeVisitor& visitor);
  // The log entries with since < seq <= last, grouped per (seq, kind, collection).
  Result<std::vector<ChangeLogEntry>> ReadLog(Connection& conn, int64_t since, int64_t last);

  ConnectionPool pool_;
  std::mutex write_mu_;  // held by the open PostgresWriteTransaction
};

Status PostgresStore::Migrate() {
  KSDB_ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Checkout());
  return postgres::ApplyMigrations(*conn);
}

Result<std::unique_ptr<WriteTransaction>> PostgresStore::BeginWrite() {
  std::unique_lock<std::mutex> lock(write_mu_);
  KSDB_ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Checkout());
  KSDB_RETURN_IF_ERROR(conn->Exec("BEGIN", "begin write transaction"));
  // Other servers on the same database wait here, so sequence numbers and
  // batches stay in one commit order across all of them.
  Status locked = postgres::LockAdvisory(*conn, postgres::kWriteLockKey, "lock writer");
  if (!locked.ok()) {
    conn->RollbackQuietly();
    return locked;
  }
  return std::unique_ptr<WriteTransaction>(
      std::make_unique<postgres::PostgresWriteTransaction>(std::move(lock), std::move(conn)));
}

template <typename Row, typename ReadRow>
Result<std::vector<Row>> PostgresStore::LoadAll(const char* sql, std::string_view what,
                                                ReadRow read_row) {
  KSDB_ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Checkout());
  KSDB_ASSIGN_OR_RETURN(ResultHandle result, conn->Query(sql, Params(), what));
  std::vector<Row> rows;
  const int count = PQntuples(result.get());
  rows.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    KSDB_ASSIGN_OR_RETURN(Row row, read_row(result.get(), i, *conn));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<TenantRow>> PostgresStore::LoadTenants() {
  return LoadAll<TenantRow>(
      postgres::sql::kLoadTenants, "load tenants",
      [](const PGresult* result, int row, const Connection&) -> Result<TenantRow> {
        return TenantRow{postgres::GetText(result, row, 0),
                         postgres::GetOptionalText(result, row, 1)};
      });
}

Result<std::vector<DatabaseRow>> PostgresStore::LoadDatabases() {
  return LoadAll<DatabaseRow>(
      postgres::sql::kLoadDatabases, "load databases",
      [](const PGresult* result, int row, const Connection&) -> Result<DatabaseRow> {
        return DatabaseRow{postgres::GetText(result, row, 0), postgres::GetText(result, row, 1),
                           postgres::GetText(result, row, 2)};
      });
}

Result<std::vector<CollectionRow>> PostgresStore::LoadCollections() {
  return LoadAll<CollectionRow>(postgres::sql::kLoadCollections, "load collections",
                                ReadCollectionRow);
}

Status PostgresStore::ScanRecords(const std::string& collection_id,
                                  const std::function<Status(RecordRow&&)>& fn) {
  KSDB_ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Checkout());
  // The cursor's query runs on one snapshot: the scan sees a single committed
  // state even if commits land while `fn` runs.
  KSDB_RETURN_IF_ERROR(conn->Exec(postgres::sql::kBeginScan, "scan records"));
  Status status = ScanInTransaction(*conn, collection_id, fn);
  // Read-only: ending it either way is the same; ROLLBACK also covers errors.
  conn->RollbackQuietly();
  return status;
}

Status PostgresStore::ScanInTransaction(Connection& conn, const std::string& collection_id,
                                        const std::function<Status(RecordRow&&)>& fn) {
  Params params;
  params.AddText(collection_id);
  KSDB_RETURN_IF_ERROR(conn.Run(postgres::sql::kDeclareScan, params, "scan records"));
  while (true) {
    KSDB_ASSIGN_OR_RETURN(ResultHandle batch,
                          conn.Query(postgres::sql::kFetchScan, Params(), "scan records"));
    const int count = PQntuples(batch.get());
    if (count == 0)
      return Status::Ok();
    for (int i = 0; i < count; ++i) {
      KSDB_ASSIGN_OR_RETURN(RecordRow row, ReadRecordRow(batch.get(), i, collection_id, conn));
      KSDB_RETURN_IF_ERROR(fn(std::move(row)));
    }
  }
}

Result<uint64_t> PostgresStore::LastSequence() {
  KSDB_ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Checkout());
  KSDB_ASSIGN_OR_RETURN(ResultHandle result,
                        conn->Query(postgres::sql::kLastSequence, Params(), "read last sequence"));
  if (PQntuples(result.get()) == 0)
    return uint64_t{0};
  Result<int64_t> value = postgres::GetInt64(result.get(), 0, 0);
  if (!value.ok())
    return CorruptColumn(*conn, "read last sequence", value.status());
  return static_cast<uint64_t>(*value);
}

Result<uint64_t> PostgresStore::ReadChangesSince(uint64_t since, const ChangeVisitor& visitor) {
  KSDB_ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Checkout());
  // One snapshot for the counter, the log and the records: whatever the
  // counter says is committed is all there, and nothing newer is.
  KSDB_RETURN_IF_ERROR(conn->Exec(postgres::sql::kBeginChangesSnapshot, "read changes"));
  Result<uint64_t> last = ChangesInTransaction(*conn, since, visitor);
  conn->RollbackQuietly();
  return last;
}

Result<uint64_t> PostgresStore::ChangesInTransaction(Connection& conn, uint64_t since,
                                                     const ChangeVisitor& visitor) {
  KSDB_ASSIGN_OR_RETURN(ResultHandle counter,
                        conn.Query(postgres::sql::kLastSequence, Params(), "read changes"));
  uint64_t last = 0;
  if (PQntuples(counter.get()) > 0) {
    Result<int64_t> value = postgres::GetInt64(counter.get(), 0, 0);
    if (!value.ok())
      return CorruptColumn(conn, "read changes", value.status());
    last = static_cast<uint64_t>(*value);
  }
  if (last <= since)
    return last;
  KSDB_ASSIGN_OR_RETURN(int64_t since_value, ToStoredInt(since, "sequence number"));
  KSDB_ASSIGN_OR_RETURN(std::vector<ChangeLogEntry> log,
                        ReadLog(conn, since_value, static_cast<int64_t>(last)));
  KSDB_RETURN_IF_ERROR(visitor.log(std::move(log)));
  Params params;
  params.AddInt64(since_value);
  params.AddInt64(static_cast<int64_t>(last));
  KSDB_RETURN_IF_ERROR(conn.Run(postgres::sql::kDeclareSinceScan, params, "read changes"));
  while (true) {
    KSDB_ASSIGN_OR_RETURN(ResultHandle batch,
                          conn.Query(postgres::sql::kFetchSinceScan, Params(), "read changes"));
    const int count = PQntuples(batch.get());
    if (count == 0)
      return last;
    std::vector<CollectionRecordRow> rows;
    rows.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      std::string collection_id = postgres::GetText(batch.get(), i, 9);
      KSDB_ASSIGN_OR_RETURN(RecordRow row, ReadRecordRow(batch.get(), i, collection_id, conn));
      rows.push_back({std::move(collection_id), std::move(row)});
    }
    KSDB_RETURN_IF_ERROR(visitor.records(std::move(rows)));
  }
}

Result<std::vector<ChangeLogEntry>> PostgresStore::ReadLog(Connection& conn, int64_t since,
                                                           int64_t last) {
  Params params;
  params.AddInt64(since);
  params.AddInt64(last);
  KSDB_ASSIGN_OR_RETURN(ResultHandle result,
                        conn.Query(postgres::sql::kChangesSince, params, "read change log"));
  std::vector<ChangeLogEntry> entries;
  const int count = PQntuples(result.get());
  for (int i = 0; i < count; ++i) {
    Result<int64_t> seq = postgres::GetInt64(result.get(), i, 0);
    Result<int64_t> kind = postgres::GetInt64(result.get(), i, 1);
    if (!seq.ok() || !kind.ok())
      return CorruptColumn(conn, "read change log", seq.ok() ? kind.status() : seq.status());
    const ChangeKind change_kind = *kind == 0 ? ChangeKind::kCatalog : ChangeKind::kDeleteRecords;
    std::string collection_id = postgres::GetText(result.get(), i, 2);
    // Rows of one delete (same seq and collection) arrive together: one entry.
    if (entries.empty() || entries.back().seq != static_cast<uint64_t>(*seq) ||
        entries.back().kind != change_kind || entries.back().collection_id != collection_id) {
      entries.push_back({static_cast<uint64_t>(*seq), change_kind, std::move(collection_id), {}});
    }
    if (change_kind == ChangeKind::kDeleteRecords)
      entries.back().record_ids.push_back(postgres::GetText(result.get(), i, 3));
  }
  return entries;
}

}  // namespace

Result<std::unique_ptr<PostgresRecordStore>> OpenPostgresStore(
    const postgres::ConnectParams& params, const postgres::PoolOptions& pool_options) {
  if (PQisthreadsafe() == 0)
    return Status::IoError("the libpq library was built without thread support");
  if (pool_options.pool_size == 0)
    return Status::InvalidArgument("postgresql pool_size must be at least 1");
  auto store = std::make_unique<PostgresStore>(params, pool_options);
  KSDB_RETURN_IF_ERROR(store->Migrate());
  return std::unique_ptr<PostgresRecordStore>(std::move(store));
}

}  // namespace ksdb::storage
