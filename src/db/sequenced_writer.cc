#include "db/sequenced_writer.h"

namespace ksdb::db {

Result<WriteScope> SequencedWriter::Begin() {
  KSDB_ASSIGN_OR_RETURN(auto txn, store_->BeginWrite());
  KSDB_ASSIGN_OR_RETURN(std::optional<uint64_t> stored, txn->StoredLastSequence());
  if (!stored.has_value()) {
    // Safe to read without further locking: the open transaction excludes every
    // other writer, and only writers advance the counter.
    return WriteScope(this, std::move(txn), committed_seq(), /*shared=*/false, /*behind=*/false);
  }
  // The open transaction holds the database-wide write lock: nobody commits
  // until it ends, so `stored` is the last number anyone handed out.
  const bool behind = *stored > committed_seq();
  return WriteScope(this, std::move(txn), *stored, /*shared=*/true, behind);
}

void SequencedWriter::AdvanceTo(uint64_t seq) {
  uint64_t current = committed_seq_.load(std::memory_order_acquire);
  while (current < seq &&
         !committed_seq_.compare_exchange_weak(current, seq, std::memory_order_acq_rel)) {
  }
}

Status WriteScope::Commit() {
  // Shared stores: every transaction takes a number, under which the store
  // logs its deletes and catalog changes for the other servers.
  if (shared_ && last_seq_ == start_seq_) NextSeq();
  if (last_seq_ != start_seq_) KSDB_RETURN_IF_ERROR(txn_->SetLastSequence(last_seq_));
  KSDB_RETURN_IF_ERROR(txn_->Commit());
  // When others' writes are pending, the watermark must wait for the follower.
  if (!behind_) owner_->AdvanceTo(last_seq_);
  return Status::Ok();
}

}  // namespace ksdb::db
