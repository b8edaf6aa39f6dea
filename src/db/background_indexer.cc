#include "db/background_indexer.h"

#include <sys/resource.h>
#include <unistd.h>

#include <utility>

#include "db/collection.h"

namespace ksdb::db {
namespace {

// Linking is catch-up work: the requests it shares the cores with (and, on a
// small machine, the client sending them) should run first. At the lowest
// priority the graph still gets every idle cycle: a 100k x 384 ingest through
// the JS client on 2 cores took 9.3 s instead of 10.4 s and the graph was
// complete as soon as before. RocksDB lowers its background threads the same
// way. On Linux PRIO_PROCESS with a thread id sets that thread's nice value,
// and the threads it starts for a parallel link inherit it. Best effort: if
// refused, the thread keeps the default priority.
constexpr int kIndexerNice = 19;

void LowerThisThreadsPriority() {
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kIndexerNice);
}

}  // namespace

BackgroundIndexer::BackgroundIndexer(CollectionsFn collections, std::chrono::microseconds step)
    : collections_(std::move(collections)), step_(step), thread_([this] { Loop(); }) {}

BackgroundIndexer::~BackgroundIndexer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void BackgroundIndexer::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  wake_.notify_one();
}

void BackgroundIndexer::Loop() {
  LowerThisThreadsPriority();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return notified_ || stopping_; });
      if (stopping_)
        return;
      notified_ = false;
    }
    // A write that lands meanwhile sets notified_ again, so nothing it
    // staged is left behind when the passes run dry.
    while (!stopping_ && LinkOnePass()) {
    }
  }
}

bool BackgroundIndexer::LinkOnePass() {
  bool linked = false;
  for (const std::shared_ptr<Collection>& collection : collections_()) {
    if (stopping_)
      return false;
    if (collection->LinkPendingFor(step_) > 0)
      linked = true;
    // Let the readers and writers that queued behind the step go first.
    std::this_thread::yield();
  }
  return linked;
}

}  // namespace ksdb::db
