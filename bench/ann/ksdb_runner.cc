// The ksdb runner: HnswIndex through its public interface, raw vectors in
// (cosine indexes normalise internally), ids = base rows.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ann/ann_runner.h"
#include "index/vector_index.h"

#if KSDB_ANN_HAVE_HNSW
#include "index/hnsw_index.h"
#endif

namespace ksdb::bench {
namespace {

class KsdbRunner final : public AnnRunner {
 public:
  KsdbRunner(const BuildOptions& options, bool use_flat) : options_(options), use_flat_(use_flat) {}

  std::string name() const override {
    if (use_flat_)
      return "ksdb-flat";
    return options_.quantize_int8 ? "ksdb-int8" : "ksdb";
  }

  Status Build(const Dataset& data) override {
    KSDB_RETURN_IF_ERROR(CreateIndex(data.base.dim, data.space));
    std::vector<InternalId> ids(data.base.rows);
    std::iota(ids.begin(), ids.end(), InternalId{0});
    // One batch: the index may spread it over options_.num_threads threads.
    return index_->Upsert(ids, data.base.values);
  }

  void SetEf(size_t ef) override { ef_ = ef; }

  Status Search(const float* query, size_t k, const AllowedSet* allowed, uint32_t* out) override {
    const IdFilter* filter = allowed != nullptr ? allowed->bitmap.get() : nullptr;
    const std::span<const float> q(query, index_->dim());
    std::vector<index::Neighbor> found;
#if KSDB_ANN_HAVE_HNSW
    found =
        hnsw_ != nullptr ? hnsw_->SearchWithEf(q, k, ef_, filter) : index_->Search(q, k, filter);
#else
    found = index_->Search(q, k, filter);
#endif
    CopyOut(found, k, out);
    return Status::Ok();
  }

  bool SupportsFilter() const override {
    return true;
  }

  Status ExactAmong(const float* query, size_t k, const AllowedSet& allowed,
                    uint32_t* out) override {
    const std::vector<index::Neighbor> found =
        index_->SearchAmong(std::span<const float>(query, index_->dim()), k, allowed.ids);
    CopyOut(found, k, out);
    return Status::Ok();
  }

  Status EngineAmong(const float* query, size_t k, const AllowedSet& allowed,
                     uint32_t* out) override {
#if KSDB_ANN_HAVE_HNSW
    if (hnsw_ != nullptr) {
      CopyOut(hnsw_->SearchAllowed(std::span<const float>(query, index_->dim()), k, allowed.ids), k,
              out);
      return Status::Ok();
    }
#endif
    return ExactAmong(query, k, allowed, out);
  }

  MemoryReport Memory() const override {
    return {index_->MemoryBytes(), "VectorIndex::MemoryBytes()"};
  }

  std::string Details() const override {
    return "num_threads=" + std::to_string(options_.num_threads) +
           (options_.quantize_int8 ? " quantize_int8" : "");
  }

 private:
  static void CopyOut(const std::vector<index::Neighbor>& found, size_t k, uint32_t* out) {
    const size_t n = std::min(k, found.size());
    for (size_t i = 0; i < n; ++i)
      out[i] = found[i].internal_id;
    std::fill(out + n, out + k, UINT32_MAX);
  }

  Status CreateIndex(size_t dim, DistanceSpace space) {
    if (use_flat_) {
      index_ = index::NewFlatIndex(dim, space);
      return Status::Ok();
    }
#if KSDB_ANN_HAVE_HNSW
    index::HnswParams params;
    params.m = options_.m;
    params.ef_construction = options_.ef_construction;
    params.num_threads = options_.num_threads;
    params.quantize_int8 = options_.quantize_int8;
    // The int8 configuration keeps its float32 vectors in a memory-mapped
    // scratch file (unlinked at once), so MemoryBytes counts codes and graph.
    if (params.quantize_int8) {
      params.vectors_file = (std::filesystem::temp_directory_path() /
                             ("ksdb-ann-vectors-" + std::to_string(::getpid())))
                                .string();
    }
    KSDB_ASSIGN_OR_RETURN(std::unique_ptr<index::HnswIndex> hnsw,
                          index::NewHnswIndex(dim, space, params));
    hnsw_ = hnsw.get();
    index_ = std::move(hnsw);
    return Status::Ok();
#else
    (void)dim;
    (void)space;
    return Status::InvalidArgument("ksdb HNSW index not built into this binary");
#endif
  }

  BuildOptions options_;
  bool use_flat_;
  size_t ef_ = 100;
  std::unique_ptr<index::VectorIndex> index_;
#if KSDB_ANN_HAVE_HNSW
  index::HnswIndex* hnsw_ = nullptr;  // index_ viewed as HNSW; null for the flat index
#endif
};

}  // namespace

bool KsdbHnswAvailable() {
  return KSDB_ANN_HAVE_HNSW != 0;
}

Result<std::unique_ptr<AnnRunner>> MakeKsdbRunner(const BuildOptions& options, bool use_flat) {
  if (!use_flat && !KsdbHnswAvailable()) {
    return Status::InvalidArgument(
        "this ann_bench was built without src/index/hnsw_index.cc; use --ksdb-flat to test the "
        "harness with the exact flat index");
  }
  return std::unique_ptr<AnnRunner>(std::make_unique<KsdbRunner>(options, use_flat));
}

}  // namespace ksdb::bench
