// SequencedWriter: opens store write transactions that hand out record sequence
// numbers. Because the store admits one write transaction at a time, numbers are
// assigned in commit order, and the counter only advances when a commit succeeds.
#ifndef KSDB_DB_SEQUENCED_WRITER_H_
#define KSDB_DB_SEQUENCED_WRITER_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "common/result.h"
#include "storage/record_store.h"

namespace ksdb::db {

class SequencedWriter;

// One open write transaction. Not thread-safe; destroy without Commit to roll back.
class WriteScope {
 public:
  storage::WriteTransaction& txn() { return *txn_; }
  // The next sequence number (strictly increasing within and across scopes).
  uint64_t NextSeq() { return ++last_seq_; }
  // Persists the counter with the data, commits durably, then publishes it.
  Status Commit();

 private:
  friend class SequencedWriter;
  WriteScope(SequencedWriter* owner, std::unique_ptr<storage::WriteTransaction> txn,
             uint64_t last_seq)
      : owner_(owner), txn_(std::move(txn)), start_seq_(last_seq), last_seq_(last_seq) {}

  SequencedWriter* owner_;
  std::unique_ptr<storage::WriteTransaction> txn_;
  uint64_t start_seq_;
  uint64_t last_seq_;
};

class SequencedWriter {
 public:
  // `store` must outlive this object. `last_seq` is the store's LastSequence().
  SequencedWriter(storage::RecordStore* store, uint64_t last_seq)
      : store_(store), committed_seq_(last_seq) {}

  // Blocks until the store's write transaction is free.
  Result<WriteScope> Begin();
  // Highest sequence number of a committed write.
  uint64_t committed_seq() const { return committed_seq_.load(std::memory_order_acquire); }

 private:
  friend class WriteScope;
  storage::RecordStore* store_;
  std::atomic<uint64_t> committed_seq_;
};

}  // namespace ksdb::db

#endif  // KSDB_DB_SEQUENCED_WRITER_H_
