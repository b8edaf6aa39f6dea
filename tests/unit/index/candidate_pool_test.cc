// Tests for CandidatePool (src/index/candidate_pool.h), the sorted candidate
// list of the unfiltered graph searches, against a plain sorted reference.
#include "index/candidate_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "index/top_k.h"

namespace ksdb::index {
namespace {

std::vector<float> Distances(const std::vector<Neighbor>& v) {
  std::vector<float> out;
  for (const Neighbor& n : v)
    out.push_back(n.distance);
  return out;
}

TEST(CandidatePoolTest, KeepsTheNearestCapacityEntriesSorted) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (size_t capacity : {1, 2, 5, 96}) {
    CandidatePool pool(capacity);
    std::vector<Neighbor> all;
    for (InternalId id = 0; id < 1000; ++id) {
      // Coarse values so that equal distances occur.
      const Neighbor n{std::round(uniform(rng) * 200.0f) / 200.0f, id};
      const float bound = pool.bound();
      EXPECT_EQ(pool.Insert(n), n.distance < bound) << "capacity " << capacity << " id " << id;
      all.push_back(n);
    }
    std::stable_sort(all.begin(), all.end(), Closer);
    all.resize(capacity);
    const std::vector<Neighbor> kept = pool.Take();
    EXPECT_EQ(Distances(kept), Distances(all)) << "capacity " << capacity;
  }
}

TEST(CandidatePoolTest, BoundIsInfiniteUntilFull) {
  CandidatePool pool(2);
  EXPECT_EQ(pool.bound(), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(pool.Insert({5.0f, 1}));
  EXPECT_EQ(pool.bound(), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(pool.Insert({3.0f, 2}));
  EXPECT_EQ(pool.bound(), 5.0f);
  EXPECT_FALSE(pool.Insert({5.0f, 3}));  // not nearer than the farthest kept
  EXPECT_TRUE(pool.Insert({4.0f, 4}));
  EXPECT_EQ(pool.bound(), 4.0f);
  EXPECT_EQ(pool.size(), 2u);
}

TEST(CandidatePoolTest, ExpandsTheNearestUnexpandedEntryEachTime) {
  CandidatePool pool(4);
  pool.Insert({3.0f, 30});
  pool.Insert({1.0f, 10});
  EXPECT_EQ(pool.PeekNearest(), std::optional<InternalId>(10));
  EXPECT_EQ(pool.ExpandNearest(), std::optional<InternalId>(10));
  EXPECT_EQ(pool.PeekNearest(), std::optional<InternalId>(30));
  // A nearer entry than the next unexpanded one comes first, even behind
  // an expanded entry.
  pool.Insert({2.0f, 20});
  pool.Insert({0.5f, 5});
  EXPECT_EQ(pool.ExpandNearest(), std::optional<InternalId>(5));
  EXPECT_EQ(pool.ExpandNearest(), std::optional<InternalId>(20));
  // The pool is full (0.5, 1, 2, 3): inserting 1.5 drops 3 before it is expanded.
  pool.Insert({1.5f, 15});
  EXPECT_EQ(pool.ExpandNearest(), std::optional<InternalId>(15));
  EXPECT_EQ(pool.ExpandNearest(), std::nullopt);
  EXPECT_EQ(pool.PeekNearest(), std::nullopt);
  const std::vector<Neighbor> kept = pool.Take();
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_EQ(kept.back().internal_id, 20u);
}

// Rejected entries (filtered out, deleted) guide the search but are no
// results: only accepted ones count toward the capacity and come out of
// Take; a rejected entry stays while it is nearer than the farthest of the
// `capacity` nearest accepted ones.
TEST(CandidatePoolTest, OnlyAcceptedEntriesCountAndComeOut) {
  CandidatePool pool(2);
  EXPECT_TRUE(pool.Insert({1.0f, 1}, false));
  EXPECT_TRUE(pool.Insert({2.0f, 2}, true));
  EXPECT_TRUE(pool.Insert({3.0f, 3}, false));
  EXPECT_EQ(pool.bound(), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(pool.Insert({4.0f, 4}, true));
  EXPECT_EQ(pool.bound(), 4.0f);
  EXPECT_EQ(pool.size(), 4u);
  EXPECT_FALSE(pool.Insert({4.5f, 5}, false));
  // A nearer accepted entry pushes out 4 and the rejected 3 behind 2.5.
  EXPECT_TRUE(pool.Insert({2.5f, 6}, true));
  EXPECT_EQ(pool.bound(), 2.5f);
  EXPECT_EQ(pool.size(), 3u);
  EXPECT_EQ(pool.ExpandNearest(), std::optional<InternalId>(1));
  EXPECT_EQ(pool.ExpandNearest(), std::optional<InternalId>(2));
  EXPECT_EQ(pool.ExpandNearest(), std::optional<InternalId>(6));
  EXPECT_EQ(pool.ExpandNearest(), std::nullopt);
  const std::vector<Neighbor> kept = pool.Take();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].internal_id, 2u);
  EXPECT_EQ(kept[1].internal_id, 6u);
}

TEST(CandidatePoolTest, TakeIsTheNearestAcceptedWhateverIsRejected) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (size_t capacity : {1, 3, 32}) {
    CandidatePool pool(capacity);
    std::vector<Neighbor> accepted;
    for (InternalId id = 0; id < 2000; ++id) {
      const Neighbor n{uniform(rng), id};
      const bool accept = uniform(rng) < 0.3f;
      pool.Insert(n, accept);
      if (accept)
        accepted.push_back(n);
    }
    std::sort(accepted.begin(), accepted.end(), Closer);
    accepted.resize(capacity);
    EXPECT_EQ(Distances(pool.Take()), Distances(accepted)) << "capacity " << capacity;
  }
}

}  // namespace
}  // namespace ksdb::index
