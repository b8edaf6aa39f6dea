// WalCheckpointer: copies the SQLite write-ahead log into the database file
// on its own thread, off the commit path.
//
// SQLite's default (wal_autocheckpoint) runs that copy inside the commit that
// takes the WAL past 1,000 pages. A batch of 1,000 x 384-d records writes
// ~600 pages, so every other add paid for reading, writing and syncing
// megabytes before its client got an answer (a 100k x 384 ingest through the
// server: ~3 ms per add). Here the writer's commit hook only reports the WAL's
// size; from `start_pages` on this thread runs a PASSIVE checkpoint on its own
// connection, which waits for neither the writer nor the readers, while the
// client prepares its next request.
//
// The WAL only starts over from its beginning when a write transaction begins
// after a complete checkpoint, so a writer that comes back while one is
// requested or running waits for it (WaitUntilIdle): back-to-back writes get
// SQLite's old behaviour and the WAL stays as small as before.
//
// Durability does not change: a commit is durable in the WAL (synchronous =
// FULL syncs it), and a checkpoint interrupted by a crash is redone on open.
#ifndef KSDB_STORAGE_SQLITE_WAL_CHECKPOINTER_H_
#define KSDB_STORAGE_SQLITE_WAL_CHECKPOINTER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "common/result.h"
#include "storage/sqlite/sqlite_handle.h"

namespace ksdb::storage::sqlite {

class WalCheckpointer {
 public:
  // SQLite's own automatic limit.
  static constexpr int kDefaultStartPages = 1000;

  // Opens a connection of its own to `writer`'s file, starts the thread and
  // installs the commit hook on `writer` (replacing SQLite's automatic
  // checkpoints). `writer` must outlive this object.
  static Result<std::unique_ptr<WalCheckpointer>> Start(Connection* writer,
                                                        int start_pages = kDefaultStartPages);
  // Use Start(); public for std::make_unique.
  WalCheckpointer(Connection* writer, std::unique_ptr<Connection> own, int start_pages);
  // Removes the hook and stops the thread after the checkpoint it is running.
  // Call while no write transaction is open.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Returns once no checkpoint is requested or running. The writer calls it
  // before it begins a transaction.
  void WaitUntilIdle();
  // Checkpoints the thread has finished (with or without error).
  uint64_t checkpoints() const { return checkpoints_.load(); }

 private:
  // sqlite3_wal_hook callback, on the writer's thread after each commit.
  static int OnCommit(void* self, sqlite3* db, const char* schema, int pages);
  void Loop();
  void CheckpointOnce();

  Connection* const writer_;
  const std::unique_ptr<Connection> own_;  // used only by the thread
  const int start_pages_;
  std::mutex mu_;
  std::condition_variable wake_;  // requested_ or stopping_ set
  std::condition_variable idle_;  // running_ cleared
  bool requested_ = false;        // guarded by mu_
  bool running_ = false;          // guarded by mu_
  bool stopping_ = false;         // guarded by mu_
  std::atomic<uint64_t> checkpoints_{0};
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace ksdb::storage::sqlite

#endif  // KSDB_STORAGE_SQLITE_WAL_CHECKPOINTER_H_
