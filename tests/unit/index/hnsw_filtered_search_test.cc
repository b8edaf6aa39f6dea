// Tests for the filtered HNSW search paths (src/index/hnsw_filtered_search.cc):
// the two-hop search that computes distances only for allowed nodes, the
// exact scan of the allowed nodes, and how SearchWithEf and PreferExactScan
// pick between them. Data: Gaussian clusters (the shape on which a filtered
// graph search is hardest: allowed nodes of different clusters are rarely
// linked directly), small enough to build in about a second.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/hnsw_index.h"
#include "index/top_k.h"
#include "index_test_util.h"

namespace ksdb::index {

namespace {

// The heaps of the textbook search (the oracle below): candidates with the
// nearest on top, results with the farthest on top, at most ef of them.
bool Farther(const Neighbor& a, const Neighbor& b) {
  return a.distance > b.distance;
}
void PushCandidate(std::vector<Neighbor>* candidates, const Neighbor& n) {
  candidates->push_back(n);
  std::push_heap(candidates->begin(), candidates->end(), Farther);
}
void PushResult(std::vector<Neighbor>* results, const Neighbor& n, size_t ef) {
  results->push_back(n);
  std::push_heap(results->begin(), results->end(), Closer);
  if (results->size() > ef) {
    std::pop_heap(results->begin(), results->end(), Closer);
    results->pop_back();
  }
}

}  // namespace

// Runs HnswGraph's filtered paths directly (a friend of HnswGraph).
class HnswFilteredSearchPeer {
 public:
  explicit HnswFilteredSearchPeer(const HnswIndex& index)
      : graph_(static_cast<const HnswGraph&>(index)) {}

  // The raw two-hop layer-0 search from the usual entry, float distances, no
  // exact-scan fallback: what the graph alone finds, nearest first.
  std::vector<Neighbor> TwoHopOnly(std::span<const float> query, size_t ef,
                                   const IdFilter* filter) const {
    const HnswGraph::FloatDistance dist{&graph_, graph_.Prepare(query.data())};
    return Sorted(graph_.SearchTwoHopFromTop(dist, ef, filter));
  }
  // The same from a given layer-0 entry node.
  std::vector<Neighbor> TwoHopFrom(std::span<const float> query, InternalId ep, size_t ef,
                                   const IdFilter* filter) const {
    const HnswGraph::FloatDistance dist{&graph_, graph_.Prepare(query.data())};
    const InternalId entries[] = {ep};
    return Sorted(graph_.SearchTwoHop(dist, entries, ef, filter));
  }
  // SearchWithEf forced onto the plain filtered graph search.
  std::vector<Neighbor> Plain(std::span<const float> query, size_t k, size_t ef,
                              const IdFilter* filter) const {
    return graph_.SearchWithPath(query, k, ef, filter, HnswGraph::FilteredPath::kGraph);
  }
  // SearchWithEf forced onto the two-hop search (with its fallback).
  std::vector<Neighbor> TwoHop(std::span<const float> query, size_t k, size_t ef,
                               const IdFilter* filter) const {
    return graph_.SearchWithPath(query, k, ef, filter, HnswGraph::FilteredPath::kTwoHop);
  }
  // The textbook layer-0 search (Malkov & Yashunin, algorithm 2: a heap of
  // candidates and a heap of at most ef accepted results) from the usual
  // entry: the oracle for SearchBaseLayer's single candidate pool.
  std::vector<Neighbor> TextbookLayer0(std::span<const float> query, size_t ef,
                                       const IdFilter* filter) const {
    const HnswGraph::FloatDistance dist{&graph_, graph_.Prepare(query.data())};
    const InternalId ep = Entry(dist);
    std::vector<bool> visited(graph_.num_nodes());
    visited[ep] = true;
    std::vector<Neighbor> candidates{{dist(ep), ep}};  // min-heap (Farther)
    std::vector<Neighbor> results;                     // max-heap (Closer)
    if (graph_.Accepts(ep, filter))
      results.push_back({dist(ep), ep});
    while (!candidates.empty()) {
      const Neighbor current = candidates.front();
      if (results.size() >= ef && current.distance > results.front().distance)
        break;
      std::pop_heap(candidates.begin(), candidates.end(), Farther);
      candidates.pop_back();
      const uint32_t* row = graph_.Links(current.internal_id, 0);
      for (uint32_t i = 1; i <= row[0]; ++i) {
        const InternalId n = row[i];
        if (visited[n])
          continue;
        visited[n] = true;
        const float d = dist(n);
        if (results.size() >= ef && d >= results.front().distance)
          continue;
        PushCandidate(&candidates, {d, n});
        if (graph_.Accepts(n, filter))
          PushResult(&results, {d, n}, ef);
      }
    }
    return Sorted(results);
  }
  // SearchBaseLayer from the same entry, nearest first.
  std::vector<Neighbor> Layer0(std::span<const float> query, size_t ef,
                               const IdFilter* filter) const {
    const HnswGraph::FloatDistance dist{&graph_, graph_.Prepare(query.data())};
    return Sorted(graph_.SearchBaseLayer(dist, Entry(dist), ef, filter));
  }
  InternalId entry_point() const { return graph_.entry_point_; }
  double SampledFraction(const IdFilter* filter) const {
    return graph_.SampledAcceptedFraction(filter);
  }

 private:
  InternalId Entry(const HnswGraph::FloatDistance& dist) const {
    return graph_.GreedyDescend(dist, graph_.entry_point_, graph_.max_level_, 0,
                                HnswGraph::kNoNode);
  }
  static std::vector<Neighbor> Sorted(std::vector<Neighbor> v) {
    std::sort(v.begin(), v.end(), NearerThan);
    return v;
  }
  const HnswGraph& graph_;
};

namespace {

constexpr size_t kDim = 24;
constexpr size_t kCount = 12000;
constexpr size_t kClusters = 60;  // 200 vectors per cluster
constexpr size_t kQueries = 100;

using testing::Iota;

// `count` points around `kClusters` centres ~ N(0, 1) with spread 0.5
// (points i and i + kClusters share a centre); the same seed gives the same data.
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

std::unique_ptr<HnswIndex> Build(bool int8 = false) {
  HnswParams params;
  params.m = 16;  // the default degree: the two-hop reach depends on it
  params.ef_construction = 100;
  params.quantize_int8 = int8;
  Result<std::unique_ptr<HnswIndex>> index = NewHnswIndex(kDim, DistanceSpace::kL2, params);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_TRUE((*index)->Upsert(Iota(kCount), Clustered(kCount, 1)).ok());
  return std::move(index).value();
}

// A random subset of `count` ids (the same for the same seed), as a bitmap.
BitmapIdFilter RandomAllowed(size_t count, uint32_t seed) {
  std::vector<InternalId> ids = Iota(kCount);
  std::mt19937 rng(seed);
  std::shuffle(ids.begin(), ids.end(), rng);
  BitmapIdFilter filter(kCount);
  for (size_t i = 0; i < count; ++i)
    filter.Add(ids[i]);
  return filter;
}

size_t Hits(const std::vector<Neighbor>& found, const std::vector<Neighbor>& truth) {
  size_t hits = 0;
  for (const Neighbor& t : truth) {
    hits += std::count_if(found.begin(), found.end(),
                          [&](const Neighbor& f) { return f.internal_id == t.internal_id; });
  }
  return hits;
}

bool AllAllowed(const std::vector<Neighbor>& found, const IdFilter& filter) {
  return std::all_of(found.begin(), found.end(),
                     [&](const Neighbor& n) { return filter.IsMember(n.internal_id); });
}

class HnswFilteredSearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    index_ = Build().release();
    queries_ = new std::vector<float>(Clustered(kQueries, 77));
  }
  static void TearDownTestSuite() {
    delete index_;
    delete queries_;
  }
  static std::span<const float> Query(size_t q) { return Row(*queries_, q); }

  // Mean recall@10 of `search(query)` against the exact filtered top-10.
  template <typename Search>
  static double Recall(const IdFilter& filter, const Search& search) {
    size_t hits = 0;
    size_t total = 0;
    for (size_t q = 0; q < kQueries; ++q) {
      const std::vector<Neighbor> truth = index_->ExactSearch(Query(q), 10, &filter);
      const std::vector<Neighbor> found = search(Query(q));
      EXPECT_TRUE(AllAllowed(found, filter));
      hits += Hits(found, truth);
      total += truth.size();
    }
    return static_cast<double>(hits) / static_cast<double>(total);
  }

  static HnswIndex* index_;
  static std::vector<float>* queries_;
};

HnswIndex* HnswFilteredSearchTest::index_ = nullptr;
std::vector<float>* HnswFilteredSearchTest::queries_ = nullptr;

TEST_F(HnswFilteredSearchTest, EveryPathReturnsOnlyAllowedIds) {
  const HnswFilteredSearchPeer peer(*index_);
  for (size_t allowed : {6000u, 1200u, 360u, 120u, 12u}) {
    const BitmapIdFilter filter = RandomAllowed(allowed, 5);
    for (size_t q = 0; q < 20; ++q) {
      const std::vector<Neighbor> public_path = index_->SearchWithEf(Query(q), 10, 32, &filter);
      EXPECT_EQ(public_path.size(), std::min<size_t>(10, allowed));
      EXPECT_TRUE(AllAllowed(public_path, filter)) << allowed;
      EXPECT_TRUE(AllAllowed(peer.TwoHop(Query(q), 10, 32, &filter), filter)) << allowed;
      EXPECT_TRUE(AllAllowed(peer.TwoHopOnly(Query(q), 32, &filter), filter)) << allowed;
      EXPECT_TRUE(AllAllowed(peer.Plain(Query(q), 10, 32, &filter), filter)) << allowed;
    }
  }
}

// SearchBaseLayer keeps one sorted candidate pool (candidate_pool.h) where
// the textbook search keeps two heaps; both must find the same neighbours,
// whatever share of the nodes is accepted.
void ExpectPoolMatchesTextbook(const HnswIndex& index, const IdFilter* filter,
                               const std::vector<float>& queries) {
  const HnswFilteredSearchPeer peer(index);
  for (size_t ef : {10u, 32u, 100u}) {
    for (size_t q = 0; q < kQueries; ++q) {
      const std::vector<Neighbor> pooled = peer.Layer0(Row(queries, q), ef, filter);
      const std::vector<Neighbor> textbook = peer.TextbookLayer0(Row(queries, q), ef, filter);
      ASSERT_EQ(pooled.size(), textbook.size()) << "ef " << ef << " query " << q;
      for (size_t i = 0; i < pooled.size(); ++i) {
        EXPECT_EQ(pooled[i].internal_id, textbook[i].internal_id) << "ef " << ef << " query " << q;
        EXPECT_EQ(pooled[i].distance, textbook[i].distance);
      }
    }
  }
}

TEST_F(HnswFilteredSearchTest, PooledSearchFindsWhatTheTextbookSearchFinds) {
  ExpectPoolMatchesTextbook(*index_, nullptr, *queries_);
  for (size_t allowed : {6000u, 3600u, 1200u}) {
    const BitmapIdFilter filter = RandomAllowed(allowed, 8);
    ExpectPoolMatchesTextbook(*index_, &filter, *queries_);
  }
}

TEST(HnswPooledSearchTest, TombstonesAndFiltersTogetherMatchTheTextbookSearch) {
  std::unique_ptr<HnswIndex> index = Build();
  std::vector<InternalId> removed = Iota(kCount);
  std::shuffle(removed.begin(), removed.end(), std::mt19937(3));
  removed.resize(kCount / 10);
  index->Remove(removed);
  const std::vector<float> queries = Clustered(kQueries, 78);
  ExpectPoolMatchesTextbook(*index, nullptr, queries);
  const BitmapIdFilter filter = RandomAllowed(6000, 9);
  ExpectPoolMatchesTextbook(*index, &filter, queries);
}

TEST_F(HnswFilteredSearchTest, TwoHopRecallInItsSelectivityRange) {
  // 5% and 10%: the range SearchWithEf uses the two-hop search for.
  const HnswFilteredSearchPeer peer(*index_);
  for (size_t allowed : {600u, 1200u}) {
    const BitmapIdFilter filter = RandomAllowed(allowed, 9);
    const double recall = Recall(filter, [&](std::span<const float> q) {
      std::vector<Neighbor> found = peer.TwoHopOnly(q, 32, &filter);
      found.resize(std::min<size_t>(found.size(), 10));
      return found;
    });
    EXPECT_GE(recall, 0.95) << allowed;
  }
}

TEST_F(HnswFilteredSearchTest, TwoHopExpansionReachesAllowedNodesAtOneAndTenthPercent) {
  // Without the second hop an allowed node is reached only over a direct
  // link between allowed nodes, which at 1% of 12,000 clustered nodes leaves
  // the search at its seeds (recall 0.03 measured; 0.20 at 5%, 0.45 at 10% in
  // the test above); with it the graph alone finds 0.57 of the top-10, two
  // allowed nodes per cluster being too sparse for more. This is why
  // SearchWithEf scans below kTwoHopMinFraction.
  const HnswFilteredSearchPeer peer(*index_);
  const BitmapIdFilter one_percent = RandomAllowed(120, 11);
  const double recall = Recall(one_percent, [&](std::span<const float> q) {
    std::vector<Neighbor> found = peer.TwoHopOnly(q, 32, &one_percent);
    found.resize(std::min<size_t>(found.size(), 10));
    return found;
  });
  EXPECT_GE(recall, 0.4);
  // Through the public path both selectivities are exact (scan of the allowed nodes).
  const BitmapIdFilter tenth_percent = RandomAllowed(12, 13);
  for (const BitmapIdFilter* filter : {&one_percent, &tenth_percent}) {
    EXPECT_DOUBLE_EQ(
        Recall(*filter,
               [&](std::span<const float> q) { return index_->SearchWithEf(q, 10, 32, filter); }),
        1.0);
  }
}

TEST_F(HnswFilteredSearchTest, EmptyAllowedSetFindsNothing) {
  const HnswFilteredSearchPeer peer(*index_);
  const BitmapIdFilter none(kCount);
  EXPECT_TRUE(index_->SearchWithEf(Query(0), 10, 32, &none).empty());
  EXPECT_TRUE(peer.TwoHop(Query(0), 10, 32, &none).empty());
  EXPECT_TRUE(peer.TwoHopOnly(Query(0), 32, &none).empty());
}

TEST_F(HnswFilteredSearchTest, SingleAllowedNodeIsFoundOnEveryPath) {
  const HnswFilteredSearchPeer peer(*index_);
  for (InternalId only : {InternalId{0}, InternalId{5431}, InternalId{kCount - 1}}) {
    BitmapIdFilter filter(kCount);
    filter.Add(only);
    // A query far from the node: the graph alone would rarely reach it.
    const std::vector<Neighbor> public_path = index_->SearchWithEf(Query(3), 10, 32, &filter);
    ASSERT_EQ(public_path.size(), 1u);
    EXPECT_EQ(public_path[0].internal_id, only);
    const std::vector<Neighbor> two_hop = peer.TwoHop(Query(3), 10, 32, &filter);
    ASSERT_EQ(two_hop.size(), 1u);
    EXPECT_EQ(two_hop[0].internal_id, only);
  }
}

TEST_F(HnswFilteredSearchTest, DisallowedEntryIsSeededFromItsTwoHopNeighbourhood) {
  const HnswFilteredSearchPeer peer(*index_);
  const InternalId ep = peer.entry_point();
  BitmapIdFilter filter = RandomAllowed(1200, 17);
  if (filter.IsMember(ep)) {
    // Rebuild without the entry point.
    BitmapIdFilter without(kCount);
    for (InternalId id = 0; id < kCount; ++id) {
      if (id != ep && filter.IsMember(id))
        without.Add(id);
    }
    filter = without;
  }
  ASSERT_FALSE(filter.IsMember(ep));
  // The query is the entry's own vector, so the search starts right at it.
  const std::vector<float> query(index_->GetVector(ep).begin(), index_->GetVector(ep).end());
  const std::vector<Neighbor> found = peer.TwoHopFrom(query, ep, 32, &filter);
  ASSERT_GE(found.size(), 10u);
  EXPECT_TRUE(AllAllowed(found, filter));
  std::vector<Neighbor> top(found.begin(), found.begin() + 10);
  EXPECT_GE(Hits(top, index_->ExactSearch(query, 10, &filter)), 9u);
}

TEST_F(HnswFilteredSearchTest, PathChoiceFollowsTheSampledSelectivity) {
  const HnswFilteredSearchPeer peer(*index_);
  const BitmapIdFilter half = RandomAllowed(6000, 19);
  const BitmapIdFilter tenth = RandomAllowed(1200, 19);
  EXPECT_NEAR(peer.SampledFraction(&half), 0.5, 0.06);
  EXPECT_NEAR(peer.SampledFraction(&tenth), 0.1, 0.03);
  const BitmapIdFilter none(kCount);
  EXPECT_DOUBLE_EQ(peer.SampledFraction(&none), 0.0);
}

TEST(HnswFilteredSearchInt8Test, TwoHopTraversesCodesAndReranksExactly) {
  const std::unique_ptr<HnswIndex> index = Build(/*int8=*/true);
  const std::vector<float> queries = Clustered(kQueries, 77);
  const BitmapIdFilter filter = RandomAllowed(600, 23);  // 5%: the two-hop range
  size_t hits = 0;
  size_t total = 0;
  for (size_t q = 0; q < kQueries; ++q) {
    const std::vector<Neighbor> truth = index->ExactSearch(Row(queries, q), 10, &filter);
    const std::vector<Neighbor> found = index->SearchWithEf(Row(queries, q), 10, 32, &filter);
    ASSERT_TRUE(AllAllowed(found, filter));
    hits += Hits(found, truth);
    total += truth.size();
    // Reported distances are the exact float ones, nearest first.
    for (size_t i = 0; i < found.size(); ++i) {
      const std::vector<Neighbor> alone =
          index->SearchAmong(Row(queries, q), 1, std::vector<InternalId>{found[i].internal_id});
      EXPECT_FLOAT_EQ(found[i].distance, alone.at(0).distance);
      if (i > 0) {
        EXPECT_LE(found[i - 1].distance, found[i].distance);
      }
    }
  }
  EXPECT_GE(static_cast<double>(hits) / static_cast<double>(total), 0.95);
}

TEST(HnswFilteredSearchStateTest, TombstonesAndPendingNodesBehaveOnTheTwoHopPath) {
  const std::unique_ptr<HnswIndex> index = Build();
  const std::vector<float> data = Clustered(kCount, 1);
  const BitmapIdFilter filter = RandomAllowed(1200, 29);
  std::vector<InternalId> allowed;
  for (InternalId id = 0; id < kCount; ++id) {
    if (filter.IsMember(id))
      allowed.push_back(id);
  }
  // A removed allowed node is never returned, even for its own vector.
  const InternalId removed = allowed[0];
  index->Remove(std::vector<InternalId>{removed});
  for (const Neighbor& n : index->SearchWithEf(Row(data, removed), 10, 32, &filter))
    EXPECT_NE(n.internal_id, removed);
  // A staged (pending) allowed node moved next to a query is found at once;
  // a staged disallowed one is not returned.
  const std::vector<float> queries = Clustered(2, 91);
  const InternalId staged_allowed = allowed[1];
  InternalId staged_other = 0;
  while (filter.IsMember(staged_other))
    ++staged_other;
  std::vector<float> moved(queries.begin(), queries.begin() + kDim);
  moved.insert(moved.end(), queries.begin(), queries.begin() + kDim);
  ASSERT_TRUE(index->Stage(std::vector<InternalId>{staged_allowed, staged_other}, moved).ok());
  const std::vector<Neighbor> found = index->SearchWithEf(Row(queries, 0), 10, 32, &filter);
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].internal_id, staged_allowed);
  EXPECT_TRUE(AllAllowed(found, filter));
}

TEST(PreferExactScanTest, ScansBelowTheTwoHopRangeAndSmallAllowedSets) {
  // Below 2.5% of the live vectors: always the scan.
  EXPECT_TRUE(PreferExactScan(5000, 500000, 10, 384));
  EXPECT_TRUE(PreferExactScan(100, 1000000, 10, 384));
  // In the two-hop range: the scan only while allowed * dim < 15,000 * ef
  // (384-d: allowed < ~39 * ef).
  EXPECT_TRUE(PreferExactScan(3000, 100000, 100, 384));
  EXPECT_FALSE(PreferExactScan(5000, 100000, 100, 384));
  EXPECT_FALSE(PreferExactScan(50000, 500000, 100, 384));
  EXPECT_TRUE(PreferExactScan(50000, 500000, 2000, 384));
}

TEST(PreferExactScanTest, ScanReachesFurtherForLowDimensions) {
  // glove-like, 148k x 100 at ef 100: 3% and 5% are scanned (measured ~2-4x
  // faster than the graph there), 20% is not; at 384-d 5% is not scanned.
  EXPECT_TRUE(PreferExactScan(4440, 148000, 100, 100));
  EXPECT_TRUE(PreferExactScan(7400, 148000, 100, 100));
  EXPECT_FALSE(PreferExactScan(29600, 148000, 100, 100));
  EXPECT_FALSE(PreferExactScan(7400, 148000, 100, 384));
}

}  // namespace
}  // namespace ksdb::index
