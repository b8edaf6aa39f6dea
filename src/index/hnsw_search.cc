// HnswGraph search: greedy descent through the upper layers, then a best-first
// search of layer 0 with a candidate list of size ef (Malkov & Yashunin,
// algorithms 2 and 5), and the exact scans.
//
// Filtering (and tombstones) only decide what enters the result list; every
// node may still be expanded, so the graph stays connected however sparse the
// allowed set is. The search stops once ef accepted results are held and the
// nearest unexpanded candidate is farther than all of them, so a selective
// filter makes it explore more; below a measured selectivity the engine scans
// the allowed set exactly instead (SearchAmong).
#include <algorithm>
#include <limits>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/top_k.h"

namespace ksdb::index {
namespace {

// Cache lines of a vector fetched ahead of its distance computation.
constexpr size_t kPrefetchLines = 8;

void PrefetchVector(const float* v, size_t dim) {
  const char* p = reinterpret_cast<const char*>(v);
  const size_t lines = std::min(kPrefetchLines, (dim * sizeof(float) + 63) / 64);
  for (size_t i = 0; i < lines; ++i)
    __builtin_prefetch(p + 64 * i);
}

void PrefetchLinks(const uint32_t* row, size_t max_links) {
  const char* p = reinterpret_cast<const char*>(row);
  const size_t bytes = (1 + max_links) * sizeof(uint32_t);
  for (size_t offset = 0; offset < bytes; offset += 64)
    __builtin_prefetch(p + offset);
}

}  // namespace

size_t HnswGraph::CollectUnvisited(const uint32_t* row, VisitedList* visited,
                                   std::vector<InternalId>& out) const {
  // Three passes so that the memory accesses of all neighbours overlap instead
  // of waiting one after the other: the visited tags, then (for the unvisited
  // ones) the vectors are requested together before the first distance needs
  // them. A graph search is bound by these cache misses, not by arithmetic.
  const uint32_t count = row[0];
  for (uint32_t i = 1; i <= count; ++i)
    __builtin_prefetch(visited->TagAddress(row[i]));
  size_t fresh = 0;
  for (uint32_t i = 1; i <= count; ++i) {
    if (!visited->TestAndSet(row[i]))
      out[fresh++] = row[i];
  }
  for (size_t i = 0; i < fresh; ++i)
    PrefetchVector(Vector(out[i]), dim_);
  return fresh;
}

std::vector<Neighbor> HnswGraph::SearchWithEf(std::span<const float> query, size_t k, size_t ef,
                                              const IdFilter* filter) const {
  if (k == 0 || query.size() != dim_ || size_ == 0 || entry_point_ == kNoNode)
    return {};
  const PreparedQuery q = Prepare(query.data());
  const InternalId ep = GreedyDescend(q, entry_point_, max_level_, 0, kNoNode);
  NeighborHeap results = SearchBaseLayer(q, ep, std::max(ef, k), filter);
  std::sort(results.begin(), results.end(), NearerThan);
  if (results.size() > k)
    results.resize(k);
  return results;
}

HnswGraph::NeighborHeap HnswGraph::SearchBaseLayer(const PreparedQuery& q, InternalId ep,
                                                   size_t ef, const IdFilter* filter) const {
  VisitedPool::Handle visited = visited_pool_.Acquire(num_nodes());
  visited->TestAndSet(ep);
  const float ep_distance = QueryDistance(q, ep);
  NeighborHeap candidates{{ep_distance, ep}};  // min-heap (Farther)
  NeighborHeap results;                        // max-heap (Closer), accepted nodes only
  results.reserve(ef + 1);
  float worst = std::numeric_limits<float>::infinity();
  const bool check_states = filter != nullptr || deleted_ > 0;
  if (Accepts(ep, filter)) {
    results.push_back({ep_distance, ep});
    worst = ep_distance;
  }
  std::vector<InternalId> pending(2 * params_.m);
  while (!candidates.empty()) {
    const Neighbor current = candidates.front();
    if (current.distance > worst && results.size() >= ef)
      break;
    std::pop_heap(candidates.begin(), candidates.end(), Farther);
    candidates.pop_back();

    const size_t fresh = CollectUnvisited(Links(current.internal_id, 0), visited.get(), pending);
    for (size_t i = 0; i < fresh; ++i) {
      const InternalId n = pending[i];
      const float d = QueryDistance(q, n);
      if (results.size() >= ef && d >= worst)
        continue;
      candidates.push_back({d, n});
      std::push_heap(candidates.begin(), candidates.end(), Farther);
      // The nearest candidate is expanded next: fetch its links meanwhile.
      PrefetchLinks(Links(candidates.front().internal_id, 0), 2 * params_.m);
      if (check_states && !Accepts(n, filter))
        continue;
      results.push_back({d, n});
      std::push_heap(results.begin(), results.end(), Closer);
      if (results.size() > ef) {
        std::pop_heap(results.begin(), results.end(), Closer);
        results.pop_back();
      }
      if (results.size() >= ef)
        worst = results.front().distance;
    }
  }
  return results;
}

std::vector<Neighbor> HnswGraph::ExactSearch(std::span<const float> query, size_t k,
                                             const IdFilter* filter) const {
  if (k == 0 || query.size() != dim_ || size_ == 0)
    return {};
  const PreparedQuery q = Prepare(query.data());
  TopK top(std::min(k, size_));
  for (size_t id = 0; id < num_nodes(); ++id) {
    const InternalId node = static_cast<InternalId>(id);
    if (Accepts(node, filter))
      top.Offer({ExactDistance(q, node), node});
  }
  return top.TakeSorted();
}

std::vector<Neighbor> HnswGraph::SearchAmong(std::span<const float> query, size_t k,
                                             std::span<const InternalId> candidates) const {
  if (k == 0 || query.size() != dim_ || size_ == 0)
    return {};
  const PreparedQuery q = Prepare(query.data());
  TopK top(k);
  for (size_t i = 0; i < candidates.size(); ++i) {
    const InternalId id = candidates[i];
    if (i + 1 < candidates.size() && Contains(candidates[i + 1]))
      PrefetchVector(Vector(candidates[i + 1]), dim_);
    if (Contains(id))
      top.Offer({ExactDistance(q, id), id});
  }
  return top.TakeSorted();
}

}  // namespace ksdb::index
