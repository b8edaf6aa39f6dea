// ksdb_ann_search_dev: a quick A/B loop for search-path work (not part of the
// reported benchmark). Builds ksdb's HNSW and hnswlib on a dataset once, keeps
// both on disk (ksdb snapshot, hnswlib saveIndex) in --work-dir, and on later
// runs only loads them and times searches, alternating ksdb and hnswlib passes
// so that a busy machine slows both alike. Prints, per ef, recall@10 and the
// median queries/s of each, and their ratio.
//
// With --selectivity S it instead alternates, per ef, ksdb's unfiltered search,
// its filtered search (SearchWithEf with a random allowed set of S of the base
// rows), its exact scan of the allowed ids (SearchAmong) and the engine's scan
// of them (SearchAllowed: exact or sketch scan by PickAllowedScan), for
// filtered-search work: the 1% target compares the filtered q/s with the
// unfiltered one.
//
//   ksdb_ann_search_dev --work-dir DIR [--dataset glove] [--ef 64,96,128] [--rounds 5]
//   ksdb_ann_search_dev --work-dir DIR --dataset generated --generated-n 100000 --selectivity 0.01
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <hnswlib/hnswlib.h>

#include "ann/dataset.h"
#include "index/hnsw_index.h"

namespace ksdb::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string work_dir;
  std::string dataset = "glove";
  std::vector<size_t> ef = {64, 96, 128};
  size_t rounds = 5;
  size_t max_base = 0;
  bool rebuild = false;
  bool ksdb_only = false;  // skip the hnswlib passes (for perf stat of ksdb alone)
  size_t generated_n = 100000;
  size_t generated_clusters = 2000;
  size_t max_queries = 0;
  double selectivity = 0;  // > 0: the filtered A/B instead of ksdb vs hnswlib
  bool int8 = false;       // ksdb with quantize_int8
};

void Normalise(const float* src, size_t dim, float* dst) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i)
    sum += src[i] * src[i];
  const float inv = sum > 0 ? 1.0f / std::sqrt(sum) : 0.0f;
  for (size_t i = 0; i < dim; ++i)
    dst[i] = src[i] * inv;
}

double Recall(const GroundTruth& t, const std::vector<uint32_t>& found) {
  size_t hits = 0;
  for (size_t q = 0; q < t.queries; ++q) {
    const uint32_t* truth = t.Row(q);
    for (size_t i = 0; i < 10; ++i)
      hits += std::count(truth, truth + 10, found[q * 10 + i]);
  }
  return static_cast<double>(hits) / static_cast<double>(10 * t.queries);
}

double Recall(const Dataset& d, const std::vector<uint32_t>& found) {
  return Recall(d.truth, found);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Result<std::unique_ptr<index::HnswIndex>> KsdbIndex(const Options& o, const Dataset& d) {
  const std::string path = o.work_dir + (o.int8 ? "/ksdb-int8.snapshot" : "/ksdb.snapshot");
  index::HnswParams params;
  params.quantize_int8 = o.int8;
  if (o.int8)
    params.vectors_file = o.work_dir + "/ksdb-int8.vectors";
  if (!o.rebuild && std::filesystem::exists(path)) {
    KSDB_ASSIGN_OR_RETURN(index::LoadedHnswSnapshot loaded,
                          index::LoadHnswSnapshot(path, d.base.dim, d.space, params));
    return std::move(loaded.index);
  }
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<index::HnswIndex> idx,
                        index::NewHnswIndex(d.base.dim, d.space, params));
  std::vector<InternalId> ids(d.base.rows);
  std::iota(ids.begin(), ids.end(), InternalId{0});
  const auto start = Clock::now();
  KSDB_RETURN_IF_ERROR(idx->Upsert(ids, d.base.values));
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr, "ksdb build: %.1f s, %.0f vectors/s\n", s, d.base.rows / s);
  KSDB_RETURN_IF_ERROR(idx->SaveSnapshot(path, 0));
  return idx;
}

std::unique_ptr<hnswlib::HierarchicalNSW<float>> HnswlibIndex(const Options& o, const Dataset& d,
                                                              hnswlib::SpaceInterface<float>* space) {
  const std::string path = o.work_dir + "/hnswlib.bin";
  if (!o.rebuild && std::filesystem::exists(path))
    return std::make_unique<hnswlib::HierarchicalNSW<float>>(space, path);
  auto idx = std::make_unique<hnswlib::HierarchicalNSW<float>>(space, d.base.rows, 16, 200);
  std::vector<float> row(d.base.dim);
  const auto start = Clock::now();
  for (size_t r = 0; r < d.base.rows; ++r) {
    const float* v = d.base.Row(r);
    if (d.space == DistanceSpace::kCosine) {
      Normalise(v, d.base.dim, row.data());
      v = row.data();
    }
    idx->addPoint(v, r);
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr, "hnswlib build: %.1f s, %.0f vectors/s\n", s, d.base.rows / s);
  idx->saveIndex(path);
  return idx;
}

// One timed pass of `search` over every query: queries/s, answers in `found`.
template <typename Search>
double TimedPass(const Dataset& d, std::vector<uint32_t>& found, const Search& search) {
  const auto start = Clock::now();
  for (size_t q = 0; q < d.queries.rows; ++q) {
    const std::vector<index::Neighbor> res =
        search(std::span<const float>(d.queries.Row(q), d.queries.dim));
    for (size_t i = 0; i < 10; ++i)
      found[q * 10 + i] = i < res.size() ? res[i].internal_id : UINT32_MAX;
  }
  return d.queries.rows / std::chrono::duration<double>(Clock::now() - start).count();
}

// The filtered A/B: unfiltered, filtered graph and exact scan of the allowed
// ids, alternating within each round.
int RunFiltered(const Options& o, const DatasetOptions& dopts, const Dataset& d,
                const index::HnswIndex& ksdb) {
  const size_t count = std::max<size_t>(1, static_cast<size_t>(o.selectivity * d.base.rows));
  std::vector<uint32_t> ids = RandomSubset(d.base.rows, count, 7);
  BitmapIdFilter bitmap(d.base.rows);
  for (uint32_t id : ids)
    bitmap.Add(id);
  Result<GroundTruth> truth = CachedExactTopK(dopts.cache_dir, d.name + "-filtered", d.base,
                                              d.queries, d.space, 10, &ids, 2);
  if (!truth.ok()) {
    std::fprintf(stderr, "%s\n", truth.status().ToString().c_str());
    return 1;
  }
  const std::vector<InternalId> allowed(ids.begin(), ids.end());
  const size_t nq = d.queries.rows;
  std::vector<uint32_t> found_u(nq * 10), found_f(nq * 10), found_e(nq * 10), found_s(nq * 10);
  const bool sketch =
      index::PickAllowedScan(allowed.size(), 10, d.base.dim) == index::AllowedScan::kSketch;
  std::printf("%zu allowed of %zu (%g%%); SearchAllowed runs the %s scan\n", count, d.base.rows,
              100.0 * count / d.base.rows, sketch ? "sketch" : "exact");
  std::printf(
      "| ef | unfiltered recall | filtered recall | exact recall | SearchAllowed recall | "
      "unfiltered q/s | filtered q/s | exact q/s | SearchAllowed q/s | "
      "filtered/unfiltered | SearchAllowed/unfiltered |\n");
  for (size_t ef : o.ef) {
    std::vector<double> qu, qf, qe, qs;
    for (size_t r = 0; r < o.rounds; ++r) {
      qu.push_back(TimedPass(d, found_u, [&](std::span<const float> q) {
        return ksdb.SearchWithEf(q, 10, ef, nullptr);
      }));
      qf.push_back(TimedPass(d, found_f, [&](std::span<const float> q) {
        return ksdb.SearchWithEf(q, 10, ef, &bitmap);
      }));
      qe.push_back(TimedPass(
          d, found_e, [&](std::span<const float> q) { return ksdb.SearchAmong(q, 10, allowed); }));
      qs.push_back(TimedPass(d, found_s, [&](std::span<const float> q) {
        return ksdb.SearchAllowed(q, 10, allowed);
      }));
    }
    size_t outside = 0;
    for (const std::vector<uint32_t>* found : {&found_f, &found_s}) {
      for (uint32_t id : *found)
        outside += id != UINT32_MAX && !bitmap.IsMember(id) ? 1 : 0;
    }
    const double mu = Median(qu), mf = Median(qf), ms = Median(qs);
    std::printf(
        "| %zu | %.4f | %.4f | %.4f | %.4f | %.0f | %.0f | %.0f | %.0f | %.2fx | %.2fx |%s\n", ef,
        Recall(d, found_u), Recall(*truth, found_f), Recall(*truth, found_e),
        Recall(*truth, found_s), mu, mf, Median(qe), ms, mf / mu, ms / mu,
        outside > 0 ? " ANSWERS OUTSIDE THE FILTER" : "");
    std::fflush(stdout);
  }
  return 0;
}

int Run(const Options& o) {
  DatasetOptions dopts;
  dopts.cache_dir = o.work_dir + "/gt";
  dopts.max_base = o.max_base;
  dopts.max_queries = o.max_queries;
  dopts.generated.num_base = o.generated_n;
  dopts.generated.num_clusters = o.generated_clusters;
  std::filesystem::create_directories(dopts.cache_dir);
  Result<Dataset> loaded = LoadDataset(o.dataset, dopts);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
    return 1;
  }
  const Dataset& d = *loaded;
  Result<std::unique_ptr<index::HnswIndex>> ksdb = KsdbIndex(o, d);
  if (!ksdb.ok()) {
    std::fprintf(stderr, "%s\n", ksdb.status().ToString().c_str());
    return 1;
  }
  if (o.selectivity > 0)
    return RunFiltered(o, dopts, d, **ksdb);
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  if (d.space == DistanceSpace::kL2)
    space = std::make_unique<hnswlib::L2Space>(d.base.dim);
  else
    space = std::make_unique<hnswlib::InnerProductSpace>(d.base.dim);
  auto hnsw = HnswlibIndex(o, d, space.get());

  // hnswlib gets normalised queries, prepared outside the timed loop.
  Matrix hq = d.queries;
  if (d.space == DistanceSpace::kCosine) {
    for (size_t q = 0; q < hq.rows; ++q)
      Normalise(d.queries.Row(q), hq.dim, hq.values.data() + q * hq.dim);
  }
  const size_t nq = d.queries.rows;
  std::vector<uint32_t> found_k(nq * 10), found_h(nq * 10);
  std::printf("| ef | ksdb recall | hnswlib recall | ksdb q/s | hnswlib q/s | ratio |\n");
  for (size_t ef : o.ef) {
    hnsw->setEf(ef);
    std::vector<double> qk, qh;
    for (size_t r = 0; r < o.rounds; ++r) {
      auto start = Clock::now();
      for (size_t q = 0; q < nq; ++q) {
        auto res = (*ksdb)->SearchWithEf(
            std::span<const float>(d.queries.Row(q), d.queries.dim), 10, ef, nullptr);
        for (size_t i = 0; i < 10; ++i)
          found_k[q * 10 + i] = i < res.size() ? res[i].internal_id : UINT32_MAX;
      }
      qk.push_back(nq / std::chrono::duration<double>(Clock::now() - start).count());
      start = Clock::now();
      for (size_t q = 0; q < nq && !o.ksdb_only; ++q) {
        auto heap = hnsw->searchKnn(hq.Row(q), 10);
        size_t n = heap.size();
        while (!heap.empty()) {
          found_h[q * 10 + --n] = static_cast<uint32_t>(heap.top().second);
          heap.pop();
        }
      }
      qh.push_back(nq / std::chrono::duration<double>(Clock::now() - start).count());
    }
    const double mk = Median(qk), mh = Median(qh);
    std::printf("| %zu | %.4f | %.4f | %.0f | %.0f | %.2fx |\n", ef, Recall(d, found_k),
                Recall(d, found_h), mk, mh, mk / mh);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace ksdb::bench

int main(int argc, char** argv) {
  ksdb::bench::Options o;
  CLI::App app{"ksdb vs hnswlib search A/B loop"};
  app.add_option("--work-dir", o.work_dir, "where the built indexes are kept")->required();
  app.add_option("--dataset", o.dataset, "glove | sift | generated");
  app.add_option("--generated-n", o.generated_n, "base size of the generated set");
  app.add_option("--generated-clusters", o.generated_clusters, "clusters of the generated set");
  app.add_option("--max-queries", o.max_queries, "cap the queries (0: all)");
  app.add_option("--selectivity", o.selectivity,
                 "filtered A/B of ksdb at this selectivity instead of ksdb vs hnswlib");
  app.add_flag("--int8", o.int8, "ksdb with int8 quantisation");
  app.add_option("--ef", o.ef, "ef values")->delimiter(',');
  app.add_option("--rounds", o.rounds, "alternating passes per ef");
  app.add_option("--max-base", o.max_base, "truncate the base (0: all)");
  app.add_flag("--rebuild", o.rebuild, "build even if saved indexes exist");
  app.add_flag("--ksdb-only", o.ksdb_only, "time only ksdb (hnswlib q/s is then meaningless)");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(o.work_dir);
  return ksdb::bench::Run(o);
}
