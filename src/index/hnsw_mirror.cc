// HnswGraph's bfloat16 construction copy: while a large backlog is linked,
// the candidate searches of graph construction read bfloat16 rows (half the
// bytes of float32: construction is bound by fetching vectors, not by
// arithmetic), and every node's candidates are re-scored with exact float
// distances before the neighbour heuristic chooses its links, so the links
// are chosen exactly as without the copy among (almost always) the same
// candidates. The copy is freed when the backlog is gone.
#include <algorithm>

#include "index/hnsw_graph.h"
#include "simd/distance.h"

namespace ksdb::index {
namespace {

// Backlogs smaller than this link on the float vectors: the copy costs about
// a distance's worth of work per existing node to create.
constexpr size_t kMirrorMinBacklog = 1024;
// ... and so must a backlog under 1/16 of the index: a trickle of writes into
// a big index never makes a copy of all of it (the copy is half the size of
// the float vectors while it exists).
constexpr size_t kMirrorNodesPerBacklog = 16;
// Rows requested ahead of the one whose distance is computed (measured: 4 and
// 8 equal, 1-2 slower, all at once ~5% slower: the prefetches themselves
// stall once the core's outstanding-miss slots are full).
constexpr size_t kRowsAhead = 4;

}  // namespace

void HnswGraph::PrepareMirror(std::span<const InternalId> nodes, size_t backlog) {
  if (!mirror_) {
    if (backlog < kMirrorMinBacklog || backlog * kMirrorNodesPerBacklog < num_nodes())
      return;
    mirror_row_bytes_ = (dim_ * sizeof(uint16_t) + 63) / 64 * 64;
    mirror_nodes_ = 0;
  }
  if (mirror_nodes_ < num_nodes()) {
    // Room for the whole block capacity, so staging within it needs no growth.
    const size_t rows = std::max(capacity_, num_nodes());
    if (!mirror_.GrowTo(rows * mirror_row_bytes_)) {
      // Not worth failing a write for: link on the float vectors.
      mirror_.Reset();
      mirror_nodes_ = 0;
      return;
    }
    const size_t first_new = mirror_nodes_;
    mirror_nodes_ = rows;
    // Rows within the copy are kept current by StoreVector; the nodes stored
    // beyond it since it was made are encoded here.
    for (size_t id = first_new; id < num_nodes(); ++id) {
      if (states_[id] != kEmpty)
        EncodeMirrorRow(static_cast<InternalId>(id));
    }
  }
  for (InternalId id : nodes)
    EncodeMirrorRow(id);
}

void HnswGraph::ReleaseMirrorIfIdle() {
  if (pending_list_.empty()) {
    mirror_.Reset();
    mirror_nodes_ = 0;
  }
}

void HnswGraph::EncodeMirrorRow(InternalId id) {
  uint16_t* row = reinterpret_cast<uint16_t*>(mirror_.data() + size_t{id} * mirror_row_bytes_);
  const float* v = Vector(id);
  // Cosine rows are stored normalised, so a distance needs no 1/|v| (which
  // lives in the float block: one more cache miss).
  const float scale = space_ == DistanceSpace::kCosine ? InvNorm(id) : 1.0f;
  for (size_t i = 0; i < dim_; ++i)
    row[i] = simd::Bf16FromFloat(v[i] * scale);
  // The padding takes part in every distance (times a zero query component):
  // it must be zero, not whatever the allocation held (a NaN pattern times 0
  // is NaN).
  std::fill(row + dim_, row + MirrorComponents(), uint16_t{0});
}

std::vector<float> HnswGraph::MirrorPaddedQuery(const PreparedQuery& q) const {
  std::vector<float> padded(MirrorComponents(), 0.0f);
  std::copy(q.vector, q.vector + dim_, padded.begin());
  return padded;
}

void HnswGraph::ConstructionDistances(const PreparedQuery& q, const InternalId* ids, size_t n,
                                      float* out) const {
  if (!mirror_ || q.mirror_padded == nullptr) {
    QueryDistances(q, ids, n, out);
    return;
  }
  const auto prefetch_row = [this](InternalId id) {
    const char* row = reinterpret_cast<const char*>(MirrorRow(id));
    for (size_t offset = 0; offset < mirror_row_bytes_; offset += 64)
      __builtin_prefetch(row + offset);
  };
  // Whole rows, padding included: the kernels then need no scalar tail (at
  // 100-d the 4-component tail took ~30% of the kernel's time, measured).
  const size_t components = MirrorComponents();
  const float* query = q.mirror_padded;
  for (size_t i = 0; i < std::min(n, kRowsAhead); ++i)
    prefetch_row(ids[i]);
  for (size_t i = 0; i < n; ++i) {
    if (i + kRowsAhead < n)
      prefetch_row(ids[i + kRowsAhead]);
    const uint16_t* row = MirrorRow(ids[i]);
    switch (space_) {
      case DistanceSpace::kL2:
        out[i] = kernels_->l2_squared_bf16(query, row, components);
        break;
      case DistanceSpace::kIp:
        out[i] = 1.0f - kernels_->dot_bf16(query, row, components);
        break;
      case DistanceSpace::kCosine:
        out[i] = 1.0f - kernels_->dot_bf16(query, row, components) * q.inv_norm;
        break;
    }
  }
}

void HnswGraph::RescoreExactly(const PreparedQuery& q, NeighborHeap* candidates) const {
  if (!mirror_)
    return;
  std::vector<InternalId> ids(candidates->size());
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = (*candidates)[i].internal_id;
    __builtin_prefetch(Vector(ids[i]));
  }
  std::vector<float> distances(ids.size());
  QueryDistances(q, ids.data(), ids.size(), distances.data());
  for (size_t i = 0; i < ids.size(); ++i)
    (*candidates)[i].distance = distances[i];
}

}  // namespace ksdb::index
