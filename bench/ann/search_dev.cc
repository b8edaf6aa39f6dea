// ksdb_ann_search_dev: a quick A/B loop for search-path work (not part of the
// reported benchmark). Builds ksdb's HNSW and hnswlib on a dataset once, keeps
// both on disk (ksdb snapshot, hnswlib saveIndex) in --work-dir, and on later
// runs only loads them and times searches, alternating ksdb and hnswlib passes
// so that a busy machine slows both alike. Prints, per ef, recall@10 and the
// median queries/s of each, and their ratio.
//
//   ksdb_ann_search_dev --work-dir DIR [--dataset glove] [--ef 64,96,128] [--rounds 5]
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
};

void Normalise(const float* src, size_t dim, float* dst) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i)
    sum += src[i] * src[i];
  const float inv = sum > 0 ? 1.0f / std::sqrt(sum) : 0.0f;
  for (size_t i = 0; i < dim; ++i)
    dst[i] = src[i] * inv;
}

double Recall(const Dataset& d, const std::vector<uint32_t>& found) {
  size_t hits = 0;
  for (size_t q = 0; q < d.queries.rows; ++q) {
    const uint32_t* truth = d.truth.Row(q);
    for (size_t i = 0; i < 10; ++i)
      hits += std::count(truth, truth + 10, found[q * 10 + i]);
  }
  return static_cast<double>(hits) / static_cast<double>(10 * d.queries.rows);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Result<std::unique_ptr<index::HnswIndex>> KsdbIndex(const Options& o, const Dataset& d) {
  const std::string path = o.work_dir + "/ksdb.snapshot";
  index::HnswParams params;
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

int Run(const Options& o) {
  DatasetOptions dopts;
  dopts.cache_dir = o.work_dir + "/gt";
  dopts.max_base = o.max_base;
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
  app.add_option("--dataset", o.dataset, "glove | sift");
  app.add_option("--ef", o.ef, "ef values")->delimiter(',');
  app.add_option("--rounds", o.rounds, "alternating passes per ef");
  app.add_option("--max-base", o.max_base, "truncate the base (0: all)");
  app.add_flag("--rebuild", o.rebuild, "build even if saved indexes exist");
  app.add_flag("--ksdb-only", o.ksdb_only, "time only ksdb (hnswlib q/s is then meaningless)");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(o.work_dir);
  return ksdb::bench::Run(o);
}
