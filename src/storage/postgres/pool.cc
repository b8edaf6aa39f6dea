#include "storage/postgres/pool.h"

#include <algorithm>
#include <utility>

#include "storage/postgres/pg_connection.h"

namespace ksdb::storage::postgres {

ConnectionPool::ConnectionPool(Connector connect, PoolOptions options, std::string store_name)
    : connect_(std::move(connect)), options_(options), store_name_(std::move(store_name)) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept = default;

ConnectionPool::Lease::~Lease() {
  if (conn_ != nullptr)
    pool_->Release(std::move(conn_));
}

Result<ConnectionPool::Slot> ConnectionPool::Reserve() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + options_.checkout_timeout;
  const auto available = [&] { return !idle_.empty() || open_ < Capacity(); };
  if (!available()) {
    ++waits_;
    ++waiting_;
    const bool got = returned_.wait_until(lock, deadline, available);
    --waiting_;
    if (!got) {
      ++timeouts_;
      return Status::Unavailable(
          store_name_ + ": timed out after " + std::to_string(options_.checkout_timeout.count()) +
          " ms waiting for a database connection (pool_size=" + std::to_string(options_.pool_size) +
          ", max_overflow=" + std::to_string(options_.max_overflow) + ")");
    }
  }
  ++in_use_;
  Slot slot;
  if (!idle_.empty()) {
    slot.idle = std::move(idle_.back());
    idle_.pop_back();
  } else {
    ++open_;
  }
  return slot;
}

void ConnectionPool::Unreserve() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_use_;
    --open_;
    ++connect_errors_;
  }
  returned_.notify_one();
}

Result<std::unique_ptr<Connection>> ConnectionPool::Connect() {
  Result<std::unique_ptr<Connection>> conn = connect_();
  if (!conn.ok()) {
    Unreserve();
    return conn;
  }
  // A new connection while one the database dropped is still unreplaced is a
  // reconnect, whether it replaces a pre-ping casualty at once or, after
  // failed attempts while the database was down, a later checkout opens it.
  std::lock_guard<std::mutex> lock(mu_);
  if (lost_ > 0) {
    --lost_;
    ++reconnects_;
  }
  return conn;
}

void ConnectionPool::MarkLost() {
  ++discarded_;
  lost_ = std::min(lost_ + 1, Capacity());
}

Result<ConnectionPool::Lease> ConnectionPool::Checkout() {
  KSDB_ASSIGN_OR_RETURN(Slot slot, Reserve());
  // Connecting and pinging are network round trips: never under the lock.
  std::unique_ptr<Connection> conn = std::move(slot.idle);
  if (conn != nullptr && options_.pre_ping && !conn->Ping()) {
    conn.reset();
    {
      std::lock_guard<std::mutex> lock(mu_);
      MarkLost();
    }
    KSDB_ASSIGN_OR_RETURN(conn, Connect());
  } else if (conn == nullptr) {
    KSDB_ASSIGN_OR_RETURN(conn, Connect());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++checkouts_;
  }
  return Lease(this, std::move(conn));
}

void ConnectionPool::Release(std::unique_ptr<Connection> conn) {
  // A transaction left open (after an error path) would hold locks and a
  // snapshot; end it before anyone else gets the connection.
  conn->RollbackQuietly();
  const bool broken = conn->IsBroken() || conn->InTransaction();
  std::unique_ptr<Connection> closing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_use_;
    if (broken || open_ > options_.pool_size) {
      // Overflow connections are closed on return, as are broken ones.
      --open_;
      if (broken)
        MarkLost();
      closing = std::move(conn);
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  returned_.notify_one();
  // `closing` (if any) is closed here, outside the lock.
}

PoolStats ConnectionPool::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PoolStats stats;
  stats.pool_size = options_.pool_size;
  stats.max_overflow = options_.max_overflow;
  stats.in_use = in_use_;
  stats.idle = idle_.size();
  stats.overflow = open_ > options_.pool_size ? open_ - options_.pool_size : 0;
  stats.waiting = waiting_;
  stats.checkouts = checkouts_;
  stats.waits = waits_;
  stats.timeouts = timeouts_;
  stats.reconnects = reconnects_;
  stats.discarded = discarded_;
  stats.connect_errors = connect_errors_;
  return stats;
}

}  // namespace ksdb::storage::postgres
