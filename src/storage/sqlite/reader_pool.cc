#include "storage/sqlite/reader_pool.h"

#include <utility>

namespace ksdb::storage::sqlite {

ReaderPool::Lease::~Lease() {
  if (conn_ != nullptr)
    pool_->Release(std::move(conn_));
}

Result<ReaderPool::Lease> ReaderPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
  }
  // Opening touches the file system; do it without holding the pool lock.
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(path_, options_));
  return Lease(this, std::move(conn));
}

void ReaderPool::Release(std::unique_ptr<Connection> conn) {
  // A reader left inside a transaction (only possible after an internal error)
  // would pin an old snapshot forever; end it before reuse.
  conn->RollbackQuietly();
  std::unique_ptr<Connection> surplus;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdleReaders) {
      idle_.push_back(std::move(conn));
      return;
    }
    surplus = std::move(conn);
  }
  // `surplus` closes here, outside the lock.
}

}  // namespace ksdb::storage::sqlite
