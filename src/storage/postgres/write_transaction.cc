#include "storage/postgres/write_transaction.h"

#include <deque>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/postgres/pg_connection.h"
#include "storage/postgres/record_columns.h"
#include "storage/postgres/statements.h"
#include "storage/stored_values.h"

namespace ksdb::storage::postgres {
namespace {

// Rows per multi-row upsert: 9 parameters each plus the shared collection id
// stays far below PostgreSQL's 65535-parameter limit, and a statement of a few
// MB amortises the round trip.
constexpr size_t kRowsPerStatement = 1000;
constexpr int kParamsPerRow = 9;

// The upsert for `rows` records: $1 is the collection id, row i uses
// $(2 + 9i) .. $(10 + 9i).
std::string PutRecordsSql(size_t rows) {
  std::string out = sql::kPutRecordsHead;
  out.reserve(out.size() + rows * 64 + sizeof(sql::kPutRecordsTail));
  int next = 2;
  for (size_t i = 0; i < rows; ++i) {
    out += i == 0 ? "($1" : ", ($1";
    for (int c = 0; c < kParamsPerRow; ++c) {
      out += ", $";
      out += std::to_string(next++);
    }
    out += ")";
  }
  out += sql::kPutRecordsTail;
  return out;
}

// The rows to write, in order, keeping only the last row of each record id:
// one upsert statement may not touch the same key twice, and the last write
// of an id is the one the contract keeps.
std::vector<const RecordRow*> LastRowPerId(std::span<const RecordRow> rows) {
  std::unordered_map<std::string_view, size_t> last;
  last.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    last[rows[i].record_id] = i;
  std::vector<const RecordRow*> out;
  out.reserve(last.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (last[rows[i].record_id] == i)
      out.push_back(&rows[i]);
  }
  return out;
}

std::string_view EmbeddingBytes(const RecordRow& row, std::deque<std::string>* scratch) {
  if constexpr (kEmbeddingBytesAreNative) {
    return std::string_view(reinterpret_cast<const char*>(row.embedding.data()),
                            row.embedding.size() * sizeof(float));
  } else {
    std::string& bytes = scratch->emplace_back();
    AppendEmbeddingBytes(row.embedding, &bytes);
    return bytes;
  }
}

}  // namespace

PostgresWriteTransaction::~PostgresWriteTransaction() {
  if (lease_.has_value())
    Abort();
}

template <typename Op>
Status PostgresWriteTransaction::Guarded(Op&& op) {
  if (!lease_.has_value())
    return Status::Internal("write transaction already finished");
  Status status = op();
  if (!status.ok())
    Abort();
  return status;
}

void PostgresWriteTransaction::Abort() {
  (*lease_)->RollbackQuietly();
  Finish();
}

void PostgresWriteTransaction::Finish() {
  // Returning the connection first: the pool then sees it outside any
  // transaction (or broken) and reuses or closes it accordingly.
  lease_.reset();
  if (lock_.owns_lock())
    lock_.unlock();
}

Status PostgresWriteTransaction::PutTenant(const TenantRow& row) {
  return Guarded([&] {
    catalog_changed_ = true;
    Params params;
    params.AddText(row.name);
    params.AddOptionalText(row.resource_name);
    return (*lease_)->Run(sql::kPutTenant, params, "put tenant");
  });
}

Status PostgresWriteTransaction::PutDatabase(const DatabaseRow& row) {
  return Guarded([&] {
    catalog_changed_ = true;
    Params params;
    params.AddText(row.id);
    params.AddText(row.name);
    params.AddText(row.tenant);
    return (*lease_)->Run(sql::kPutDatabase, params, "put database");
  });
}

Status PostgresWriteTransaction::PutCollection(const CollectionRow& row) {
  return Guarded([&] {
    catalog_changed_ = true;
    return DoPutCollection(row);
  });
}

Status PostgresWriteTransaction::DoPutCollection(const CollectionRow& row) {
  const std::string metadata = EncodeStoredMetadata(row.metadata);
  const std::string config = EncodeCollectionConfig(row.config);
  Params params;
  params.AddText(row.id);
  params.AddText(row.name);
  params.AddText(row.tenant);
  params.AddText(row.database);
  params.AddBytesOrNull(metadata);
  params.AddBytes(config);
  std::optional<int64_t> dimension;
  if (row.dimension.has_value())
    dimension = *row.dimension;
  params.AddOptionalInt64(dimension);
  return (*lease_)->Run(sql::kPutCollection, params, "put collection");
}

Status PostgresWriteTransaction::DeleteDatabase(const std::string& tenant,
                                                const std::string& name) {
  return Guarded([&] {
    catalog_changed_ = true;
    Params params;
    params.AddText(tenant);
    params.AddText(name);
    return (*lease_)->Run(sql::kDeleteDatabase, params, "delete database");
  });
}

Status PostgresWriteTransaction::DeleteCollection(const std::string& collection_id) {
  return Guarded([&] {
    catalog_changed_ = true;
    return DoDeleteCollection(collection_id);
  });
}

Status PostgresWriteTransaction::DoDeleteCollection(const std::string& collection_id) {
  Params params;
  params.AddText(collection_id);
  // Explicitly, through the (collection_id, record_key) key prefix, rather
  // than relying on the foreign-key cascade.
  KSDB_RETURN_IF_ERROR(
      (*lease_)->Run(sql::kDeleteCollectionRecords, params, "delete collection records"));
  return (*lease_)->Run(sql::kDeleteCollection, params, "delete collection");
}

Status PostgresWriteTransaction::DeleteAll() {
  return Guarded([&] {
    catalog_changed_ = true;
    return (*lease_)->Exec(sql::kDeleteAll, "delete all");
  });
}

Status PostgresWriteTransaction::PutRecords(const std::string& collection_id,
                                            std::span<const RecordRow> rows) {
  return Guarded([&] { return DoPutRecords(collection_id, rows); });
}

Status PostgresWriteTransaction::DoPutRecords(const std::string& collection_id,
                                              std::span<const RecordRow> rows) {
  // Range checks first, so a bad row fails the batch before any statement.
  for (const RecordRow& row : rows) {
    KSDB_RETURN_IF_ERROR(ToStoredInt(row.position, "record position").status());
    KSDB_RETURN_IF_ERROR(ToStoredInt(row.seq, "record sequence number").status());
  }
  const std::vector<const RecordRow*> unique = LastRowPerId(rows);
  const std::span<const RecordRow* const> all(unique);
  for (size_t start = 0; start < all.size(); start += kRowsPerStatement) {
    KSDB_RETURN_IF_ERROR(PutChunk(
        collection_id, all.subspan(start, std::min(kRowsPerStatement, all.size() - start))));
  }
  return Status::Ok();
}

Status PostgresWriteTransaction::PutChunk(const std::string& collection_id,
                                          std::span<const RecordRow* const> rows) {
  // Deques: the parameters point into these strings, which must not move.
  std::deque<std::string> metadata;
  std::deque<std::string> embeddings;
  Params params;
  params.Reserve(1 + rows.size() * kParamsPerRow);
  params.AddText(collection_id);
  for (const RecordRow* row : rows) {
    params.AddBytes(row->record_id);
    params.AddInt64(static_cast<int64_t>(row->position));
    params.AddInt64(static_cast<int64_t>(row->seq));
    params.AddBytes(EmbeddingBytes(*row, &embeddings));
    params.AddOptionalBytes(row->document);
    params.AddOptionalBytes(row->uri);
    params.AddBytesOrNull(metadata.emplace_back(EncodeStoredMetadata(row->metadata)));
    params.AddInt64(row->created_at_us);
    params.AddInt64(row->updated_at_us);
  }
  const std::string statement = PutRecordsSql(rows.size());
  return (*lease_)->Run(statement.c_str(), params, "put records");
}

Status PostgresWriteTransaction::DeleteRecords(const std::string& collection_id,
                                               std::span<const std::string> record_ids) {
  return Guarded([&] {
    Params params;
    params.AddText(collection_id);
    params.AddBytesArray(record_ids);
    KSDB_RETURN_IF_ERROR((*lease_)->Run(sql::kDeleteRecords, params, "delete records"));
    pending_deletes_.push_back(
        {collection_id, std::vector<std::string>(record_ids.begin(), record_ids.end())});
    return Status::Ok();
  });
}

Status PostgresWriteTransaction::SetLastSequence(uint64_t seq) {
  return Guarded([&]() -> Status {
    KSDB_ASSIGN_OR_RETURN(int64_t value, ToStoredInt(seq, "last sequence number"));
    Params params;
    params.AddInt64(value);
    KSDB_RETURN_IF_ERROR((*lease_)->Run(sql::kSetLastSequence, params, "set last sequence"));
    last_seq_ = seq;
    return Status::Ok();
  });
}

Result<std::optional<uint64_t>> PostgresWriteTransaction::StoredLastSequence() {
  std::optional<uint64_t> out;
  Status status = Guarded([&]() -> Status {
    KSDB_ASSIGN_OR_RETURN(ResultHandle result, (*lease_)->Query(sql::kReadLastSequenceForWrite,
                                                                Params(), "read last sequence"));
    if (PQntuples(result.get()) == 0) {
      out = 0;
      return Status::Ok();
    }
    KSDB_ASSIGN_OR_RETURN(int64_t value, GetInt64(result.get(), 0, 0));
    out = static_cast<uint64_t>(value);
    return Status::Ok();
  });
  if (!status.ok())
    return status;
  return out;
}

Result<std::vector<RecordRow>> PostgresWriteTransaction::LoadRecords(
    const std::string& collection_id, std::span<const std::string> record_ids) {
  std::vector<RecordRow> rows;
  Status status = Guarded([&]() -> Status {
    Params params;
    params.AddText(collection_id);
    params.AddBytesArray(record_ids);
    KSDB_ASSIGN_OR_RETURN(ResultHandle result,
                          (*lease_)->Query(sql::kLoadRecordsById, params, "load records"));
    const int count = PQntuples(result.get());
    rows.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      KSDB_ASSIGN_OR_RETURN(RecordRow row, ReadRecordColumns(result.get(), i, collection_id));
      rows.push_back(std::move(row));
    }
    return Status::Ok();
  });
  if (!status.ok())
    return status;
  return rows;
}

Status PostgresWriteTransaction::WriteChangeLog() {
  // Without a number there is nothing to order the change by; the engine
  // (SequencedWriter) sets one in every transaction on a shared store.
  if (!last_seq_.has_value() || (!catalog_changed_ && pending_deletes_.empty()))
    return Status::Ok();
  const int64_t seq = static_cast<int64_t>(*last_seq_);
  if (catalog_changed_) {
    Params params;
    params.AddInt64(seq);
    KSDB_RETURN_IF_ERROR((*lease_)->Run(sql::kLogCatalogChange, params, "log catalog change"));
  }
  for (const PendingDelete& deleted : pending_deletes_) {
    Params params;
    params.AddInt64(seq);
    params.AddText(deleted.collection_id);
    params.AddBytesArray(deleted.record_ids);
    KSDB_RETURN_IF_ERROR((*lease_)->Run(sql::kLogRecordDeletes, params, "log record deletes"));
  }
  return Status::Ok();
}

Status PostgresWriteTransaction::Commit() {
  if (!lease_.has_value())
    return Status::Internal("write transaction already finished");
  // If the connection drops during COMMIT the outcome is unknown to us; the
  // error says the connection was lost and the caller must not acknowledge.
  // COMMIT of an aborted transaction "succeeds" as a rollback; never let that
  // pass for a commit.
  Status status =
      (*lease_)->TransactionFailed()
          ? Status::Internal((*lease_)->store_name() + ": commit of a failed transaction")
          : WriteChangeLog();
  // Listeners on other servers wake at commit instead of at their next poll.
  if (status.ok() && last_seq_.has_value())
    status = (*lease_)->Exec(sql::kNotifyChange, "notify change");
  if (status.ok())
    status = (*lease_)->Exec("COMMIT", "commit");
  if (!status.ok())
    (*lease_)->RollbackQuietly();
  Finish();
  return status;
}

}  // namespace ksdb::storage::postgres
