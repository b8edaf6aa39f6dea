// ConnectionPool: the PostgreSQL store's database connections.
//
// Semantics of the seed's pool (SQLAlchemy's QueuePool): up to pool_size
// connections stay open; when all are busy, up to max_overflow more are opened
// and closed again when returned; beyond that a checkout waits up to
// checkout_timeout for a returned connection and then fails with Unavailable
// ("timed out after N ms waiting for a database connection (pool_size=..,
// max_overflow=..)"). With pre_ping, an idle connection is checked with one
// round trip before it is handed out and replaced by a new one if the server
// side is gone (a restart, pg_terminate_backend, an idle timeout). Connections
// that come back broken, or still inside a transaction that cannot be rolled
// back, are closed instead of reused. Counters after a database restart:
// every connection found broken is `discarded`, every failed attempt to open
// one while the database is down a `connect_error`, and every connection
// opened in place of a broken one a `reconnect`.
//
// Thread safety: Checkout and Stats may be called from any thread; a Lease is
// used by one thread at a time and must not outlive the pool.
#ifndef KSDB_STORAGE_POSTGRES_POOL_H_
#define KSDB_STORAGE_POSTGRES_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/postgres/pool_options.h"

namespace ksdb::storage::postgres {

class Connection;

class ConnectionPool {
 public:
  // Opens one new connection; called without the pool lock held.
  using Connector = std::function<Result<std::unique_ptr<Connection>>()>;

  // `store_name` prefixes error messages. Opens nothing yet.
  ConnectionPool(Connector connect, PoolOptions options, std::string store_name);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Exclusive use of one connection; returns it to the pool when destroyed.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn);
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // An idle connection (pinged first with pre_ping), a new one while below
  // pool_size + max_overflow, or the next one returned within the checkout
  // timeout. Unavailable on timeout or when a connection cannot be opened.
  Result<Lease> Checkout();

  PoolStats Stats() const;
  const PoolOptions& options() const { return options_; }

 private:
  // What Checkout decided under the lock.
  struct Slot {
    std::unique_ptr<Connection> idle;  // null: open a new connection
  };

  Result<Slot> Reserve();
  // Gives back a reserved slot whose connection could not be opened.
  void Unreserve();
  // Opens a connection for a reserved slot; Unreserve()s it on failure.
  Result<std::unique_ptr<Connection>> Connect();
  // Counts a connection closed because it was found broken. Requires mu_.
  void MarkLost();
  void Release(std::unique_ptr<Connection> conn);
  size_t Capacity() const { return options_.pool_size + options_.max_overflow; }

  const Connector connect_;
  const PoolOptions options_;
  const std::string store_name_;

  mutable std::mutex mu_;
  std::condition_variable returned_;
  // Everything below is guarded by mu_.
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;  // idle + in use + being opened
  size_t in_use_ = 0;
  size_t waiting_ = 0;
  uint64_t checkouts_ = 0;
  uint64_t waits_ = 0;
  uint64_t timeouts_ = 0;
  uint64_t reconnects_ = 0;
  uint64_t discarded_ = 0;
  uint64_t connect_errors_ = 0;
  // Broken connections not yet replaced by a new one (at most Capacity()).
  size_t lost_ = 0;
};

}  // namespace ksdb::storage::postgres

#endif  // KSDB_STORAGE_POSTGRES_POOL_H_
