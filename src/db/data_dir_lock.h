// DataDirLock: the exclusive lock that makes one process own a data directory.
#ifndef KSDB_DB_DATA_DIR_LOCK_H_
#define KSDB_DB_DATA_DIR_LOCK_H_

#include <memory>
#include <string>

#include "common/result.h"

namespace ksdb::db {

class DataDirLock {
 public:
  // Creates `dir` if needed and takes an exclusive flock on dir/ksdb.lock.
  // Unavailable (naming the lock file) when another process holds it; IoError
  // when the directory cannot be created or opened. The lock is released when
  // the returned object is destroyed or the process dies (kill -9 included).
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& dir);
  ~DataDirLock();

  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace ksdb::db

#endif  // KSDB_DB_DATA_DIR_LOCK_H_
