// Graph construction rate of the staged-write path: stages N clustered
// vectors, then links them the way the background indexer does (chunks of
// `chunk` nodes on `threads` threads; chunk 0 = everything in one call) and
// prints vectors/s and recall@10 of a query sample against exact search.
//
//   ksdb_link_bench [n=100000] [dim=384] [threads=2] [chunk=128] [ef_construction=100]
//                   [clusters=0] [noise_percent=30]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <unordered_set>
#include <vector>

#include "index/hnsw_index.h"

namespace {

using ksdb::DistanceSpace;
using ksdb::InternalId;

// Gaussian clusters around random centres (`noise` = the within-cluster
// spread per dimension relative to the centres'), or with kClusters == 0 plain
// standard normal rows, the hardest case for a graph (what bench/python uses).
std::vector<float> ClusteredVectors(size_t n, size_t dim, uint64_t seed, size_t clusters,
                                    float noise) {
  std::mt19937_64 rng(seed);
  if (clusters == 0) {
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::vector<float> out(n * dim);
    for (float& x : out)
      x = gauss(rng);
    return out;
  }
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> centres(clusters * dim);
  for (float& x : centres)
    x = gauss(rng);
  std::vector<float> out(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const float* c = &centres[(rng() % clusters) * dim];
    for (size_t d = 0; d < dim; ++d)
      out[i * dim + d] = c[d] + noise * gauss(rng);
  }
  return out;
}

size_t Arg(int argc, char** argv, int i, size_t fallback) {
  return argc > i ? std::strtoull(argv[i], nullptr, 10) : fallback;
}

double RecallAt10(const ksdb::index::HnswIndex& index, const std::vector<float>& queries,
                  size_t dim) {
  const size_t nq = queries.size() / dim;
  size_t hits = 0;
  for (size_t q = 0; q < nq; ++q) {
    std::span<const float> query(&queries[q * dim], dim);
    std::unordered_set<InternalId> truth;
    for (const auto& nb : index.ExactSearch(query, 10, nullptr))
      truth.insert(nb.internal_id);
    for (const auto& nb : index.SearchWithEf(query, 10, 100, nullptr))
      hits += truth.count(nb.internal_id);
  }
  return static_cast<double>(hits) / static_cast<double>(nq * 10);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = Arg(argc, argv, 1, 100000);
  const size_t dim = Arg(argc, argv, 2, 384);
  const size_t threads = Arg(argc, argv, 3, 2);
  const size_t chunk = Arg(argc, argv, 4, 128);
  ksdb::index::HnswParams params;
  params.m = 16;
  params.ef_construction = Arg(argc, argv, 5, 100);
  params.num_threads = threads;
  auto made = ksdb::index::NewHnswIndex(dim, DistanceSpace::kCosine, params);
  if (!made.ok()) {
    std::fprintf(stderr, "%s\n", made.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<ksdb::index::HnswIndex> index = std::move(made).value();
  const size_t clusters = Arg(argc, argv, 6, 0);
  const float noise = static_cast<float>(Arg(argc, argv, 7, 30)) / 100.0f;
  const std::vector<float> data = ClusteredVectors(n, dim, 1, clusters, noise);
  std::vector<InternalId> ids(n);
  for (size_t i = 0; i < n; ++i)
    ids[i] = static_cast<InternalId>(i);
  if (!index->Reserve(n).ok() || !index->Stage(ids, data).ok())
    return 1;

  const auto start = std::chrono::steady_clock::now();
  size_t calls = 0;
  while (index->pending() > 0) {
    index->LinkPending(chunk == 0 ? n : chunk, threads);
    ++calls;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::vector<float> queries = ClusteredVectors(200, dim, 2, clusters, noise);
  std::printf(
      "n=%zu dim=%zu threads=%zu chunk=%zu efc=%zu: %.2f s, %.0f vectors/s, %zu calls, "
      "recall@10(ef 100)=%.4f\n",
      n, dim, threads, chunk, params.ef_construction, seconds, n / seconds, calls,
      RecallAt10(*index, queries, dim));
  return 0;
}
