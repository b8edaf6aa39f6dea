// ann_bench: ksdb's HnswIndex against hnswlib 0.6.2 and FAISS 1.7.3
// IndexHNSWFlat on the same data and parameters (issue 3).
//
// For every dataset and library: build vectors/s (one thread; ksdb also with
// several), memory per vector, and for each ef_search recall@10 and queries/s
// (one thread, queries one at a time, median of --passes passes). Filtered
// queries at several selectivities compare filtered HNSW with exact search over
// the allowed ids. JSON goes to --json, a markdown summary to stdout and
// progress to stderr. See bench/ann/README.md.
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ann/ann_runner.h"
#include "ann/dataset.h"
#include "ann/results.h"
#include "index/hnsw_index.h"
#include "simd/distance.h"

namespace ksdb::bench {
namespace {

constexpr size_t kK = 10;

struct Options {
  std::vector<std::string> datasets = {"glove", "sift", "generated"};
  // The peers first: hnswlib's search slows as the process ages (its level-0
  // block is on 4 KiB pages: 9,738 q/s on glove at ef 96 when measured first,
  // 6,972 after ksdb's builds and sweeps; ksdb's huge-page blocks do not care),
  // so measuring them in a fresh process keeps the ratios from favouring ksdb.
  std::vector<std::string> libraries = {"hnswlib", "faiss", "ksdb", "ksdb-int8"};
  std::vector<size_t> efs = {10, 16, 24, 32, 48, 64, 96, 128, 200, 256};
  std::vector<size_t> filter_efs = {10, 32, 64, 128, 256};
  std::vector<double> selectivities = {0.5, 0.1, 0.01, 0.001};
  size_t passes = 3;
  double min_pass_seconds = 0.2;
  double max_setting_seconds = 30;
  size_t m = 16;
  size_t ef_construction = 200;
  size_t parallel_threads = 2;  // 0: skip ksdb's parallel build
  size_t filter_queries = 100;  // 0: all queries
  bool ksdb_flat = false;
  uint64_t filter_seed = 7;
  std::string json_path = "bench/ann/results/latest.json";
  DatasetOptions data;
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double Median(std::vector<double> v) {
  if (v.empty())
    return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages_total = 0;
  size_t pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// One timed pass: every query once, repeated until at least `min_seconds`
// have passed (small query sets would otherwise be timed in microseconds).
// Returns queries/s, or the first error of `run_query(q)`.
template <typename RunQuery>
Result<double> TimedPass(size_t num_queries, double min_seconds, RunQuery&& run_query) {
  const auto start = std::chrono::steady_clock::now();
  size_t done = 0;
  double elapsed = 0;
  do {
    for (size_t q = 0; q < num_queries; ++q)
      KSDB_RETURN_IF_ERROR(run_query(q));
    done += num_queries;
    elapsed = Seconds(start);
  } while (elapsed < min_seconds);
  return static_cast<double>(done) / elapsed;
}

void Progress(const std::string& message) {
  std::fprintf(stderr, "ann_bench: %s\n", message.c_str());
}

// Runs every query `passes` times at each ef; recall from the last pass.
// Counts answers outside `allowed` into *violations when a filter is given.
Result<std::vector<EfPoint>> Sweep(AnnRunner* runner, const Matrix& queries, size_t num_queries,
                                   const GroundTruth& truth, const std::vector<size_t>& efs,
                                   size_t passes, double min_seconds, double max_seconds,
                                   const AllowedSet* allowed, size_t* violations) {
  std::vector<EfPoint> points;
  std::vector<uint32_t> found(num_queries * kK);
  for (size_t ef : efs) {
    runner->SetEf(ef);
    EfPoint point;
    point.ef = ef;
    const auto setting_start = std::chrono::steady_clock::now();
    // Stop repeating once a slow setting (e.g. a very selective filter) has
    // used its time budget; at least one pass always runs.
    for (size_t pass = 0; pass < passes && (pass == 0 || Seconds(setting_start) < max_seconds);
         ++pass) {
      KSDB_ASSIGN_OR_RETURN(double qps, TimedPass(num_queries, min_seconds, [&](size_t q) {
                              return runner->Search(queries.Row(q), kK, allowed,
                                                    found.data() + q * kK);
                            }));
      point.pass_qps.push_back(qps);
    }
    point.qps = Median(point.pass_qps);
    double recall_sum = 0;
    for (size_t q = 0; q < num_queries; ++q)
      recall_sum += RecallAtK(found.data() + q * kK, truth.Row(q), kK);
    point.recall = recall_sum / static_cast<double>(num_queries);
    if (allowed != nullptr) {
      for (uint32_t id : found) {
        if (id != UINT32_MAX && !allowed->bitmap->IsMember(id))
          ++*violations;
      }
    }
    points.push_back(std::move(point));
  }
  return points;
}

struct FilterCase {
  AllowedSet allowed;
  GroundTruth truth;
};

Result<std::vector<FilterCase>> MakeFilterCases(const Dataset& d, size_t num_queries,
                                                const Options& options) {
  std::vector<FilterCase> cases;
  Matrix queries{num_queries, d.queries.dim,
                 std::vector<float>(d.queries.values.begin(),
                                    d.queries.values.begin() + num_queries * d.queries.dim)};
  for (size_t i = 0; i < options.selectivities.size(); ++i) {
    const double s = options.selectivities[i];
    const size_t count = std::max<size_t>(1, static_cast<size_t>(std::llround(s * d.base.rows)));
    FilterCase c;
    c.allowed = AllowedSet::FromIds(RandomSubset(d.base.rows, count, options.filter_seed + i),
                                    d.base.rows, s);
    Progress(d.name + ": exact filtered ground truth at " + std::to_string(s * 100) + "% (" +
             std::to_string(count) + " allowed)");
    KSDB_ASSIGN_OR_RETURN(
        c.truth, CachedExactTopK(options.data.cache_dir, d.name + "-filtered", d.base, queries,
                                 d.space, kK, &c.allowed.ids, options.data.num_threads));
    cases.push_back(std::move(c));
  }
  return cases;
}

// Exact search over the allowed ids, one thread, queries one at a time.
double BruteForceQps(const BruteForce& brute, const Dataset& d, size_t num_queries,
                     const FilterCase& c, size_t passes, double min_seconds) {
  std::vector<uint32_t> found(kK);
  std::vector<double> pass_qps;
  for (size_t pass = 0; pass < passes; ++pass) {
    const Result<double> qps = TimedPass(num_queries, min_seconds, [&](size_t q) {
      brute.Search(d.queries.Row(q), kK, &c.allowed.ids, found.data());
      return Status::Ok();
    });
    pass_qps.push_back(qps.value());
  }
  return Median(pass_qps);
}

Result<std::unique_ptr<AnnRunner>> MakeRunner(const std::string& name, const Options& options,
                                              size_t threads) {
  BuildOptions build;
  build.m = options.m;
  build.ef_construction = options.ef_construction;
  build.num_threads = threads;
  if (name == "ksdb" || name == "ksdb-int8") {
    build.quantize_int8 = name == "ksdb-int8";
    return MakeKsdbRunner(build, options.ksdb_flat);
  }
  if (name == "hnswlib")
    return MakeHnswlibRunner(build);
  if (name == "faiss")
    return MakeFaissRunner(build);
  return Status::InvalidArgument("unknown library '" + name +
                                 "' (expected ksdb, ksdb-int8, hnswlib or faiss)");
}

// Builds the index; fills the build and memory fields of *result.
Status TimedBuild(AnnRunner* runner, const Dataset& d, LibraryResult* result) {
  Progress(d.name + ": building " + result->name + " (" + std::to_string(d.base.rows) +
           " vectors, " + std::to_string(result->build_threads) + " thread(s))");
  // Hand freed heap back to the OS first, so the delta is this build's growth.
  malloc_trim(0);
  const size_t rss_before = ResidentBytes();
  const auto start = std::chrono::steady_clock::now();
  KSDB_RETURN_IF_ERROR(runner->Build(d));
  result->build_seconds = Seconds(start);
  const double n = static_cast<double>(d.base.rows);
  result->build_vectors_per_s = n / result->build_seconds;
  result->rss_delta_per_vector =
      static_cast<double>(ResidentBytes()) / n - static_cast<double>(rss_before) / n;
  const MemoryReport memory = runner->Memory();
  result->memory_bytes = memory.bytes;
  result->memory_per_vector = static_cast<double>(memory.bytes) / n;
  result->memory_method = memory.method;
  result->details = runner->Details();
  Progress(d.name + ": " + result->name + " built in " + std::to_string(result->build_seconds) +
           " s (" + std::to_string(static_cast<long>(result->build_vectors_per_s)) +
           " vectors/s), " + std::to_string(static_cast<long>(result->memory_per_vector)) +
           " B/vector");
  return Status::Ok();
}

// A runner's scan over an id list (AnnRunner::ExactAmong or EngineAmong).
using AmongMethod = Status (AnnRunner::*)(const float*, size_t, const AllowedSet&, uint32_t*);

// Median qps and recall of `runner`'s `method` over the allowed ids into
// *qps / *recall; leaves them unchanged when the runner has no such scan.
Status MeasureAmong(AnnRunner* runner, AmongMethod method, const Dataset& d, size_t num_queries,
                    const FilterCase& c, size_t passes, double min_seconds, double* qps,
                    double* recall) {
  std::vector<uint32_t> found(num_queries * kK);
  if ((runner->*method)(d.queries.Row(0), kK, c.allowed, found.data()).code() ==
      StatusCode::kUnimplemented) {
    return Status::Ok();
  }
  std::vector<double> pass_qps;
  for (size_t pass = 0; pass < passes; ++pass) {
    KSDB_ASSIGN_OR_RETURN(double pass_rate, TimedPass(num_queries, min_seconds, [&](size_t q) {
                            return (runner->*method)(d.queries.Row(q), kK, c.allowed,
                                                     found.data() + q * kK);
                          }));
    pass_qps.push_back(pass_rate);
  }
  double recall_sum = 0;
  for (size_t q = 0; q < num_queries; ++q)
    recall_sum += RecallAtK(found.data() + q * kK, c.truth.Row(q), kK);
  *qps = Median(pass_qps);
  *recall = recall_sum / static_cast<double>(num_queries);
  return Status::Ok();
}

// The runner's exact scan (ksdb's SearchAmong) and engine scan (ksdb's
// SearchAllowed) over the allowed ids, into *f.
Status MeasureListScans(AnnRunner* runner, const Dataset& d, size_t num_queries,
                        const FilterCase& c, size_t passes, double min_seconds, FilteredResult* f) {
  KSDB_RETURN_IF_ERROR(MeasureAmong(runner, &AnnRunner::ExactAmong, d, num_queries, c, passes,
                                    min_seconds, &f->ksdb_exact_qps, &f->ksdb_exact_recall));
  KSDB_RETURN_IF_ERROR(MeasureAmong(runner, &AnnRunner::EngineAmong, d, num_queries, c, passes,
                                    min_seconds, &f->ksdb_engine_qps, &f->ksdb_engine_recall));
  f->ksdb_engine_scan =
      index::PickAllowedScan(c.allowed.ids.size(), kK, d.base.dim) == index::AllowedScan::kSketch
          ? "sketch"
          : "exact";
  return Status::Ok();
}

// One library end to end: build, unfiltered sweep, filtered sweeps.
Status RunLibrary(const std::string& name, const Dataset& d, const Options& options,
                  const std::vector<FilterCase>& cases, size_t filter_queries, DatasetResult* out) {
  LibraryResult result;
  result.name = name;
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<AnnRunner> runner, MakeRunner(name, options, 1));
  result.name = runner->name();
  KSDB_RETURN_IF_ERROR(TimedBuild(runner.get(), d, &result));
  Progress(d.name + ": " + result.name + " search sweep");
  KSDB_ASSIGN_OR_RETURN(result.points, Sweep(runner.get(), d.queries, d.queries.rows, d.truth,
                                             options.efs, options.passes, options.min_pass_seconds,
                                             options.max_setting_seconds, nullptr, nullptr));
  out->libraries.push_back(std::move(result));
  for (size_t i = 0; i < cases.size(); ++i) {
    FilteredLibrary filtered;
    filtered.name = runner->name();
    filtered.supported = runner->SupportsFilter();
    filtered.note = runner->FilterNote();
    if (filtered.supported) {
      Progress(d.name + ": " + filtered.name + " filtered sweep at " +
               std::to_string(cases[i].allowed.selectivity * 100) + "%");
      KSDB_ASSIGN_OR_RETURN(
          filtered.points,
          Sweep(runner.get(), d.queries, filter_queries, cases[i].truth, options.filter_efs,
                options.passes, options.min_pass_seconds, options.max_setting_seconds,
                &cases[i].allowed, &filtered.violations));
      if (filtered.violations > 0) {
        filtered.note = "answers outside the allowed set: the filter is not honoured";
      }
    }
    out->filtered[i].libraries.push_back(std::move(filtered));
    if (name == "ksdb") {
      KSDB_RETURN_IF_ERROR(MeasureListScans(runner.get(), d, filter_queries, cases[i],
                                            options.passes, options.min_pass_seconds,
                                            &out->filtered[i]));
    }
  }
  return Status::Ok();
}

Status RunParallelBuild(const Dataset& d, const Options& options, DatasetResult* out) {
  const LibraryResult* single = FindLibrary(*out, "ksdb");
  if (single == nullptr)
    return Status::Ok();
  LibraryResult result;
  result.name = "ksdb";
  result.build_threads = options.parallel_threads;
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<AnnRunner> runner,
                        MakeRunner("ksdb", options, options.parallel_threads));
  KSDB_RETURN_IF_ERROR(TimedBuild(runner.get(), d, &result));
  ParallelBuild parallel;
  parallel.threads = options.parallel_threads;
  parallel.seconds = result.build_seconds;
  parallel.vectors_per_s = result.build_vectors_per_s;
  parallel.speedup = result.build_vectors_per_s / single->build_vectors_per_s;
  KSDB_ASSIGN_OR_RETURN(parallel.points, Sweep(runner.get(), d.queries, d.queries.rows, d.truth,
                                               options.efs, 1, 0.0, 0.0, nullptr, nullptr));
  out->parallel_build = std::move(parallel);
  return Status::Ok();
}

Result<DatasetResult> RunDataset(const std::string& name, const Options& options) {
  Progress("loading " + name);
  KSDB_ASSIGN_OR_RETURN(Dataset d, LoadDataset(name, options.data));
  DatasetResult out;
  out.name = d.name;
  out.space = DistanceSpaceName(d.space);
  out.num_base = d.base.rows;
  out.num_queries = d.queries.rows;
  out.dim = d.base.dim;
  out.m = options.m;
  const size_t filter_queries = options.filter_queries == 0
                                    ? d.queries.rows
                                    : std::min(options.filter_queries, d.queries.rows);
  KSDB_ASSIGN_OR_RETURN(std::vector<FilterCase> cases, MakeFilterCases(d, filter_queries, options));
  {
    // Scoped: for cosine it holds a normalised copy of the whole base.
    const BruteForce brute(d.base, d.space);
    for (const FilterCase& c : cases) {
      FilteredResult f;
      f.selectivity = c.allowed.selectivity;
      f.allowed = c.allowed.ids.size();
      f.brute_force_qps =
          BruteForceQps(brute, d, filter_queries, c, options.passes, options.min_pass_seconds);
      out.filtered.push_back(std::move(f));
    }
  }
  for (const std::string& library : options.libraries) {
    const Status status = RunLibrary(library, d, options, cases, filter_queries, &out);
    if (!status.ok()) {
      Progress(d.name + ": " + library + " failed: " + status.ToString());
      LibraryResult failed;
      failed.name = library;
      failed.error = status.ToString();
      out.libraries.push_back(std::move(failed));
    }
    if (library == "ksdb" && options.parallel_threads > 1) {
      const Status parallel = RunParallelBuild(d, options, &out);
      if (!parallel.ok())
        Progress(d.name + ": ksdb parallel build failed: " + parallel.ToString());
    }
  }
  return out;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string NowUtc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void AddOptions(CLI::App* app, Options* o) {
  app->add_option("--datasets", o->datasets, "glove, sift, generated")->delimiter(',');
  app->add_option("--libs", o->libraries, "in this order (default hnswlib,faiss,ksdb,ksdb-int8)")->delimiter(',');
  app->add_option("--ef", o->efs, "ef_search values")->delimiter(',');
  app->add_option("--filter-ef", o->filter_efs, "ef_search values for filtered queries")
      ->delimiter(',');
  app->add_option("--selectivities", o->selectivities,
                  "filtered-query selectivities (fractions); empty string: none")
      ->delimiter(',');
  app->add_option("--passes", o->passes, "query passes per setting (median)")
      ->check(CLI::Range(1, 100));
  app->add_option("--min-pass-seconds", o->min_pass_seconds,
                  "repeat the query set within a pass until this long has passed");
  app->add_option("--max-setting-seconds", o->max_setting_seconds,
                  "no further passes of one setting once it has run this long");
  app->add_option("--m", o->m, "HNSW M");
  app->add_option("--ef-construction", o->ef_construction, "HNSW ef_construction");
  app->add_option("--parallel-threads", o->parallel_threads,
                  "threads for ksdb's extra parallel build (0 or 1: skip)");
  app->add_option("--filter-queries", o->filter_queries,
                  "queries used for filtered sweeps (0: all)");
  app->add_option("--filter-seed", o->filter_seed, "seed of the random allowed sets");
  app->add_flag("--ksdb-flat", o->ksdb_flat,
                "run the ksdb rows on the exact flat index (harness test)");
  app->add_option("--json", o->json_path, "where to write the JSON results");
  app->add_option("--data-dir", o->data.data_dir, "directory holding the dataset folders");
  app->add_option("--cache-dir", o->data.cache_dir, "ground-truth cache directory");
  app->add_option("--max-base", o->data.max_base, "truncate glove/sift base (0: all)");
  app->add_option("--max-queries", o->data.max_queries, "use at most this many queries (0: all)");
  app->add_option("--gt-threads", o->data.num_threads, "threads for exact ground truth");
  app->add_option("--generated-n", o->data.generated.num_base, "generated set: base vectors");
  app->add_option("--generated-queries", o->data.generated.num_queries, "generated set: queries");
  app->add_option("--generated-dim", o->data.generated.dim, "generated set: dimension");
  app->add_option("--generated-clusters", o->data.generated.num_clusters,
                  "generated set: cluster centres");
  app->add_option("--generated-spread", o->data.generated.spread,
                  "generated set: per-dimension stddev around a centre (centres ~ N(0,1))");
  app->add_option("--seed", o->data.generated.seed, "generated set: seed");
}

std::string CommandLine(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    out += i ? " " : "";
    out += argv[i];
  }
  return out;
}

int Main(int argc, char** argv) {
  Options options;
  options.data.generated.num_base = 500000;
  options.data.num_threads = std::max(1u, std::thread::hardware_concurrency());
  options.data.cache_dir = "ann_cache";
  CLI::App app{"ksdb ANN benchmark: ksdb HNSW vs hnswlib vs FAISS"};
  AddOptions(&app, &options);
  CLI11_PARSE(app, argc, argv);
  if (options.data.generated.num_clusters == 0 || options.data.generated.dim == 0) {
    std::fprintf(stderr, "ann_bench: --generated-clusters and --generated-dim must be >= 1\n");
    return 2;
  }
  RunInfo run;
  run.command_line = CommandLine(argc, argv);
  run.cpu = CpuModel();
  run.simd_level = simd::SimdLevelName(simd::ActiveLevel());
  run.hardware_threads = std::thread::hardware_concurrency();
  run.passes = options.passes;
  run.k = kK;
  run.ef_construction = options.ef_construction;
  run.started_utc = NowUtc();
  std::vector<DatasetResult> results;
  for (const std::string& name : options.datasets) {
    Result<DatasetResult> result = RunDataset(name, options);
    if (!result.ok()) {
      std::fprintf(stderr, "ann_bench: %s: %s\n", name.c_str(), result.status().ToString().c_str());
      return 1;
    }
    results.push_back(std::move(result).value());
  }
  const std::filesystem::path json_path(options.json_path);
  if (json_path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(json_path.parent_path(), ec);
  }
  std::ofstream json(options.json_path, std::ios::trunc);
  json << ToJson(run, results);
  if (!json.flush()) {
    std::fprintf(stderr, "ann_bench: cannot write %s\n", options.json_path.c_str());
    return 1;
  }
  std::fputs(ToMarkdown(run, results).c_str(), stdout);
  return 0;
}

}  // namespace
}  // namespace ksdb::bench

int main(int argc, char** argv) {
  return ksdb::bench::Main(argc, argv);
}
