// The hnswlib 0.6.2 runner (Debian libhnswlib-dev, header-only). hnswlib throws
// std::exception on failure; every call into it is caught here and turned into
// a Status. 0.6.2 has no filtered search.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ann/ann_runner.h"

namespace ksdb::bench {
namespace {

// Copies `src` to `dst` scaled to unit length (zero vectors stay zero).
void Normalise(const float* src, size_t dim, float* dst) {
  float sum = 0;
  for (size_t i = 0; i < dim; ++i)
    sum += src[i] * src[i];
  const float inv = sum > 0 ? 1.0f / std::sqrt(sum) : 0.0f;
  for (size_t i = 0; i < dim; ++i)
    dst[i] = src[i] * inv;
}

class HnswlibRunner final : public AnnRunner {
 public:
  explicit HnswlibRunner(const BuildOptions& options) : options_(options) {}

  std::string name() const override { return "hnswlib"; }

  Status Build(const Dataset& data) override {
    dim_ = data.base.dim;
    cosine_ = data.space == DistanceSpace::kCosine;
    scratch_.resize(dim_);
    try {
      if (data.space == DistanceSpace::kL2) {
        space_ = std::make_unique<hnswlib::L2Space>(dim_);
      } else {
        space_ = std::make_unique<hnswlib::InnerProductSpace>(dim_);
      }
      index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(
          space_.get(), data.base.rows, options_.m, options_.ef_construction);
      for (size_t r = 0; r < data.base.rows; ++r)
        index_->addPoint(Prepare(data.base.Row(r)), r);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("hnswlib build failed: ") + e.what());
    }
    return Status::Ok();
  }

  void SetEf(size_t ef) override { index_->setEf(ef); }

  Status Search(const float* query, size_t k, const AllowedSet* /*allowed*/,
                uint32_t* out) override {
    try {
      auto heap = index_->searchKnn(Prepare(query), k);
      // The heap yields the farthest first; fill from the back.
      std::fill(out, out + k, UINT32_MAX);
      size_t n = heap.size();
      while (!heap.empty()) {
        out[--n] = static_cast<uint32_t>(heap.top().second);
        heap.pop();
      }
    } catch (const std::exception& e) {
      return Status::Internal(std::string("hnswlib search failed: ") + e.what());
    }
    return Status::Ok();
  }

  bool SupportsFilter() const override { return false; }
  std::string FilterNote() const override {
    return "hnswlib 0.6.2 has no filtered search (added in 0.7.0)";
  }

  MemoryReport Memory() const override {
    const auto& h = *index_;
    size_t bytes = h.max_elements_ * h.size_data_per_element_;  // level 0: links + vector + label
    bytes += h.max_elements_ * sizeof(char*);                   // linkLists_ pointer table
    for (size_t i = 0; i < h.cur_element_count; ++i)
      bytes += static_cast<size_t>(h.element_levels_[i]) * h.size_links_per_element_;
    bytes += h.element_levels_.capacity() * sizeof(int);
    bytes += (h.link_list_locks_.size() + h.link_list_update_locks_.size()) * sizeof(std::mutex);
    // libstdc++ unordered_map node: next pointer + pair<size_t, uint32>, 32 B
    // after malloc rounding; plus the bucket array.
    bytes += h.label_lookup_.size() * 32 + h.label_lookup_.bucket_count() * sizeof(void*);
    // One visited list (a uint16 per element) is kept per searching thread.
    bytes += h.max_elements_ * sizeof(hnswlib::vl_type);
    return {bytes,
            "allocation sizes: level-0 block (size_data_per_element_), upper-level link lists, "
            "link-list pointer table, element levels, per-element and update mutexes, label map "
            "(32 B/entry + buckets), one visited list"};
  }

  std::string Details() const override { return HNSWLIB_SIMD; }

 private:
  const float* Prepare(const float* v) {
    if (!cosine_)
      return v;
    Normalise(v, dim_, scratch_.data());
    return scratch_.data();
  }

  BuildOptions options_;
  size_t dim_ = 0;
  bool cosine_ = false;
  std::vector<float> scratch_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;

#if defined(USE_AVX512)
  static constexpr const char* HNSWLIB_SIMD = "hnswlib kernels: AVX512";
#elif defined(USE_AVX)
  static constexpr const char* HNSWLIB_SIMD = "hnswlib kernels: AVX";
#elif defined(USE_SSE)
  static constexpr const char* HNSWLIB_SIMD = "hnswlib kernels: SSE";
#else
  static constexpr const char* HNSWLIB_SIMD = "hnswlib kernels: scalar";
#endif
};

}  // namespace

std::unique_ptr<AnnRunner> MakeHnswlibRunner(const BuildOptions& options) {
  return std::make_unique<HnswlibRunner>(options);
}

}  // namespace ksdb::bench
