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

// Distance only (ties in any order), for the candidate heaps of graph search.
// As a sort order: nearest first; as a heap order: a max-heap.
inline constexpr struct {
  bool operator()(const Neighbor& a, const Neighbor& b) const { return a.distance < b.distance; }
} Closer;
// As a heap order: a min-heap (nearest on top).
inline constexpr struct {
  bool operator()(const Neighbor& a, const Neighbor& b) const { return a.distance > b.distance; }
} Farther;

// The two heaps of a graph search's layer walk: candidates to expand
// (nearest on top) and results (farthest on top, at most `ef` kept).
inline void PushCandidate(std::vector<Neighbor>* candidates, const Neighbor& n) {
  candidates->push_back(n);
  std::push_heap(candidates->begin(), candidates->end(), Farther);
}
inline void PushResult(std::vector<Neighbor>* results, const Neighbor& n, size_t ef) {
  results->push_back(n);
  std::push_heap(results->begin(), results->end(), Closer);
  if (results->size() > ef) {
    std::pop_heap(results->begin(), results->end(), Closer);
    results->pop_back();
  }
}

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
