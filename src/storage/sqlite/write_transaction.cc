#include "storage/sqlite/write_transaction.h"

#include <utility>

#include "storage/sqlite/row_codec.h"
#include "storage/sqlite/statements.h"

namespace ksdb::storage::sqlite {

SqliteWriteTransaction::~SqliteWriteTransaction() {
  if (active_)
    Abort();
}

template <typename Op>
Status SqliteWriteTransaction::Guarded(Op&& op) {
  if (!active_)
    return Status::Internal("write transaction already finished");
  Status status = op();
  if (!status.ok())
    Abort();
  return status;
}

void SqliteWriteTransaction::Abort() {
  conn_->RollbackQuietly();
  Finish();
}

void SqliteWriteTransaction::Finish() {
  active_ = false;
  // Let the next writer in now rather than when this object dies: the engine
  // may keep a finished transaction around briefly.
  if (lock_.owns_lock())
    lock_.unlock();
}

Status SqliteWriteTransaction::PutTenant(const TenantRow& row) {
  return Guarded([&]() -> Status {
    KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt, conn_->Prepare(sql::kPutTenant, "put tenant"));
    stmt.BindText(1, row.name);
    stmt.BindOptionalText(2, row.resource_name);
    return stmt.Run("put tenant");
  });
}

Status SqliteWriteTransaction::PutDatabase(const DatabaseRow& row) {
  return Guarded([&]() -> Status {
    KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt, conn_->Prepare(sql::kPutDatabase, "put database"));
    stmt.BindText(1, row.id);
    stmt.BindText(2, row.name);
    stmt.BindText(3, row.tenant);
    return stmt.Run("put database");
  });
}

Status SqliteWriteTransaction::PutCollection(const CollectionRow& row) {
  return Guarded([&] { return DoPutCollection(row); });
}

Status SqliteWriteTransaction::DoPutCollection(const CollectionRow& row) {
  KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        conn_->Prepare(sql::kPutCollection, "put collection"));
  const std::string metadata = EncodeStoredMetadata(row.metadata);
  const std::string config = EncodeCollectionConfig(row.config);
  stmt.BindText(1, row.id);
  stmt.BindText(2, row.name);
  stmt.BindText(3, row.tenant);
  stmt.BindText(4, row.database);
  BindStoredMetadata(stmt, 5, metadata);
  stmt.BindBlob(6, config.data(), config.size());
  if (row.dimension.has_value()) {
    stmt.BindInt64(7, *row.dimension);
  } else {
    stmt.BindNull(7);
  }
  return stmt.Run("put collection");
}

Status SqliteWriteTransaction::DeleteDatabase(const std::string& tenant, const std::string& name) {
  return Guarded([&]() -> Status {
    KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          conn_->Prepare(sql::kDeleteDatabase, "delete database"));
    stmt.BindText(1, tenant);
    stmt.BindText(2, name);
    return stmt.Run("delete database");
  });
}

Status SqliteWriteTransaction::DeleteCollection(const std::string& collection_id) {
  return Guarded([&] { return DoDeleteCollection(collection_id); });
}

Status SqliteWriteTransaction::DoDeleteCollection(const std::string& collection_id) {
  {
    // Explicitly, through the (collection_id, record_id) key prefix, rather
    // than relying on the foreign-key cascade.
    KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt, conn_->Prepare(sql::kDeleteCollectionRecords,
                                                               "delete collection records"));
    stmt.BindText(1, collection_id);
    KSDB_RETURN_IF_ERROR(stmt.Run("delete collection records"));
  }
  KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        conn_->Prepare(sql::kDeleteCollection, "delete collection"));
  stmt.BindText(1, collection_id);
  return stmt.Run("delete collection");
}

Status SqliteWriteTransaction::DeleteAll() {
  return Guarded([&] { return conn_->Exec(sql::kDeleteAll, "delete all"); });
}

Status SqliteWriteTransaction::PutRecords(const std::string& collection_id,
                                          std::span<const RecordRow> rows) {
  return Guarded([&] { return DoPutRecords(collection_id, rows); });
}

Status SqliteWriteTransaction::DoPutRecords(const std::string& collection_id,
                                            std::span<const RecordRow> rows) {
  // One prepared statement for the whole batch: per row only binds (all
  // SQLITE_STATIC, pointing into `rows` or locals that outlive the step) and
  // one step.
  KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt, conn_->Prepare(sql::kPutRecord, "put records"));
  std::string metadata;
  std::string embedding_scratch;
  for (const RecordRow& row : rows) {
    KSDB_ASSIGN_OR_RETURN(int64_t position, ToStoredInt(row.position, "record position"));
    KSDB_ASSIGN_OR_RETURN(int64_t seq, ToStoredInt(row.seq, "record sequence number"));
    metadata = EncodeStoredMetadata(row.metadata);
    stmt.BindText(1, collection_id);
    stmt.BindText(2, row.record_id);
    stmt.BindInt64(3, position);
    stmt.BindInt64(4, seq);
    BindEmbedding(stmt, 5, row.embedding, &embedding_scratch);
    stmt.BindOptionalText(6, row.document);
    stmt.BindOptionalText(7, row.uri);
    BindStoredMetadata(stmt, 8, metadata);
    stmt.BindInt64(9, row.created_at_us);
    stmt.BindInt64(10, row.updated_at_us);
    KSDB_RETURN_IF_ERROR(stmt.Run("put records"));
    stmt.Reset();
  }
  return Status::Ok();
}

Status SqliteWriteTransaction::DeleteRecords(const std::string& collection_id,
                                             std::span<const std::string> record_ids) {
  return Guarded([&] { return DoDeleteRecords(collection_id, record_ids); });
}

Status SqliteWriteTransaction::DoDeleteRecords(const std::string& collection_id,
                                               std::span<const std::string> record_ids) {
  KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt, conn_->Prepare(sql::kDeleteRecord, "delete records"));
  for (const std::string& record_id : record_ids) {
    stmt.BindText(1, collection_id);
    stmt.BindText(2, record_id);
    KSDB_RETURN_IF_ERROR(stmt.Run("delete records"));
    stmt.Reset();
  }
  return Status::Ok();
}

Status SqliteWriteTransaction::SetLastSequence(uint64_t seq) {
  return Guarded([&]() -> Status {
    KSDB_ASSIGN_OR_RETURN(int64_t value, ToStoredInt(seq, "last sequence number"));
    KSDB_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          conn_->Prepare(sql::kSetLastSequence, "set last sequence"));
    stmt.BindInt64(1, value);
    return stmt.Run("set last sequence");
  });
}

Status SqliteWriteTransaction::Commit() {
  if (!active_)
    return Status::Internal("write transaction already finished");
  Status status = conn_->Exec("COMMIT", "commit");
  // A failed COMMIT may leave the transaction open (e.g. SQLITE_BUSY); the
  // contract says it is rolled back.
  if (!status.ok())
    conn_->RollbackQuietly();
  Finish();
  return status;
}

}  // namespace ksdb::storage::sqlite
