#include "storage/postgres/postgres_store.h"

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "storage/postgres/migrations.h"
#include "storage/postgres/pg_connection.h"
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
  using postgres::GetBytes;
  using postgres::GetInt64;
  using postgres::GetOptionalText;
  StoredRecordColumns columns;
  columns.record_id = postgres::GetText(result, row, 0);
  Result<int64_t> ints[4] = {GetInt64(result, row, 1), GetInt64(result, row, 2),
                             GetInt64(result, row, 7), GetInt64(result, row, 8)};
  for (const Result<int64_t>& value : ints) {
    if (!value.ok())
      return CorruptColumn(conn, "scan records", value.status());
  }
  columns.position = *ints[0];
  columns.seq = *ints[1];
  columns.created_at_us = *ints[2];
  columns.updated_at_us = *ints[3];
  columns.embedding = GetBytes(result, row, 3);
  columns.document = GetOptionalText(result, row, 4);
  columns.uri = GetOptionalText(result, row, 5);
  columns.metadata = GetBytes(result, row, 6);
  return DecodeRecordRow(std::move(columns), collection_id);
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
      : pool_([params] { return Connection::Open(params); }, options, postgres::StoreName(params)) {
  }

  Status Migrate();

  Result<std::unique_ptr<WriteTransaction>> BeginWrite() override;
  Result<std::vector<TenantRow>> LoadTenants() override;
  Result<std::vector<DatabaseRow>> LoadDatabases() override;
  Result<std::vector<CollectionRow>> LoadCollections() override;
  Status ScanRecords(const std::string& collection_id,
                     const std::function<Status(RecordRow&&)>& fn) override;
  Result<uint64_t> LastSequence() override;
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
  KSDB_RETURN_IF_ERROR(conn->Exec("BEGIN READ ONLY", "scan records"));
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
