// Datasets for the ANN benchmark: base vectors, queries and exact top-k ground
// truth, read from fvecs/ivecs files or generated from a fixed seed.
//
// Ids are 0-based base rows, which are also the InternalIds every index under
// test is given. Ground truth that is not shipped with a dataset (subsets,
// generated data, filtered queries) is computed by exact brute force with the
// project's SIMD kernels and cached on disk, keyed by everything it depends on
// and guarded by a checksum, so a later run never recomputes it.
#ifndef KSDB_BENCH_ANN_DATASET_H_
#define KSDB_BENCH_ANN_DATASET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/collection_config.h"
#include "core/id_filter.h"

namespace ksdb::bench {

// A row-major float matrix (rows x dim).
struct Matrix {
  size_t rows = 0;
  size_t dim = 0;
  std::vector<float> values;

  const float* Row(size_t r) const { return values.data() + r * dim; }
};

// Exact nearest base rows per query (queries x k, nearest first).
struct GroundTruth {
  size_t queries = 0;
  size_t k = 0;
  std::vector<uint32_t> ids;

  const uint32_t* Row(size_t q) const { return ids.data() + q * k; }
};

struct Dataset {
  std::string name;       // e.g. "glove-100-angular"
  std::string cache_key;  // identifies base+queries for ground-truth caching
  DistanceSpace space = DistanceSpace::kL2;
  Matrix base;
  Matrix queries;
  GroundTruth truth;  // unfiltered, k >= 10
};

// Reads an fvecs file (per row: int32 dim, then dim float32, little-endian).
// Reads at most `max_rows` rows (0 = all). IoError when unreadable, Corruption
// (naming the file and the row) when a row's dim differs or the file is cut short.
Result<Matrix> ReadFvecs(const std::string& path, size_t max_rows);

// Reads an ivecs file (as fvecs with int32 values) into a GroundTruth of at
// most `max_rows` rows. Same errors as ReadFvecs; Corruption on negative ids.
Result<GroundTruth> ReadIvecs(const std::string& path, size_t max_rows);

// Parameters of the generated clustered set.
struct GeneratedSpec {
  size_t num_base = 50000;
  size_t num_queries = 1000;
  size_t dim = 384;
  size_t num_clusters = 2000;
  float spread = 0.5f;  // per-dimension standard deviation around a centre (centres are N(0,1))
  uint64_t seed = 42;
};

// Gaussian clusters around random centres; queries come from the same
// clusters with another stream of the same seed. Deterministic for a given spec.
Dataset GenerateClustered(const GeneratedSpec& spec);

// Exact top-k of every query among base rows that `allowed` lists (nullptr:
// all rows), ties by smaller id, on `num_threads` threads with the SIMD kernels.
// Rows per query may be fewer than k only when fewer rows are allowed; missing
// entries are UINT32_MAX.
GroundTruth ExactTopK(const Matrix& base, const Matrix& queries, DistanceSpace space, size_t k,
                      const std::vector<uint32_t>* allowed, size_t num_threads);

// ExactTopK cached in `cache_dir` under a file named from `key`: loads it when
// present and its header and checksum match, otherwise computes and writes it
// (atomically via a temp file). A broken cache file is recomputed, not trusted.
Result<GroundTruth> CachedExactTopK(const std::string& cache_dir, const std::string& key,
                                    const Matrix& base, const Matrix& queries, DistanceSpace space,
                                    size_t k, const std::vector<uint32_t>* allowed,
                                    size_t num_threads);

// A 64-bit FNV-1a style hash of raw bytes (fast, not cryptographic), for cache keys.
uint64_t HashBytes(const void* data, size_t size, uint64_t seed);

// Loads a named dataset: "glove" (glove-100-angular), "sift" (ngt-sift5k split
// files) or "generated". `max_base` (0 = all) truncates the base; ground truth is
// then recomputed (cached) because the shipped one refers to the full base.
struct DatasetOptions {
  std::string data_dir = "/work/shared/datasets";
  std::string cache_dir;
  size_t max_base = 0;
  size_t max_queries = 0;
  size_t num_threads = 2;  // for ground truth
  GeneratedSpec generated;
};
Result<Dataset> LoadDataset(const std::string& name, const DatasetOptions& options);

// `count` distinct random base rows out of `num_base` (sorted), from `seed`.
std::vector<uint32_t> RandomSubset(size_t num_base, size_t count, uint64_t seed);

// Exact search over a base, as an engine would run it below the brute-force
// crossover: cosine rows are normalised once up front (the engine caches norms),
// the query per call. Thread-safe for concurrent Search calls.
class BruteForce {
 public:
  // Keeps a pointer to `base` (l2/ip), which must outlive this object.
  BruteForce(const Matrix& base, DistanceSpace space);
  BruteForce(const BruteForce&) = delete;
  BruteForce& operator=(const BruteForce&) = delete;

  // The k nearest rows to `query` (raw, dim floats) among `allowed` (nullptr:
  // all rows), nearest first, ties by smaller id, into out[0..k); UINT32_MAX
  // pads a short answer.
  void Search(const float* query, size_t k, const std::vector<uint32_t>* allowed,
              uint32_t* out) const;

 private:
  const Matrix* base_;  // the caller's rows (l2/ip) or normalised_ (cosine)
  Matrix normalised_;
  DistanceSpace space_;
};

// recall@k of `found` (k ids, UINT32_MAX for none) against the first k of `truth`.
double RecallAtK(const uint32_t* found, const uint32_t* truth, size_t k);

}  // namespace ksdb::bench

#endif  // KSDB_BENCH_ANN_DATASET_H_
