// MetadataIndex: candidates are a superset of the brute-force matches (and
// exactly them for $eq/$in/$contains trees), the Chroma equality rules
// (1 == 1.0, bool is not a number, arrays never equal scalars, missing keys
// match nothing), maintenance under removal/churn, and memory accounting.
#include "filter/metadata_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "filter/where.h"
#include "filter_test_util.h"

namespace ksdb::filter {
namespace {

using testing::One;
using Slots = std::vector<InternalId>;

WhereFilter Parse(std::string_view json) {
  Result<WhereFilter> filter = WhereFilter::ParseJson(json);
  EXPECT_TRUE(filter.ok()) << json << " -> " << filter.status().ToString();
  return std::move(filter).value();
}

std::optional<Slots> CandidatesOf(const MetadataIndex& index, std::string_view json) {
  return index.Candidates(Parse(json));
}

// The index plus the live records it was fed, for brute-force comparison.
class Fixture {
 public:
  void Put(InternalId slot, Metadata metadata) {
    Delete(slot);
    index_.Add(slot, metadata);
    live_.emplace(slot, std::move(metadata));
  }
  void Delete(InternalId slot) {
    auto it = live_.find(slot);
    if (it == live_.end())
      return;
    index_.Remove(slot, it->second);
    live_.erase(it);
  }
  Slots BruteForce(const WhereFilter& where) const {
    Slots out;
    for (const auto& [slot, metadata] : live_) {
      if (where.Matches(&metadata, nullptr))
        out.push_back(slot);
    }
    return out;
  }
  const MetadataIndex& index() const { return index_; }
  MetadataIndex& mutable_index() { return index_; }
  const std::map<InternalId, Metadata>& live() const { return live_; }

 private:
  MetadataIndex index_;
  std::map<InternalId, Metadata> live_;
};

TEST(MetadataIndexTest, EqualityOnStringsIntsAndBools) {
  Fixture f;
  f.Put(0, Metadata({{"color", std::string("red")}, {"n", int64_t{3}}}));
  f.Put(1, Metadata({{"color", std::string("blue")}, {"n", int64_t{4}}}));
  f.Put(2, Metadata({{"color", std::string("red")}, {"flag", true}}));
  f.Put(3, Metadata({{"flag", false}}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"color": "red"})"), Slots({0, 2}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"color": {"$eq": "blue"}})"), Slots({1}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"n": {"$in": [4, 3, 99]}})"), Slots({0, 1}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"flag": true})"), Slots({2}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"flag": {"$in": [true, false]}})"), Slots({2, 3}));
}

TEST(MetadataIndexTest, IntAndFloatAreEqualByValue) {
  Fixture f;
  f.Put(0, One("x", int64_t{1}));
  f.Put(1, One("x", 1.0));
  f.Put(2, One("x", 1.5));
  f.Put(3, One("x", true));
  f.Put(4, One("x", std::string("1")));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": 1})"), Slots({0, 1}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": 1.0})"), Slots({0, 1}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": {"$in": [1.5, 7]}})"), Slots({2}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": "1"})"), Slots({4}));
}

TEST(MetadataIndexTest, BoolIsNotANumber) {
  Fixture f;
  f.Put(0, One("x", true));
  f.Put(1, One("x", false));
  f.Put(2, One("x", int64_t{1}));
  f.Put(3, One("x", int64_t{0}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": 1})"), Slots({2}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": 0})"), Slots({3}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": true})"), Slots({0}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": {"$gte": 0}})"), Slots({2, 3}));
}

TEST(MetadataIndexTest, ArraysNeverEqualScalarsAndContainsLooksOnlyInArrays) {
  Fixture f;
  f.Put(0, One("tags", std::vector<std::string>{"a", "b"}));
  f.Put(1, One("tags", std::string("a")));
  f.Put(2, One("nums", std::vector<int64_t>{1, 2}));
  f.Put(3, One("nums", std::vector<double>{1.0, 2.5}));
  f.Put(4, One("nums", int64_t{1}));
  f.Put(5, One("bits", std::vector<bool>{true, true}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"tags": "a"})"), Slots({1}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"tags": {"$in": ["a", "b"]}})"), Slots({1}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"tags": {"$contains": "a"}})"), Slots({0}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"nums": {"$contains": 1}})"), Slots({2, 3}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"nums": {"$contains": 2.5}})"), Slots({3}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"nums": 1})"), Slots({4}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"nums": {"$gt": 0}})"), Slots({4}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"bits": {"$contains": true}})"), Slots({5}));
}

TEST(MetadataIndexTest, MissingKeyMatchesNothing) {
  Fixture f;
  f.Put(0, One("x", int64_t{1}));
  f.Put(1, Metadata());
  EXPECT_EQ(CandidatesOf(f.index(), R"({"y": 1})"), Slots());
  EXPECT_EQ(CandidatesOf(f.index(), R"({"y": {"$gt": 0}})"), Slots());
  EXPECT_EQ(CandidatesOf(f.index(), R"({"y": {"$contains": 1}})"), Slots());
  EXPECT_EQ(CandidatesOf(f.index(), R"({"$and": [{"y": 1}, {"x": {"$ne": 5}}]})"), Slots());
}

TEST(MetadataIndexTest, NegationsAndDocumentPredicatesCannotNarrow) {
  Fixture f;
  f.Put(0, One("x", int64_t{1}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": {"$ne": 1}})"), std::nullopt);
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": {"$nin": [1]}})"), std::nullopt);
  EXPECT_EQ(CandidatesOf(f.index(), R"({"x": {"$not_contains": 1}})"), std::nullopt);
  EXPECT_EQ(CandidatesOf(f.index(), R"({"#document": {"$contains": "a"}})"), std::nullopt);
  EXPECT_EQ(CandidatesOf(f.index(), R"({"#document": {"$regex": "a+"}})"), std::nullopt);
  EXPECT_EQ(CandidatesOf(f.index(), R"({"$or": [{"x": 1}, {"x": {"$ne": 2}}]})"), std::nullopt);
  EXPECT_EQ(CandidatesOf(f.index(), R"({"$and": []})"), std::nullopt);
}

TEST(MetadataIndexTest, AndIntersectsIndexableChildrenAndOrUnites) {
  Fixture f;
  for (InternalId slot = 0; slot < 20; ++slot) {
    f.Put(slot, Metadata({{"a", int64_t{slot % 2}}, {"b", int64_t{slot % 5}}}));
  }
  EXPECT_EQ(CandidatesOf(f.index(), R"({"$and": [{"a": 0}, {"b": 0}]})"), Slots({0, 10}));
  // The $ne child is ignored: a superset the caller filters.
  EXPECT_EQ(CandidatesOf(f.index(), R"({"$and": [{"b": 0}, {"a": {"$ne": 0}}]})"),
            Slots({0, 5, 10, 15}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"$or": [{"b": 1}, {"$and": [{"a": 0}, {"b": 0}]}]})"),
            Slots({0, 1, 6, 10, 11, 16}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"$or": []})"), Slots());
}

TEST(MetadataIndexTest, RangesCompareIntsAndFloatsExactly) {
  Fixture f;
  f.Put(0, One("n", int64_t{9007199254740993}));
  f.Put(1, One("n", 9007199254740992.0));
  f.Put(2, One("n", -0.5));
  f.Put(3, One("n", int64_t{INT64_MAX}));
  f.Put(4, One("n", 1e300));
  f.Put(5, One("n", int64_t{-3}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"n": {"$gt": 9007199254740992.0}})"), Slots({0, 3, 4}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"n": {"$gte": 9007199254740992}})"), Slots({0, 1, 3, 4}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"n": {"$lt": -0.5}})"), Slots({5}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"n": {"$lte": -0.5}})"), Slots({2, 5}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"n": {"$gt": 9223372036854775807}})"), Slots({4}));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"n": {"$lt": -1e300}})"), Slots());
}

TEST(MetadataIndexTest, RemoveAndUpdate) {
  Fixture f;
  f.Put(0, One("k", std::string("v")));
  f.Put(1, One("k", std::string("v")));
  f.Delete(0);
  EXPECT_EQ(CandidatesOf(f.index(), R"({"k": "v"})"), Slots({1}));
  f.Put(1, One("k", std::string("w")));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"k": "v"})"), Slots());
  EXPECT_EQ(CandidatesOf(f.index(), R"({"k": "w"})"), Slots({1}));
  f.Put(0, One("k", std::string("v")));
  EXPECT_EQ(CandidatesOf(f.index(), R"({"k": "v"})"), Slots({0}));
}

// Hash maps keep their bucket arrays after the last erase; everything else an
// index held must be released when its entries are.
constexpr size_t kBucketSlack = 1024;

TEST(MetadataIndexTest, DuplicateArrayElementsAreIndexedOnce) {
  MetadataIndex index;
  const Metadata m = One("a", std::vector<int64_t>{7, 7, 7});
  const size_t empty_bytes = index.MemoryBytes();
  index.Add(3, m);
  EXPECT_EQ(CandidatesOf(index, R"({"a": {"$contains": 7}})"), Slots({3}));
  index.Remove(3, m);
  EXPECT_EQ(CandidatesOf(index, R"({"a": {"$contains": 7}})"), Slots());
  EXPECT_LE(index.MemoryBytes(), empty_bytes + kBucketSlack);
}

TEST(MetadataIndexTest, OutOfOrderSlotsOnOneValue) {
  Fixture f;
  std::mt19937 rng(7);
  Slots slots(5000);
  for (InternalId i = 0; i < slots.size(); ++i)
    slots[i] = i * 3;
  std::shuffle(slots.begin(), slots.end(), rng);
  for (InternalId slot : slots)
    f.Put(slot, One("k", int64_t{1}));
  Slots expected(slots);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(CandidatesOf(f.index(), R"({"k": 1})"), expected);
  // Remove every other one in a random order, interleaved with re-adds.
  std::shuffle(slots.begin(), slots.end(), rng);
  for (size_t i = 0; i < slots.size(); i += 2)
    f.Delete(slots[i]);
  for (size_t i = 0; i < slots.size(); i += 4)
    f.Put(slots[i], One("k", int64_t{1}));
  const WhereFilter where = Parse(R"({"k": 1})");
  EXPECT_EQ(f.index().Candidates(where), f.BruteForce(where));
}

TEST(MetadataIndexTest, DeletingAllRecordsOfASharedValueReleasesEverything) {
  MetadataIndex index;
  const size_t empty_bytes = index.MemoryBytes();
  const Metadata m({{"shared", std::string("same")}, {"n", int64_t{5}}});
  constexpr InternalId kCount = 100'000;
  for (InternalId slot = 0; slot < kCount; ++slot)
    index.Add(slot, m);
  EXPECT_EQ(CandidatesOf(index, R"({"shared": "same"})")->size(), kCount);
  EXPECT_GT(index.MemoryBytes(), empty_bytes + kCount * sizeof(InternalId));
  // Front to back is the worst order for a sorted vector with erase().
  for (InternalId slot = 0; slot < kCount; ++slot) {
    index.Remove(slot, m);
    if (slot == kCount / 2) {
      EXPECT_EQ(CandidatesOf(index, R"({"n": 5})")->size(), kCount - kCount / 2 - 1);
    }
  }
  EXPECT_EQ(CandidatesOf(index, R"({"shared": "same"})"), Slots());
  EXPECT_LE(index.MemoryBytes(), empty_bytes + kBucketSlack);
}

// The record `i` of churn cycle `cycle`: values never seen in earlier cycles
// (a unique id, a drifting score) next to a few shared ones.
Metadata ChurnRecord(int cycle, InternalId i) {
  return Metadata({{"id", "rec-" + std::to_string(cycle) + "-" + std::to_string(i)},
                   {"bucket", int64_t{(i + cycle) % 100}},
                   {"score", 0.5 + i + cycle},
                   {"tags", std::vector<std::string>{"t" + std::to_string(i % 7)}}});
}

// Even cycles use slots [0, n), odd ones [n, 2n).
InternalId ChurnSlot(int cycle, InternalId i, InternalId n) {
  return (cycle % 2 == 0 ? 0 : n) + i;
}

// Each cycle replaces every live record with new values and new slots. Memory
// must not grow with the number of cycles.
TEST(MetadataIndexTest, ChurnKeepsMemoryFlat) {
  MetadataIndex index;
  const size_t empty_bytes = index.MemoryBytes();
  constexpr InternalId kRecords = 10'000;
  constexpr int kCycles = 100;
  size_t after_first_cycle = 0;
  size_t peak = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    for (InternalId i = 0; cycle > 0 && i < kRecords; ++i)
      index.Remove(ChurnSlot(cycle - 1, i, kRecords), ChurnRecord(cycle - 1, i));
    for (InternalId i = 0; i < kRecords; ++i)
      index.Add(ChurnSlot(cycle, i, kRecords), ChurnRecord(cycle, i));
    if (cycle == 0)
      after_first_cycle = index.MemoryBytes();
    peak = std::max(peak, index.MemoryBytes());
  }
  EXPECT_LE(peak, after_first_cycle * 3 / 2);
  EXPECT_EQ(CandidatesOf(index, R"({"bucket": 3})")->size(), kRecords / 100);
  for (InternalId i = 0; i < kRecords; ++i)
    index.Remove(ChurnSlot(kCycles - 1, i, kRecords), ChurnRecord(kCycles - 1, i));
  EXPECT_LE(index.MemoryBytes(), empty_bytes + kBucketSlack);
}

TEST(MetadataIndexTest, SlotAboveTheLimitDegradesToNoNarrowingUntilClear) {
  MetadataIndex index;
  index.Add(1, One("k", int64_t{1}));
  index.Add(MetadataIndex::kMaxSlot + 1, One("k", int64_t{1}));
  EXPECT_EQ(CandidatesOf(index, R"({"k": 1})"), std::nullopt);
  index.Clear();
  index.Add(2, One("k", int64_t{1}));
  EXPECT_EQ(CandidatesOf(index, R"({"k": 1})"), Slots({2}));
}

// ---- Randomized differential test --------------------------------------

class RandomWorld {
 public:
  explicit RandomWorld(uint32_t seed) : rng_(seed) {}

  Metadata RandomMetadata() {
    std::vector<Metadata::Entry> entries;
    for (const char* key : {"s", "i", "f", "b", "a", "m"}) {
      if (Chance(0.25))
        continue;  // missing key
      entries.emplace_back(key, ValueFor(key));
    }
    return Metadata(std::move(entries));
  }

  // A where clause in JSON; `pure` restricts it to $eq/$in/$contains and
  // ranges under non-empty $and/$or.
  std::string RandomWhere(bool pure, int depth = 0) {
    if (depth < 3 && Chance(0.35)) {
      const int n = Uniform(1, 3);
      std::string out = Chance(0.5) ? R"({"$and": [)" : R"({"$or": [)";
      for (int i = 0; i < n; ++i) {
        if (i > 0)
          out += ", ";
        out += RandomWhere(pure, depth + 1);
      }
      return out + "]}";
    }
    return RandomPredicate(pure);
  }

 private:
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::string SmallString() { return std::string(1, static_cast<char>('a' + Uniform(0, 5))); }
  int64_t SmallInt() { return Uniform(-3, 6); }
  // Half of them integral, so they collide with ints.
  double SmallDouble() { return Chance(0.5) ? Uniform(-3, 6) : Uniform(-6, 12) / 2.0 + 0.25; }

  MetadataValue ValueFor(std::string_view key) {
    if (key == "s")
      return SmallString();
    if (key == "i")
      return SmallInt();
    if (key == "f")
      return SmallDouble();
    if (key == "b")
      return Chance(0.5);
    if (key == "a")
      return RandomArray();
    switch (Uniform(0, 4)) {  // "m": any kind
      case 0:
        return SmallString();
      case 1:
        return SmallInt();
      case 2:
        return SmallDouble();
      case 3:
        return Chance(0.5);
      default:
        return RandomArray();
    }
  }

  MetadataValue RandomArray() {
    const int n = Uniform(1, 4);
    switch (Uniform(0, 3)) {
      case 0: {
        std::vector<std::string> v;
        for (int i = 0; i < n; ++i)
          v.push_back(SmallString());
        return v;
      }
      case 1: {
        std::vector<int64_t> v;
        for (int i = 0; i < n; ++i)
          v.push_back(SmallInt());
        return v;
      }
      case 2: {
        std::vector<double> v;
        for (int i = 0; i < n; ++i)
          v.push_back(SmallDouble());
        return v;
      }
      default: {
        std::vector<bool> v;
        for (int i = 0; i < n; ++i)
          v.push_back(Chance(0.5));
        return v;
      }
    }
  }

  std::string ScalarJson() {
    switch (Uniform(0, 4)) {
      case 0:
        return "\"" + SmallString() + "\"";
      case 1:
        return std::to_string(SmallInt());
      case 2:
        // std::to_string spells 1.0 as "1.000000": a JSON double equal to an int.
        return std::to_string(SmallDouble());
      case 3:
        return Chance(0.5) ? "true" : "false";
      default:
        return std::to_string(SmallInt()) + ".0";
    }
  }

  std::string NumberJson() { return Chance(0.5) ? std::to_string(SmallInt()) : ScalarNumber(); }
  std::string ScalarNumber() { return std::to_string(SmallDouble()); }

  std::string ListJson() {
    // Lists of one kind, as the grammar requires: ints may follow a leading
    // float, but not the other way round.
    const int kind = Uniform(0, 2);
    const bool all_ints = Chance(0.5);
    const int n = Uniform(1, 4);
    std::string out = "[";
    for (int i = 0; i < n; ++i) {
      if (i > 0)
        out += ", ";
      if (kind == 0)
        out += "\"" + SmallString() + "\"";
      else if (kind == 1 && all_ints)
        out += std::to_string(SmallInt());
      else if (kind == 1)
        out += i == 0 ? ScalarNumber() : NumberJson();
      else
        out += Chance(0.5) ? "true" : "false";
    }
    return out + "]";
  }

  std::string RandomPredicate(bool pure) {
    static constexpr const char* kKeys[] = {"s", "i", "f", "b", "a", "m", "absent"};
    const std::string key = kKeys[Uniform(0, 6)];
    const std::string prefix = "{\"" + key + "\": ";
    const int choice = pure ? Uniform(0, 4) : Uniform(0, 9);
    switch (choice) {
      case 0:
        return prefix + "{\"$eq\": " + ScalarJson() + "}}";
      case 1:
        return prefix + "{\"$in\": " + ListJson() + "}}";
      case 2:
        return prefix + "{\"$contains\": " + ScalarJson() + "}}";
      case 3: {
        static constexpr const char* kOps[] = {"$gt", "$gte", "$lt", "$lte"};
        return prefix + "{\"" + kOps[Uniform(0, 3)] + "\": " + NumberJson() + "}}";
      }
      case 4:
        return prefix + ScalarJson() + "}";  // shorthand for $eq
      case 5:
        return prefix + "{\"$ne\": " + ScalarJson() + "}}";
      case 6:
        return prefix + "{\"$nin\": " + ListJson() + "}}";
      case 7:
        return prefix + "{\"$not_contains\": " + ScalarJson() + "}}";
      case 8:
        return R"({"#document": {"$contains": "x"}})";
      default:
        return prefix + "{\"$eq\": " + ScalarJson() + "}}";
    }
  }

  std::mt19937 rng_;
};

// Checks one filter: candidates sorted/unique, live only, a superset of the
// brute-force matches, and exactly them for pure filters (no negation, no
// #document: the index answers those exactly).
struct CheckCounts {
  int narrowed = 0;       // impure filters the index could narrow
  int pure_nonempty = 0;  // pure filters with at least one match
};

void CheckFilter(const Fixture& f, const std::string& json, bool pure, CheckCounts* counts) {
  SCOPED_TRACE(json);
  Result<WhereFilter> where = WhereFilter::ParseJson(json);
  ASSERT_TRUE(where.ok()) << where.status().ToString();
  const Slots expected = f.BruteForce(*where);
  const std::optional<Slots> candidates = f.index().Candidates(*where);
  if (pure) {
    ASSERT_TRUE(candidates.has_value());
    EXPECT_EQ(*candidates, expected);
    counts->pure_nonempty += expected.empty() ? 0 : 1;
    return;
  }
  if (!candidates)
    return;
  ++counts->narrowed;
  ASSERT_TRUE(std::is_sorted(candidates->begin(), candidates->end()));
  ASSERT_EQ(std::adjacent_find(candidates->begin(), candidates->end()), candidates->end());
  for (InternalId slot : *candidates)
    ASSERT_TRUE(f.live().count(slot) == 1) << "dead slot " << slot;
  EXPECT_TRUE(
      std::includes(candidates->begin(), candidates->end(), expected.begin(), expected.end()));
}

void CheckRandomFilters(RandomWorld* world, const Fixture& f, int count, CheckCounts* counts) {
  for (int i = 0; i < count; ++i) {
    const bool pure = i % 2 == 0;
    CheckFilter(f, world->RandomWhere(pure), pure, counts);
    if (::testing::Test::HasFatalFailure())
      return;
  }
}

TEST(MetadataIndexTest, RandomizedDifferentialAgainstBruteForce) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomWorld world(seed);
    std::mt19937 rng(seed * 7919);
    Fixture f;
    constexpr InternalId kSlots = 3000;
    for (InternalId slot = 0; slot < kSlots; ++slot)
      f.Put(slot, world.RandomMetadata());
    CheckCounts counts;
    CheckRandomFilters(&world, f, 200, &counts);
    for (int round = 0; round < 5; ++round) {
      std::uniform_int_distribution<InternalId> pick(0, kSlots + 500);
      for (int op = 0; op < 2000; ++op) {
        const InternalId slot = pick(rng);
        if (std::bernoulli_distribution(0.5)(rng)) {
          f.Delete(slot);
        } else {
          f.Put(slot, world.RandomMetadata());  // an update when live, else a re-add
        }
      }
      CheckRandomFilters(&world, f, 200, &counts);
      if (HasFatalFailure())
        return;
    }
    // Guard against a generator that only produces trivial cases: of the 600
    // filters of each kind, many must narrow and many must match something.
    EXPECT_GT(counts.narrowed, 150);
    EXPECT_GT(counts.pure_nonempty, 120);
  }
}

}  // namespace
}  // namespace ksdb::filter
