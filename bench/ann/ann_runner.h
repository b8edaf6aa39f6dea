// AnnRunner: one library's HNSW index under test, behind a common interface so
// the benchmark drives ksdb, hnswlib and FAISS with the same loops.
//
// Every runner is given raw base vectors and raw queries; a runner that needs
// normalised vectors for cosine (hnswlib, FAISS) normalises its own copies,
// inside the timed build and search calls, as a user of that library would.
// Runners are single-threaded objects: the caller never calls one concurrently.
#ifndef KSDB_BENCH_ANN_ANN_RUNNER_H_
#define KSDB_BENCH_ANN_ANN_RUNNER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ann/dataset.h"
#include "common/result.h"
#include "core/id_filter.h"

namespace ksdb::bench {

// An allowed set of base rows in the forms the libraries take.
struct AllowedSet {
  double selectivity = 1.0;
  std::vector<uint32_t> ids;               // sorted
  std::unique_ptr<BitmapIdFilter> bitmap;  // for ksdb
  std::vector<uint8_t> bytes;              // bit (i % 8) of bytes[i / 8]: FAISS's IDSelectorBitmap

  // Builds all forms for `ids` over `num_base` rows.
  static AllowedSet FromIds(std::vector<uint32_t> ids, size_t num_base, double selectivity);
};

struct BuildOptions {
  size_t m = 16;
  size_t ef_construction = 200;
  size_t num_threads = 1;
  bool quantize_int8 = false;  // ksdb only
};

// Heap memory of a built index and how it was measured.
struct MemoryReport {
  size_t bytes = 0;
  std::string method;
};

class AnnRunner {
 public:
  virtual ~AnnRunner() = default;

  // Display name, e.g. "ksdb", "ksdb-int8", "hnswlib", "faiss".
  virtual std::string name() const = 0;
  // Inserts every base row of `data` with id = row number. Called once.
  virtual Status Build(const Dataset& data) = 0;
  // Sets the search candidate list size used by later Search calls.
  virtual void SetEf(size_t ef) = 0;
  // The k nearest ids to `query` (raw, dim floats), nearest first, into
  // out[0..k); UINT32_MAX pads a short answer. `allowed` nullptr = no filter;
  // only called with a filter when SupportsFilter().
  virtual Status Search(const float* query, size_t k, const AllowedSet* allowed, uint32_t* out) = 0;
  virtual bool SupportsFilter() const = 0;
  // Exact top-k among `allowed`'s ids through the library's own scan (ksdb:
  // VectorIndex::SearchAmong, the engine's path for selective filters).
  // Unimplemented for libraries without one.
  virtual Status ExactAmong(const float* /*query*/, size_t /*k*/, const AllowedSet& /*allowed*/,
                            uint32_t* /*out*/) {
    return Status::Unimplemented(name() + " has no exact scan over an id list");
  }
  // Top-k among `allowed`'s ids the way the engine answers a selective filter
  // from its id list (ksdb: HnswIndex::SearchAllowed, the exact or the sketch
  // scan by index::PickAllowedScan). Unimplemented for other libraries.
  virtual Status EngineAmong(const float* /*query*/, size_t /*k*/, const AllowedSet& /*allowed*/,
                             uint32_t* /*out*/) {
    return Status::Unimplemented(name() + " has no engine scan over an id list");
  }
  // Why filtering is unsupported (empty when supported).
  virtual std::string FilterNote() const { return {}; }
  virtual MemoryReport Memory() const = 0;
  // Compile-time facts worth recording (SIMD flags, version), may be empty.
  virtual std::string Details() const { return {}; }
};

// ksdb's HnswIndex (or, when `use_flat`, the exact flat index, for testing the
// harness while HNSW is missing; ef is then ignored). InvalidArgument when
// HNSW is requested but this binary was built without it.
Result<std::unique_ptr<AnnRunner>> MakeKsdbRunner(const BuildOptions& options, bool use_flat);
// Whether this binary links ksdb's HnswIndex.
bool KsdbHnswAvailable();
// hnswlib 0.6.2 HierarchicalNSW (InnerProductSpace on normalised vectors for cosine).
std::unique_ptr<AnnRunner> MakeHnswlibRunner(const BuildOptions& options);
// FAISS IndexHNSWFlat (METRIC_INNER_PRODUCT on normalised vectors for cosine).
std::unique_ptr<AnnRunner> MakeFaissRunner(const BuildOptions& options);

}  // namespace ksdb::bench

#endif  // KSDB_BENCH_ANN_ANN_RUNNER_H_
