// RecordStore: the durable source of truth (catalog + records). The SQLite store
// implements it now; the PostgreSQL store of a later issue implements it too.
//
// The store knows nothing of filters or indexes: the engine decides what to
// write, the store makes each WriteTransaction atomic and durable.
//
// Thread safety: a RecordStore may be used from many threads. BeginWrite blocks
// until no other write transaction is open (one writer at a time); Load*/Scan*
// may run concurrently with a write and see the last committed state.
#ifndef KSDB_STORAGE_RECORD_STORE_H_
#define KSDB_STORAGE_RECORD_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/collection_config.h"
#include "core/metadata.h"

namespace ksdb::storage {

struct TenantRow {
  std::string name;
  std::optional<std::string> resource_name;
};

struct DatabaseRow {
  std::string id;  // UUID
  std::string name;
  std::string tenant;
};

struct CollectionRow {
  std::string id;  // UUID
  std::string name;
  std::string tenant;
  std::string database;
  Metadata metadata;  // empty = null
  CollectionConfig config;
  std::optional<uint32_t> dimension;  // set by the first write with embeddings
};

struct RecordRow {
  std::string record_id;
  uint64_t position = 0;  // storage order: the sequence number of its insertion
  uint64_t seq = 0;       // sequence number of the last write to this record
  std::vector<float> embedding;
  std::optional<std::string> document;
  std::optional<std::string> uri;
  Metadata metadata;  // empty = null
  int64_t created_at_us = 0;  // Unix time, microseconds
  int64_t updated_at_us = 0;
};

// What a shared store's change log says happened at a sequence number
// (see RecordStore::ReadChangesSince). Record puts are not logged: the
// records table itself, ordered by seq, carries them.
enum class ChangeKind {
  kCatalog,        // tenants, databases or collections changed: reload the catalog
  kDeleteRecords,  // record_ids of collection_id were deleted
};

struct ChangeLogEntry {
  uint64_t seq = 0;
  ChangeKind kind = ChangeKind::kCatalog;
  std::string collection_id;
  std::vector<std::string> record_ids;
};

// A record as ReadChangesSince delivers it: with its collection.
struct CollectionRecordRow {
  std::string collection_id;
  RecordRow row;
};

// Callbacks of ReadChangesSince; a non-OK status stops the read and is returned.
struct ChangeVisitor {
  // Called once with every log entry of the range, ascending by seq.
  std::function<Status(std::vector<ChangeLogEntry>&&)> log;
  // Called with batches of the records written in the range, ascending by seq.
  std::function<Status(std::vector<CollectionRecordRow>&&)> records;
  // Shared stores, when change log entries after `since` were pruned (this
  // server stopped following for longer than the store's retention): called
  // instead of `log` and `records`, after the store registered this server
  // as a follower again at `from`, the last committed sequence number (the
  // log keeps everything after `from` until this server reports having
  // followed past it). The caller must reload its whole state from the store
  // (any state at or after `from`) and follow on from `from`;
  // ReadChangesSince returns `from`. Unset: ReadChangesSince fails with
  // IoError instead.
  std::function<Status(uint64_t from)> missed;
};

// A write transaction: nothing is visible or durable until Commit returns OK.
// Destroying it without a successful Commit rolls everything back.
class WriteTransaction {
 public:
  virtual ~WriteTransaction() = default;

  // Insert or replace by primary key (tenant name; tenant+name; collection id).
  virtual Status PutTenant(const TenantRow& row) = 0;
  virtual Status PutDatabase(const DatabaseRow& row) = 0;
  virtual Status PutCollection(const CollectionRow& row) = 0;
  // Deletes the database row only (the engine deletes its collections first).
  virtual Status DeleteDatabase(const std::string& tenant, const std::string& name) = 0;
  // Deletes the collection and all its records.
  virtual Status DeleteCollection(const std::string& collection_id) = 0;
  // Deletes every tenant, database, collection and record.
  virtual Status DeleteAll() = 0;

  // Insert or replace each row by (collection_id, record_id), in one statement
  // per row or fewer. Rows must belong to an existing collection.
  virtual Status PutRecords(const std::string& collection_id, std::span<const RecordRow> rows) = 0;
  // Deletes the given records; unknown ids are ignored.
  virtual Status DeleteRecords(const std::string& collection_id,
                               std::span<const std::string> record_ids) = 0;
  // Records the highest sequence number handed out so far (survives deletes).
  virtual Status SetLastSequence(uint64_t seq) = 0;

  // Shared stores (several servers on one database): the last sequence number
  // committed by any server, read under the database-wide write lock. nullopt
  // for stores with one writer process, whose writer's own counter is exact.
  virtual Result<std::optional<uint64_t>> StoredLastSequence() { return std::optional<uint64_t>(); }
  // Shared stores: the current rows of `record_ids` (those that exist), as this
  // transaction sees them. Unimplemented for other stores.
  virtual Result<std::vector<RecordRow>> LoadRecords(const std::string& collection_id,
                                                     std::span<const std::string> record_ids) {
    (void)collection_id;
    (void)record_ids;
    return Status::Unimplemented("LoadRecords is only offered by shared stores");
  }

  // Makes everything durable (fsync per the store's options). After an error
  // the transaction is rolled back and may not be used again.
  virtual Status Commit() = 0;
};

class RecordStore {
 public:
  virtual ~RecordStore() = default;

  // Starts the (single) write transaction; blocks while another is open.
  virtual Result<std::unique_ptr<WriteTransaction>> BeginWrite() = 0;

  virtual Result<std::vector<TenantRow>> LoadTenants() = 0;
  virtual Result<std::vector<DatabaseRow>> LoadDatabases() = 0;
  virtual Result<std::vector<CollectionRow>> LoadCollections() = 0;
  // Calls `fn` for every record of the collection in ascending position order;
  // stops at the first non-OK status from `fn` and returns it.
  virtual Status ScanRecords(const std::string& collection_id,
                             const std::function<Status(RecordRow&&)>& fn) = 0;
  // The value last given to SetLastSequence (0 for a new store).
  virtual Result<uint64_t> LastSequence() = 0;

  // Whether several servers may write this store at once (PostgreSQL). Such a
  // store logs deletes and catalog changes (ChangeLogEntry) with the sequence
  // number of their transaction, and offers ReadChangesSince.
  virtual bool shared() const { return false; }
  // Shared stores: in one consistent snapshot, reads the last committed
  // sequence number M, then hands `visitor` every change log entry and every
  // record with since < seq <= M. Returns M (== since or less: nothing new).
  // If entries after `since` were pruned, see ChangeVisitor::missed.
  virtual Result<uint64_t> ReadChangesSince(uint64_t since, const ChangeVisitor& visitor) {
    (void)since;
    (void)visitor;
    return Status::Unimplemented("ReadChangesSince is only offered by shared stores");
  }
};

struct SqliteOptions {
  // "FULL" (default: an acknowledged write survives power loss), "NORMAL" or "OFF".
  std::string synchronous = "FULL";
};

// Opens (creating if needed) the SQLite database at `path` in WAL mode and
// applies the versioned schema migrations. Fails with IoError (naming the file,
// never SQL) if the file cannot be opened or is not a ksdb database.
Result<std::unique_ptr<RecordStore>> OpenSqliteStore(const std::string& path,
                                                     const SqliteOptions& options);

}  // namespace ksdb::storage

#endif  // KSDB_STORAGE_RECORD_STORE_H_
