// MetadataIndex: an inverted index over record metadata, so that a selective
// `where` filter is answered from posting lists instead of evaluating the
// filter on every record.
//
// For every metadata key it keeps value -> posting list (the slots whose value
// under that key is that value), separately for scalar values ($eq/$in and the
// ranges) and for array elements ($contains). Values are indexed under the same
// equality classes as filter/value_set.h: an int and a double are one value when
// they are numerically equal (1 and 1.0), bools are their own kind, strings
// never equal numbers, and an array never equals a scalar operand.
//
// Not thread-safe by itself: Add/Remove need exclusive access, Candidates and
// MemoryBytes may run concurrently with each other (they do not mutate).
// Records without metadata need no Add (they match no indexable predicate).
// A moved-from index may only be destroyed or assigned to.
#ifndef KSDB_FILTER_METADATA_INDEX_H_
#define KSDB_FILTER_METADATA_INDEX_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "core/id_filter.h"
#include "core/metadata.h"
#include "filter/where.h"

namespace ksdb::filter {

class MetadataIndex {
 public:
  // Slots at or above this value cannot be indexed (the top bit is used as a
  // tombstone). Adding one puts the index in a degraded state where
  // Candidates() always returns nullopt (still correct, never narrowing).
  static constexpr InternalId kMaxSlot = (InternalId{1} << 31) - 1;

  MetadataIndex();
  ~MetadataIndex();
  MetadataIndex(MetadataIndex&&) noexcept;
  MetadataIndex& operator=(MetadataIndex&&) noexcept;
  MetadataIndex(const MetadataIndex&) = delete;
  MetadataIndex& operator=(const MetadataIndex&) = delete;

  // Indexes `metadata` under `slot`. A slot holds at most one metadata: to
  // update a record, Remove(slot, old) then Add(slot, new). Adding a slot that
  // is already indexed under the same key/value is a no-op for that value.
  // Amortized O(log n) per key (plus O(sqrt n) for an out-of-order slot).
  void Add(InternalId slot, const Metadata& metadata);

  // Un-indexes `slot`; `metadata` must equal what was passed to Add for it
  // (entries that were not indexed are ignored). Amortized O(log n) per key.
  void Remove(InternalId slot, const Metadata& metadata);

  // A sorted, duplicate-free SUPERSET of the slots whose metadata can match
  // `where`, or nullopt when the index cannot narrow the filter (a $ne/$nin/
  // $not_contains or #document predicate at the top, an $or with such a
  // branch, an empty $and, ...). For $and only the narrowable children are
  // intersected; $or unions its children. The caller must still evaluate
  // `where` on every candidate. For a filter made only of $eq/$in/$contains
  // and ranges (and $and/$or of them) the candidates are exactly the matching
  // slots. Cost: proportional to the postings touched, not to the record count.
  std::optional<std::vector<InternalId>> Candidates(const WhereFilter& where) const;

  // Approximate heap bytes held by the index. O(number of distinct keys).
  size_t MemoryBytes() const;

  // Forgets everything (also leaves the degraded state).
  void Clear();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ksdb::filter

#endif  // KSDB_FILTER_METADATA_INDEX_H_
