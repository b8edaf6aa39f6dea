// TopK: a bounded max-heap keeping the k nearest neighbours offered, shared by
// the exact scans of every index.
#ifndef KSDB_INDEX_TOP_K_H_
#define KSDB_INDEX_TOP_K_H_

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "index/vector_index.h"

namespace ksdb::index {

// The orders below are function objects, not functions: the standard
// algorithms then see their type and inline them (a function pointer is often
// called through, once per comparison of a heap operation).

// Nearer first; equal distances by smaller internal id. As a heap comparator it
// keeps the worst kept neighbour on top.
inline constexpr struct {
  bool operator()(const Neighbor& a, const Neighbor& b) const {
    if (a.distance != b.distance)
      return a.distance < b.distance;
    return a.internal_id < b.internal_id;
  }
} NearerThan;

// Distance only (ties in any order): nearest first.
inline constexpr struct {
  bool operator()(const Neighbor& a, const Neighbor& b) const { return a.distance < b.distance; }
} Closer;

class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }

  // Keeps `candidate` if it is nearer than the worst of the k kept so far.
  void Offer(const Neighbor& candidate) {
    if (heap_.size() < k_) {
      heap_.push_back(candidate);
      std::push_heap(heap_.begin(), heap_.end(), NearerThan);
      return;
    }
    if (k_ == 0 || !NearerThan(candidate, heap_.front()))
      return;
    std::pop_heap(heap_.begin(), heap_.end(), NearerThan);
    heap_.back() = candidate;
    std::push_heap(heap_.begin(), heap_.end(), NearerThan);
  }

  // The kept neighbours, nearest first. Leaves this object empty.
  std::vector<Neighbor> TakeSorted() {
    std::sort_heap(heap_.begin(), heap_.end(), NearerThan);
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<Neighbor> heap_;
};

}  // namespace ksdb::index

#endif  // KSDB_INDEX_TOP_K_H_
