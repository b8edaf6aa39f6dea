// PostgresWriteTransaction: the WriteTransaction of the PostgreSQL store.
//
// It holds the store's in-process write mutex and one pooled connection inside
// BEGIN with the ksdb write advisory lock, so writers are serialised across
// every server on the database too. It finishes at the first of: Commit()
// (successful or not), a failed operation (rolled back at once, so a
// half-applied batch can never be committed; later calls return Internal), or
// destruction (rolled back). Finishing releases the mutex and the connection.
//
// Thread safety: one thread at a time. Must not outlive its store.
#ifndef KSDB_STORAGE_POSTGRES_WRITE_TRANSACTION_H_
#define KSDB_STORAGE_POSTGRES_WRITE_TRANSACTION_H_

#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/postgres/pool.h"
#include "storage/record_store.h"

namespace ksdb::storage::postgres {

class PostgresWriteTransaction final : public WriteTransaction {
 public:
  // `lease` is already inside BEGIN holding the write advisory lock; `lock`
  // holds the store's write mutex.
  PostgresWriteTransaction(std::unique_lock<std::mutex> lock, ConnectionPool::Lease lease)
      : lock_(std::move(lock)), lease_(std::move(lease)) {}
  ~PostgresWriteTransaction() override;

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
  Result<std::optional<uint64_t>> StoredLastSequence() override;
  Result<std::vector<RecordRow>> LoadRecords(const std::string& collection_id,
                                             std::span<const std::string> record_ids) override;
  // Writes the change log rows under the last SetLastSequence number (nothing
  // is logged in a transaction that set none), notifies listeners, and commits.
  Status Commit() override;

 private:
  // Runs `op` if the transaction is still open; rolls back if it fails.
  template <typename Op>
  Status Guarded(Op&& op);
  // Rolls back, then finishes.
  void Abort();
  // Returns the connection to the pool and releases the write mutex.
  void Finish();

  Status DoPutCollection(const CollectionRow& row);
  Status DoDeleteCollection(const std::string& collection_id);
  Status DoPutRecords(const std::string& collection_id, std::span<const RecordRow> rows);
  // One multi-row upsert of `rows` (at most kRowsPerStatement).
  Status PutChunk(const std::string& collection_id, std::span<const RecordRow* const> rows);

  // Record deletes to log at commit.
  struct PendingDelete {
    std::string collection_id;
    std::vector<std::string> record_ids;
  };
  Status WriteChangeLog();

  std::unique_lock<std::mutex> lock_;
  std::optional<ConnectionPool::Lease> lease_;  // empty once finished
  bool catalog_changed_ = false;
  std::vector<PendingDelete> pending_deletes_;
  std::optional<uint64_t> last_seq_;  // from SetLastSequence
};

}  // namespace ksdb::storage::postgres

#endif  // KSDB_STORAGE_POSTGRES_WRITE_TRANSACTION_H_
