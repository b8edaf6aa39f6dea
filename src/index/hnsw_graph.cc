// HnswGraph: construction, distances, removal, accessors and memory accounting.
// Insertion lives in hnsw_build.cc, search in hnsw_search.cc, snapshots in
// hnsw_snapshot.cc.
#include "index/hnsw_graph.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

namespace ksdb::index {
namespace {

// Blocks are padded to kBlockAlignment bytes and the buffer starts on a page
// (GrowableBuffer), so every vector starts 32-byte aligned.
constexpr size_t kBlockAlignment = 32;

// Words per sketch row of a `dim`-dimensional index: sign and magnitude
// bits, then one word of two floats; none below kSketchMinDim (the sketch scan
// never pays there). Rounded up to whole cache lines when that costs at most
// 1/32 of the vector's bytes (384-d: 104 -> 128 bytes; not at 128-d, where
// the memory target has no room for it): a scan is bound by the lines it
// fetches, and an aligned two-line row is one adjacent-line pair.
size_t SketchStride(size_t dim) {
  if (dim < kSketchMinDim)
    return 0;
  const size_t raw = 2 * ((dim + 63) / 64) + 1;
  const size_t padded = (raw + 7) / 8 * 8;
  return (padded - raw) * sizeof(uint64_t) * 32 <= dim * sizeof(float) ? padded : raw;
}

}  // namespace

HnswGraph::HnswGraph(size_t dim, DistanceSpace space, const HnswParams& params, FloatRows floats)
    : dim_(dim),
      space_(space),
      kernels_(&simd::ActiveKernels()),
      params_(params),
      level_multiplier_(1.0 / std::log(static_cast<double>(params.m))),
      level_rng_(params.seed),
      quantized_(params.quantize_int8),
      floats_(std::move(floats)),
      sketch_words_((dim + 63) / 64),
      sketch_stride_(SketchStride(dim)) {
  const size_t vector_floats = dim + (space == DistanceSpace::kCosine ? 1 : 0);
  if (quantized_) {
    codes_bytes_ = (dim + 3) / 4 * 4;
    links_offset_ = codes_bytes_ + sizeof(float);
    traverse_bytes_ = links_offset_;
  } else {
    links_offset_ = vector_floats * sizeof(float);
    traverse_bytes_ = dim * sizeof(float);
  }
  const size_t unpadded = links_offset_ + (1 + 2 * params.m) * sizeof(uint32_t);
  block_bytes_ = (unpadded + kBlockAlignment - 1) / kBlockAlignment * kBlockAlignment;
}

HnswGraph::PreparedQuery HnswGraph::Prepare(const float* query) const {
  float inv_norm = 0.0f;
  if (space_ == DistanceSpace::kCosine) {
    const float norm = std::sqrt(kernels_->norm_squared(query, dim_));
    inv_norm = norm == 0.0f ? 0.0f : 1.0f / norm;
  }
  return {query, inv_norm};
}

// The same float operations as simd::Distance, so exact scans report exactly
// what the flat index reports: cosine scales the dot product by the two
// reciprocal norms one after the other (a zero vector has reciprocal 0, giving
// distance 1 as Chroma does).
float HnswGraph::QueryDistance(const PreparedQuery& q, InternalId id) const {
  const float* v = Vector(id);
  switch (space_) {
    case DistanceSpace::kL2:
      return kernels_->l2_squared(q.vector, v, dim_);
    case DistanceSpace::kIp:
      return 1.0f - kernels_->dot(q.vector, v, dim_);
    case DistanceSpace::kCosine:
      return 1.0f - (kernels_->dot(q.vector, v, dim_) * q.inv_norm) * v[dim_];
  }
  return 0.0f;
}

float HnswGraph::CodeQueryDistance(const CodeQuery& q, InternalId id) const {
  const float dot = q.offset + kernels_->dot_u8(q.scaled.data(), Codes(id), dim_);
  if (space_ == DistanceSpace::kL2) return q.norm_squared - 2.0f * dot + CodeNormSquared(id);
  return 1.0f - dot;
}

float HnswGraph::NodeDistance(InternalId a, InternalId b) const {
  return QueryDistance({Vector(a), space_ == DistanceSpace::kCosine ? InvNorm(a) : 0.0f}, b);
}

void HnswGraph::Remove(std::span<const InternalId> ids) {
  for (InternalId id : ids) {
    if (!Contains(id))
      continue;
    if (states_[id] == kPending)
      DropPending(id);
    states_[id] = kDeleted;
    --size_;
    ++deleted_;
  }
  // Deleting the rest of a backlog ends it without a link pass, which would
  // otherwise be what frees the construction copy.
  ReleaseMirrorIfIdle();
}

std::span<const float> HnswGraph::GetVector(InternalId id) const {
  if (!Contains(id))
    return {};
  return {Vector(id), dim_};
}

size_t HnswGraph::MemoryBytes() const {
  // Rows in use only: the rest of the blocks' and the copy's capacity is
  // address space the kernel backs when first written (GrowableBuffer).
  size_t bytes = num_nodes() * block_bytes_ + levels_.capacity() + states_.capacity() +
                 closed_rows_.capacity() +
                 std::min(mirror_nodes_, num_nodes()) * mirror_row_bytes_ +
                 upper_.capacity() * sizeof(upper_[0]);
  for (size_t id = 0; id < upper_.size(); ++id) {
    if (upper_[id])
      bytes += size_t{levels_[id]} * (1 + params_.m) * sizeof(uint32_t);
  }
  bytes += floats_.HeapBytes() + (code_min_.capacity() + code_scale_.capacity()) * sizeof(float);
  bytes += sketches_.capacity() * sizeof(uint64_t) + sketch_centre_.capacity() * sizeof(float);
  return bytes + visited_pool_.MemoryBytes();
}

bool PreferExactScan(size_t allowed, size_t live, size_t ef, size_t dim) {
  // Vector components an exact scan may read per unit of ef before the
  // two-hop filtered search is cheaper (bench/ann filtered sweep, see
  // hnsw_index.h): the scan's cost grows with the dimension, the graph's
  // mostly with the number of nodes it touches.
  constexpr double kScanComponentsPerEf = 15000.0;
  const double a = static_cast<double>(allowed);
  if (a < kTwoHopMinFraction * static_cast<double>(live))
    return true;
  return a * static_cast<double>(dim) < kScanComponentsPerEf * static_cast<double>(ef);
}

Result<std::unique_ptr<HnswIndex>> NewHnswIndex(size_t dim, DistanceSpace space,
                                                const HnswParams& params) {
  if (dim == 0)
    return Status::InvalidArgument("hnsw index: dimension must be positive");
  if (params.m < 2 || params.m > 2048)
    return Status::InvalidArgument("hnsw index: m must be between 2 and 2048");
  if (params.ef_construction == 0)
    return Status::InvalidArgument("hnsw index: ef_construction must be positive");
  const size_t row_floats = dim + (space == DistanceSpace::kCosine ? 1 : 0);
  KSDB_ASSIGN_OR_RETURN(FloatRows floats,
                        FloatRows::Create(row_floats, params.quantize_int8 ? params.vectors_file
                                                                           : std::string()));
  return std::unique_ptr<HnswIndex>(
      std::make_unique<HnswGraph>(dim, space, params, std::move(floats)));
}

}  // namespace ksdb::index
