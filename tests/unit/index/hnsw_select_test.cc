// The incremental neighbour selection for a back link to a full row must give
// exactly what the full heuristic gives over the same candidates, whenever
// the row is closed (the heuristic's own output).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/top_k.h"
#include "index_test_util.h"

namespace ksdb::index {

class HnswGraphTestPeer {
 public:
  explicit HnswGraphTestPeer(const HnswGraph& graph) : graph_(graph) {}
  bool Select(std::vector<Neighbor>* candidates, size_t max) const {
    return graph_.SelectNeighbors(candidates, max);
  }
  void SelectAddingOne(std::vector<Neighbor>* candidates, size_t max, InternalId newcomer) const {
    graph_.SelectNeighbors(candidates, max, newcomer);
  }
  float Distance(InternalId a, InternalId b) const { return graph_.NodeDistance(a, b); }

 private:
  const HnswGraph& graph_;
};

namespace {

using testing::Iota;
using testing::RandomVectors;

// Candidates `ids` for base node `base`, nearest first, as the graph orders them.
std::vector<Neighbor> Sorted(const HnswGraphTestPeer& peer, InternalId base,
                             const std::vector<InternalId>& ids) {
  std::vector<Neighbor> out;
  for (InternalId id : ids)
    out.push_back({peer.Distance(base, id), id});
  std::sort(out.begin(), out.end(), Closer);
  return out;
}

std::vector<InternalId> IdsOf(const std::vector<Neighbor>& neighbors) {
  std::vector<InternalId> ids;
  for (const Neighbor& n : neighbors)
    ids.push_back(n.internal_id);
  return ids;
}

// Runs the comparison on `trials` random closed rows of a `dim`-d index of
// `n` vectors (low dim: many candidates get pruned; high: few do).
void ExpectSameSelection(DistanceSpace space, size_t n, size_t dim, size_t max, int trials) {
  HnswParams params;
  params.m = 8;
  auto made = NewHnswIndex(dim, space, params);
  ASSERT_TRUE(made.ok());
  auto& graph = static_cast<HnswGraph&>(**made);
  ASSERT_TRUE(graph.Stage(Iota(n), RandomVectors(n, dim, 7)).ok());
  const HnswGraphTestPeer peer(graph);
  std::mt19937 rng(11);
  int closed_rows = 0;
  int newcomers_kept = 0;
  for (int t = 0; t < trials; ++t) {
    const InternalId base = rng() % n;
    std::vector<InternalId> pool;
    while (pool.size() < 3 * max) {
      const InternalId id = rng() % n;
      if (id != base && std::find(pool.begin(), pool.end(), id) == pool.end())
        pool.push_back(id);
    }
    // The closed row: the heuristic's output over all but the last pool entry.
    const InternalId newcomer = pool.back();
    pool.pop_back();
    std::vector<Neighbor> row = Sorted(peer, base, pool);
    if (!peer.Select(&row, max))
      continue;
    ++closed_rows;
    std::vector<InternalId> merged = IdsOf(row);
    merged.push_back(newcomer);
    std::vector<Neighbor> full = Sorted(peer, base, merged);
    std::vector<Neighbor> incremental = full;
    peer.Select(&full, row.size() < max ? merged.size() - 1 : max);
    peer.SelectAddingOne(&incremental, row.size() < max ? merged.size() - 1 : max, newcomer);
    ASSERT_EQ(IdsOf(full), IdsOf(incremental)) << "trial " << t;
    const std::vector<InternalId> kept = IdsOf(full);
    if (std::find(kept.begin(), kept.end(), newcomer) != kept.end())
      ++newcomers_kept;
  }
  // The cases that matter happened: closed rows, newcomers kept and not.
  EXPECT_GT(closed_rows, trials / 2);
  EXPECT_GT(newcomers_kept, 0);
  EXPECT_LT(newcomers_kept, closed_rows);
}

// As hnswlib (and the paper's heuristic): a node's candidates are pruned as
// soon as there are `max` of them, not only beyond; fewer are all kept.
TEST(HnswSelectTest, ExactlyMaxCandidatesArePruned) {
  HnswParams params;
  auto made = NewHnswIndex(2, DistanceSpace::kL2, params);
  ASSERT_TRUE(made.ok());
  auto& graph = static_cast<HnswGraph&>(**made);
  // Base 0 at the origin; 1 and 2 close together, 3 on the other side.
  const std::vector<float> vectors = {0, 0, 1, 0, 1.1f, 0.1f, -1.2f, 0};
  ASSERT_TRUE(graph.Stage(Iota(4), vectors).ok());
  const HnswGraphTestPeer peer(graph);

  std::vector<Neighbor> three = Sorted(peer, 0, {1, 2, 3});
  EXPECT_TRUE(peer.Select(&three, 3));
  EXPECT_EQ(IdsOf(three), (std::vector<InternalId>{1, 3}));  // 2 is nearer to 1 than to 0

  std::vector<Neighbor> two = Sorted(peer, 0, {1, 2});
  EXPECT_FALSE(peer.Select(&two, 3));
  EXPECT_EQ(IdsOf(two), (std::vector<InternalId>{1, 2}));
}

TEST(HnswSelectTest, AddingOneMatchesFullHeuristicCosine) {
  ExpectSameSelection(DistanceSpace::kCosine, 2000, 4, 8, 400);
  ExpectSameSelection(DistanceSpace::kCosine, 2000, 64, 16, 400);
}

TEST(HnswSelectTest, AddingOneMatchesFullHeuristicL2AndIp) {
  ExpectSameSelection(DistanceSpace::kL2, 2000, 3, 8, 400);
  ExpectSameSelection(DistanceSpace::kIp, 2000, 16, 16, 400);
}

}  // namespace
}  // namespace ksdb::index
