// Micro benchmarks: each distance kernel at each supported SIMD level, and an
// exact flat-index search over 20k x 384 vectors, top 10.
//
// Names: "<kernel>/<level>/<dim>" and "flat_search/<space>/20000x384/top10".
// The flat index uses the active level, so KSDB_SIMD_LEVEL=scalar measures it
// with the scalar kernels.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/vector_index.h"
#include "simd/distance.h"

namespace ksdb {
namespace {

constexpr size_t kKernelDims[] = {100, 384, 768};
constexpr size_t kFlatCount = 20000;
constexpr size_t kFlatDim = 384;
constexpr size_t kFlatK = 10;

std::vector<float> RandomVectors(size_t count, size_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(count * dim);
  for (float& x : v)
    x = dist(rng);
  return v;
}

void BenchPair(benchmark::State& state, simd::PairFn fn, size_t dim) {
  const std::vector<float> a = RandomVectors(1, dim, 1);
  const std::vector<float> b = RandomVectors(1, dim, 2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(fn(a.data(), b.data(), dim));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * dim * sizeof(float)));
}

void BenchNorm(benchmark::State& state, simd::NormFn fn, size_t dim) {
  const std::vector<float> a = RandomVectors(1, dim, 3);
  for (auto _ : state) {
    benchmark::DoNotOptimize(fn(a.data(), dim));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * dim * sizeof(float)));
}

void BenchFlatSearch(benchmark::State& state, DistanceSpace space) {
  std::unique_ptr<index::VectorIndex> flat = index::NewFlatIndex(kFlatDim, space);
  std::vector<InternalId> ids(kFlatCount);
  for (size_t i = 0; i < kFlatCount; ++i)
    ids[i] = static_cast<InternalId>(i);
  if (!flat->Upsert(ids, RandomVectors(kFlatCount, kFlatDim, 4)).ok()) {
    state.SkipWithError("upsert failed");
    return;
  }
  const std::vector<float> queries = RandomVectors(16, kFlatDim, 5);
  size_t q = 0;
  for (auto _ : state) {
    const std::span<const float> query(queries.data() + (q++ % 16) * kFlatDim, kFlatDim);
    benchmark::DoNotOptimize(flat->Search(query, kFlatK, nullptr));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kFlatCount));
  state.SetLabel(std::string("simd=") + simd::SimdLevelName(simd::ActiveLevel()));
}

void RegisterKernelBenchmarks() {
  for (simd::SimdLevel level :
       {simd::SimdLevel::kScalar, simd::SimdLevel::kAvx2, simd::SimdLevel::kAvx512}) {
    if (!simd::LevelSupported(level))
      continue;
    const simd::Kernels& k = simd::KernelsFor(level);
    const std::string suffix = std::string("/") + simd::SimdLevelName(level) + "/";
    for (size_t dim : kKernelDims) {
      benchmark::RegisterBenchmark(("l2_squared" + suffix + std::to_string(dim)).c_str(), BenchPair,
                                   k.l2_squared, dim);
      benchmark::RegisterBenchmark(("dot" + suffix + std::to_string(dim)).c_str(), BenchPair, k.dot,
                                   dim);
      benchmark::RegisterBenchmark(("norm_squared" + suffix + std::to_string(dim)).c_str(),
                                   BenchNorm, k.norm_squared, dim);
    }
  }
}

void RegisterFlatBenchmarks() {
  for (DistanceSpace space : {DistanceSpace::kL2, DistanceSpace::kCosine, DistanceSpace::kIp}) {
    const std::string name = std::string("flat_search/") + DistanceSpaceName(space) + "/" +
                             std::to_string(kFlatCount) + "x" + std::to_string(kFlatDim) + "/top" +
                             std::to_string(kFlatK);
    benchmark::RegisterBenchmark(name.c_str(), BenchFlatSearch, space)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace
}  // namespace ksdb

int main(int argc, char** argv) {
  ksdb::RegisterKernelBenchmarks();
  ksdb::RegisterFlatBenchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
