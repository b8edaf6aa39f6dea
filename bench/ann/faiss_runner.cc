// The FAISS 1.7.3 runner (Debian libfaiss-dev): IndexHNSWFlat, one OpenMP
// thread. FAISS throws faiss::FaissException (a std::exception); every call
// into it is caught here. Filtered search passes an IDSelectorBitmap through
// SearchParametersHNSW; whether 1.7.3's HNSW honours it is checked by the
// benchmark from the answers, not assumed. 1.7.3 does not fully apply
// SearchParametersHNSW::efSearch (recall stops growing with ef when it is the
// only setting), so ef is also set on index.hnsw.efSearch, and unfiltered
// searches pass no parameters at all.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "ann/ann_runner.h"

namespace ksdb::bench {
namespace {

void NormaliseRows(float* rows, size_t count, size_t dim) {
  for (size_t r = 0; r < count; ++r) {
    float* v = rows + r * dim;
    float sum = 0;
    for (size_t i = 0; i < dim; ++i)
      sum += v[i] * v[i];
    const float inv = sum > 0 ? 1.0f / std::sqrt(sum) : 0.0f;
    for (size_t i = 0; i < dim; ++i)
      v[i] *= inv;
  }
}

class FaissRunner final : public AnnRunner {
 public:
  explicit FaissRunner(const BuildOptions& options) : options_(options) {}

  std::string name() const override { return "faiss"; }

  Status Build(const Dataset& data) override {
    omp_set_num_threads(static_cast<int>(options_.num_threads));
    dim_ = data.base.dim;
    cosine_ = data.space == DistanceSpace::kCosine;
    scratch_.resize(dim_);
    try {
      index_ = std::make_unique<faiss::IndexHNSWFlat>(
          static_cast<int>(dim_), static_cast<int>(options_.m),
          cosine_ ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2);
      index_->hnsw.efConstruction = static_cast<int>(options_.ef_construction);
      if (cosine_) {
        std::vector<float> normalised = data.base.values;
        NormaliseRows(normalised.data(), data.base.rows, dim_);
        index_->add(static_cast<faiss::Index::idx_t>(data.base.rows), normalised.data());
      } else {
        index_->add(static_cast<faiss::Index::idx_t>(data.base.rows), data.base.values.data());
      }
    } catch (const std::exception& e) {
      return Status::Internal(std::string("faiss build failed: ") + e.what());
    }
    return Status::Ok();
  }

  void SetEf(size_t ef) override {
    params_.efSearch = static_cast<int>(ef);
    index_->hnsw.efSearch = static_cast<int>(ef);
  }

  Status Search(const float* query, size_t k, const AllowedSet* allowed, uint32_t* out) override {
    const float* q = query;
    if (cosine_) {
      std::copy(query, query + dim_, scratch_.begin());
      NormaliseRows(scratch_.data(), 1, dim_);
      q = scratch_.data();
    }
    labels_.resize(k);
    distances_.resize(k);
    std::unique_ptr<faiss::IDSelectorBitmap> selector;
    faiss::SearchParametersHNSW params = params_;
    if (allowed != nullptr) {
      selector =
          std::make_unique<faiss::IDSelectorBitmap>(allowed->bytes.size(), allowed->bytes.data());
      params.sel = selector.get();
    }
    try {
      index_->search(1, q, static_cast<faiss::Index::idx_t>(k), distances_.data(), labels_.data(),
                     allowed != nullptr ? &params : nullptr);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("faiss search failed: ") + e.what());
    }
    for (size_t i = 0; i < k; ++i)
      out[i] = labels_[i] < 0 ? UINT32_MAX : static_cast<uint32_t>(labels_[i]);
    return Status::Ok();
  }

  bool SupportsFilter() const override { return true; }

  MemoryReport Memory() const override {
    const faiss::HNSW& h = index_->hnsw;
    size_t bytes = h.neighbors.capacity() * sizeof(faiss::HNSW::storage_idx_t) +
                   h.offsets.capacity() * sizeof(size_t) + h.levels.capacity() * sizeof(int) +
                   h.assign_probas.capacity() * sizeof(double) +
                   h.cum_nneighbor_per_level.capacity() * sizeof(int);
    const auto* flat = dynamic_cast<const faiss::IndexFlatCodes*>(index_->storage);
    if (flat != nullptr)
      bytes += flat->codes.capacity();
    return {bytes,
            "allocation sizes: storage codes + hnsw.neighbors/offsets/levels vector capacities"};
  }

  std::string Details() const override { return "faiss 1.7.3 (Debian static build)"; }

 private:
  BuildOptions options_;
  size_t dim_ = 0;
  bool cosine_ = false;
  std::unique_ptr<faiss::IndexHNSWFlat> index_;
  faiss::SearchParametersHNSW params_;
  std::vector<float> scratch_;
  std::vector<float> distances_;
  std::vector<faiss::Index::idx_t> labels_;
};

}  // namespace

std::unique_ptr<AnnRunner> MakeFaissRunner(const BuildOptions& options) {
  return std::make_unique<FaissRunner>(options);
}

}  // namespace ksdb::bench
