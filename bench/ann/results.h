// What one benchmark run measured, and its two renderings: machine-readable
// JSON and a markdown summary (with the targets checked).
#ifndef KSDB_BENCH_ANN_RESULTS_H_
#define KSDB_BENCH_ANN_RESULTS_H_

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ksdb::bench {

// One ef_search setting of one library: recall@10 and the median queries/s of
// the repeated passes (each pass: every query once, one at a time, one thread).
struct EfPoint {
  size_t ef = 0;
  double recall = 0;
  double qps = 0;
  std::vector<double> pass_qps;
};

struct LibraryResult {
  std::string name;  // "ksdb", "ksdb-int8", "hnswlib", "faiss"
  std::string details;
  std::string error;  // non-empty: the library failed and the rest is empty
  size_t build_threads = 1;
  double build_seconds = 0;
  double build_vectors_per_s = 0;
  size_t memory_bytes = 0;
  double memory_per_vector = 0;
  std::string memory_method;
  double rss_delta_per_vector = 0;  // resident-set growth over the build / n (a cross-check)
  std::vector<EfPoint> points;
};

// One library's filtered sweep at one selectivity.
struct FilteredLibrary {
  std::string name;
  bool supported = true;
  std::string note;       // why unsupported, or what went wrong
  size_t violations = 0;  // answers outside the allowed set (must be 0)
  std::vector<EfPoint> points;
};

struct FilteredResult {
  double selectivity = 0;
  size_t allowed = 0;
  double brute_force_qps = 0;   // exact search over the allowed ids (the bench's own loop)
  double ksdb_exact_qps = NAN;  // the same through ksdb's VectorIndex::SearchAmong
  double ksdb_exact_recall = NAN;
  // The same through HnswIndex::SearchAllowed (the engine's list scan), and
  // which scan index::PickAllowedScan chose for it ("exact" or "sketch").
  double ksdb_engine_qps = NAN;
  double ksdb_engine_recall = NAN;
  std::string ksdb_engine_scan;
  std::vector<FilteredLibrary> libraries;
};

struct ParallelBuild {
  size_t threads = 0;
  double seconds = 0;
  double vectors_per_s = 0;
  double speedup = 0;           // over ksdb's 1-thread build
  std::vector<EfPoint> points;  // one pass each: recall check of the parallel graph
};

struct DatasetResult {
  std::string name;
  std::string space;
  size_t num_base = 0;
  size_t num_queries = 0;
  size_t dim = 0;
  size_t m = 16;
  std::vector<LibraryResult> libraries;
  std::optional<ParallelBuild> parallel_build;
  std::vector<FilteredResult> filtered;
};

struct RunInfo {
  std::string command_line;
  std::string cpu;
  std::string simd_level;
  unsigned hardware_threads = 0;
  size_t passes = 0;
  size_t k = 10;
  size_t ef_construction = 200;
  std::string started_utc;
};

// Smallest-ef point with recall >= `target`, or nullptr.
const EfPoint* FirstReaching(const std::vector<EfPoint>& points, double target);
// The library named `name`, or nullptr.
const LibraryResult* FindLibrary(const DatasetResult& d, const std::string& name);

// The whole run as JSON (one object: "run", "datasets").
std::string ToJson(const RunInfo& run, const std::vector<DatasetResult>& datasets);
// Markdown tables per dataset plus the targets summary.
std::string ToMarkdown(const RunInfo& run, const std::vector<DatasetResult>& datasets);

}  // namespace ksdb::bench

#endif  // KSDB_BENCH_ANN_RESULTS_H_
