// ReaderPool: read-only connections for the record store's Load*/Scan* calls.
//
// Why a pool and not one shared reader behind a mutex: a single reader would
// serialise every read (queries from many HTTP threads, a collection load
// scanning 1M rows) and would deadlock if a ScanRecords callback itself called
// Load*. With a pool, each call leases its own connection, so reads run in
// parallel, never wait for each other or for the writer (WAL gives every read
// transaction a snapshot of the last commit), and nested calls just lease a
// second connection. Connections are opened on demand and at most
// kMaxIdleReaders are kept open between calls, with their prepared statements.
//
// Thread safety: Acquire may be called from any thread; a Lease is used by one
// thread at a time. Leases must not outlive the pool.
#ifndef KSDB_STORAGE_SQLITE_READER_POOL_H_
#define KSDB_STORAGE_SQLITE_READER_POOL_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/sqlite/sqlite_handle.h"

namespace ksdb::storage::sqlite {

class ReaderPool {
 public:
  // Idle connections kept open; more may be open while leased.
  static constexpr size_t kMaxIdleReaders = 4;

  ReaderPool(std::string path, ConnectionOptions options)
      : path_(std::move(path)), options_(options) {}

  // Exclusive use of one connection; returns it to the pool when destroyed.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // An idle connection, or a newly opened one.
  Result<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Connection> conn);

  const std::string path_;
  const ConnectionOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

}  // namespace ksdb::storage::sqlite

#endif  // KSDB_STORAGE_SQLITE_READER_POOL_H_
