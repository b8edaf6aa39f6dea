// Tests for updates of linked HNSW nodes: moving half of an index to new
// random vectors, several times over, keeps recall@10 at what a fresh build of
// the final vectors gets (the moved nodes' old neighbours are repaired and the
// moved nodes come back with a full neighbour list), whether the update comes
// through Upsert (one thread or several), Stage + LinkPending, or a delete and
// reuse of the slot, and on int8 indexes too. Plus the small cases: updating
// the only node, the entry point, and a node to its own vector.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "index/hnsw_index.h"
#include "index_test_util.h"

namespace ksdb::index {
namespace {

// A size and a graph degree at which HNSW is not trivially exact, so that a
// degraded graph shows in recall: a fresh build gets about 0.90 here.
constexpr size_t kDim = 32;
constexpr size_t kCount = 5000;
constexpr size_t kRounds = 4;
constexpr double kMargin = 0.02;

std::vector<float> RandomVectors(size_t count, uint32_t seed) {
  return testing::RandomVectors(count, kDim, seed);
}

using testing::Iota;

std::span<const float> Row(const std::vector<float>& v, size_t i) {
  return {v.data() + i * kDim, kDim};
}

HnswParams SmallGraph(size_t threads = 1, bool int8 = false) {
  HnswParams params;
  params.m = 8;
  params.ef_construction = 100;
  params.num_threads = threads;
  params.quantize_int8 = int8;
  return params;
}

std::unique_ptr<HnswIndex> MakeIndex(const HnswParams& params,
                                     DistanceSpace space = DistanceSpace::kL2) {
  Result<std::unique_ptr<HnswIndex>> index = NewHnswIndex(kDim, space, params);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

// Mean recall@10 of the graph search (ef 64) against the exact scan.
double MeanRecall(const HnswIndex& index) {
  const std::vector<float> queries = RandomVectors(300, 999);
  double total = 0;
  for (size_t q = 0; q < 300; ++q) {
    std::set<InternalId> want;
    for (const Neighbor& n : index.ExactSearch(Row(queries, q), 10, nullptr))
      want.insert(n.internal_id);
    size_t hits = 0;
    for (const Neighbor& n : index.SearchWithEf(Row(queries, q), 10, 64, nullptr))
      hits += want.count(n.internal_id);
    total += static_cast<double>(hits) / static_cast<double>(want.size());
  }
  return total / 300.0;
}

// How a round moves its chosen nodes to their new vectors.
enum class UpdatePath { kUpsert, kStageAndLink, kRemoveAndReuse };

// Builds `kCount` vectors, then `kRounds` times moves a random half of them to
// new random vectors through `path`. Returns the final vectors in `final_data`.
std::unique_ptr<HnswIndex> BuildAndUpdate(const HnswParams& params, DistanceSpace space,
                                          UpdatePath path, std::vector<float>* final_data) {
  auto index = MakeIndex(params, space);
  std::vector<float> data = RandomVectors(kCount, 1);
  EXPECT_TRUE(index->Upsert(Iota(kCount), data).ok());
  std::mt19937 pick(7);
  for (size_t round = 0; round < kRounds; ++round) {
    std::vector<InternalId> moved;
    for (size_t i = 0; i < kCount; ++i) {
      if (pick() % 2 == 0)
        moved.push_back(static_cast<InternalId>(i));
    }
    const std::vector<float> fresh = RandomVectors(moved.size(), 100 + round);
    for (size_t j = 0; j < moved.size(); ++j)
      std::copy_n(fresh.begin() + j * kDim, kDim, data.begin() + moved[j] * kDim);
    switch (path) {
      case UpdatePath::kUpsert:
        EXPECT_TRUE(index->Upsert(moved, fresh).ok());
        break;
      case UpdatePath::kStageAndLink:
        EXPECT_TRUE(index->Stage(moved, fresh).ok());
        EXPECT_EQ(index->LinkPending(kCount), moved.size());
        break;
      case UpdatePath::kRemoveAndReuse:
        index->Remove(moved);
        EXPECT_TRUE(index->Upsert(moved, fresh).ok());
        break;
    }
    EXPECT_EQ(index->size(), kCount);
  }
  *final_data = std::move(data);
  return index;
}

double FreshRecall(const HnswParams& params, DistanceSpace space, const std::vector<float>& data) {
  auto fresh = MakeIndex(params, space);
  EXPECT_TRUE(fresh->Upsert(Iota(kCount), data).ok());
  return MeanRecall(*fresh);
}

void ExpectRecallOfFreshBuild(const HnswParams& params, UpdatePath path,
                              DistanceSpace space = DistanceSpace::kL2) {
  std::vector<float> data;
  auto updated = BuildAndUpdate(params, space, path, &data);
  const double fresh = FreshRecall(params, space, data);
  const double recall = MeanRecall(*updated);
  // In the XML report (--gtest_output=xml), for comparing variants.
  ::testing::Test::RecordProperty("recall_after_updates", std::to_string(recall));
  ::testing::Test::RecordProperty("recall_of_fresh_build", std::to_string(fresh));
  EXPECT_GE(recall, fresh - kMargin) << "fresh build of the same vectors: " << fresh;
  // Every stored vector is the final one.
  for (size_t i : {size_t{0}, kCount / 2, kCount - 1}) {
    const std::span<const float> stored = updated->GetVector(static_cast<InternalId>(i));
    EXPECT_TRUE(std::equal(stored.begin(), stored.end(), Row(data, i).begin())) << i;
  }
}

TEST(HnswUpdateTest, MassUpdatesKeepRecallOfFreshBuild) {
  ExpectRecallOfFreshBuild(SmallGraph(), UpdatePath::kUpsert);
}

TEST(HnswUpdateTest, ParallelMassUpdatesKeepRecallOfFreshBuild) {
  // Repairs on two threads touch overlapping neighbourhoods.
  ExpectRecallOfFreshBuild(SmallGraph(2), UpdatePath::kUpsert);
}

TEST(HnswUpdateTest, RestagedUpdatesKeepRecallOfFreshBuild) {
  ExpectRecallOfFreshBuild(SmallGraph(2), UpdatePath::kStageAndLink);
}

TEST(HnswUpdateTest, DeleteAndReuseKeepsRecallOfFreshBuild) {
  ExpectRecallOfFreshBuild(SmallGraph(), UpdatePath::kRemoveAndReuse);
}

TEST(HnswUpdateTest, Int8MassUpdatesKeepRecallOfFreshBuild) {
  ExpectRecallOfFreshBuild(SmallGraph(1, /*int8=*/true), UpdatePath::kUpsert,
                           DistanceSpace::kCosine);
}

TEST(HnswUpdateTest, MovedNodeIsFoundAtItsNewPlaceOnly) {
  auto index = MakeIndex(SmallGraph());
  const std::vector<float> data = RandomVectors(2000, 3);
  ASSERT_TRUE(index->Upsert(Iota(2000), data).ok());
  // Node 10 moves onto node 20's old neighbourhood: queries at its old vector
  // no longer return it, queries at its new one do, first.
  std::vector<float> target(Row(data, 20).begin(), Row(data, 20).end());
  target[0] += 0.01f;
  ASSERT_TRUE(index->Upsert(std::vector<InternalId>{10}, target).ok());
  for (const Neighbor& n : index->Search(Row(data, 10), 10, nullptr))
    EXPECT_NE(n.internal_id, 10u);
  const std::vector<Neighbor> near = index->Search(target, 2, nullptr);
  ASSERT_EQ(near.size(), 2u);
  EXPECT_EQ(near[0].internal_id, 10u);
  EXPECT_EQ(near[1].internal_id, 20u);
}

TEST(HnswUpdateTest, UpdatingToTheSameVectorChangesNoResult) {
  auto index = MakeIndex(SmallGraph());
  const std::vector<float> data = RandomVectors(1500, 4);
  ASSERT_TRUE(index->Upsert(Iota(1500), data).ok());
  const std::vector<float> queries = RandomVectors(20, 5);
  std::vector<std::vector<Neighbor>> before;
  for (size_t q = 0; q < 20; ++q)
    before.push_back(index->ExactSearch(Row(queries, q), 5, nullptr));
  std::vector<InternalId> same = Iota(300);
  ASSERT_TRUE(index->Upsert(same, std::span(data).first(300 * kDim)).ok());
  for (size_t q = 0; q < 20; ++q) {
    const std::vector<Neighbor> after = index->SearchWithEf(Row(queries, q), 5, 200, nullptr);
    ASSERT_EQ(after.size(), before[q].size());
    for (size_t i = 0; i < after.size(); ++i)
      EXPECT_EQ(after[i].internal_id, before[q][i].internal_id) << q << " " << i;
  }
}

TEST(HnswUpdateTest, TinyGraphsAndTheEntryPointUpdate) {
  auto index = MakeIndex(SmallGraph());
  const std::vector<float> a = RandomVectors(3, 6);
  ASSERT_TRUE(index->Upsert(std::vector<InternalId>{0}, Row(a, 0)).ok());
  // The only node, which is also the entry point.
  ASSERT_TRUE(index->Upsert(std::vector<InternalId>{0}, Row(a, 1)).ok());
  EXPECT_EQ(index->Search(Row(a, 1), 1, nullptr).at(0).distance, 0.0f);
  ASSERT_TRUE(index->Upsert(std::vector<InternalId>{1}, Row(a, 2)).ok());
  // Both nodes of a two-node graph swap places, in one batch and one by one.
  std::vector<float> swapped(Row(a, 2).begin(), Row(a, 2).end());
  swapped.insert(swapped.end(), Row(a, 1).begin(), Row(a, 1).end());
  ASSERT_TRUE(index->Upsert(std::vector<InternalId>{0, 1}, swapped).ok());
  EXPECT_EQ(index->Search(Row(a, 2), 1, nullptr).at(0).internal_id, 0u);
  EXPECT_EQ(index->Search(Row(a, 1), 1, nullptr).at(0).internal_id, 1u);
  ASSERT_TRUE(index->Upsert(std::vector<InternalId>{0}, Row(a, 0)).ok());
  ASSERT_TRUE(index->Upsert(std::vector<InternalId>{1}, Row(a, 2)).ok());
  EXPECT_EQ(index->Search(Row(a, 0), 1, nullptr).at(0).internal_id, 0u);
  EXPECT_EQ(index->Search(Row(a, 2), 1, nullptr).at(0).internal_id, 1u);
  EXPECT_EQ(index->size(), 2u);
}

}  // namespace
}  // namespace ksdb::index
