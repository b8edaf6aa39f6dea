// SqliteWriteTransaction: the WriteTransaction of the SQLite record store.
//
// It owns the store's write lock from BEGIN IMMEDIATE until it finishes, which
// is the first of: Commit() (successful or not), a failed operation, or
// destruction. A failed operation rolls the whole transaction back at once, so
// a half-applied batch can never be committed; later calls then return
// Internal.
//
// Thread safety: one thread at a time. Must not outlive its store.
#ifndef KSDB_STORAGE_SQLITE_WRITE_TRANSACTION_H_
#define KSDB_STORAGE_SQLITE_WRITE_TRANSACTION_H_

#include <mutex>
#include <span>
#include <string>

#include "storage/record_store.h"
#include "storage/sqlite/sqlite_handle.h"

namespace ksdb::storage::sqlite {

class SqliteWriteTransaction final : public WriteTransaction {
 public:
  // `conn` is the store's write connection, already inside BEGIN IMMEDIATE;
  // `lock` holds the store's write mutex.
  SqliteWriteTransaction(std::unique_lock<std::mutex> lock, Connection* conn)
      : lock_(std::move(lock)), conn_(conn) {}
  ~SqliteWriteTransaction() override;

  Status PutTenant(const TenantRow& row) override;
  Status PutDatabase(const DatabaseRow& row) override;
  Status PutCollection(const CollectionRow& row) override;
  Status DeleteDatabase(const std::string& tenant, const std::string& name) override;
  Status DeleteCollection(const std::string& collection_id) override;
  Status DeleteAll() override;
  Status PutRecords(const std::string& collection_id, std::span<const RecordRow> rows) override;
  Status DeleteRecords(const std::string& collection_id,
                       std::span<const std::string> record_ids) override;
  Status SetLastSequence(uint64_t seq) override;
  Status Commit() override;

 private:
  // Runs `op` if the transaction is still open; rolls back if it fails.
  template <typename Op>
  Status Guarded(Op&& op);
  // Rolls back and releases the write lock.
  void Abort();
  // Releases the write lock; the connection is not touched afterwards.
  void Finish();

  Status DoPutCollection(const CollectionRow& row);
  Status DoDeleteCollection(const std::string& collection_id);
  Status DoPutRecords(const std::string& collection_id, std::span<const RecordRow> rows);
  Status DoDeleteRecords(const std::string& collection_id, std::span<const std::string> record_ids);

  std::unique_lock<std::mutex> lock_;
  Connection* conn_;
  bool active_ = true;
};

}  // namespace ksdb::storage::sqlite

#endif  // KSDB_STORAGE_SQLITE_WRITE_TRANSACTION_H_
