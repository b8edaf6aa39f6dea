// The bfloat16 construction copy: a graph linked from a large backlog (on the
// copy) must be as good as one linked in small batches (on float32), in every
// space and with int8 quantisation, and the copy must be gone once the
// backlog is.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <unordered_set>
#include <vector>

#include "index/hnsw_index.h"
#include "index_test_util.h"

namespace ksdb::index {
namespace {

using testing::Iota;

constexpr size_t kDim = 48;
constexpr size_t kNodes = 4000;
constexpr size_t kQueries = 100;

// Gaussian clusters: neighbourhoods with structure, where recall means
// something. Each row is then scaled by a factor in [0.1, 10], which cosine
// ignores and which the copy must therefore not turn into a ranking.
std::vector<float> Clustered(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::mt19937 centre_rng(99);  // the same centres for base and queries
  std::vector<float> centres(40 * kDim);
  for (float& x : centres) x = 3.0f * gauss(centre_rng);
  std::vector<float> out(n * kDim);
  for (size_t i = 0; i < n; ++i) {
    const float* c = &centres[(rng() % 40) * kDim];
    const float scale = std::pow(10.0f, static_cast<float>(rng() % 2001) / 1000.0f - 1.0f);
    for (size_t d = 0; d < kDim; ++d) out[i * kDim + d] = scale * (c[d] + gauss(rng));
  }
  return out;
}

std::unique_ptr<HnswIndex> NewIndex(DistanceSpace space, bool int8) {
  HnswParams params;
  params.m = 8;
  params.ef_construction = 64;
  params.quantize_int8 = int8;
  auto made = NewHnswIndex(kDim, space, params);
  EXPECT_TRUE(made.ok());
  return std::move(made).value();
}

double Recall(const HnswIndex& index, const std::vector<float>& queries) {
  size_t hits = 0;
  for (size_t q = 0; q < kQueries; ++q) {
    std::span<const float> query(&queries[q * kDim], kDim);
    std::unordered_set<InternalId> truth;
    for (const Neighbor& n : index.ExactSearch(query, 10, nullptr)) truth.insert(n.internal_id);
    for (const Neighbor& n : index.SearchWithEf(query, 10, 32, nullptr))
      hits += truth.count(n.internal_id);
  }
  return static_cast<double>(hits) / (kQueries * 10.0);
}

void ExpectCopyBuildsAsWell(DistanceSpace space, bool int8) {
  const std::vector<float> data = Clustered(kNodes, 1);
  const std::vector<float> queries = Clustered(kQueries, 2);
  // Batches of 500 (< 1024): every link runs on the float vectors.
  std::unique_ptr<HnswIndex> small_batches = NewIndex(space, int8);
  for (size_t first = 0; first < kNodes; first += 500) {
    std::span<const float> rows(&data[first * kDim], 500 * kDim);
    ASSERT_TRUE(small_batches->Upsert(Iota(500, static_cast<InternalId>(first)), rows).ok());
  }
  // One backlog of 4000: linked on the bfloat16 copy.
  std::unique_ptr<HnswIndex> one_backlog = NewIndex(space, int8);
  ASSERT_TRUE(one_backlog->Stage(Iota(kNodes), data).ok());
  while (one_backlog->LinkPending(kNodes) > 0) {
  }
  const double float_recall = Recall(*small_batches, queries);
  const double copy_recall = Recall(*one_backlog, queries);
  EXPECT_GT(float_recall, 0.9);
  EXPECT_GT(copy_recall, float_recall - 0.02);
}

TEST(HnswMirrorTest, BacklogLinkedOnTheCopyIsAsGoodCosine) {
  ExpectCopyBuildsAsWell(DistanceSpace::kCosine, false);
}

TEST(HnswMirrorTest, BacklogLinkedOnTheCopyIsAsGoodL2) {
  ExpectCopyBuildsAsWell(DistanceSpace::kL2, false);
}

TEST(HnswMirrorTest, BacklogLinkedOnTheCopyIsAsGoodIp) {
  ExpectCopyBuildsAsWell(DistanceSpace::kIp, false);
}

TEST(HnswMirrorTest, BacklogLinkedOnTheCopyIsAsGoodInt8) {
  ExpectCopyBuildsAsWell(DistanceSpace::kCosine, true);
}

TEST(HnswMirrorTest, CopyLivesOnlyWhileABacklogIsLinked) {
  std::unique_ptr<HnswIndex> index = NewIndex(DistanceSpace::kCosine, false);
  ASSERT_TRUE(index->Stage(Iota(kNodes), Clustered(kNodes, 3)).ok());
  const size_t staged = index->MemoryBytes();
  // Linking in chunks, as the background indexer does: the copy (2 bytes per
  // component) exists from the first chunk until the last.
  ASSERT_EQ(index->LinkPending(256), 256u);
  const size_t while_linking = index->MemoryBytes();
  EXPECT_GE(while_linking, staged + kNodes * kDim * sizeof(uint16_t));
  while (index->LinkPending(256) > 0) {
  }
  EXPECT_EQ(index->pending(), 0u);
  EXPECT_LE(index->MemoryBytes() + kNodes * kDim * sizeof(uint16_t), while_linking);
  // A small write into the linked index links on the float vectors: no copy.
  const size_t linked = index->MemoryBytes();
  ASSERT_TRUE(index->Stage(Iota(10, kNodes), Clustered(10, 4)).ok());
  const size_t restaged = index->MemoryBytes();
  index->LinkPending(5);
  EXPECT_LT(index->MemoryBytes(), restaged + kNodes * kDim);
  EXPECT_GE(restaged, linked);
}

TEST(HnswMirrorTest, CopyIsFreedWhenDeletesEmptyTheBacklog) {
  // The engine's add/delete loop: a batch is staged, the indexer links a
  // chunk (making the copy), then the rest of the batch is deleted before it
  // is linked. No linking follows, so the delete must free the copy (it
  // stayed, 2 bytes per component, until the next large write).
  std::unique_ptr<HnswIndex> index = NewIndex(DistanceSpace::kCosine, false);
  ASSERT_TRUE(index->Stage(Iota(kNodes), Clustered(kNodes, 5)).ok());
  ASSERT_EQ(index->LinkPending(256), 256u);
  const size_t while_linking = index->MemoryBytes();
  index->Remove(Iota(kNodes));
  EXPECT_EQ(index->pending(), 0u);
  EXPECT_EQ(index->size(), 0u);
  EXPECT_LE(index->MemoryBytes() + kNodes * kDim * sizeof(uint16_t), while_linking);
  // The slots are reused by the next batch, linked on a fresh copy.
  ASSERT_TRUE(index->Stage(Iota(kNodes), Clustered(kNodes, 6)).ok());
  while (index->LinkPending(256) > 0) {
  }
  EXPECT_EQ(index->size(), kNodes);
  EXPECT_LE(index->MemoryBytes() + kNodes * kDim * sizeof(uint16_t), while_linking);
}

}  // namespace
}  // namespace ksdb::index
