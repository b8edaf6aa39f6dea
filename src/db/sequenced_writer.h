// SequencedWriter: opens store write transactions that hand out record sequence
// numbers. Because the store admits one write transaction at a time, numbers are
// assigned in commit order, and the counter only advances when a commit succeeds.
//
// Stores with one writer process (SQLite) keep the counter here, in memory.
// Shared stores (PostgreSQL, several servers on one database) are the
// counter's authority: each transaction reads it under the database-wide
// write lock, and every commit takes at least one number, so the deletes and
// catalog changes it logs are ordered with the records.
//
// committed_seq() is this server's watermark: every write with a sequence
// number at or below it, by this server or another, is applied in memory (a
// local write publishes it while it still holds the lock of what it changes,
// before applying). With a shared store a local commit only advances it when
// nothing written by others was pending; otherwise the follower (see
// Engine) advances it with AdvanceTo once it has applied them.
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
  // Whether other servers committed writes this server has not applied yet
  // (shared stores only): state read from memory may be stale for them.
  bool behind() const { return behind_; }
  // Whether the store is shared between servers.
  bool shared() const { return shared_; }
  // The sequence number the store had when this scope began.
  uint64_t start_seq() const { return start_seq_; }
  // The last number handed out (after Commit: the commit's number).
  uint64_t last_seq() const { return last_seq_; }
  // Persists the counter with the data, commits durably, then publishes it.
  Status Commit();

 private:
  friend class SequencedWriter;
  WriteScope(SequencedWriter* owner, std::unique_ptr<storage::WriteTransaction> txn,
             uint64_t last_seq, bool shared, bool behind)
      : owner_(owner),
        txn_(std::move(txn)),
        start_seq_(last_seq),
        last_seq_(last_seq),
        shared_(shared),
        behind_(behind) {}

  SequencedWriter* owner_;
  std::unique_ptr<storage::WriteTransaction> txn_;
  uint64_t start_seq_;
  uint64_t last_seq_;
  bool shared_;
  bool behind_;
};

class SequencedWriter {
 public:
  // `store` must outlive this object. `last_seq` is the store's LastSequence().
  SequencedWriter(storage::RecordStore* store, uint64_t last_seq)
      : store_(store), committed_seq_(last_seq) {}

  // Blocks until the store's write transaction is free.
  Result<WriteScope> Begin();
  // Whether the store is shared between servers (see the file comment).
  bool shared() const { return store_->shared(); }
  // The watermark (see the file comment).
  uint64_t committed_seq() const { return committed_seq_.load(std::memory_order_acquire); }
  // Raises the watermark to `seq` (never lowers it): the follower has applied
  // every write up to `seq`.
  void AdvanceTo(uint64_t seq);

 private:
  friend class WriteScope;
  storage::RecordStore* store_;
  std::atomic<uint64_t> committed_seq_;
};

}  // namespace ksdb::db

#endif  // KSDB_DB_SEQUENCED_WRITER_H_
