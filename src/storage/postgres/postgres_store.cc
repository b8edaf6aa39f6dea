#include "storage/postgres/postgres_store.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/uuid.h"
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

// Rows of the change log one prune transaction deletes (about; a seq is
// always deleted whole), so each stays well inside the statement timeout.
constexpr int64_t kPruneChunkRows = 50000;
// Bounds of the report and prune intervals derived from the retention.
constexpr std::chrono::seconds kMinFollowInterval{1};
constexpr std::chrono::seconds kMaxFollowInterval{60};

std::chrono::seconds ClampInterval(std::chrono::seconds value) {
  return std::clamp(value, kMinFollowInterval, kMaxFollowInterval);
}

// The value of a one-row, one-column int8 result; nullopt when NULL.
Result<std::optional<int64_t>> OptionalInt64(Connection& conn, const char* sql,
                                             const Params& params, std::string_view what) {
  KSDB_ASSIGN_OR_RETURN(ResultHandle result, conn.Query(sql, params, what));
  if (PQntuples(result.get()) != 1 || PQnfields(result.get()) != 1)
    return Status::Internal(conn.store_name() + ": " + std::string(what) + ": expected one value");
  if (postgres::IsNull(result.get(), 0, 0))
    return std::optional<int64_t>();
  Result<int64_t> value = postgres::GetInt64(result.get(), 0, 0);
  if (!value.ok())
    return CorruptColumn(conn, what, value.status());
  return std::optional<int64_t>(*value);
}

// Runs `body` (a Result<T>(Connection&) callable) inside BEGIN ... COMMIT on
// `conn`, rolling back if it fails.
template <typename Body>
auto InTransaction(Connection& conn, std::string_view what, Body body) -> decltype(body(conn)) {
  KSDB_RETURN_IF_ERROR(conn.Exec("BEGIN", what));
  auto result = body(conn);
  if (!result.ok()) {
    conn.RollbackQuietly();
    return result;
  }
  KSDB_RETURN_IF_ERROR(conn.Exec("COMMIT", what));
  return result;
}

class PostgresStore final : public PostgresRecordStore {
 public:
  PostgresStore(const postgres::ConnectParams& params, const postgres::PoolOptions& options)
      : pool_([params, options] { return Connection::Open(params, options); }, options,
              postgres::StoreName(params)),
        retention_(options.change_log_retention) {}

  // Applies the migrations, then adds this server to ksdb.followers at the
  // current last sequence number (on one connection).
  Status Prepare();

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
  Result<uint64_t> PruneChangeLog() override;
  const std::string& server_id() const override { return server_id_; }

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
  // nullopt when entries after `since` were pruned and the visitor can
  // reload (it has not been called then).
  Result<std::optional<uint64_t>> ChangesInTransaction(Connection& conn, uint64_t since,
                                                       const ChangeVisitor& visitor);
  // The log entries with since < seq <= last, grouped per (seq, kind, collection).
  Result<std::vector<ChangeLogEntry>> ReadLog(Connection& conn, int64_t since, int64_t last);

  // Adds (or resets) this server's ksdb.followers row at the current last
  // sequence number, under the followers lock. Returns that number.
  Result<uint64_t> RegisterFollower(Connection& conn);
  // Whether entries after `since` may have been pruned: the caller would
  // silently miss those deletes and catalog changes.
  Result<bool> MissedPrunedEntries(Connection& conn, uint64_t since);
  // The error of a follow pass from `since` that missed pruned entries and
  // whose visitor cannot reload.
  Status MissedEntriesError(Connection& conn, uint64_t since);
  // A follow pass that missed pruned entries: registers this server again
  // (so nothing newer is pruned while it reloads), releases `conn`, then
  // hands the visitor's `missed` the sequence number it registered at.
  Result<uint64_t> RejoinAfterMissedEntries(ConnectionPool::Lease conn,
                                            const ChangeVisitor& visitor);
  // After a successful follow pass from `since`: reports it and prunes when due.
  Status AfterFollowPass(Connection& conn, uint64_t since);
  Status ReportFollowed(Connection& conn, uint64_t since);
  // Prunes chunk by chunk; returns the new pruned-through sequence number.
  Result<uint64_t> Prune(Connection& conn);
  // One chunk, inside a transaction holding the followers lock. True when
  // entries below the horizon may remain.
  Result<bool> PruneChunk(Connection& conn);
  Result<uint64_t> ReadPrunedThrough(Connection& conn);

  ConnectionPool pool_;
  std::mutex write_mu_;  // held by the open PostgresWriteTransaction
  const std::string server_id_ = NewUuidV4();
  const std::chrono::seconds retention_;

  std::mutex follow_state_mu_;
  // Guarded by follow_state_mu_: the last report and prune of this instance.
  std::optional<uint64_t> reported_seq_;
  std::chrono::steady_clock::time_point reported_at_;
  std::optional<std::chrono::steady_clock::time_point> pruned_at_;
};

Status PostgresStore::Prepare() {
  KSDB_ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Checkout());
  KSDB_RETURN_IF_ERROR(postgres::ApplyMigrations(*conn));
  return RegisterFollower(*conn).status();
}

Result<uint64_t> PostgresStore::RegisterFollower(Connection& conn) {
  // Under the followers lock: a prune either sees this row or finishes before
  // it is written, and then the last sequence number it records is at or
  // above anything that prune deleted.
  constexpr std::string_view kWhat = "register follower";
  return InTransaction(conn, kWhat, [&](Connection& c) -> Result<uint64_t> {
    KSDB_RETURN_IF_ERROR(postgres::LockAdvisory(c, postgres::kFollowersLockKey, kWhat));
    Params params;
    params.AddText(server_id_);
    KSDB_ASSIGN_OR_RETURN(std::optional<int64_t> seq,
                          OptionalInt64(c, postgres::sql::kRegisterFollower, params, kWhat));
    return static_cast<uint64_t>(seq.value_or(0));
  });
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
  Result<std::optional<uint64_t>> last = ChangesInTransaction(*conn, since, visitor);
  conn->RollbackQuietly();
  if (!last.ok())
    return last.status();
  if (!last->has_value())
    return RejoinAfterMissedEntries(std::move(conn), visitor);
  KSDB_RETURN_IF_ERROR(AfterFollowPass(*conn, since));
  return **last;
}

Result<uint64_t> PostgresStore::RejoinAfterMissedEntries(ConnectionPool::Lease conn,
                                                         const ChangeVisitor& visitor) {
  KSDB_ASSIGN_OR_RETURN(uint64_t from, RegisterFollower(*conn));
  {
    // The registration is this server's report: the next pass from `from`
    // need not repeat it.
    std::lock_guard<std::mutex> lock(follow_state_mu_);
    reported_seq_ = from;
    reported_at_ = std::chrono::steady_clock::now();
  }
  {
    // The visitor reloads through this store: it must not wait for this
    // connection (a pool of one would deadlock).
    ConnectionPool::Lease released = std::move(conn);
  }
  KSDB_RETURN_IF_ERROR(visitor.missed(from));
  return from;
}

Result<bool> PostgresStore::MissedPrunedEntries(Connection& conn, uint64_t since) {
  KSDB_ASSIGN_OR_RETURN(uint64_t pruned, ReadPrunedThrough(conn));
  return since < pruned;
}

Status PostgresStore::MissedEntriesError(Connection& conn, uint64_t since) {
  Result<uint64_t> pruned = ReadPrunedThrough(conn);
  if (!pruned.ok())
    return pruned.status();
  return Status::IoError(
      conn.store_name() + ": the change log no longer holds the entries after sequence number " +
      std::to_string(since) + " (pruned through " + std::to_string(*pruned) +
      "): this server stopped following it for longer than change_log_retention_s and must "
      "reload its catalog and records (restart it)");
}

Status PostgresStore::AfterFollowPass(Connection& conn, uint64_t since) {
  const auto now = std::chrono::steady_clock::now();
  bool report = false;
  bool prune = false;
  {
    std::lock_guard<std::mutex> lock(follow_state_mu_);
    const std::chrono::seconds retention_or_max =
        retention_.count() > 0 ? retention_ : kMaxFollowInterval;
    report = reported_seq_ != since || now - reported_at_ >= ClampInterval(retention_or_max / 4);
    prune = retention_.count() > 0 &&
            (!pruned_at_.has_value() || now - *pruned_at_ >= ClampInterval(retention_ / 10));
  }
  if (report) {
    KSDB_RETURN_IF_ERROR(ReportFollowed(conn, since));
    std::lock_guard<std::mutex> lock(follow_state_mu_);
    reported_seq_ = since;
    reported_at_ = now;
  }
  if (prune) {
    KSDB_RETURN_IF_ERROR(Prune(conn).status());
    std::lock_guard<std::mutex> lock(follow_state_mu_);
    pruned_at_ = now;
  }
  return Status::Ok();
}

Status PostgresStore::ReportFollowed(Connection& conn, uint64_t since) {
  KSDB_ASSIGN_OR_RETURN(int64_t since_value, ToStoredInt(since, "sequence number"));
  Params params;
  params.AddText(server_id_);
  params.AddInt64(since_value);
  return conn.Run(postgres::sql::kReportFollowed, params, "report followed sequence number");
}

Result<uint64_t> PostgresStore::PruneChangeLog() {
  KSDB_ASSIGN_OR_RETURN(ConnectionPool::Lease conn, pool_.Checkout());
  if (retention_.count() == 0)
    return ReadPrunedThrough(*conn);
  return Prune(*conn);
}

Result<uint64_t> PostgresStore::Prune(Connection& conn) {
  bool more = true;
  while (more) {
    KSDB_ASSIGN_OR_RETURN(more, InTransaction(conn, "prune change log",
                                              [this](Connection& c) { return PruneChunk(c); }));
  }
  return ReadPrunedThrough(conn);
}

Result<bool> PostgresStore::PruneChunk(Connection& conn) {
  constexpr std::string_view kWhat = "prune change log";
  // Registration takes the same lock: see RegisterFollower.
  KSDB_RETURN_IF_ERROR(postgres::LockAdvisory(conn, postgres::kFollowersLockKey, kWhat));
  Params retention;
  retention.AddInt64(retention_.count());
  KSDB_ASSIGN_OR_RETURN(std::optional<int64_t> horizon,
                        OptionalInt64(conn, postgres::sql::kPruneHorizon, retention, kWhat));
  KSDB_RETURN_IF_ERROR(conn.Run(postgres::sql::kForgetGoneFollowers, retention, kWhat));
  if (!horizon.has_value())
    return false;
  Params chunk;
  chunk.AddInt64(*horizon);
  chunk.AddInt64(kPruneChunkRows);
  KSDB_ASSIGN_OR_RETURN(std::optional<int64_t> chunk_end,
                        OptionalInt64(conn, postgres::sql::kPruneChunkEnd, chunk, kWhat));
  if (!chunk_end.has_value())
    return false;
  Params through;
  through.AddInt64(*chunk_end);
  KSDB_RETURN_IF_ERROR(conn.Run(postgres::sql::kDeleteChangesThrough, through, kWhat));
  KSDB_RETURN_IF_ERROR(conn.Run(postgres::sql::kRaisePrunedThrough, through, kWhat));
  return *chunk_end < *horizon;
}

Result<uint64_t> PostgresStore::ReadPrunedThrough(Connection& conn) {
  KSDB_ASSIGN_OR_RETURN(
      std::optional<int64_t> value,
      OptionalInt64(conn, postgres::sql::kReadPrunedThrough, Params(), "read change log horizon"));
  return static_cast<uint64_t>(value.value_or(0));
}

Result<std::optional<uint64_t>> PostgresStore::ChangesInTransaction(Connection& conn,
                                                                    uint64_t since,
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
  // In the same snapshot as the log: a prune commits both or neither.
  KSDB_ASSIGN_OR_RETURN(bool missed, MissedPrunedEntries(conn, since));
  if (missed && !visitor.missed)
    return MissedEntriesError(conn, since);
  if (missed)
    return std::optional<uint64_t>();
  if (last <= since)
    return std::optional<uint64_t>(last);
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
      return std::optional<uint64_t>(last);
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
  KSDB_RETURN_IF_ERROR(store->Prepare());
  return std::unique_ptr<PostgresRecordStore>(std::move(store));
}

}  // namespace ksdb::storage
