#include "db/background_indexer.h"

#include <utility>

#include "db/collection.h"

namespace ksdb::db {

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
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return notified_ || stopping_; });
      if (stopping_) return;
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
    if (stopping_) return false;
    if (collection->LinkPendingFor(step_) > 0) linked = true;
    // Let the readers and writers that queued behind the step go first.
    std::this_thread::yield();
  }
  return linked;
}

}  // namespace ksdb::db
