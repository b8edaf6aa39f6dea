// FlatIndex: exact brute-force search over vectors stored by internal id.
//
// Layout: row r of `data_` (dim floats, row-major) holds the vector of internal
// id r when `present_[r]` is set. Rows grow geometrically to cover the largest
// id seen; removed rows become holes that a later Upsert may fill again. For
// cosine, `norms_[r]` caches |v| so a search costs one dot product per row, and
// the stored vector stays exactly as given (Chroma returns it unnormalised).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "index/top_k.h"
#include "index/vector_index.h"
#include "simd/distance.h"

namespace ksdb::index {
namespace {

constexpr size_t kMinRowCapacity = 16;

bool AllFinite(std::span<const float> values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

class FlatIndex final : public VectorIndex {
 public:
  FlatIndex(size_t dim, DistanceSpace space)
      : dim_(dim), space_(space), kernels_(&simd::ActiveKernels()) {}

  size_t dim() const override { return dim_; }
  DistanceSpace space() const override { return space_; }
  size_t size() const override { return size_; }

  Status Upsert(std::span<const InternalId> ids, std::span<const float> vectors) override;
  void Remove(std::span<const InternalId> ids) override;
  bool Contains(InternalId id) const override { return id < present_.size() && present_[id]; }
  std::span<const float> GetVector(InternalId id) const override;
  std::vector<Neighbor> Search(std::span<const float> query, size_t k,
                               const IdFilter* filter) const override;
  std::vector<Neighbor> SearchAmong(std::span<const float> query, size_t k,
                                    std::span<const InternalId> candidates) const override;
  size_t MemoryBytes() const override;

 private:
  bool UsesNorms() const { return space_ == DistanceSpace::kCosine; }
  const float* Row(InternalId id) const { return data_.data() + static_cast<size_t>(id) * dim_; }
  float Norm(const float* v) const { return std::sqrt(kernels_->norm_squared(v, dim_)); }

  // Makes rows [0, rows) addressable. Strong guarantee: on failure nothing changed
  // that a reader could observe.
  Status EnsureRows(size_t rows);
  void WriteRow(InternalId id, const float* vector);

  size_t dim_;
  DistanceSpace space_;
  const simd::Kernels* kernels_;
  std::vector<float> data_;       // rows x dim_, row-major
  std::vector<uint8_t> present_;  // one flag per row; its size is the row count
  std::vector<float> norms_;      // |v| per row, cosine only
  size_t size_ = 0;
};

Status FlatIndex::EnsureRows(size_t rows) {
  if (rows <= present_.size())
    return Status::Ok();
  size_t capacity = std::max(kMinRowCapacity, present_.capacity());
  while (capacity < rows)
    capacity *= 2;
  // std::vector offers the strong guarantee for these, so a failed allocation
  // leaves the index as it was; the exception (bad_alloc, or length_error for an
  // absurd id) must not cross the layer boundary.
  try {
    data_.reserve(capacity * dim_);
    present_.reserve(capacity);
    if (UsesNorms())
      norms_.reserve(capacity);
    data_.resize(rows * dim_, 0.0f);
    present_.resize(rows, 0);
    if (UsesNorms())
      norms_.resize(rows, 0.0f);
  } catch (const std::exception&) {
    return Status::Internal("flat index: out of memory growing to " + std::to_string(rows) +
                            " rows");
  }
  return Status::Ok();
}

void FlatIndex::WriteRow(InternalId id, const float* vector) {
  float* row = data_.data() + static_cast<size_t>(id) * dim_;
  std::copy(vector, vector + dim_, row);
  if (UsesNorms())
    norms_[id] = Norm(row);
  if (!present_[id]) {
    present_[id] = 1;
    ++size_;
  }
}

Status FlatIndex::Upsert(std::span<const InternalId> ids, std::span<const float> vectors) {
  if (vectors.size() != ids.size() * dim_) {
    return Status::InvalidArgument("flat index: expected " + std::to_string(ids.size()) + " x " +
                                   std::to_string(dim_) + " floats, got " +
                                   std::to_string(vectors.size()));
  }
  if (!AllFinite(vectors)) {
    return Status::InvalidArgument("flat index: vectors must be finite");
  }
  if (ids.empty())
    return Status::Ok();
  const InternalId max_id = *std::max_element(ids.begin(), ids.end());
  KSDB_RETURN_IF_ERROR(EnsureRows(static_cast<size_t>(max_id) + 1));
  // In order, so a repeated id keeps its last vector.
  for (size_t i = 0; i < ids.size(); ++i)
    WriteRow(ids[i], vectors.data() + i * dim_);
  return Status::Ok();
}

void FlatIndex::Remove(std::span<const InternalId> ids) {
  for (InternalId id : ids) {
    if (!Contains(id))
      continue;
    present_[id] = 0;
    --size_;
  }
}

std::span<const float> FlatIndex::GetVector(InternalId id) const {
  if (!Contains(id))
    return {};
  return {Row(id), dim_};
}

std::vector<Neighbor> FlatIndex::Search(std::span<const float> query, size_t k,
                                        const IdFilter* filter) const {
  // A query of the wrong length has no meaningful distance; the engine checks
  // dimensions before it gets here.
  if (k == 0 || query.size() != dim_ || size_ == 0)
    return {};
  const float query_norm = UsesNorms() ? Norm(query.data()) : 0.0f;
  TopK top(std::min(k, size_));
  const size_t rows = present_.size();
  for (size_t r = 0; r < rows; ++r) {
    const InternalId id = static_cast<InternalId>(r);
    if (!present_[r] || (filter != nullptr && !filter->IsMember(id)))
      continue;
    const float vector_norm = UsesNorms() ? norms_[r] : 0.0f;
    top.Offer(
        {simd::Distance(*kernels_, space_, query.data(), query_norm, Row(id), vector_norm, dim_),
         id});
  }
  return top.TakeSorted();
}

std::vector<Neighbor> FlatIndex::SearchAmong(std::span<const float> query, size_t k,
                                             std::span<const InternalId> candidates) const {
  if (k == 0 || query.size() != dim_ || size_ == 0)
    return {};
  const float query_norm = UsesNorms() ? Norm(query.data()) : 0.0f;
  TopK top(k);
  for (InternalId id : candidates) {
    if (!Contains(id))
      continue;
    const float vector_norm = UsesNorms() ? norms_[id] : 0.0f;
    top.Offer(
        {simd::Distance(*kernels_, space_, query.data(), query_norm, Row(id), vector_norm, dim_),
         id});
  }
  return top.TakeSorted();
}

size_t FlatIndex::MemoryBytes() const {
  return data_.capacity() * sizeof(float) + present_.capacity() * sizeof(uint8_t) +
         norms_.capacity() * sizeof(float);
}

}  // namespace

std::unique_ptr<VectorIndex> NewFlatIndex(size_t dim, DistanceSpace space) {
  return std::make_unique<FlatIndex>(dim, space);
}

}  // namespace ksdb::index
