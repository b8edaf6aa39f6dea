// Tests for the relabelled copies bench/ann's reordering A/B measures
// (hnsw_reorder.cc): the orders are permutations of the nodes, and a copy is
// the same graph in other numbers, so every search answers exactly what the
// original answers once its ids are mapped back.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <span>
#include <vector>

#include "core/id_filter.h"
#include "index/hnsw_graph.h"
#include "index/hnsw_index.h"
#include "index_test_util.h"

namespace ksdb::index {
namespace {

constexpr size_t kDim = 16;
constexpr size_t kCount = 1500;

using testing::Iota;

std::unique_ptr<HnswIndex> MakeIndex(const std::vector<float>& vectors, HnswParams params = {}) {
  params.ef_construction = 64;
  Result<std::unique_ptr<HnswIndex>> index = NewHnswIndex(kDim, DistanceSpace::kCosine, params);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_TRUE((*index)->Upsert(Iota(vectors.size() / kDim), vectors).ok());
  return std::move(index).value();
}

std::span<const float> Row(const std::vector<float>& v, size_t i) {
  return {v.data() + i * kDim, kDim};
}

// `relabelled`'s hits with their ids mapped back to the original numbers.
std::vector<Neighbor> MapBack(std::vector<Neighbor> hits,
                              const std::vector<InternalId>& old_of_new) {
  for (Neighbor& n : hits)
    n.internal_id = old_of_new[n.internal_id];
  return hits;
}

void ExpectSameHits(const std::vector<Neighbor>& want, const std::vector<Neighbor>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].internal_id, got[i].internal_id) << "rank " << i;
    EXPECT_EQ(want[i].distance, got[i].distance) << "rank " << i;
  }
}

class HnswReorderTest : public ::testing::TestWithParam<bool> {};

TEST_P(HnswReorderTest, OrderIsAPermutationOfTheNodes) {
  const std::vector<float> vectors = testing::RandomVectors(kCount, kDim, 11);
  std::unique_ptr<HnswIndex> index = MakeIndex(vectors);
  Result<RelabelledHnsw> copy = RelabelHnswForBench(*index, GetParam());
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  std::vector<InternalId> sorted = copy->old_of_new;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, Iota(kCount));
  EXPECT_NE(copy->old_of_new, Iota(kCount));
  EXPECT_EQ(copy->index->size(), index->size());
}

TEST_P(HnswReorderTest, CopyAnswersExactlyWhatTheOriginalAnswers) {
  const std::vector<float> vectors = testing::RandomVectors(kCount, kDim, 12);
  const std::vector<float> queries = testing::RandomVectors(50, kDim, 13);
  std::unique_ptr<HnswIndex> index = MakeIndex(vectors);
  // Tombstones stay in the graph and must stay out of both answers.
  const std::vector<InternalId> removed = {3, 500, 1499};
  index->Remove(removed);
  Result<RelabelledHnsw> copy = RelabelHnswForBench(*index, GetParam());
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  const std::vector<InternalId>& old_of_new = copy->old_of_new;
  for (size_t q = 0; q < 50; ++q) {
    for (size_t ef : {10, 64}) {
      ExpectSameHits(
          index->SearchWithEf(Row(queries, q), 10, ef, nullptr),
          MapBack(copy->index->SearchWithEf(Row(queries, q), 10, ef, nullptr), old_of_new));
    }
  }
  for (size_t i = 0; i < kCount; ++i) {
    const InternalId old = old_of_new[i];
    EXPECT_EQ(copy->index->Contains(static_cast<InternalId>(i)), index->Contains(old));
    const std::span<const float> a = index->GetVector(old);
    const std::span<const float> b = copy->index->GetVector(static_cast<InternalId>(i));
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << "node " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Orders, HnswReorderTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "ReverseCuthillMcKee" : "Bfs";
                         });

TEST(HnswReorderLimits, QuantisedOrStagedIndexIsRefused) {
  const std::vector<float> vectors = testing::RandomVectors(200, kDim, 14);
  HnswParams int8;
  int8.quantize_int8 = true;
  EXPECT_FALSE(RelabelHnswForBench(*MakeIndex(vectors, int8), false).ok());
  std::unique_ptr<HnswIndex> staged = MakeIndex(vectors);
  ASSERT_TRUE(staged->Stage(std::vector<InternalId>{200}, Row(vectors, 0)).ok());
  EXPECT_FALSE(RelabelHnswForBench(*staged, false).ok());
}

}  // namespace
}  // namespace ksdb::index
