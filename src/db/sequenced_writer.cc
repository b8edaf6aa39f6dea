#include "db/sequenced_writer.h"

namespace ksdb::db {

Result<WriteScope> SequencedWriter::Begin() {
  KSDB_ASSIGN_OR_RETURN(auto txn, store_->BeginWrite());
  // Safe to read without further locking: the open transaction excludes every
  // other writer, and only writers advance the counter.
  return WriteScope(this, std::move(txn), committed_seq());
}

Status WriteScope::Commit() {
  if (last_seq_ != start_seq_) KSDB_RETURN_IF_ERROR(txn_->SetLastSequence(last_seq_));
  KSDB_RETURN_IF_ERROR(txn_->Commit());
  owner_->committed_seq_.store(last_seq_, std::memory_order_release);
  return Status::Ok();
}

}  // namespace ksdb::db
