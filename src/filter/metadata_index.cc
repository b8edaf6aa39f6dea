#include "filter/metadata_index.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>

#include "filter/node.h"
#include "filter/numeric.h"
#include "filter/value_set.h"

namespace ksdb::filter {
namespace {

// A posting entry with this bit set is a tombstone for the slot in the low bits.
constexpr uint32_t kDeadBit = uint32_t{1} << 31;
// Out-of-order inserts buffered before a posting is re-merged, at least.
constexpr size_t kMinRecent = 32;
// Rough per-node overhead of std::map / std::unordered_map nodes (links,
// colour or cached hash), for MemoryBytes().
constexpr size_t kTreeNodeOverhead = 32;
constexpr size_t kHashNodeOverhead = 16;
// Above this size ratio an intersection probes the larger list by binary
// search instead of walking both.
constexpr size_t kGallopRatio = 32;

uint32_t SlotOf(uint32_t entry) {
  return entry & ~kDeadBit;
}

// The slots holding one value under one key: a sorted vector with in-place
// tombstones (O(log n) removal; compacted once half of it is dead) plus a small
// sorted buffer of out-of-order inserts (merged once it exceeds ~sqrt(n)), so
// both churn and mass deletion stay amortized O(log n) per operation and the
// memory is at most about twice the live entries. Reads never mutate.
class Posting {
 public:
  bool empty() const { return size() == 0; }
  size_t size() const { return base_.size() - dead_ + recent_.size(); }
  size_t CapacityBytes() const {
    return (base_.capacity() + recent_.capacity()) * sizeof(uint32_t);
  }

  // Idempotent: adding a present slot does nothing.
  void Add(uint32_t slot);
  // Idempotent: removing an absent slot does nothing.
  void Remove(uint32_t slot);
  // Appends the live slots, ascending, to `out`.
  void AppendTo(std::vector<uint32_t>* out) const;

 private:
  std::vector<uint32_t>::iterator FindInBase(uint32_t slot);
  size_t RecentLimit() const;
  // Drops tombstones and merges `recent_` into `base_`, with a tight capacity.
  void Compact();

  std::vector<uint32_t> base_;    // ascending by SlotOf(); tombstones keep their place
  std::vector<uint32_t> recent_;  // ascending, live, disjoint from base_
  size_t dead_ = 0;               // tombstones in base_
};

std::vector<uint32_t>::iterator Posting::FindInBase(uint32_t slot) {
  auto it = std::lower_bound(base_.begin(), base_.end(), slot,
                             [](uint32_t entry, uint32_t s) { return SlotOf(entry) < s; });
  return it != base_.end() && SlotOf(*it) == slot ? it : base_.end();
}

size_t Posting::RecentLimit() const {
  return std::max(kMinRecent, static_cast<size_t>(std::sqrt(static_cast<double>(base_.size()))));
}

void Posting::Add(uint32_t slot) {
  auto recent_it = std::lower_bound(recent_.begin(), recent_.end(), slot);
  if (recent_it != recent_.end() && *recent_it == slot)
    return;
  // Fresh records mostly get ever larger slots: append in O(1).
  if (base_.empty() || SlotOf(base_.back()) < slot) {
    base_.push_back(slot);
    return;
  }
  auto base_it = FindInBase(slot);
  if (base_it != base_.end()) {
    if ((*base_it & kDeadBit) != 0) {
      *base_it = slot;
      --dead_;
    }
    return;
  }
  recent_.insert(recent_it, slot);
  if (recent_.size() > RecentLimit())
    Compact();
}

void Posting::Remove(uint32_t slot) {
  auto recent_it = std::lower_bound(recent_.begin(), recent_.end(), slot);
  if (recent_it != recent_.end() && *recent_it == slot) {
    recent_.erase(recent_it);
    return;
  }
  auto base_it = FindInBase(slot);
  if (base_it == base_.end() || (*base_it & kDeadBit) != 0)
    return;
  *base_it |= kDeadBit;
  ++dead_;
  if (dead_ * 2 > base_.size())
    Compact();
}

void Posting::AppendTo(std::vector<uint32_t>* out) const {
  if (dead_ == 0 && recent_.empty()) {
    out->insert(out->end(), base_.begin(), base_.end());
    return;
  }
  const size_t start = out->size();
  for (uint32_t entry : base_) {
    if ((entry & kDeadBit) == 0)
      out->push_back(entry);
  }
  const size_t middle = out->size();
  out->insert(out->end(), recent_.begin(), recent_.end());
  std::inplace_merge(out->begin() + static_cast<ptrdiff_t>(start),
                     out->begin() + static_cast<ptrdiff_t>(middle), out->end());
}

void Posting::Compact() {
  std::vector<uint32_t> merged;
  merged.reserve(size());
  AppendTo(&merged);
  base_ = std::move(merged);
  recent_ = std::vector<uint32_t>();
  dead_ = 0;
}

// One metadata scalar reduced to the equality classes of ValueSet: an integral
// double in int64 range is the int, other doubles stay doubles, NaN is apart.
struct Scalar {
  enum class Kind { kBool, kInt, kDouble, kNan, kString };
  Kind kind = Kind::kBool;
  bool bool_value = false;
  int64_t int_value = 0;
  double double_value = 0.0;
  std::string_view string_value;
};

Scalar ToScalar(bool v) {
  Scalar s;
  s.bool_value = v;
  return s;
}

Scalar ToScalar(int64_t v) {
  Scalar s;
  s.kind = Scalar::Kind::kInt;
  s.int_value = v;
  return s;
}

Scalar ToScalar(double v) {
  if (std::isnan(v)) {
    Scalar s;
    s.kind = Scalar::Kind::kNan;
    return s;
  }
  if (std::optional<int64_t> as_int = ExactInt(v))
    return ToScalar(*as_int);
  Scalar s;
  s.kind = Scalar::Kind::kDouble;
  s.double_value = v;
  return s;
}

Scalar ToScalar(const std::string& v) {
  Scalar s;
  s.kind = Scalar::Kind::kString;
  s.string_value = v;
  return s;
}

template <typename T>
constexpr bool kIsVector = false;
template <typename T>
constexpr bool kIsVector<std::vector<T>> = true;

// Calls fn(is_element, scalar) for a scalar value, or for each array element.
template <typename Fn>
void ForEachIndexedValue(const MetadataValue& value, Fn fn) {
  std::visit(
      [&fn](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<bool>>) {
          for (bool e : v)
            fn(true, ToScalar(e));
        } else if constexpr (kIsVector<T>) {
          for (const auto& e : v)
            fn(true, ToScalar(e));
        } else {
          fn(false, ToScalar(v));
        }
      },
      value);
}

// Orders map keys of one number kind against Number operands exactly
// (filter/numeric.h), so range bounds are found with lower/upper_bound.
template <typename T>
struct NumberLess {
  using is_transparent = void;
  bool operator()(T a, T b) const { return a < b; }
  bool operator()(T a, const Number& b) const { return CompareNumber(a, b) < 0; }
  bool operator()(const Number& a, T b) const { return CompareNumber(b, a) > 0; }
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
using IntMap = std::map<int64_t, Posting, NumberLess<int64_t>>;
using DoubleMap = std::map<double, Posting, NumberLess<double>>;

size_t StringHeapBytes(const std::string& s) {
  return s.capacity() > std::string().capacity() ? s.capacity() + 1 : 0;
}

size_t NodeBytes(const IntMap::value_type& entry) {
  return sizeof(entry) + kTreeNodeOverhead;
}

size_t NodeBytes(const DoubleMap::value_type& entry) {
  return sizeof(entry) + kTreeNodeOverhead;
}

size_t NodeBytes(const StringMap<Posting>::value_type& entry) {
  return sizeof(entry) + kHashNodeOverhead + StringHeapBytes(entry.first);
}

// The byte accounting of a posting is updated around every change of it.
void AddToPosting(Posting* posting, uint32_t slot, size_t* bytes) {
  *bytes -= posting->CapacityBytes();
  posting->Add(slot);
  *bytes += posting->CapacityBytes();
}

void RemoveFromPosting(Posting* posting, uint32_t slot, size_t* bytes) {
  *bytes -= posting->CapacityBytes();
  posting->Remove(slot);
  *bytes += posting->CapacityBytes();
}

template <typename Map, typename Key>
void AddToMap(Map* map, const Key& key, uint32_t slot, size_t* bytes) {
  auto it = map->find(key);
  if (it == map->end()) {
    it = map->emplace(typename Map::key_type(key), Posting()).first;
    *bytes += NodeBytes(*it);
  }
  AddToPosting(&it->second, slot, bytes);
}

// Empty postings are erased so that churn over ever-new values stays flat.
template <typename Map, typename Key>
void RemoveFromMap(Map* map, const Key& key, uint32_t slot, size_t* bytes) {
  auto it = map->find(key);
  if (it == map->end())
    return;
  RemoveFromPosting(&it->second, slot, bytes);
  if (it->second.empty()) {
    *bytes -= it->second.CapacityBytes() + NodeBytes(*it);
    map->erase(it);
  }
}

// Sorted runs laid end to end, merged into one ascending duplicate-free list.
class RunUnion {
 public:
  explicit RunUnion(size_t universe) : universe_(universe) {}

  void AddPosting(const Posting& posting) {
    posting.AppendTo(&data_);
    CloseRun();
  }
  void AddSorted(const std::vector<uint32_t>& run) {
    data_.insert(data_.end(), run.begin(), run.end());
    CloseRun();
  }
  std::vector<uint32_t> Finish() &&;

 private:
  void CloseRun() {
    if (data_.size() > (ends_.empty() ? 0 : ends_.back()))
      ends_.push_back(data_.size());
  }
  std::vector<uint32_t> FinishWithBitmap() const;
  std::vector<uint32_t> FinishWithMerges() &&;

  size_t universe_;  // every slot is below this
  std::vector<uint32_t> data_;
  std::vector<size_t> ends_;
};

std::vector<uint32_t> RunUnion::Finish() && {
  // One run is already sorted and duplicate-free.
  if (ends_.size() <= 1)
    return std::move(data_);
  // Pairwise merging costs ~n*log2(k); a bitmap over the slot range costs a
  // word per 64 slots plus n. Many runs (ranges, long $in lists) favour the bitmap.
  const size_t merge_cost = data_.size() * static_cast<size_t>(std::bit_width(ends_.size()));
  if (universe_ / 64 < merge_cost)
    return FinishWithBitmap();
  return std::move(*this).FinishWithMerges();
}

std::vector<uint32_t> RunUnion::FinishWithBitmap() const {
  std::vector<uint64_t> bits(universe_ / 64 + 1, 0);
  for (uint32_t slot : data_)
    bits[slot / 64] |= uint64_t{1} << (slot % 64);
  std::vector<uint32_t> out;
  out.reserve(data_.size());
  for (size_t word = 0; word < bits.size(); ++word) {
    for (uint64_t w = bits[word]; w != 0; w &= w - 1)
      out.push_back(static_cast<uint32_t>(word * 64 + static_cast<size_t>(std::countr_zero(w))));
  }
  return out;
}

std::vector<uint32_t> RunUnion::FinishWithMerges() && {
  std::vector<uint32_t> buffer(data_.size());
  while (ends_.size() > 1) {
    std::vector<size_t> merged_ends;
    size_t begin = 0;
    for (size_t i = 0; i < ends_.size(); i += 2) {
      const size_t middle = ends_[i];
      const size_t end = i + 1 < ends_.size() ? ends_[i + 1] : middle;
      std::merge(data_.begin() + static_cast<ptrdiff_t>(begin),
                 data_.begin() + static_cast<ptrdiff_t>(middle),
                 data_.begin() + static_cast<ptrdiff_t>(middle),
                 data_.begin() + static_cast<ptrdiff_t>(end),
                 buffer.begin() + static_cast<ptrdiff_t>(begin));
      merged_ends.push_back(end);
      begin = end;
    }
    data_.swap(buffer);
    ends_ = std::move(merged_ends);
  }
  data_.erase(std::unique(data_.begin(), data_.end()), data_.end());
  return std::move(data_);
}

// Intersection of two ascending duplicate-free lists, `small` not larger.
std::vector<uint32_t> Intersect(const std::vector<uint32_t>& small,
                                const std::vector<uint32_t>& large) {
  std::vector<uint32_t> out;
  if (large.size() > kGallopRatio * small.size()) {
    auto from = large.begin();
    for (uint32_t slot : small) {
      from = std::lower_bound(from, large.end(), slot);
      if (from == large.end())
        break;
      if (*from == slot)
        out.push_back(slot);
    }
    return out;
  }
  std::set_intersection(small.begin(), small.end(), large.begin(), large.end(),
                        std::back_inserter(out));
  return out;
}

// The postings of map keys satisfying `key op operand`, added to `runs`.
template <typename Map>
void AddRangeOf(const Map& map, RangeOp op, const Number& operand, RunUnion* runs) {
  auto begin = map.begin();
  auto end = map.end();
  switch (op) {
    case RangeOp::kGt:
      begin = map.upper_bound(operand);
      break;
    case RangeOp::kGte:
      begin = map.lower_bound(operand);
      break;
    case RangeOp::kLt:
      end = map.lower_bound(operand);
      break;
    case RangeOp::kLte:
      end = map.upper_bound(operand);
      break;
  }
  for (auto it = begin; it != end; ++it)
    runs->AddPosting(it->second);
}

// All the postings of one kind of occurrence (scalar values, or array
// elements) under one key.
class ValuePostings {
 public:
  bool empty() const {
    return bools_[0].empty() && bools_[1].empty() && ints_.empty() && doubles_.empty() &&
           nan_.empty() && strings_.empty();
  }
  size_t BucketBytes() const { return strings_.bucket_count() * sizeof(void*); }

  void Add(const Scalar& v, uint32_t slot, size_t* bytes);
  void Remove(const Scalar& v, uint32_t slot, size_t* bytes);

  // The postings of the members of `values`; false when a member cannot be
  // looked up (a NaN operand, which ValueSet does not order).
  bool AddMembers(const ValueSet& values, RunUnion* runs) const;
  // The postings of the numbers satisfying `value op operand`.
  void AddRange(RangeOp op, const Number& operand, RunUnion* runs) const;

 private:
  Posting bools_[2];
  IntMap ints_;        // int64 values and the doubles equal to one
  DoubleMap doubles_;  // non-integral or out-of-int64-range doubles, never NaN
  Posting nan_;        // kept apart: NaN is unordered
  StringMap<Posting> strings_;
};

void ValuePostings::Add(const Scalar& v, uint32_t slot, size_t* bytes) {
  switch (v.kind) {
    case Scalar::Kind::kBool:
      return AddToPosting(&bools_[v.bool_value ? 1 : 0], slot, bytes);
    case Scalar::Kind::kInt:
      return AddToMap(&ints_, v.int_value, slot, bytes);
    case Scalar::Kind::kDouble:
      return AddToMap(&doubles_, v.double_value, slot, bytes);
    case Scalar::Kind::kNan:
      return AddToPosting(&nan_, slot, bytes);
    case Scalar::Kind::kString:
      return AddToMap(&strings_, v.string_value, slot, bytes);
  }
}

void ValuePostings::Remove(const Scalar& v, uint32_t slot, size_t* bytes) {
  switch (v.kind) {
    case Scalar::Kind::kBool:
      return RemoveFromPosting(&bools_[v.bool_value ? 1 : 0], slot, bytes);
    case Scalar::Kind::kInt:
      return RemoveFromMap(&ints_, v.int_value, slot, bytes);
    case Scalar::Kind::kDouble:
      return RemoveFromMap(&doubles_, v.double_value, slot, bytes);
    case Scalar::Kind::kNan:
      return RemoveFromPosting(&nan_, slot, bytes);
    case Scalar::Kind::kString:
      return RemoveFromMap(&strings_, v.string_value, slot, bytes);
  }
}

bool ValuePostings::AddMembers(const ValueSet& values, RunUnion* runs) const {
  const std::vector<double>& doubles = values.doubles();
  if (std::any_of(doubles.begin(), doubles.end(), [](double d) { return std::isnan(d); }))
    return false;
  if (values.has_false())
    runs->AddPosting(bools_[0]);
  if (values.has_true())
    runs->AddPosting(bools_[1]);
  for (int64_t v : values.ints()) {
    if (auto it = ints_.find(v); it != ints_.end())
      runs->AddPosting(it->second);
  }
  for (double v : doubles) {
    if (auto it = doubles_.find(v); it != doubles_.end())
      runs->AddPosting(it->second);
  }
  // ValueSet::ContainsDouble binary-searches its doubles, which reports a stored
  // NaN as a member of any non-empty double list; mirror that so the result
  // stays a superset (metadata validation rejects NaN, so this is theoretical).
  if (!doubles.empty())
    runs->AddPosting(nan_);
  for (const std::string& v : values.strings()) {
    if (auto it = strings_.find(v); it != strings_.end())
      runs->AddPosting(it->second);
  }
  return true;
}

void ValuePostings::AddRange(RangeOp op, const Number& operand, RunUnion* runs) const {
  // A NaN operand compares unordered with everything, so nothing is in range.
  if (!operand.is_int && std::isnan(operand.double_value))
    return;
  AddRangeOf(ints_, op, operand, runs);
  AddRangeOf(doubles_, op, operand, runs);
}

struct KeyIndex {
  ValuePostings scalars;   // $eq/$in/ranges look here
  ValuePostings elements;  // $contains looks here
  bool empty() const { return scalars.empty() && elements.empty(); }
};

using KeyMap = StringMap<KeyIndex>;

// Computes candidates bottom-up; a nullopt result means "cannot narrow".
class Planner final : public NodeVisitor {
 public:
  Planner(const KeyMap& keys, size_t universe) : keys_(keys), universe_(universe) {}

  std::optional<std::vector<uint32_t>> Plan(const Node& node) {
    node.Accept(*this);
    std::optional<std::vector<uint32_t>> out = std::move(result_);
    result_.reset();
    return out;
  }

  void Visit(const AndNode& node) override;
  void Visit(const OrNode& node) override;
  void Visit(const MembershipNode& node) override;
  void Visit(const RangeNode& node) override;
  void Visit(const ArrayContainsNode& node) override;
  void Visit(const DocumentContainsNode& /*node*/) override { result_.reset(); }
  void Visit(const DocumentRegexNode& /*node*/) override { result_.reset(); }

 private:
  const KeyIndex* FindKey(const std::string& key) const {
    auto it = keys_.find(key);
    return it == keys_.end() ? nullptr : &it->second;
  }
  void PlanMembers(const std::string& key, const ValueSet& values, bool elements);

  const KeyMap& keys_;
  size_t universe_;
  std::optional<std::vector<uint32_t>> result_;
};

void Planner::Visit(const AndNode& node) {
  std::vector<std::vector<uint32_t>> narrowed;
  for (const NodePtr& child : node.children()) {
    std::optional<std::vector<uint32_t>> candidates = Plan(*child);
    if (!candidates)
      continue;  // unindexable child: the caller's full evaluation checks it
    if (candidates->empty()) {
      result_.emplace();
      return;
    }
    narrowed.push_back(std::move(*candidates));
  }
  if (narrowed.empty()) {
    result_.reset();
    return;
  }
  // Smallest first keeps every intermediate result small.
  std::sort(narrowed.begin(), narrowed.end(),
            [](const auto& a, const auto& b) { return a.size() < b.size(); });
  std::vector<uint32_t> acc = std::move(narrowed.front());
  for (size_t i = 1; i < narrowed.size() && !acc.empty(); ++i)
    acc = Intersect(acc, narrowed[i]);
  result_ = std::move(acc);
}

void Planner::Visit(const OrNode& node) {
  RunUnion runs(universe_);
  for (const NodePtr& child : node.children()) {
    std::optional<std::vector<uint32_t>> candidates = Plan(*child);
    if (!candidates) {
      result_.reset();
      return;
    }
    runs.AddSorted(*candidates);
  }
  result_ = std::move(runs).Finish();
}

void Planner::PlanMembers(const std::string& key, const ValueSet& values, bool elements) {
  const KeyIndex* index = FindKey(key);
  if (index == nullptr) {
    // A missing key is a member of nothing.
    result_.emplace();
    return;
  }
  RunUnion runs(universe_);
  if (!(elements ? index->elements : index->scalars).AddMembers(values, &runs)) {
    result_.reset();
    return;
  }
  result_ = std::move(runs).Finish();
}

void Planner::Visit(const MembershipNode& node) {
  // $ne/$nin match almost everything, including records without the key.
  if (node.negate()) {
    result_.reset();
    return;
  }
  PlanMembers(node.key(), node.values(), /*elements=*/false);
}

void Planner::Visit(const ArrayContainsNode& node) {
  if (node.negate()) {
    result_.reset();
    return;
  }
  PlanMembers(node.key(), node.operand(), /*elements=*/true);
}

void Planner::Visit(const RangeNode& node) {
  const KeyIndex* index = FindKey(node.key());
  if (index == nullptr) {
    result_.emplace();
    return;
  }
  RunUnion runs(universe_);
  index->scalars.AddRange(node.op(), node.operand(), &runs);
  result_ = std::move(runs).Finish();
}

}  // namespace

struct MetadataIndex::State {
  KeyMap keys;
  size_t bytes = 0;     // postings and value nodes; buckets are added on demand
  size_t universe = 0;  // one past the largest slot ever added
  bool degraded = false;
};

MetadataIndex::MetadataIndex() : state_(std::make_unique<State>()) {}
MetadataIndex::~MetadataIndex() = default;
MetadataIndex::MetadataIndex(MetadataIndex&&) noexcept = default;
MetadataIndex& MetadataIndex::operator=(MetadataIndex&&) noexcept = default;

void MetadataIndex::Add(InternalId slot, const Metadata& metadata) {
  if (slot > kMaxSlot) {
    state_->degraded = true;
    return;
  }
  state_->universe = std::max(state_->universe, static_cast<size_t>(slot) + 1);
  for (const auto& [key, value] : metadata.entries()) {
    auto it = state_->keys.find(key);
    if (it == state_->keys.end()) {
      it = state_->keys.emplace(key, KeyIndex()).first;
      state_->bytes += sizeof(*it) + kHashNodeOverhead + StringHeapBytes(it->first);
    }
    KeyIndex& index = it->second;
    ForEachIndexedValue(value, [&](bool is_element, const Scalar& v) {
      (is_element ? index.elements : index.scalars).Add(v, slot, &state_->bytes);
    });
  }
}

void MetadataIndex::Remove(InternalId slot, const Metadata& metadata) {
  if (slot > kMaxSlot)
    return;
  for (const auto& [key, value] : metadata.entries()) {
    auto it = state_->keys.find(key);
    if (it == state_->keys.end())
      continue;
    KeyIndex& index = it->second;
    ForEachIndexedValue(value, [&](bool is_element, const Scalar& v) {
      (is_element ? index.elements : index.scalars).Remove(v, slot, &state_->bytes);
    });
    if (index.empty()) {
      state_->bytes -= sizeof(*it) + kHashNodeOverhead + StringHeapBytes(it->first);
      state_->keys.erase(it);
    }
  }
}

std::optional<std::vector<InternalId>> MetadataIndex::Candidates(const WhereFilter& where) const {
  if (state_->degraded)
    return std::nullopt;
  Planner planner(state_->keys, state_->universe);
  return planner.Plan(where.root());
}

size_t MetadataIndex::MemoryBytes() const {
  size_t bytes = sizeof(State) + state_->bytes + state_->keys.bucket_count() * sizeof(void*);
  for (const auto& [key, index] : state_->keys)
    bytes += index.scalars.BucketBytes() + index.elements.BucketBytes();
  return bytes;
}

void MetadataIndex::Clear() {
  state_ = std::make_unique<State>();
}

}  // namespace ksdb::filter
