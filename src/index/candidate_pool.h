// CandidatePool: the candidate list of a best-first graph search in which
// every node met may be a result (no filter, no tombstones, no staged nodes).
//
// The textbook search (Malkov & Yashunin, algorithm 2) keeps two heaps: the
// candidates to expand (nearest on top, unbounded) and the ef results
// (farthest on top). A candidate farther than the ef-th result is never
// expanded, so one sorted array of the ef nearest nodes found, each marked
// once expanded, holds all the search needs (the "retset" of NSG and
// DiskANN): expand the nearest unmarked entry until none is left. An insert
// is a binary search and a move of at most ef entries, in place of a push on
// each heap and a pop, whose unpredictable branches cost more at ef <= a few
// hundred; the result comes out sorted.
#ifndef KSDB_INDEX_CANDIDATE_POOL_H_
#define KSDB_INDEX_CANDIDATE_POOL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "index/vector_index.h"

namespace ksdb::index {

class CandidatePool {
 public:
  // A pool keeping the `capacity` (>= 1) nearest neighbours inserted.
  explicit CandidatePool(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {
    entries_.reserve(capacity_ + 1);
    expanded_.reserve(capacity_ + 1);
  }

  size_t size() const { return entries_.size(); }

  // The distance a neighbour must be nearer than to enter: the farthest kept
  // once the pool is full, infinity before.
  float bound() const {
    return entries_.size() < capacity_ ? std::numeric_limits<float>::infinity()
                                       : entries_.back().distance;
  }

  // Keeps `n` in distance order (after equal distances), dropping the
  // farthest entry when the pool overflows. Returns false, changing nothing,
  // when `n` is not nearer than bound().
  bool Insert(const Neighbor& n) {
    if (!(n.distance < bound()))
      return false;
    const size_t pos = InsertPosition(n.distance);
    entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(pos), n);
    expanded_.insert(expanded_.begin() + static_cast<std::ptrdiff_t>(pos), uint8_t{0});
    if (entries_.size() > capacity_) {
      entries_.pop_back();
      expanded_.pop_back();
    }
    cursor_ = std::min(cursor_, pos);
    return true;
  }

  // The nearest entry not expanded yet, now marked expanded; nullopt when
  // every entry has been.
  std::optional<InternalId> ExpandNearest() {
    SkipExpanded();
    if (cursor_ == entries_.size())
      return std::nullopt;
    expanded_[cursor_] = 1;
    return entries_[cursor_].internal_id;
  }

  // The entry ExpandNearest would return next (unless inserts come first),
  // without marking it; nullopt when none is left.
  std::optional<InternalId> PeekNearest() {
    SkipExpanded();
    if (cursor_ == entries_.size())
      return std::nullopt;
    return entries_[cursor_].internal_id;
  }

  // The kept neighbours, nearest first. Leaves the pool empty.
  std::vector<Neighbor> Take() {
    expanded_.clear();
    cursor_ = 0;
    return std::move(entries_);
  }

 private:
  // The number of entries at distance <= `d` (std::upper_bound). Branch-free:
  // where a new neighbour lands is random, so a branching binary search
  // mispredicts about every other step.
  size_t InsertPosition(float d) const {
    size_t n = entries_.size();
    if (n == 0)
      return 0;
    const Neighbor* base = entries_.data();
    while (n > 1) {
      const size_t half = n / 2;
      base = base[half].distance <= d ? base + half : base;
      n -= half;
    }
    return static_cast<size_t>(base - entries_.data()) + (base->distance <= d ? 1 : 0);
  }

  // Moves the cursor past expanded entries (every entry before it is expanded).
  void SkipExpanded() {
    while (cursor_ < entries_.size() && expanded_[cursor_] != 0)
      ++cursor_;
  }

  size_t capacity_;
  std::vector<Neighbor> entries_;  // nearest first
  std::vector<uint8_t> expanded_;  // parallel to entries_
  size_t cursor_ = 0;              // no unexpanded entry before it
};

}  // namespace ksdb::index

#endif  // KSDB_INDEX_CANDIDATE_POOL_H_
