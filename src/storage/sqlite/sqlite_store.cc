// The SQLite implementation of RecordStore.
//
// One write connection, guarded by write_mu_ and handed to at most one
// SqliteWriteTransaction at a time, plus a pool of read connections
// (reader_pool.h). The database runs in WAL mode, so readers see the last
// committed state and never wait for the writer. A WalCheckpointer copies
// the WAL into the database file on its own thread (wal_checkpointer.h).
#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/record_store.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/reader_pool.h"
#include "storage/sqlite/row_codec.h"
#include "storage/sqlite/sqlite_handle.h"
#include "storage/sqlite/statements.h"
#include "storage/sqlite/wal_checkpointer.h"
#include "storage/sqlite/write_transaction.h"
#include "storage/stored_values.h"

namespace ksdb::storage {
namespace {

using sqlite::Connection;
using sqlite::ConnectionOptions;
using sqlite::ReaderPool;
using sqlite::ScopedStatement;

// The writer's cache holds the B-tree pages a batch of inserts keeps touching
// (index interiors); readers mostly stream, so a smaller cache each suffices.
constexpr int kWriterCacheKib = 64 * 1024;
constexpr int kReaderCacheKib = 16 * 1024;
constexpr int kBusyTimeoutMs = 5000;
// Keeps the -wal file from staying at the size of the largest batch ever.
constexpr int64_t kJournalSizeLimitBytes = 64 * 1024 * 1024;

Result<RecordRow> ReadRecordRow(const ScopedStatement& stmt, const std::string& collection_id) {
  StoredRecordColumns columns;
  columns.record_id = stmt.ColumnText(0);
  columns.position = stmt.ColumnInt64(1);
  columns.seq = stmt.ColumnInt64(2);
  columns.embedding = stmt.ColumnBlob(3);
  columns.document = stmt.ColumnOptionalText(4);
  columns.uri = stmt.ColumnOptionalText(5);
  columns.metadata = stmt.ColumnBlob(6);
  columns.created_at_us = stmt.ColumnInt64(7);
  columns.updated_at_us = stmt.ColumnInt64(8);
  return DecodeRecordRow(std::move(columns), collection_id);
}

Result<CollectionRow> ReadCollectionRow(const ScopedStatement& stmt) {
  StoredCollectionColumns columns;
  columns.id = stmt.ColumnText(0);
  columns.name = stmt.ColumnText(1);
  columns.tenant = stmt.ColumnText(2);
  columns.database = stmt.ColumnText(3);
  columns.metadata = stmt.ColumnBlob(4);
  columns.config = stmt.ColumnBlob(5);
  if (!stmt.ColumnIsNull(6))
    columns.dimension = stmt.ColumnInt64(6);
  return DecodeCollectionRow(std::move(columns));
}

class SqliteStore final : public RecordStore {
 public:
  SqliteStore(std::unique_ptr<Connection> writer,
              std::unique_ptr<sqlite::WalCheckpointer> checkpointer,
              ConnectionOptions reader_options)
      : writer_(std::move(writer)),
        checkpointer_(std::move(checkpointer)),
        readers_(writer_->path(), reader_options) {}

  Result<std::unique_ptr<WriteTransaction>> BeginWrite() override;
  Result<std::vector<TenantRow>> LoadTenants() override;
  Result<std::vector<DatabaseRow>> LoadDatabases() override;
  Result<std::vector<CollectionRow>> LoadCollections() override;
  Status ScanRecords(const std::string& collection_id,
                     const std::function<Status(RecordRow&&)>& fn) override;
  Result<uint64_t> LastSequence() override;

 private:
  // Runs the catalog query `sql` on a reader and converts each result row with
  // `read_row`, a Result<Row>(const ScopedStatement&) callable. `what` names
  // the operation in error messages.
  template <typename Row, typename ReadRow>
  Result<std::vector<Row>> LoadAll(const char* sql, std::string_view what, ReadRow read_row);

  std::mutex write_mu_;
  std::unique_ptr<Connection> writer_;  // used only while holding write_mu_
  // Declared after writer_ so that it and the idle readers close first and
  // the writer, closing last, checkpoints the WAL into the main file and
  // removes it.
  std::unique_ptr<sqlite::WalCheckpointer> checkpointer_;
  ReaderPool readers_;
};

Result<std::unique_ptr<WriteTransaction>> SqliteStore::BeginWrite() {
  std::unique_lock<std::mutex> lock(write_mu_);
  // A transaction begun after the checkpoint writes the WAL from its start.
  checkpointer_->WaitUntilIdle();
  // Only reachable if a ROLLBACK failed earlier; never build on a stale
  // transaction.
  writer_->RollbackQuietly();
  // IMMEDIATE takes SQLite's write lock now, so a conflict surfaces here as
  // Unavailable instead of midway through the batch.
  KSDB_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE", "begin write transaction"));
  return std::unique_ptr<WriteTransaction>(
      std::make_unique<sqlite::SqliteWriteTransaction>(std::move(lock), writer_.get()));
}

template <typename Row, typename ReadRow>
Result<std::vector<Row>> SqliteStore::LoadAll(const char* sql, std::string_view what,
                                              ReadRow read_row) {
  KSDB_ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_.Acquire());
  KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt, conn->Prepare(sql, what));
  std::vector<Row> rows;
  while (true) {
    KSDB_ASSIGN_OR_RETURN(bool has_row, stmt.Step(what));
    if (!has_row)
      break;
    KSDB_ASSIGN_OR_RETURN(Row row, read_row(stmt));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<TenantRow>> SqliteStore::LoadTenants() {
  return LoadAll<TenantRow>(sqlite::sql::kLoadTenants, "load tenants",
                            [](const ScopedStatement& stmt) -> Result<TenantRow> {
                              return TenantRow{stmt.ColumnText(0), stmt.ColumnOptionalText(1)};
                            });
}

Result<std::vector<DatabaseRow>> SqliteStore::LoadDatabases() {
  return LoadAll<DatabaseRow>(
      sqlite::sql::kLoadDatabases, "load databases",
      [](const ScopedStatement& stmt) -> Result<DatabaseRow> {
        return DatabaseRow{stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnText(2)};
      });
}

Result<std::vector<CollectionRow>> SqliteStore::LoadCollections() {
  return LoadAll<CollectionRow>(sqlite::sql::kLoadCollections, "load collections",
                                ReadCollectionRow);
}

Status SqliteStore::ScanRecords(const std::string& collection_id,
                                const std::function<Status(RecordRow&&)>& fn) {
  // One statement = one read transaction: the scan sees a single snapshot even
  // if commits land while `fn` runs.
  KSDB_ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_.Acquire());
  KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        conn->Prepare(sqlite::sql::kScanRecords, "scan records"));
  stmt.BindText(1, collection_id);
  while (true) {
    KSDB_ASSIGN_OR_RETURN(bool has_row, stmt.Step("scan records"));
    if (!has_row)
      break;
    KSDB_ASSIGN_OR_RETURN(RecordRow row, ReadRecordRow(stmt, collection_id));
    KSDB_RETURN_IF_ERROR(fn(std::move(row)));
  }
  return Status::Ok();
}

Result<uint64_t> SqliteStore::LastSequence() {
  KSDB_ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_.Acquire());
  KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        conn->Prepare(sqlite::sql::kLastSequence, "read last sequence"));
  KSDB_ASSIGN_OR_RETURN(bool has_row, stmt.Step("read last sequence"));
  if (!has_row)
    return uint64_t{0};
  return static_cast<uint64_t>(stmt.ColumnInt64(0));
}

// "FULL" / "NORMAL" / "OFF" (any case) -> the PRAGMA value, else nullptr.
const char* SynchronousMode(const std::string& option) {
  std::string upper;
  for (char c : option)
    upper.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  for (const char* mode : {"FULL", "NORMAL", "OFF"}) {
    if (upper == mode)
      return mode;
  }
  return nullptr;
}

Status EnableWal(Connection& conn) {
  // The first statement that reads the file: a non-database fails here.
  KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        conn.Prepare("PRAGMA journal_mode = WAL", "enable WAL journal"));
  KSDB_ASSIGN_OR_RETURN(bool has_row, stmt.Step("enable WAL journal"));
  const std::string mode = has_row ? stmt.ColumnText(0) : std::string();
  if (mode != "wal") {
    return Status::IoError("sqlite store '" + conn.path() +
                           "': could not switch to WAL journal mode (got '" + mode + "')");
  }
  return Status::Ok();
}

Status ConfigureWriter(Connection& conn, const char* synchronous) {
  KSDB_RETURN_IF_ERROR(EnableWal(conn));
  const std::string sync = std::string("PRAGMA synchronous = ") + synchronous;
  KSDB_RETURN_IF_ERROR(conn.Exec(sync.c_str(), "set synchronous mode"));
  KSDB_RETURN_IF_ERROR(conn.Exec("PRAGMA foreign_keys = ON", "enable foreign keys"));
  const std::string limit = "PRAGMA journal_size_limit = " + std::to_string(kJournalSizeLimitBytes);
  return conn.Exec(limit.c_str(), "set journal size limit");
}

}  // namespace

Result<std::unique_ptr<RecordStore>> OpenSqliteStore(const std::string& path,
                                                     const SqliteOptions& options) {
  const char* synchronous = SynchronousMode(options.synchronous);
  if (synchronous == nullptr) {
    return Status::InvalidArgument("sqlite synchronous mode must be FULL, NORMAL or OFF, got '" +
                                   options.synchronous + "'");
  }
  if (sqlite3_threadsafe() == 0) {
    return Status::IoError("the SQLite library was built without thread support");
  }
  ConnectionOptions writer_options;
  writer_options.create = true;
  writer_options.cache_size_kib = kWriterCacheKib;
  writer_options.busy_timeout_ms = kBusyTimeoutMs;
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer, Connection::Open(path, writer_options));
  KSDB_RETURN_IF_ERROR(ConfigureWriter(*writer, synchronous));
  KSDB_RETURN_IF_ERROR(sqlite::ApplyMigrations(*writer));
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::WalCheckpointer> checkpointer,
                        sqlite::WalCheckpointer::Start(writer.get()));

  ConnectionOptions reader_options;
  reader_options.query_only = true;
  reader_options.cache_size_kib = kReaderCacheKib;
  reader_options.busy_timeout_ms = kBusyTimeoutMs;
  return std::unique_ptr<RecordStore>(
      std::make_unique<SqliteStore>(std::move(writer), std::move(checkpointer), reader_options));
}

}  // namespace ksdb::storage
