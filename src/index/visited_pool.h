// VisitedList / VisitedPool: the "seen" marks of one graph traversal.
//
// A list is an array of epoch tags, one per node: a node is visited when its
// tag equals the list's current epoch, so starting a traversal costs one
// increment instead of clearing the array (the array is cleared only when the
// 16-bit epoch wraps). The pool hands lists to concurrent searches so that
// each search owns one without allocating.
#ifndef KSDB_INDEX_VISITED_POOL_H_
#define KSDB_INDEX_VISITED_POOL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "core/id_filter.h"

namespace ksdb::index {

class VisitedList {
 public:
  // Starts a new traversal over nodes [0, num_nodes).
  void Reset(size_t num_nodes) {
    if (tags_.size() < num_nodes)
      tags_.resize(num_nodes, 0);
    if (++epoch_ == 0) {
      std::fill(tags_.begin(), tags_.end(), 0);
      epoch_ = 1;
    }
  }
  // Marks `id`; returns whether it was already marked in this traversal.
  bool TestAndSet(InternalId id) {
    if (tags_[id] == epoch_)
      return true;
    tags_[id] = epoch_;
    return false;
  }
  const uint16_t* TagAddress(InternalId id) const { return tags_.data() + id; }
  size_t MemoryBytes() const { return tags_.capacity() * sizeof(uint16_t); }

 private:
  std::vector<uint16_t> tags_;
  uint16_t epoch_ = 0;
};

class VisitedPool {
 public:
  // A list for one traversal, returned to the pool when the handle dies.
  class Handle {
   public:
    Handle(VisitedPool* pool, std::unique_ptr<VisitedList> list)
        : pool_(pool), list_(std::move(list)) {}
    Handle(Handle&&) = default;
    ~Handle() {
      if (list_)
        pool_->Release(std::move(list_));
    }
    VisitedList* operator->() const { return list_.get(); }
    VisitedList* get() const { return list_.get(); }

   private:
    VisitedPool* pool_;
    std::unique_ptr<VisitedList> list_;
  };

  // A list reset for `num_nodes` nodes. Thread-safe.
  Handle Acquire(size_t num_nodes) {
    std::unique_ptr<VisitedList> list;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        list = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!list)
      list = std::make_unique<VisitedList>();
    list->Reset(num_nodes);
    return Handle(this, std::move(list));
  }

  size_t MemoryBytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t bytes = 0;
    for (const auto& list : free_)
      bytes += list->MemoryBytes();
    return bytes;
  }

 private:
  void Release(std::unique_ptr<VisitedList> list) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(list));
  }

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<VisitedList>> free_;
};

}  // namespace ksdb::index

#endif  // KSDB_INDEX_VISITED_POOL_H_
