// Tests for staged (not yet linked) vectors in the HNSW index: a staged
// vector is found by every kind of search at once, LinkPending moves it into
// the graph without changing what searches return, and removals, updates,
// filters, int8 quantisation and snapshots all see staged vectors correctly.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/id_filter.h"
#include "index/hnsw_index.h"
#include "index_test_util.h"
#include "index/vector_index.h"

namespace ksdb::index {
namespace {

constexpr size_t kDim = 16;

std::vector<float> RandomVectors(size_t count, uint32_t seed) {
  return testing::RandomVectors(count, kDim, seed);
}

using testing::Iota;

std::unique_ptr<HnswIndex> MakeIndex(HnswParams params = {}) {
  params.ef_construction = 64;
  Result<std::unique_ptr<HnswIndex>> index = NewHnswIndex(kDim, DistanceSpace::kCosine, params);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

std::span<const float> Row(const std::vector<float>& v, size_t i) {
  return {v.data() + i * kDim, kDim};
}

std::set<InternalId> Ids(const std::vector<Neighbor>& hits) {
  std::set<InternalId> ids;
  for (const Neighbor& n : hits)
    ids.insert(n.internal_id);
  return ids;
}

// Mean recall@10 of the graph search (ef 64) against the exact scan.
double MeanRecall(const HnswIndex& index, const std::vector<float>& queries,
                  const IdFilter* filter = nullptr) {
  const size_t count = queries.size() / kDim;
  double total = 0;
  for (size_t q = 0; q < count; ++q) {
    const std::set<InternalId> want = Ids(index.ExactSearch(Row(queries, q), 10, filter));
    const std::set<InternalId> got = Ids(index.SearchWithEf(Row(queries, q), 10, 64, filter));
    size_t hits = 0;
    for (InternalId id : want)
      hits += got.count(id);
    total += want.empty() ? 1.0 : static_cast<double>(hits) / static_cast<double>(want.size());
  }
  return total / static_cast<double>(count);
}

TEST(HnswStageTest, StagedVectorsAreFoundBeforeAnyLinking) {
  auto index = MakeIndex();
  const std::vector<float> data = RandomVectors(500, 1);
  ASSERT_TRUE(index->Stage(Iota(500), data).ok());
  EXPECT_EQ(index->size(), 500u);
  EXPECT_EQ(index->pending(), 500u);
  EXPECT_TRUE(index->Contains(7));
  // Every vector is its own nearest neighbour, through the graph entry point
  // (there is none yet) as through the exact paths.
  for (size_t i = 0; i < 500; i += 37) {
    EXPECT_EQ(index->Search(Row(data, i), 1, nullptr).at(0).internal_id, i);
    EXPECT_EQ(index->ExactSearch(Row(data, i), 1, nullptr).at(0).internal_id, i);
    const std::vector<InternalId> among{static_cast<InternalId>(i), 3};
    EXPECT_EQ(index->SearchAmong(Row(data, i), 1, among).at(0).internal_id, i);
  }
  const std::span<const float> stored = index->GetVector(42);
  EXPECT_TRUE(std::equal(stored.begin(), stored.end(), Row(data, 42).begin()));
}

TEST(HnswStageTest, LinkPendingBuildsTheGraphInSteps) {
  auto index = MakeIndex();
  const std::vector<float> data = RandomVectors(3000, 2);
  const std::vector<float> queries = RandomVectors(50, 3);
  ASSERT_TRUE(index->Stage(Iota(3000), data).ok());
  size_t linked = 0;
  while (index->pending() > 0) {
    const size_t step = index->LinkPending(700);
    ASSERT_GT(step, 0u);
    linked += step;
    // Half-linked: graph results merged with the exact scan of the rest.
    EXPECT_GE(MeanRecall(*index, queries), 0.95);
  }
  EXPECT_EQ(linked, 3000u);
  EXPECT_EQ(index->LinkPending(10), 0u);
  EXPECT_GE(MeanRecall(*index, queries), 0.95);
}

TEST(HnswStageTest, GraphAndPendingResultsAreMergedWithoutDuplicates) {
  auto index = MakeIndex();
  const std::vector<float> data = RandomVectors(2000, 4);
  ASSERT_TRUE(index->Upsert(Iota(1000), std::span(data).first(1000 * kDim)).ok());
  ASSERT_TRUE(index->Stage(Iota(1000, 1000), std::span(data).subspan(1000 * kDim)).ok());
  // Re-stage some linked vectors with new values: the updated nodes are
  // reachable through their old links but must appear once, at their new
  // distance.
  const std::vector<float> moved = RandomVectors(100, 5);
  ASSERT_TRUE(index->Stage(Iota(100), moved).ok());
  EXPECT_EQ(index->pending(), 1100u);
  EXPECT_EQ(index->size(), 2000u);
  for (size_t i = 0; i < 100; i += 7) {
    const std::vector<Neighbor> hits = index->SearchWithEf(Row(moved, i), 50, 100, nullptr);
    EXPECT_EQ(hits.at(0).internal_id, i);
    EXPECT_EQ(Ids(hits).size(), hits.size()) << "duplicate result";
    const std::vector<Neighbor> exact = index->ExactSearch(Row(moved, i), 50, nullptr);
    EXPECT_FLOAT_EQ(hits.at(0).distance, exact.at(0).distance);
  }
}

TEST(HnswStageTest, RemovedStagedVectorsAreNeverReturnedOrLinked) {
  auto index = MakeIndex();
  const std::vector<float> data = RandomVectors(400, 6);
  ASSERT_TRUE(index->Stage(Iota(400), data).ok());
  index->Remove(std::vector<InternalId>{10, 11, 12});
  EXPECT_EQ(index->pending(), 397u);
  EXPECT_EQ(index->size(), 397u);
  EXPECT_FALSE(index->Contains(11));
  EXPECT_EQ(Ids(index->Search(Row(data, 11), 400, nullptr)).count(11), 0u);
  EXPECT_EQ(index->LinkPending(1000), 397u);
  EXPECT_EQ(Ids(index->Search(Row(data, 11), 400, nullptr)).count(11), 0u);
  // Re-staging the removed slot brings it back (slot reuse).
  ASSERT_TRUE(index->Stage(std::vector<InternalId>{11}, Row(data, 11)).ok());
  EXPECT_EQ(index->Search(Row(data, 11), 1, nullptr).at(0).internal_id, 11u);
  EXPECT_EQ(index->pending(), 1u);
}

TEST(HnswStageTest, UpsertOfAStagedVectorLinksItAtOnce) {
  auto index = MakeIndex();
  const std::vector<float> data = RandomVectors(300, 7);
  ASSERT_TRUE(index->Stage(Iota(300), data).ok());
  ASSERT_TRUE(index->Upsert(Iota(50), std::span(data).first(50 * kDim)).ok());
  EXPECT_EQ(index->pending(), 250u);
  EXPECT_EQ(index->size(), 300u);
  EXPECT_EQ(index->LinkPending(1000), 250u);
}

TEST(HnswStageTest, FiltersApplyToStagedVectors) {
  auto index = MakeIndex();
  const std::vector<float> data = RandomVectors(3000, 8);
  const std::vector<float> queries = RandomVectors(40, 9);
  ASSERT_TRUE(index->Upsert(Iota(1500), std::span(data).first(1500 * kDim)).ok());
  ASSERT_TRUE(index->Stage(Iota(1500, 1500), std::span(data).subspan(1500 * kDim)).ok());
  BitmapIdFilter even(3000);
  for (InternalId id = 0; id < 3000; id += 2)
    even.Add(id);
  for (size_t q = 0; q < 40; ++q) {
    for (const Neighbor& n : index->SearchWithEf(Row(queries, q), 10, 64, &even))
      EXPECT_EQ(n.internal_id % 2, 0u);
  }
  EXPECT_GE(MeanRecall(*index, queries, &even), 0.95);
}

TEST(HnswStageTest, Int8IndexStagesAndLinks) {
  HnswParams params;
  params.quantize_int8 = true;
  auto index = MakeIndex(params);
  const std::vector<float> data = RandomVectors(2500, 10);
  const std::vector<float> queries = RandomVectors(40, 11);
  ASSERT_TRUE(index->Stage(Iota(2500), data).ok());
  EXPECT_GE(MeanRecall(*index, queries), 0.99);  // all exact while pending
  while (index->LinkPending(1000) > 0) {
  }
  EXPECT_GE(MeanRecall(*index, queries), 0.9);
}

TEST(HnswStageTest, SnapshotKeepsStagedVectorsPending) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("ksdb_hnsw_stage_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "c.hnsw").string();
  auto index = MakeIndex();
  const std::vector<float> data = RandomVectors(1200, 12);
  ASSERT_TRUE(index->Upsert(Iota(800), std::span(data).first(800 * kDim)).ok());
  ASSERT_TRUE(index->Stage(Iota(400, 800), std::span(data).subspan(800 * kDim)).ok());
  ASSERT_TRUE(index->SaveSnapshot(path, 9, "").ok());

  HnswParams params;
  params.ef_construction = 64;
  Result<LoadedHnswSnapshot> loaded = LoadHnswSnapshot(path, kDim, DistanceSpace::kCosine, params);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  HnswIndex& restored = *loaded->index;
  EXPECT_EQ(restored.pending(), 400u);
  EXPECT_EQ(restored.size(), 1200u);
  EXPECT_EQ(restored.Search(Row(data, 1000), 1, nullptr).at(0).internal_id, 1000u);
  EXPECT_EQ(restored.LinkPending(1000), 400u);
  EXPECT_EQ(restored.Search(Row(data, 1000), 1, nullptr).at(0).internal_id, 1000u);
  std::filesystem::remove_all(dir);
}

TEST(HnswStageTest, SnapshotOfOnlyStagedVectorsLoads) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("ksdb_hnsw_stage_only_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "c.hnsw").string();
  auto index = MakeIndex();
  const std::vector<float> data = RandomVectors(100, 13);
  ASSERT_TRUE(index->Stage(Iota(100), data).ok());
  ASSERT_TRUE(index->SaveSnapshot(path, 1, "").ok());
  HnswParams params;
  params.ef_construction = 64;
  Result<LoadedHnswSnapshot> loaded = LoadHnswSnapshot(path, kDim, DistanceSpace::kCosine, params);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->index->pending(), 100u);
  EXPECT_EQ(loaded->index->Search(Row(data, 5), 1, nullptr).at(0).internal_id, 5u);
  std::filesystem::remove_all(dir);
}

TEST(HnswStageTest, StageRowsReadsEachRowWhereItLies) {
  // The engine stages straight from its write plan's rows, each in its own
  // allocation; the result must be what Stage of the gathered array gives.
  const std::vector<float> data = RandomVectors(600, 10);
  std::vector<std::vector<float>> separate;
  for (size_t i = 0; i < 600; ++i)
    separate.emplace_back(Row(data, i).begin(), Row(data, i).end());
  // Id 5 twice: the last row wins, as in Stage.
  std::vector<InternalId> ids = Iota(600);
  ids.push_back(5);
  std::vector<const float*> rows;
  for (const std::vector<float>& row : separate)
    rows.push_back(row.data());
  rows.push_back(separate[17].data());

  auto by_rows = MakeIndex();
  ASSERT_TRUE(by_rows->StageRows(ids, rows).ok());
  std::vector<float> gathered = data;
  gathered.insert(gathered.end(), Row(data, 17).begin(), Row(data, 17).end());
  auto by_array = MakeIndex();
  ASSERT_TRUE(by_array->Stage(ids, gathered).ok());

  EXPECT_EQ(by_rows->pending(), 600u);
  for (InternalId id : {InternalId{0}, InternalId{5}, InternalId{17}, InternalId{599}}) {
    const std::span<const float> got = by_rows->GetVector(id);
    const std::span<const float> want = by_array->GetVector(id);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin())) << "id " << id;
  }
  EXPECT_TRUE(std::equal(by_rows->GetVector(5).begin(), by_rows->GetVector(5).end(),
                         Row(data, 17).begin()));
  ASSERT_EQ(by_rows->LinkPending(1000), 600u);
  ASSERT_EQ(by_array->LinkPending(1000), 600u);
  const std::vector<float> queries = RandomVectors(20, 11);
  for (size_t q = 0; q < 20; ++q) {
    const std::vector<Neighbor> a = by_rows->SearchWithEf(Row(queries, q), 10, 64, nullptr);
    const std::vector<Neighbor> b = by_array->SearchWithEf(Row(queries, q), 10, 64, nullptr);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_EQ(a[i].internal_id, b[i].internal_id) << "query " << q << " rank " << i;
  }
}

TEST(HnswStageTest, StageRowsWithABadRowChangesNothing) {
  auto index = MakeIndex();
  const std::vector<float> data = RandomVectors(3, 12);
  std::vector<float> bad(Row(data, 2).begin(), Row(data, 2).end());
  bad[kDim - 1] = std::numeric_limits<float>::infinity();
  const std::vector<const float*> rows{data.data(), data.data() + kDim, bad.data()};
  const Status status = index->StageRows(Iota(3), rows);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_EQ(index->size(), 0u);
  EXPECT_EQ(index->pending(), 0u);
  EXPECT_FALSE(index->Contains(0));
  const std::vector<const float*> too_few{data.data()};
  EXPECT_EQ(index->StageRows(Iota(2), too_few).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->size(), 0u);
}

TEST(HnswStageTest, AnInterruptedLinkLeavesTheRestStaged) {
  // The background indexer passes "a request is waiting" as the interrupt.
  // One linking thread asks it before each claim of two nodes but the first,
  // so answering true from the fourth question on links exactly 1 + 4 * 2
  // nodes: the entry point (linked alone), then four claims.
  HnswParams params;
  params.num_threads = 1;
  auto index = MakeIndex(params);
  const std::vector<float> data = RandomVectors(1200, 13);
  const std::vector<float> queries = RandomVectors(30, 14);
  ASSERT_TRUE(index->Stage(Iota(1200), data).ok());
  size_t asked = 0;
  const size_t linked = index->LinkPending(200, 1, [&asked] { return ++asked > 3; });
  EXPECT_EQ(asked, 4u);
  EXPECT_EQ(linked, 9u);
  EXPECT_EQ(index->pending(), 1200u - 9u);
  EXPECT_EQ(index->size(), 1200u);
  // Nothing was lost or linked twice: every vector is still found, and the
  // rest link later.
  EXPECT_GE(MeanRecall(*index, queries), 0.95);
  // Interrupted at once, a call still links one claim: callers loop until 0.
  EXPECT_EQ(index->LinkPending(200, 1, [] { return true; }), 2u);
  EXPECT_EQ(index->pending(), 1200u - 11u);
  EXPECT_EQ(index->LinkPending(2000), 1200u - 11u);
  EXPECT_EQ(index->pending(), 0u);
  EXPECT_GE(MeanRecall(*index, queries), 0.95);
  for (size_t i = 0; i < 1200; i += 97)
    EXPECT_EQ(index->SearchWithEf(Row(data, i), 1, 64, nullptr).at(0).internal_id, i);
}

}  // namespace
}  // namespace ksdb::index
