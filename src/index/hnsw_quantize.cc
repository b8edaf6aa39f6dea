// int8 scalar quantisation of the HNSW index: per-dimension affine codes.
//
// Each dimension d maps [min_d, max_d] (taken from the training vectors) onto
// the byte codes 0..255: decoded_d = min_d + scale_d * code_d. Cosine indexes
// quantise the normalised vectors, so the code distance is 1 - dot(q/|q|, v/|v|).
// A query is not quantised (asymmetric distance): dot(q, decoded) =
// sum q_d * min_d + sum (q_d * scale_d) * code_d, one float-times-byte kernel.
// Vectors added after training that fall outside a range are clamped; the
// exact rerank of the final candidates corrects what that costs.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <vector>

#include "index/hnsw_graph.h"

namespace ksdb::index {
namespace {

// The vector to quantise: normalised for cosine (into `scratch`), else as is.
const float* QuantisationInput(const float* v, float inv_norm, DistanceSpace space, size_t dim,
                               std::vector<float>* scratch) {
  if (space != DistanceSpace::kCosine)
    return v;
  scratch->resize(dim);
  for (size_t i = 0; i < dim; ++i)
    (*scratch)[i] = v[i] * inv_norm;
  return scratch->data();
}

}  // namespace

void HnswGraph::TrainQuantizer() {
  std::vector<float> lo(dim_, std::numeric_limits<float>::infinity());
  std::vector<float> hi(dim_, -std::numeric_limits<float>::infinity());
  std::vector<float> scratch;
  // An evenly spaced sample of the live nodes.
  const size_t stride = std::max<size_t>(1, size_ / kTrainSample);
  size_t seen = 0;
  for (size_t id = 0; id < num_nodes(); ++id) {
    if (!Contains(static_cast<InternalId>(id)) || seen++ % stride != 0)
      continue;
    const InternalId node = static_cast<InternalId>(id);
    const float* v =
        QuantisationInput(Vector(node), space_ == DistanceSpace::kCosine ? InvNorm(node) : 0.0f,
                          space_, dim_, &scratch);
    for (size_t d = 0; d < dim_; ++d) {
      lo[d] = std::min(lo[d], v[d]);
      hi[d] = std::max(hi[d], v[d]);
    }
  }
  code_min_.assign(dim_, 0.0f);
  code_scale_.assign(dim_, 1.0f);
  for (size_t d = 0; d < dim_; ++d) {
    if (!(lo[d] <= hi[d]))
      continue;  // no sample (cannot happen with size_ >= kTrainMin)
    code_min_[d] = lo[d];
    // A constant dimension keeps scale 1: every code decodes to min.
    // In double: hi - lo of two huge finite floats can overflow float.
    // A range so narrow that its scale underflows to 0 counts as constant too
    // (a zero scale would divide by zero in Encode).
    const float scale = static_cast<float>((static_cast<double>(hi[d]) - lo[d]) / 255.0);
    if (hi[d] > lo[d] && scale > 0.0f)
      code_scale_[d] = scale;
  }
  trained_ = true;
  for (size_t id = 0; id < num_nodes(); ++id) {
    if (states_[id] != kEmpty)
      Encode(static_cast<InternalId>(id));
  }
}

void HnswGraph::EncodeRow(const float* vector, float inv_norm, std::byte* out,
                          std::vector<float>* scratch) const {
  const float* v = QuantisationInput(vector, inv_norm, space_, dim_, scratch);
  uint8_t* codes = reinterpret_cast<uint8_t*>(out);
  float decoded_norm = 0.0f;
  for (size_t d = 0; d < dim_; ++d) {
    // In double and clamped before the cast, so no input can make the code NaN
    // or out of range (a float-to-integer conversion out of range is UB).
    const double q = std::round((static_cast<double>(v[d]) - code_min_[d]) / code_scale_[d]);
    const float clamped = static_cast<float>(std::clamp(std::isnan(q) ? 0.0 : q, 0.0, 255.0));
    codes[d] = static_cast<uint8_t>(clamped);
    const float decoded = code_min_[d] + code_scale_[d] * clamped;
    decoded_norm += decoded * decoded;
  }
  std::memcpy(out + codes_bytes_, &decoded_norm, sizeof(decoded_norm));
}

void HnswGraph::Encode(InternalId id) {
  std::vector<float> scratch;
  EncodeRow(Vector(id), space_ == DistanceSpace::kCosine ? InvNorm(id) : 0.0f, Block(id), &scratch);
}

bool HnswGraph::CodesMatchVector(InternalId id, std::vector<std::byte>* expected,
                                 std::vector<float>* scratch) const {
  // The block prefix before the links: codes, their zero padding, |decoded|^2.
  expected->assign(links_offset_, std::byte{0});
  if (trained_ && states_[id] != kEmpty) {
    EncodeRow(Vector(id), space_ == DistanceSpace::kCosine ? InvNorm(id) : 0.0f, expected->data(),
              scratch);
  }
  return std::memcmp(Block(id), expected->data(), links_offset_) == 0;
}

HnswGraph::CodeQuery HnswGraph::PrepareCodes(const float* query) const {
  CodeQuery q;
  std::vector<float> normalised;
  const float* v = query;
  if (space_ == DistanceSpace::kCosine) {
    const PreparedQuery prepared = Prepare(query);
    v = QuantisationInput(query, prepared.inv_norm, space_, dim_, &normalised);
  }
  q.scaled.resize(dim_);
  for (size_t d = 0; d < dim_; ++d) {
    q.scaled[d] = v[d] * code_scale_[d];
    q.offset += v[d] * code_min_[d];
    q.norm_squared += v[d] * v[d];
  }
  return q;
}

}  // namespace ksdb::index
