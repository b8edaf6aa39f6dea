// Tests for the sketch scan of selective filters (src/index/hnsw_sketch.cc):
// its recall against the exact filtered top-10, that it returns only allowed
// ids with exact distances in order, its edge cases, that every node's sketch
// follows its vector through updates, slot reuse, staging, snapshot load and
// int8 quantisation, and that the sketches are counted in MemoryBytes().
// Data: Gaussian clusters in 160 dimensions (three words per bit plane, the
// last one partly used; enough dimensions for the cost model to pick
// sketches), cosine.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/hnsw_index.h"
#include "index/top_k.h"
#include "index_test_util.h"

namespace ksdb::index {

// Reaches HnswGraph's sketch internals (a friend of HnswGraph).
class HnswSketchTestPeer {
 public:
  explicit HnswSketchTestPeer(const HnswIndex& index)
      : graph_(static_cast<const HnswGraph&>(index)) {}

  // The sketch scan over `ids` rescoring exactly `rescore` candidates.
  std::vector<Neighbor> Scan(std::span<const float> query, size_t k,
                             std::span<const InternalId> ids, size_t rescore) const {
    return graph_.SketchScan(graph_.Prepare(query.data()), k, ids, rescore);
  }
  std::vector<uint64_t> StoredSketch(InternalId id) const {
    const uint64_t* s = graph_.Sketch(id);
    return {s, s + graph_.sketch_stride_};
  }
  // The sketch the node's current vector should have.
  std::vector<uint64_t> ExpectedSketch(InternalId id) const {
    std::vector<uint64_t> out(graph_.sketch_stride_);
    const float inv_norm = graph_.space_ == DistanceSpace::kCosine ? graph_.InvNorm(id) : 0.0f;
    graph_.ComputeSketch(graph_.Vector(id), inv_norm, out.data());
    return out;
  }
  // Whether every stored node's sketch matches its vector.
  bool AllSketchesCurrent() const {
    for (size_t id = 0; id < graph_.num_nodes(); ++id) {
      const InternalId node = static_cast<InternalId>(id);
      if (graph_.Contains(node) && StoredSketch(node) != ExpectedSketch(node))
        return false;
    }
    return true;
  }
  // The estimates the scan kernel gives for `ids`, and the same from the
  // definition: code sum sum_i (2 u_i - 15) (x~_i + 1) / 2 over the query's
  // 4-bit levels u_i and the node's code x~_i = (2 s_i - 1)(1 + 2 m_i), then
  // offset - scale * factor_x * (code sum + constant) (hnsw_sketch.cc).
  std::pair<std::vector<float>, std::vector<float>> KernelAndDefinitionEstimates(
      std::span<const float> query, std::span<const InternalId> ids) const {
    const SketchQuery code = graph_.PrepareSketchQuery(graph_.Prepare(query.data()));
    std::vector<float> kernel(ids.size());
    graph_.SketchEstimates(code, ids, kernel.data());
    std::vector<float> definition;
    const size_t words = graph_.sketch_words_;
    const auto bit = [](const uint64_t* bits, size_t i) { return (bits[i / 64] >> (i % 64)) & 1; };
    for (InternalId id : ids) {
      const uint64_t* row = graph_.Sketch(id);
      int64_t code_sum = 0;
      for (size_t i = 0; i < graph_.dim_; ++i) {
        int64_t u = 0;
        for (size_t b = 0; b < 4; ++b)
          u |= static_cast<int64_t>(bit(code.planes.data() + b * words, i)) << b;
        const int64_t x = (2 * static_cast<int64_t>(bit(row, i)) - 1) *
                          (1 + 2 * static_cast<int64_t>(bit(row + words, i)));
        code_sum += (2 * u - 15) * (x + 1) / 2;
      }
      float node[2];
      std::memcpy(node, row + 2 * words, sizeof(node));
      definition.push_back(node[1] -
                           code.scale * node[0] * (static_cast<float>(code_sum) + code.constant));
    }
    return {kernel, definition};
  }
  // The query's 4-bit levels as its planes hold them, and as defined: each
  // centred component scaled so the largest magnitude maps to +-7.5, plus
  // 7.5, rounded to nearest (ties to even); also the code's constant
  // 7.5 * dim - sum of levels and that sum from the defined levels.
  struct Levels {
    std::vector<int> encoded;
    std::vector<int> defined;
    float constant = 0.0f;
    float defined_constant = 0.0f;
  };
  Levels QueryLevels(std::span<const float> query) const {
    const HnswGraph::PreparedQuery q = graph_.Prepare(query.data());
    const SketchQuery code = graph_.PrepareSketchQuery(q);
    const std::vector<float> centred = graph_.CentredQuery(q);
    float max_abs = 0.0f;
    for (float x : centred)
      max_abs = std::max(max_abs, std::fabs(x));
    const float to_level = 7.5f / max_abs;
    Levels out;
    double sum = 0.0;
    for (size_t i = 0; i < centred.size(); ++i) {
      int u = 0;
      for (size_t b = 0; b < 4; ++b)
        u |= static_cast<int>((code.planes[b * code.words + i / 64] >> (i % 64)) & 1) << b;
      out.encoded.push_back(u);
      const float level = std::clamp(std::nearbyint(centred[i] * to_level + 7.5f), 0.0f, 15.0f);
      out.defined.push_back(static_cast<int>(level));
      sum += level;
    }
    out.constant = code.constant;
    out.defined_constant = static_cast<float>(7.5 * static_cast<double>(centred.size()) - sum);
    return out;
  }
  bool centred() const { return !graph_.sketch_centre_.empty(); }
  bool PendingScanUsesSketches(size_t accepted, size_t k) const {
    return graph_.PendingScanUsesSketches(accepted, k);
  }
  bool UsesSketchPath(const IdFilter* filter, size_t k) const {
    return graph_.PickFilteredPath(filter, k) == HnswGraph::FilteredPath::kSketch;
  }
  // The layer-0 search as SearchWithEf runs it, with or without the sketch
  // pre-screen (sorted, at most k).
  std::vector<Neighbor> GraphSearch(std::span<const float> query, size_t k, size_t ef,
                                    bool screened) const {
    const HnswGraph::PreparedQuery q = graph_.Prepare(query.data());
    const HnswGraph::FloatDistance dist{&graph_, q};
    const InternalId ep =
        graph_.GreedyDescend(dist, graph_.entry_point_, graph_.max_level_, 0, HnswGraph::kNoNode);
    std::optional<HnswGraph::Prescreen> prescreen = graph_.MakePrescreen(q);
    EXPECT_TRUE(prescreen.has_value());
    std::vector<Neighbor> found =
        graph_.SearchBaseLayer(dist, ep, ef, nullptr, screened ? &*prescreen : nullptr);
    std::sort(found.begin(), found.end(), NearerThan);
    found.resize(std::min(found.size(), k));
    return found;
  }
  // Screens `candidates` for `query` against `bound` after learning the
  // estimate's error from the exact distances of `learn_from`; returns the
  // kept ids.
  std::vector<InternalId> Screen(std::span<const float> query, std::vector<InternalId> learn_from,
                                 std::vector<InternalId> candidates, float bound) const {
    const HnswGraph::PreparedQuery q = graph_.Prepare(query.data());
    std::optional<HnswGraph::Prescreen> p = graph_.MakePrescreen(q);
    const size_t n = graph_.Screen(&*p, learn_from.data(), learn_from.size(),
                                   std::numeric_limits<float>::infinity());
    EXPECT_EQ(n, learn_from.size());  // an infinite bound keeps everything
    std::vector<float> exact(n);
    graph_.QueryDistances(q, learn_from.data(), n, exact.data());
    HnswGraph::Learn(&*p, exact.data(), n);
    candidates.resize(graph_.Screen(&*p, candidates.data(), candidates.size(), bound));
    return candidates;
  }
  float Distance(std::span<const float> query, InternalId id) const {
    return graph_.QueryDistance(graph_.Prepare(query.data()), id);
  }
  // Frees the sketch array and returns how many bytes it held.
  static size_t ReleaseSketches(HnswIndex* index) {
    auto& graph = static_cast<HnswGraph&>(*index);
    const size_t bytes = graph.sketches_.capacity() * sizeof(uint64_t);
    decltype(graph.sketches_)().swap(graph.sketches_);
    return bytes;
  }

 private:
  const HnswGraph& graph_;
};

namespace {

constexpr size_t kDim = 160;
constexpr size_t kCount = 20000;
// Allowed ids for which the cost model picks the sketch scan at kDim (2,000
// vectors of 160-d no longer fit the exact scan's cached range).
constexpr size_t kSketchedIds = kCount / 10;
constexpr size_t kClusters = 100;  // 200 vectors per cluster
constexpr size_t kQueries = 100;

using testing::Iota;

// `count` points around kClusters centres ~ N(0, 1) with spread 0.5 (point i
// belongs to cluster i % kClusters); the same seed gives the same data.
std::vector<float> Clustered(size_t count, uint32_t seed) {
  const std::vector<float> centres = testing::RandomVectors(kClusters, kDim, 4242);
  std::vector<float> v = testing::RandomVectors(count, kDim, seed);
  for (size_t i = 0; i < count; ++i) {
    for (size_t j = 0; j < kDim; ++j)
      v[i * kDim + j] = centres[(i % kClusters) * kDim + j] + 0.5f * v[i * kDim + j];
  }
  return v;
}

std::span<const float> Row(const std::vector<float>& v, size_t i) {
  return {v.data() + i * kDim, kDim};
}

std::unique_ptr<HnswIndex> NewIndex(bool int8 = false) {
  HnswParams params;
  params.ef_construction = 40;  // graph quality does not matter here
  params.quantize_int8 = int8;
  Result<std::unique_ptr<HnswIndex>> index = NewHnswIndex(kDim, DistanceSpace::kCosine, params);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

std::unique_ptr<HnswIndex> Build(bool int8 = false) {
  std::unique_ptr<HnswIndex> index = NewIndex(int8);
  EXPECT_TRUE(index->Upsert(Iota(kCount), Clustered(kCount, 1)).ok());
  return index;
}

// `count` distinct random ids below kCount (the same for the same seed), sorted.
std::vector<InternalId> RandomIds(size_t count, uint32_t seed) {
  std::vector<InternalId> ids = Iota(kCount);
  std::mt19937 rng(seed);
  std::shuffle(ids.begin(), ids.end(), rng);
  ids.resize(count);
  std::sort(ids.begin(), ids.end());
  return ids;
}

size_t Hits(const std::vector<Neighbor>& found, const std::vector<Neighbor>& truth) {
  size_t hits = 0;
  for (const Neighbor& t : truth) {
    hits += std::count_if(found.begin(), found.end(),
                          [&](const Neighbor& f) { return f.internal_id == t.internal_id; });
  }
  return hits;
}

// Mean recall@10 of `search(query)` against SearchAmong's exact top-10 of `ids`.
template <typename Search>
double Recall(const HnswIndex& index, std::span<const InternalId> ids, const Search& search) {
  const std::vector<float> queries = Clustered(kQueries, 77);
  size_t hits = 0;
  size_t total = 0;
  for (size_t q = 0; q < kQueries; ++q) {
    const std::vector<Neighbor> truth = index.SearchAmong(Row(queries, q), 10, ids);
    hits += Hits(search(Row(queries, q)), truth);
    total += truth.size();
  }
  return static_cast<double>(hits) / static_cast<double>(total);
}

class HnswSketchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { index_ = Build().release(); }
  static void TearDownTestSuite() { delete index_; }

  static HnswIndex* index_;
};

HnswIndex* HnswSketchTest::index_ = nullptr;

TEST_F(HnswSketchTest, SketchRankingKeepsTheExactTopTenAtOnePercent) {
  // 1%: 200 allowed ids. Rescoring 30 of them finds nearly all of the exact
  // top 10; a random choice of 30 (sketches of the wrong nodes, or a broken
  // estimate) would find about a seventh.
  const HnswSketchTestPeer peer(*index_);
  const std::vector<InternalId> ids = RandomIds(kCount / 100, 3);
  const double recall =
      Recall(*index_, ids, [&](std::span<const float> q) { return peer.Scan(q, 10, ids, 30); });
  EXPECT_GE(recall, 0.9);
}

TEST_F(HnswSketchTest, KernelEstimatesFollowTheDefinition) {
  const HnswSketchTestPeer peer(*index_);
  const std::vector<float> queries = Clustered(5, 99);
  const std::vector<InternalId> ids = RandomIds(500, 3);
  for (size_t q = 0; q < 5; ++q) {
    const auto [kernel, definition] = peer.KernelAndDefinitionEstimates(Row(queries, q), ids);
    ASSERT_EQ(kernel.size(), definition.size());
    // Rounding may differ (the kernel's compiler contracts to FMA); a code
    // sum off by one moves an estimate by ~1e-4 here.
    for (size_t i = 0; i < kernel.size(); ++i)
      EXPECT_NEAR(kernel[i], definition[i], 1e-6) << "query " << q << " id " << ids[i];
  }
}

TEST(HnswSketchWideTest, KernelEstimatesFollowTheDefinitionBeyondOneChunk) {
  // 640 components: two 8-word chunks per plane, the kernels' general loop
  // (up to 512 they take a one-chunk path; the suite's index is 160-d).
  constexpr size_t kWide = 640;
  constexpr size_t kNodes = 300;
  Result<std::unique_ptr<HnswIndex>> index = NewHnswIndex(kWide, DistanceSpace::kCosine, {});
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_TRUE((*index)->Stage(Iota(kNodes), testing::RandomVectors(kNodes, kWide, 5)).ok());
  const HnswSketchTestPeer peer(**index);
  const std::vector<float> queries = testing::RandomVectors(3, kWide, 6);
  const std::vector<InternalId> ids = Iota(kNodes);
  for (size_t q = 0; q < 3; ++q) {
    const auto [kernel, definition] =
        peer.KernelAndDefinitionEstimates({queries.data() + q * kWide, kWide}, ids);
    ASSERT_EQ(kernel.size(), definition.size());
    for (size_t i = 0; i < kernel.size(); ++i)
      EXPECT_NEAR(kernel[i], definition[i], 1e-5) << "query " << q << " id " << ids[i];
  }
}

TEST_F(HnswSketchTest, QueryCodeHoldsTheDefinedLevels) {
  const HnswSketchTestPeer peer(*index_);
  const std::vector<float> queries = Clustered(20, 98);
  for (size_t q = 0; q < 20; ++q) {
    const HnswSketchTestPeer::Levels levels = peer.QueryLevels(Row(queries, q));
    EXPECT_EQ(levels.encoded, levels.defined) << "query " << q;
    EXPECT_EQ(levels.constant, levels.defined_constant) << "query " << q;
  }
}

TEST_F(HnswSketchTest, RescoringEveryCandidateIsTheExactScan) {
  const HnswSketchTestPeer peer(*index_);
  const std::vector<InternalId> ids = RandomIds(kCount / 100, 4);
  const std::vector<float> queries = Clustered(20, 78);
  for (size_t q = 0; q < 20; ++q) {
    const std::vector<Neighbor> exact = index_->SearchAmong(Row(queries, q), 10, ids);
    const std::vector<Neighbor> sketch = peer.Scan(Row(queries, q), 10, ids, ids.size());
    ASSERT_EQ(sketch.size(), exact.size());
    for (size_t i = 0; i < exact.size(); ++i) {
      EXPECT_EQ(sketch[i].internal_id, exact[i].internal_id);
      EXPECT_EQ(sketch[i].distance, exact[i].distance);
    }
  }
}

TEST_F(HnswSketchTest, SearchAllowedMeetsTheRecallTargetWhereItUsesSketches) {
  const std::vector<InternalId> ids = RandomIds(kSketchedIds, 5);
  ASSERT_EQ(PickAllowedScan(ids.size(), 10, kDim), AllowedScan::kSketch);
  const double recall = Recall(
      *index_, ids, [&](std::span<const float> q) { return index_->SearchAllowed(q, 10, ids); });
  EXPECT_GE(recall, 0.95);
}

TEST_F(HnswSketchTest, ReturnsOnlyAllowedIdsSortedByExactDistance) {
  const std::vector<InternalId> ids = RandomIds(kSketchedIds, 6);
  const std::vector<float> queries = Clustered(20, 79);
  for (size_t q = 0; q < 20; ++q) {
    const std::vector<Neighbor> found = index_->SearchAllowed(Row(queries, q), 10, ids);
    ASSERT_EQ(found.size(), 10u);
    for (size_t i = 0; i < found.size(); ++i) {
      const InternalId id = found[i].internal_id;
      EXPECT_TRUE(std::binary_search(ids.begin(), ids.end(), id)) << id;
      // The exact scan of this one id reports the distance the flat index would.
      const InternalId one[] = {id};
      EXPECT_EQ(found[i].distance, index_->SearchAmong(Row(queries, q), 1, one)[0].distance);
      if (i > 0) {
        EXPECT_TRUE(NearerThan(found[i - 1], found[i]));
      }
    }
  }
}

TEST_F(HnswSketchTest, EmptyAndSingleAllowedSets) {
  const HnswSketchTestPeer peer(*index_);
  const std::vector<float> query = Clustered(1, 80);
  EXPECT_TRUE(peer.Scan(query, 10, {}, 160).empty());
  EXPECT_TRUE(index_->SearchAllowed(query, 10, {}).empty());
  const InternalId one[] = {1234};
  const std::vector<Neighbor> found = peer.Scan(query, 10, one, 160);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].internal_id, 1234u);
  EXPECT_EQ(found[0].distance, index_->SearchAmong(query, 1, one)[0].distance);
  EXPECT_TRUE(peer.Scan(query, 0, one, 160).empty());
}

TEST_F(HnswSketchTest, SketchesAreCentredAndCurrentAfterABatchInsert) {
  const HnswSketchTestPeer peer(*index_);
  EXPECT_TRUE(peer.centred());
  EXPECT_TRUE(peer.AllSketchesCurrent());
}

TEST(HnswSketchPendingTest, LargeBacklogIsScannedBySketchesAtTheRecallTarget) {
  // 30,000 staged, none linked: 4.8M floats, beyond the exact pending scan's
  // 4M, and the cost model prefers sketches there.
  constexpr size_t kStaged = 30000;
  ASSERT_EQ(PickAllowedScan(kStaged, 10, kDim), AllowedScan::kSketch);
  std::unique_ptr<HnswIndex> index = NewIndex();
  const std::vector<float> vectors = Clustered(kStaged, 11);
  ASSERT_TRUE(index->Stage(Iota(1000), std::span(vectors).first(1000 * kDim)).ok());
  EXPECT_FALSE(HnswSketchTestPeer(*index).PendingScanUsesSketches(1000, 10));
  ASSERT_TRUE(index->Stage(Iota(kStaged), vectors).ok());
  ASSERT_EQ(index->pending(), kStaged);
  const HnswSketchTestPeer peer(*index);
  EXPECT_TRUE(peer.PendingScanUsesSketches(kStaged, 10));
  // A filter's members decide: 15,000 of them (2.4M floats) are scanned exactly.
  EXPECT_FALSE(peer.PendingScanUsesSketches(kStaged / 2, 10));
  const std::vector<InternalId> all = Iota(kStaged);
  const double recall =
      Recall(*index, all, [&](std::span<const float> q) { return index->Search(q, 10, nullptr); });
  EXPECT_GE(recall, 0.95);
  // A staged vector is its own nearest neighbour, at its exact distance.
  for (InternalId id : {InternalId{0}, InternalId{12345}, InternalId{29999}}) {
    const std::vector<Neighbor> found = index->Search(Row(vectors, id), 10, nullptr);
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(found[0].internal_id, id);
    const InternalId one[] = {id};
    EXPECT_EQ(found[0].distance, index->SearchAmong(Row(vectors, id), 1, one)[0].distance);
  }
  // With a filter: only members, nearest first, by sketches (27,000 members,
  // all but every tenth id) or exactly (15,000, the odd ids).
  for (InternalId skip : {InternalId{10}, InternalId{2}}) {
    BitmapIdFilter filter(kStaged);
    for (InternalId id = 0; id < kStaged; ++id) {
      if (id % skip != 0)
        filter.Add(id);
    }
    const std::vector<Neighbor> filtered = index->SearchWithEf(Row(vectors, 101), 10, 10, &filter);
    ASSERT_EQ(filtered.size(), 10u) << skip;
    EXPECT_EQ(filtered[0].internal_id, 101u) << skip;
    for (size_t i = 0; i < filtered.size(); ++i) {
      EXPECT_TRUE(filter.IsMember(filtered[i].internal_id)) << skip;
      if (i > 0) {
        EXPECT_TRUE(NearerThan(filtered[i - 1], filtered[i])) << skip;
      }
    }
  }
}

TEST(HnswSketchUpdateTest, UpdateAndSlotReuseAndStagingKeepSketchesCurrent) {
  std::unique_ptr<HnswIndex> index = NewIndex();
  ASSERT_TRUE(index->Upsert(Iota(3000), Clustered(3000, 2)).ok());
  const HnswSketchTestPeer peer(*index);
  // Far away from everything: the sketch scan must find it first.
  std::vector<float> moved(kDim, 0.0f);
  for (size_t j = 0; j < kDim; ++j)
    moved[j] = j % 2 == 0 ? 5.0f : -5.0f;
  const InternalId updated[] = {17};
  ASSERT_TRUE(index->Upsert(updated, moved).ok());
  EXPECT_EQ(peer.StoredSketch(17), peer.ExpectedSketch(17));
  const std::vector<InternalId> all = Iota(3000);
  std::vector<Neighbor> found = peer.Scan(moved, 1, all, 1);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].internal_id, 17u);

  const InternalId reused[] = {42};
  index->Remove(reused);
  std::vector<float> opposite(moved);
  for (float& x : opposite)
    x = -x;
  ASSERT_TRUE(index->Upsert(reused, opposite).ok());
  EXPECT_EQ(peer.StoredSketch(42), peer.ExpectedSketch(42));
  found = peer.Scan(opposite, 1, all, 1);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].internal_id, 42u);

  // Staged vectors are sketched at once (the engine's list may name them).
  const InternalId staged[] = {3000};
  ASSERT_TRUE(index->Stage(staged, Clustered(1, 9)).ok());
  EXPECT_EQ(peer.StoredSketch(3000), peer.ExpectedSketch(3000));
  EXPECT_TRUE(peer.AllSketchesCurrent());
}

TEST(HnswSketchUpdateTest, CentreIsTakenOnceEnoughVectorsAreStored) {
  std::unique_ptr<HnswIndex> index = NewIndex();
  const HnswSketchTestPeer peer(*index);
  ASSERT_TRUE(index->Upsert(Iota(500), Clustered(500, 3)).ok());
  EXPECT_FALSE(peer.centred());
  EXPECT_TRUE(peer.AllSketchesCurrent());
  ASSERT_TRUE(index->Stage(Iota(700, 500), Clustered(700, 4)).ok());
  EXPECT_TRUE(peer.centred());
  EXPECT_TRUE(peer.AllSketchesCurrent());
}

TEST(HnswSketchSnapshotTest, LoadRecomputesSketches) {
  std::unique_ptr<HnswIndex> index = Build();
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("ksdb-sketch-test-" + std::to_string(::getpid()) + ".snapshot"))
                               .string();
  ASSERT_TRUE(index->SaveSnapshot(path, 1).ok());
  Result<LoadedHnswSnapshot> loaded =
      LoadHnswSnapshot(path, kDim, DistanceSpace::kCosine, index->params());
  std::filesystem::remove(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const HnswSketchTestPeer peer(*loaded->index);
  EXPECT_TRUE(peer.centred());
  EXPECT_TRUE(peer.AllSketchesCurrent());
  const std::vector<InternalId> ids = RandomIds(kSketchedIds, 5);
  const double recall = Recall(*loaded->index, ids, [&](std::span<const float> q) {
    return loaded->index->SearchAllowed(q, 10, ids);
  });
  EXPECT_GE(recall, 0.95);
}

TEST(HnswSketchInt8Test, QuantisedIndexSketchesItsFloatVectors) {
  std::unique_ptr<HnswIndex> index = Build(/*int8=*/true);
  const HnswSketchTestPeer peer(*index);
  EXPECT_TRUE(peer.AllSketchesCurrent());
  const std::vector<InternalId> ids = RandomIds(kSketchedIds, 5);
  const double recall = Recall(
      *index, ids, [&](std::span<const float> q) { return index->SearchAllowed(q, 10, ids); });
  EXPECT_GE(recall, 0.95);
}

TEST(HnswSketchMemoryTest, SketchesAreCountedInMemoryBytes) {
  std::unique_ptr<HnswIndex> index = NewIndex();
  ASSERT_TRUE(index->Upsert(Iota(2000), Clustered(2000, 5)).ok());
  const size_t before = index->MemoryBytes();
  const size_t sketch_bytes = HnswSketchTestPeer::ReleaseSketches(index.get());
  EXPECT_GE(sketch_bytes, 2000 * 7 * sizeof(uint64_t));  // 2 x 3 words + two floats at 160-d
  EXPECT_EQ(before - index->MemoryBytes(), sketch_bytes);
}

TEST(HnswSketchMemoryTest, NoSketchesBelowTheMinimumDimension) {
  // 100-d (glove): the exact scan is always chosen, so no memory is spent.
  HnswParams params;
  Result<std::unique_ptr<HnswIndex>> index = NewHnswIndex(100, DistanceSpace::kCosine, params);
  ASSERT_TRUE(index.ok());
  ASSERT_TRUE((*index)->Upsert(Iota(1500), testing::RandomVectors(1500, 100, 6)).ok());
  EXPECT_EQ(HnswSketchTestPeer::ReleaseSketches(index->get()), 0u);
  // The forced sketch scan then rescores every id: the exact answer.
  const HnswSketchTestPeer peer(**index);
  const std::vector<float> query = testing::RandomVectors(1, 100, 7);
  const std::vector<InternalId> ids = Iota(1500);
  const std::vector<Neighbor> exact = (*index)->SearchAmong(query, 10, ids);
  const std::vector<Neighbor> found = peer.Scan(query, 10, ids, 20);
  ASSERT_EQ(found.size(), exact.size());
  for (size_t i = 0; i < found.size(); ++i)
    EXPECT_EQ(found[i].internal_id, exact[i].internal_id);
}

TEST(PickAllowedScanTest, SketchesOnlyForLargeAllowedSetsOfEnoughDimensions) {
  EXPECT_EQ(PickAllowedScan(0, 10, 384), AllowedScan::kExact);
  EXPECT_EQ(PickAllowedScan(20, 10, 384), AllowedScan::kExact);
  // 0.1% of 100,000 and 200,000: the exact scan measured 3x and 2x faster.
  EXPECT_EQ(PickAllowedScan(100, 10, 384), AllowedScan::kExact);
  EXPECT_EQ(PickAllowedScan(200, 10, 384), AllowedScan::kExact);
  // 0.1% of 500,000: exact 68.5k q/s vs sketch 53.9k (the vectors stay cached).
  EXPECT_EQ(PickAllowedScan(500, 10, 384), AllowedScan::kExact);
  EXPECT_EQ(PickAllowedScan(1000, 10, 384), AllowedScan::kSketch);
  EXPECT_EQ(PickAllowedScan(5000, 10, 384), AllowedScan::kSketch);
  // glove, 1% of 148,000 at 100-d: the exact scan measured faster.
  EXPECT_EQ(PickAllowedScan(1480, 10, 100), AllowedScan::kExact);
  EXPECT_EQ(PickAllowedScan(5000, 10, 32), AllowedScan::kExact);
  EXPECT_EQ(PickAllowedScan(50000, 10, 127), AllowedScan::kExact);
}

TEST_F(HnswSketchTest, PrescreenedGraphSearchKeepsTheUnscreenedRecall) {
  const HnswSketchTestPeer peer(*index_);
  const std::vector<float> queries = Clustered(kQueries, 91);
  for (size_t ef : {16, 64}) {
    size_t screened_hits = 0;
    size_t plain_hits = 0;
    for (size_t q = 0; q < kQueries; ++q) {
      const std::vector<Neighbor> truth = index_->ExactSearch(Row(queries, q), 10, nullptr);
      screened_hits += Hits(peer.GraphSearch(Row(queries, q), 10, ef, true), truth);
      plain_hits += Hits(peer.GraphSearch(Row(queries, q), 10, ef, false), truth);
    }
    EXPECT_GE(screened_hits + kQueries * 10 / 100, plain_hits) << "ef " << ef;
  }
}

TEST(PrescreenPaysTest, OnlyForWideVectorsBeyondTheCaches) {
  EXPECT_FALSE(PrescreenPays(128, 4900));     // ngt-sift5k: measured 25% slower screened
  EXPECT_FALSE(PrescreenPays(128, 1000000));  // 128-d: not measured on a large set
  EXPECT_FALSE(PrescreenPays(384, 20000));    // 30 MB of vectors
  EXPECT_TRUE(PrescreenPays(384, 100000));    // the server benchmark's collection
  EXPECT_TRUE(PrescreenPays(384, 500000));    // bench/ann's generated set
}

TEST_F(HnswSketchTest, ScreenSkipsOnlyNeighboursThatCannotBeatTheBound) {
  const HnswSketchTestPeer peer(*index_);
  const std::vector<float> queries = Clustered(10, 93);
  for (size_t q = 0; q < 10; ++q) {
    const std::vector<InternalId> learn = RandomIds(200, 100 + q);
    const std::vector<InternalId> candidates = RandomIds(4000, 200 + q);
    std::vector<float> exact;
    for (InternalId id : candidates)
      exact.push_back(peer.Distance(Row(queries, q), id));
    std::vector<float> sorted = exact;
    std::sort(sorted.begin(), sorted.end());
    const float bound = sorted[40];  // the 1% nearest candidates beat it
    const std::vector<InternalId> kept = peer.Screen(Row(queries, q), learn, candidates, bound);
    EXPECT_LT(kept.size(), candidates.size() / 2) << "the screen must skip far neighbours";
    size_t missed = 0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (exact[i] < bound && !std::binary_search(kept.begin(), kept.end(), candidates[i]))
        ++missed;
    }
    EXPECT_LE(missed, 1u) << "query " << q;
  }
}

}  // namespace
}  // namespace ksdb::index
