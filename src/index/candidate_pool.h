// CandidatePool: the candidate list of a best-first graph search.
//
// The textbook search (Malkov & Yashunin, algorithm 2) keeps two heaps: the
// candidates to expand (nearest on top, unbounded) and the ef results
// (farthest on top). A candidate farther than the ef-th result is never
// expanded, so one sorted array holds all the search needs (the "retset" of
// NSG and DiskANN): every node found nearer than the ef-th *accepted* one (a
// result; filtered-out, deleted or staged nodes still guide the traversal),
// each marked once expanded; expand the nearest unmarked entry until none is
// left. An insert is a binary search and a move of the entries behind it, in
// place of a push on each heap and a pop, whose unpredictable branches cost
// more at ef <= a few hundred; the results come out sorted. When every node
// is accepted the pool holds at most ef entries.
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
  // A pool keeping the `capacity` (>= 1) nearest accepted neighbours
  // inserted, and the others nearer than the farthest of those.
  explicit CandidatePool(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {
    entries_.reserve(capacity_ + 1);
    flags_.reserve(capacity_ + 1);
  }

  size_t size() const { return entries_.size(); }

  // The distance a neighbour must be nearer than to enter: the farthest
  // accepted entry's once `capacity` are held (it is then the last entry),
  // infinity before.
  float bound() const {
    return accepted_ < capacity_ ? std::numeric_limits<float>::infinity()
                                 : entries_.back().distance;
  }

  // Keeps `n` in distance order (after equal distances); an accepted one may
  // push the farthest accepted entry, and every entry behind it, out.
  // Returns false, changing nothing, when `n` is not nearer than bound().
  bool Insert(const Neighbor& n, bool accepted = true) {
    if (!(n.distance < bound()))
      return false;
    const size_t pos = InsertPosition(n.distance);
    entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(pos), n);
    flags_.insert(flags_.begin() + static_cast<std::ptrdiff_t>(pos),
                  accepted ? kAccepted : uint8_t{0});
    cursor_ = std::min(cursor_, pos);
    if (accepted && ++accepted_ >= capacity_)
      TrimToCapacity();
    return true;
  }

  // The nearest entry not expanded yet, now marked expanded; nullopt when
  // every entry has been.
  std::optional<InternalId> ExpandNearest() {
    SkipExpanded();
    if (cursor_ == entries_.size())
      return std::nullopt;
    flags_[cursor_] |= kExpanded;
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

  // The accepted entries (at most `capacity`), nearest first. Leaves the
  // pool empty.
  std::vector<Neighbor> Take() {
    if (accepted_ < entries_.size()) {
      size_t kept = 0;
      for (size_t i = 0; i < entries_.size(); ++i) {
        if (flags_[i] & kAccepted)
          entries_[kept++] = entries_[i];
      }
      entries_.resize(kept);
    }
    flags_.clear();
    cursor_ = 0;
    accepted_ = 0;
    return std::move(entries_);
  }

 private:
  static constexpr uint8_t kExpanded = 1;
  static constexpr uint8_t kAccepted = 2;

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

  // With `capacity` or more accepted entries: drops the accepted ones beyond
  // `capacity` and every entry behind the last accepted one kept (none of
  // them can be expanded before the search ends), so the pool ends with its
  // farthest accepted entry.
  void TrimToCapacity() {
    size_t end = entries_.size();
    const auto skip_rejected = [&] {
      while ((flags_[end - 1] & kAccepted) == 0)
        --end;
    };
    for (; accepted_ > capacity_; --accepted_) {
      skip_rejected();
      --end;  // the farthest accepted entry
    }
    skip_rejected();
    entries_.resize(end);
    flags_.resize(end);
    cursor_ = std::min(cursor_, end);
  }

  // Moves the cursor past expanded entries (every entry before it is expanded).
  void SkipExpanded() {
    while (cursor_ < entries_.size() && (flags_[cursor_] & kExpanded) != 0)
      ++cursor_;
  }

  size_t capacity_;
  std::vector<Neighbor> entries_;  // nearest first
  std::vector<uint8_t> flags_;     // parallel to entries_: kExpanded | kAccepted
  size_t cursor_ = 0;              // no unexpanded entry before it
  size_t accepted_ = 0;            // entries flagged kAccepted
};

}  // namespace ksdb::index

#endif  // KSDB_INDEX_CANDIDATE_POOL_H_
