// BackgroundIndexer: a thread that links staged vectors into their
// collections' HNSW graphs. Writes only stage their vectors (durable and
// exactly searchable at once, see HnswIndex::Stage), so an acknowledged write
// never waits for graph construction; this thread catches the graphs up.
//
// It works in steps of a bounded time under each collection's exclusive lock
// (Collection::LinkPendingFor), taking the collections in turn, so queries and
// writes wait at most one step, and sleeps when nothing is pending.
#ifndef KSDB_DB_BACKGROUND_INDEXER_H_
#define KSDB_DB_BACKGROUND_INDEXER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ksdb::db {

class Collection;

class BackgroundIndexer {
 public:
  using CollectionsFn = std::function<std::vector<std::shared_ptr<Collection>>()>;

  // Starts the thread. `collections` lists the collections to look at; it is
  // called at the start of every pass. `step` bounds one step's lock hold.
  BackgroundIndexer(CollectionsFn collections, std::chrono::microseconds step);
  // Stops at the end of the current step; vectors still pending stay staged
  // (snapshots keep them so, and the next start links them).
  ~BackgroundIndexer();
  BackgroundIndexer(const BackgroundIndexer&) = delete;
  BackgroundIndexer& operator=(const BackgroundIndexer&) = delete;

  // Wakes the thread: some collection may have vectors pending.
  void Notify();

 private:
  void Loop();
  // One step on every collection; whether any of them linked something.
  bool LinkOnePass();

  const CollectionsFn collections_;
  const std::chrono::microseconds step_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool notified_ = false;  // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace ksdb::db

#endif  // KSDB_DB_BACKGROUND_INDEXER_H_
