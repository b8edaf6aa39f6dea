// HnswGraph search: greedy descent through the upper layers, then a best-first
// search of layer 0 with a candidate list of size ef (Malkov & Yashunin,
// algorithms 2 and 5), and the exact scans.
//
// Filtering (and tombstones) only decide what enters the result list. The
// plain layer-0 search (SearchBaseLayer) may expand every node, so the graph
// stays connected however sparse the allowed set is; it stops once ef
// accepted results are held and the nearest unexpanded candidate is farther
// than all of them, so a selective filter makes it explore more (its
// CandidatePool then also holds the rejected nodes nearer than the ef-th
// accepted one). Filtered queries therefore take one of three paths
// (hnsw_filtered_search.cc): this search for broad filters, the two-hop
// search that computes distances only for accepted nodes for selective ones,
// and an exact scan of the accepted nodes below that (exactly, or by their
// two-bit sketches with exact rescoring: hnsw_sketch.cc); the engine itself
// scans its list of matching ids when PreferExactScan says so
// (SearchAllowed).
#include <algorithm>
#include <mutex>
#include <optional>
#include <vector>

#include "index/candidate_pool.h"
#include "index/hnsw_graph.h"
#include "index/top_k.h"

namespace ksdb::index {
namespace {

// Cache lines of a vector fetched ahead of its distance computation.
constexpr size_t kPrefetchLines = 8;
// Pending nodes beyond this many floats (16 MiB of vectors, ~0.7 ms to read
// exactly) are scanned by their sketches when the cost model prefers that:
// during a large ingest the backlog grows to tens of thousands of vectors,
// and every query reads all of it. Smaller backlogs, the usual state right
// after a write, keep the exact scan.
constexpr size_t kExactPendingMaxFloats = size_t{4} << 20;

void PrefetchBytes(const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  const size_t lines = std::min(kPrefetchLines, (bytes + 63) / 64);
  for (size_t i = 0; i < lines; ++i)
    __builtin_prefetch(p + 64 * i);
}

void PrefetchVector(const float* v, size_t dim) {
  PrefetchBytes(v, dim * sizeof(float));
}

void PrefetchLinks(const uint32_t* row, size_t max_links) {
  const char* p = reinterpret_cast<const char*>(row);
  const size_t bytes = (1 + max_links) * sizeof(uint32_t);
  for (size_t offset = 0; offset < bytes; offset += 64)
    __builtin_prefetch(p + offset);
}

}  // namespace

size_t HnswGraph::CollectUnvisited(const uint32_t* row, VisitedList* visited,
                                   std::vector<InternalId>& out, bool screened) const {
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
  for (size_t i = 0; i < fresh; ++i) {
    if (screened)
      PrefetchBytes(Sketch(out[i]), sketch_stride_ * sizeof(uint64_t));
    else
      PrefetchBytes(Block(out[i]), traverse_bytes_);
  }
  return fresh;
}

void HnswGraph::QueryDistances(const PreparedQuery& q, const InternalId* ids, size_t n,
                               float* out) const {
  constexpr size_t kDistanceBatch = 64;
  const float* vectors[kDistanceBatch];
  for (size_t begin = 0; begin < n; begin += kDistanceBatch) {
    const size_t count = std::min(kDistanceBatch, n - begin);
    for (size_t i = 0; i < count; ++i)
      vectors[i] = Vector(ids[begin + i]);
    float* dst = out + begin;
    // The same operations as QueryDistance, so both give identical results.
    switch (space_) {
      case DistanceSpace::kL2:
        kernels_->l2_squared_batch(q.vector, vectors, count, dim_, dst);
        break;
      case DistanceSpace::kIp:
        kernels_->dot_batch(q.vector, vectors, count, dim_, dst);
        for (size_t i = 0; i < count; ++i)
          dst[i] = 1.0f - dst[i];
        break;
      case DistanceSpace::kCosine:
        kernels_->dot_batch(q.vector, vectors, count, dim_, dst);
        for (size_t i = 0; i < count; ++i)
          dst[i] = 1.0f - (dst[i] * q.inv_norm) * vectors[i][dim_];
        break;
    }
  }
}

std::vector<Neighbor> HnswGraph::SearchWithEf(std::span<const float> query, size_t k, size_t ef,
                                              const IdFilter* filter) const {
  if (k == 0 || query.size() != dim_ || size_ == 0)
    return {};
  const FilteredPath path = filter == nullptr || entry_point_ == kNoNode
                                ? FilteredPath::kGraph
                                : PickFilteredPath(filter, k);
  return SearchWithPath(query, k, ef, filter, path);
}

std::vector<Neighbor> HnswGraph::SearchWithPath(std::span<const float> query, size_t k, size_t ef,
                                                const IdFilter* filter, FilteredPath path) const {
  if (k == 0 || query.size() != dim_ || size_ == 0)
    return {};
  if (filter == nullptr)
    path = FilteredPath::kGraph;
  const PreparedQuery q = Prepare(query.data());
  NeighborHeap results;
  const bool two_hop = path == FilteredPath::kTwoHop;
  ef = std::max(ef, k);
  if (entry_point_ == kNoNode) {
    // Nothing linked yet: every stored vector is pending.
  } else if (path == FilteredPath::kScan) {
    results = ScanAccepted(q, k, filter);
  } else if (path == FilteredPath::kSketch) {
    results = SketchScanAccepted(q, k, filter);
  } else if (quantized_ && trained_) {
    const CodeQuery codes = PrepareCodes(query.data());
    const CodeDistance dist{this, &codes};
    if (two_hop) {
      results = SearchTwoHopFromTop(dist, ef, filter);
    } else {
      const InternalId ep = GreedyDescend(dist, entry_point_, max_level_, 0, kNoNode);
      results = SearchBaseLayer(dist, ep, ef, filter);
    }
    Rerank(q, &results);
  } else {
    const FloatDistance dist{this, q};
    if (two_hop) {
      results = SearchTwoHopFromTop(dist, ef, filter);
    } else {
      const InternalId ep = GreedyDescend(dist, entry_point_, max_level_, 0, kNoNode);
      std::optional<Prescreen> prescreen =
          PrescreenPays(dim_, num_nodes()) ? MakePrescreen(q) : std::nullopt;
      results = SearchBaseLayer(dist, ep, ef, filter, prescreen ? &*prescreen : nullptr);
    }
  }
  // Fewer than k means the accepted nodes near the entry are not connected
  // through two hops (or fewer than k exist): only a scan is sure to find them.
  if (two_hop && results.size() < k)
    results = ScanAccepted(q, k, filter);
  if (!pending_list_.empty()) {
    // Graph results never hold pending nodes, so the two lists are disjoint.
    std::vector<Neighbor> staged = SearchPending(q, k, filter);
    results.insert(results.end(), staged.begin(), staged.end());
  }
  std::sort(results.begin(), results.end(), NearerThan);
  if (results.size() > k)
    results.resize(k);
  return results;
}

std::vector<Neighbor> HnswGraph::SearchPending(const PreparedQuery& q, size_t k,
                                               const IdFilter* filter) const {
  // Only the accepted nodes are read, so they decide the scan.
  std::vector<InternalId> accepted;
  std::span<const InternalId> ids = pending_list_;
  if (filter != nullptr) {
    for (InternalId id : pending_list_) {
      if (filter->IsMember(id))
        accepted.push_back(id);
    }
    ids = accepted;
  }
  if (PendingScanUsesSketches(ids.size(), k))
    return SketchScan(q, k, ids, SketchRescoreCount(k, ids.size()));
  TopK top(std::min(k, ids.size()));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i + 1 < ids.size())
      PrefetchVector(Vector(ids[i + 1]), dim_);
    top.Offer({ExactDistance(q, ids[i]), ids[i]});
  }
  return top.TakeSorted();
}

bool HnswGraph::PendingScanUsesSketches(size_t accepted, size_t k) const {
  return accepted * dim_ > kExactPendingMaxFloats &&
         PickAllowedScan(accepted, k, dim_) == AllowedScan::kSketch;
}

void HnswGraph::Rerank(const PreparedQuery& q, NeighborHeap* candidates) const {
  for (Neighbor& n : *candidates) {
    __builtin_prefetch(Vector(n.internal_id));
  }
  for (Neighbor& n : *candidates)
    n.distance = ExactDistance(q, n.internal_id);
}

template <typename Dist>
HnswGraph::NeighborHeap HnswGraph::SearchBaseLayer(const Dist& dist, InternalId ep, size_t ef,
                                                   const IdFilter* filter,
                                                   Prescreen* prescreen) const {
  // Without filter, tombstones or staged nodes every linked node is a result.
  const bool check_states = filter != nullptr || deleted_ > 0 || !pending_list_.empty();
  VisitedPool::Handle visited = visited_pool_.Acquire(num_nodes());
  visited->TestAndSet(ep);
  CandidatePool pool(ef);
  pool.Insert({dist(ep), ep}, !check_states || Accepts(ep, filter));
  std::vector<InternalId> pending(2 * params_.m);
  std::vector<float> distances(2 * params_.m);
  while (const std::optional<InternalId> current = pool.ExpandNearest()) {
    // The next nearest is usually expanded next: its row arrives meanwhile.
    if (const std::optional<InternalId> next = pool.PeekNearest())
      PrefetchLinks(Links(*next, 0), 2 * params_.m);
    size_t fresh =
        CollectUnvisited(Links(*current, 0), visited.get(), pending, prescreen != nullptr);
    if (prescreen != nullptr)
      fresh = Screen(prescreen, pending.data(), fresh, pool.bound());
    dist.Batch(pending.data(), fresh, distances.data());
    if (prescreen != nullptr)
      Learn(prescreen, distances.data(), fresh);
    for (size_t i = 0; i < fresh; ++i)
      pool.Insert({distances[i], pending[i]}, !check_states || Accepts(pending[i], filter));
    if (const std::optional<InternalId> next = pool.PeekNearest())
      PrefetchLinks(Links(*next, 0), 2 * params_.m);
  }
  return pool.Take();
}

const uint32_t* HnswGraph::ReadableLinks(InternalId id, int level, uint32_t* copy) const {
  std::mutex* mu = NodeLock(id);
  if (mu == nullptr)
    return Links(id, level);
  std::lock_guard<std::mutex> lock(*mu);
  const uint32_t* row = Links(id, level);
  std::copy(row, row + 1 + std::min<size_t>(row[0], MaxLinks(level)), copy);
  return copy;
}

HnswGraph::NeighborHeap HnswGraph::SearchLayerPrefetched(const PreparedQuery& q, InternalId ep,
                                                         int level, InternalId self,
                                                         VisitedList* visited) const {
  const size_t ef = params_.ef_construction;
  const size_t max_links = MaxLinks(level);
  visited->Reset(num_nodes());
  visited->TestAndSet(self);
  visited->TestAndSet(ep);
  float ep_distance;
  ConstructionDistances(q, &ep, 1, &ep_distance);
  CandidatePool pool(ef);
  pool.Insert({ep_distance, ep});
  std::vector<uint32_t> row_copy(1 + max_links);
  std::vector<InternalId> fresh_ids(max_links);
  std::vector<float> distances(max_links);
  while (const std::optional<InternalId> current = pool.ExpandNearest()) {
    if (const std::optional<InternalId> next = pool.PeekNearest())
      PrefetchLinks(Links(*next, level), max_links);

    const uint32_t* row = ReadableLinks(*current, level, row_copy.data());
    // A row never holds more than MaxLinks(level); the bound keeps the buffers safe anyway.
    const uint32_t count = std::min<uint32_t>(row[0], static_cast<uint32_t>(max_links));
    for (uint32_t i = 1; i <= count; ++i)
      __builtin_prefetch(visited->TagAddress(row[i]));
    size_t fresh = 0;
    for (uint32_t i = 1; i <= count; ++i) {
      if (!visited->TestAndSet(row[i]))
        fresh_ids[fresh++] = row[i];
    }
    if (!mirror_) {
      for (size_t i = 0; i < fresh; ++i)
        PrefetchVector(Vector(fresh_ids[i]), dim_ + 1);
    }
    ConstructionDistances(q, fresh_ids.data(), fresh, distances.data());
    for (size_t i = 0; i < fresh; ++i)
      pool.Insert({distances[i], fresh_ids[i]});
    if (const std::optional<InternalId> next = pool.PeekNearest())
      PrefetchLinks(Links(*next, level), max_links);
  }
  return pool.Take();
}

std::vector<Neighbor> HnswGraph::ExactSearch(std::span<const float> query, size_t k,
                                             const IdFilter* filter) const {
  if (k == 0 || query.size() != dim_ || size_ == 0)
    return {};
  const PreparedQuery q = Prepare(query.data());
  TopK top(std::min(k, size_));
  for (size_t id = 0; id < num_nodes(); ++id) {
    const InternalId node = static_cast<InternalId>(id);
    if (Contains(node) && (filter == nullptr || filter->IsMember(node)))
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
