// IdFilter: the allowed-set predicate the filter layer hands to a vector index
// (FAISS's IDSelector idea). Internal ids are dense uint32 slot numbers.
#ifndef KSDB_CORE_ID_FILTER_H_
#define KSDB_CORE_ID_FILTER_H_

#include <cstdint>
#include <vector>

namespace ksdb {

using InternalId = uint32_t;

class IdFilter {
 public:
  virtual ~IdFilter() = default;
  // Thread-safe for concurrent calls; O(1).
  virtual bool IsMember(InternalId internal_id) const = 0;
};

// A dense bitmap over internal ids; ids beyond the size are not members.
class BitmapIdFilter final : public IdFilter {
 public:
  explicit BitmapIdFilter(size_t num_ids) : words_((num_ids + 63) / 64, 0), num_ids_(num_ids) {}

  void Add(InternalId internal_id) {
    if (internal_id < num_ids_) words_[internal_id >> 6] |= uint64_t{1} << (internal_id & 63);
  }
  bool IsMember(InternalId internal_id) const override {
    return internal_id < num_ids_ && (words_[internal_id >> 6] >> (internal_id & 63)) & 1;
  }
  // Number of members. O(num_ids / 64).
  size_t Count() const {
    size_t n = 0;
    for (uint64_t w : words_) n += static_cast<size_t>(__builtin_popcountll(w));
    return n;
  }

 private:
  std::vector<uint64_t> words_;
  size_t num_ids_;
};

}  // namespace ksdb

#endif  // KSDB_CORE_ID_FILTER_H_
