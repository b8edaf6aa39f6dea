// HnswGraph filtered search: which layer-0 search a filtered query gets, and
// the two-hop search for selective filters (ACORN-1 of Patel et al., "ACORN:
// Performant and Predicate-Agnostic Search Over Vector Embeddings and
// Structured Data", 2024, run on the ordinary HNSW graph).
//
// The plain filtered search (SearchBaseLayer) computes a distance for every
// node it meets, allowed or not, so at selectivity s it pays about 1/s
// distances per accepted result. The two-hop search computes distances only
// for accepted nodes: it reaches them through the links of the nodes that are
// not accepted (a link row is 132 bytes next to a vector of 4*dim), which keeps
// the accepted subgraph connected down to s of about 1/(2M)^2.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "index/candidate_pool.h"
#include "index/hnsw_graph.h"
#include "index/top_k.h"

namespace ksdb::index {
namespace {

// Node slots probed to estimate a filter's selectivity: at the 2.5% threshold
// this expects ~26 accepted samples.
constexpr size_t kSelectivitySample = 1024;
// kTwoHopMinFraction (hnsw_graph.h): below it the nodes within two hops of a
// node hold too few accepted ones for the two-hop search to stay connected
// (recall@10 on a clustered 384-d set: 0.96 at 3% with ef 64, 0.94 at 2% even
// with ef 256, 0.59 at 1%; bench/RESULTS.md), so the accepted nodes are
// scanned exactly: a graph search visiting every node would be slower still.
// Above this the plain filtered search is faster: most neighbours are
// accepted, so it wastes few distances, while the two-hop search reads the
// links of every rejected neighbour (measured 1.2-1.4x faster at 25%, 1.4-1.9x
// slower at 50%; bench/RESULTS.md).
constexpr double kTwoHopMaxFraction = 0.3;
// Accepted nodes gathered per expansion, in units of the layer-0 degree 2M:
// ACORN-1 keeps the expanded list about as long as an ordinary one (1, 2 and
// 4 gave the same recall at 1% and 3%).
constexpr size_t kTwoHopCapRows = 1;
// The upper layer whose nodes seed the two-hop search (TwoHopEntries), and how
// many of its nearest nodes do. A layer-2 node stands for ~M^2 layer-0 nodes,
// the scale two hops reach. Measured on a 100k x 384 set of 250-point clusters
// at 3%: recall@10 0.944 at ef 32 (6.1k q/s) instead of 0.918 (8.1k q/s), 0.95
// reached at ~1.3x the q/s of the single entry; at 1% 0.43 -> 0.57 at ef 16
// (not enough: the scan stays below 2.5%); more seeds cost more than they gain.
constexpr int kSeedLevel = 2;
constexpr size_t kSeedWidth = 8;

void PrefetchRow(const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  for (size_t offset = 0; offset < bytes; offset += 64)
    __builtin_prefetch(p + offset);
}

}  // namespace

double HnswGraph::SampledAcceptedFraction(const IdFilter* filter) const {
  const size_t n = num_nodes();
  const size_t samples = std::min(n, kSelectivitySample);
  size_t live = 0;
  size_t accepted = 0;
  for (size_t i = 0; i < samples; ++i) {
    // Knuth's multiplicative hash spreads the probes over the whole id range,
    // so a filter on an id range or on every j-th id is sampled fairly.
    const InternalId id = samples == n ? static_cast<InternalId>(i)
                                       : static_cast<InternalId>((uint64_t{i} * 2654435761u) % n);
    if (states_[id] != kLive)
      continue;
    ++live;
    accepted += filter->IsMember(id) ? 1 : 0;
  }
  return live == 0 ? 0.0 : static_cast<double>(accepted) / static_cast<double>(live);
}

HnswGraph::FilteredPath HnswGraph::PickFilteredPath(const IdFilter* filter, size_t k) const {
  const double fraction = SampledAcceptedFraction(filter);
  if (fraction < kTwoHopMinFraction) {
    const auto accepted = static_cast<size_t>(fraction * static_cast<double>(size_));
    return PickAllowedScan(accepted, k, dim_) == AllowedScan::kSketch ? FilteredPath::kSketch
                                                                      : FilteredPath::kScan;
  }
  return fraction < kTwoHopMaxFraction ? FilteredPath::kTwoHop : FilteredPath::kGraph;
}

size_t HnswGraph::CollectAcceptedTwoHop(InternalId id, const IdFilter* filter, VisitedList* visited,
                                        std::vector<InternalId>& out,
                                        std::vector<InternalId>& hops) const {
  const uint32_t* row = Links(id, 0);
  const uint32_t count = row[0];
  const size_t cap = out.size();
  for (uint32_t i = 1; i <= count; ++i)
    __builtin_prefetch(visited->TagAddress(row[i]));
  size_t fresh = 0;
  size_t num_hops = 0;
  for (uint32_t i = 1; i <= count && fresh < cap; ++i) {
    const InternalId n = row[i];
    if (visited->TestAndSet(n))
      continue;
    if (Accepts(n, filter))
      out[fresh++] = n;
    else
      hops[num_hops++] = n;
  }
  // All second-hop rows are requested before the first is read, so their
  // cache misses overlap.
  const size_t row_bytes = (1 + 2 * params_.m) * sizeof(uint32_t);
  for (size_t h = 0; h < num_hops; ++h)
    PrefetchRow(Links(hops[h], 0), row_bytes);
  for (size_t h = 0; h < num_hops && fresh < cap; ++h) {
    const uint32_t* second = Links(hops[h], 0);
    const uint32_t second_count = second[0];
    for (uint32_t i = 1; i <= second_count && fresh < cap; ++i) {
      const InternalId n = second[i];
      // Not-accepted second hops stay unvisited: reached later as a first
      // hop, their own links are still worth reading.
      if (Accepts(n, filter) && !visited->TestAndSet(n))
        out[fresh++] = n;
    }
  }
  for (size_t i = 0; i < fresh; ++i)
    PrefetchRow(Block(out[i]), std::min<size_t>(traverse_bytes_, 8 * 64));
  return fresh;
}

template <typename Dist>
std::vector<InternalId> HnswGraph::BeamAtLevel(const Dist& dist, InternalId ep, int level,
                                               size_t width) const {
  VisitedPool::Handle visited = visited_pool_.Acquire(num_nodes());
  visited->TestAndSet(ep);
  CandidatePool pool(width);
  pool.Insert({dist(ep), ep});
  while (const std::optional<InternalId> current = pool.ExpandNearest()) {
    const uint32_t* row = Links(*current, level);
    for (uint32_t i = 1; i <= row[0]; ++i) {
      const InternalId n = row[i];
      if (!visited->TestAndSet(n))
        pool.Insert({dist(n), n});
    }
  }
  std::vector<InternalId> ids;
  for (const Neighbor& n : pool.Take())
    ids.push_back(n.internal_id);
  return ids;
}

template <typename Dist>
std::vector<InternalId> HnswGraph::TwoHopEntries(const Dist& dist) const {
  if (max_level_ < kSeedLevel)
    return {GreedyDescend(dist, entry_point_, max_level_, 0, kNoNode)};
  const InternalId top = GreedyDescend(dist, entry_point_, max_level_, kSeedLevel, kNoNode);
  std::vector<InternalId> entries = BeamAtLevel(dist, top, kSeedLevel, kSeedWidth);
  // The nearest continues down as an ordinary search's entry would.
  entries.insert(entries.begin(), GreedyDescend(dist, entries.front(), kSeedLevel, 0, kNoNode));
  return entries;
}

template <typename Dist>
HnswGraph::NeighborHeap HnswGraph::SearchTwoHopFromTop(const Dist& dist, size_t ef,
                                                       const IdFilter* filter) const {
  const std::vector<InternalId> entries = TwoHopEntries(dist);
  return SearchTwoHop(dist, entries, ef, filter);
}

template <typename Dist>
HnswGraph::NeighborHeap HnswGraph::SearchTwoHop(const Dist& dist,
                                                std::span<const InternalId> entries, size_t ef,
                                                const IdFilter* filter) const {
  VisitedPool::Handle visited = visited_pool_.Acquire(num_nodes());
  const size_t max_links = MaxLinks(0);
  std::vector<InternalId> fresh_ids(kTwoHopCapRows * max_links);
  std::vector<InternalId> hops(max_links);
  std::vector<float> distances(fresh_ids.size());
  // Every collected node is accepted, so each may enter the results.
  CandidatePool pool(ef);
  const auto take = [&](size_t count) {
    dist.Batch(fresh_ids.data(), count, distances.data());
    for (size_t i = 0; i < count; ++i)
      pool.Insert({distances[i], fresh_ids[i]});
  };
  // The descent ran unfiltered: an entry that is not accepted is only a place
  // to start from, so the search is seeded with the accepted nodes around it.
  for (InternalId entry : entries) {
    if (Accepts(entry, filter)) {
      if (!visited->TestAndSet(entry)) {
        fresh_ids[0] = entry;
        take(1);
      }
    } else {
      visited->TestAndSet(entry);
      take(CollectAcceptedTwoHop(entry, filter, visited.get(), fresh_ids, hops));
    }
  }
  while (const std::optional<InternalId> current = pool.ExpandNearest())
    take(CollectAcceptedTwoHop(*current, filter, visited.get(), fresh_ids, hops));
  return pool.Take();
}

template HnswGraph::NeighborHeap HnswGraph::SearchTwoHopFromTop<HnswGraph::FloatDistance>(
    const FloatDistance& dist, size_t ef, const IdFilter* filter) const;
template HnswGraph::NeighborHeap HnswGraph::SearchTwoHopFromTop<HnswGraph::CodeDistance>(
    const CodeDistance& dist, size_t ef, const IdFilter* filter) const;
template HnswGraph::NeighborHeap HnswGraph::SearchTwoHop<HnswGraph::FloatDistance>(
    const FloatDistance& dist, std::span<const InternalId> entries, size_t ef,
    const IdFilter* filter) const;

HnswGraph::NeighborHeap HnswGraph::ScanAccepted(const PreparedQuery& q, size_t k,
                                                const IdFilter* filter) const {
  TopK top(k);
  const size_t n = num_nodes();
  for (size_t i = 0; i < n; ++i) {
    const InternalId id = static_cast<InternalId>(i);
    if (Accepts(id, filter))
      top.Offer({ExactDistance(q, id), id});
  }
  return top.TakeSorted();
}

}  // namespace ksdb::index
