// MetadataIndex::Candidates vs evaluating WhereFilter::Matches on every record,
// at 100k records with 1%-selective filters. Run e.g. with
// --benchmark_repetitions=9 --benchmark_report_aggregates_only=true
// (build/bench/micro/ksdb_metadata_index_bench).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/metadata.h"
#include "filter/metadata_index.h"
#include "filter/where.h"

namespace ksdb::filter {
namespace {

constexpr InternalId kRecords = 100'000;

// Each filter matches 1% of the records built by MakeRecords.
constexpr const char* kFilters[] = {
    R"({"cat": "c7"})",
    R"({"fine": {"$in": [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]}})",
    R"({"$and": [{"grp": 3}, {"sub": 4}]})",
};
constexpr const char* kFilterNames[] = {"eq_1pct", "in_1pct", "and_of_two_10pct"};

// Appended piecewise: GCC 12 -O3 reports a false -Wrestrict on "c" + std::string.
std::string CategoryName(InternalId n) {
  std::string name = "c";
  name += std::to_string(n);
  return name;
}

std::vector<Metadata> MakeRecords() {
  std::vector<Metadata> records;
  records.reserve(kRecords);
  for (InternalId i = 0; i < kRecords; ++i) {
    records.emplace_back(std::vector<Metadata::Entry>{
        {"cat", CategoryName(i % 100)},
        {"fine", int64_t{i % 1000}},
        {"grp", int64_t{i % 10}},
        {"sub", int64_t{(i / 10) % 10}},
        {"score", i * 0.001 + 0.5},
    });
  }
  return records;
}

const std::vector<Metadata>& Records() {
  static const std::vector<Metadata> records = MakeRecords();
  return records;
}

const MetadataIndex& Index() {
  static const MetadataIndex index = [] {
    MetadataIndex built;
    const std::vector<Metadata>& records = Records();
    for (InternalId slot = 0; slot < records.size(); ++slot)
      built.Add(slot, records[slot]);
    return built;
  }();
  return index;
}

WhereFilter FilterAt(int64_t i) {
  return WhereFilter::ParseJson(kFilters[i]).value();
}

void BM_Candidates(benchmark::State& state) {
  const MetadataIndex& index = Index();
  const WhereFilter where = FilterAt(state.range(0));
  size_t count = 0;
  for (auto _ : state) {
    std::optional<std::vector<InternalId>> candidates = index.Candidates(where);
    count = candidates ? candidates->size() : kRecords;
    benchmark::DoNotOptimize(candidates);
  }
  state.counters["matches"] = static_cast<double>(count);
  state.counters["index_MiB"] = static_cast<double>(index.MemoryBytes()) / (1 << 20);
  state.SetLabel(kFilterNames[state.range(0)]);
}

void BM_FullScan(benchmark::State& state) {
  const std::vector<Metadata>& records = Records();
  const WhereFilter where = FilterAt(state.range(0));
  size_t count = 0;
  for (auto _ : state) {
    std::vector<InternalId> matches;
    for (InternalId slot = 0; slot < records.size(); ++slot) {
      if (where.Matches(&records[slot], nullptr))
        matches.push_back(slot);
    }
    count = matches.size();
    benchmark::DoNotOptimize(matches);
  }
  state.counters["matches"] = static_cast<double>(count);
  state.SetLabel(kFilterNames[state.range(0)]);
}

// Candidates plus the caller's re-check of the full filter on each candidate:
// what a filtered query would actually pay.
void BM_CandidatesThenVerify(benchmark::State& state) {
  const std::vector<Metadata>& records = Records();
  const MetadataIndex& index = Index();
  const WhereFilter where = FilterAt(state.range(0));
  for (auto _ : state) {
    std::vector<InternalId> candidates = index.Candidates(where).value();
    std::erase_if(candidates,
                  [&](InternalId slot) { return !where.Matches(&records[slot], nullptr); });
    benchmark::DoNotOptimize(candidates);
  }
  state.SetLabel(kFilterNames[state.range(0)]);
}

BENCHMARK(BM_Candidates)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CandidatesThenVerify)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FullScan)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);

// Maintenance cost: index 100k records from scratch, then remove them all.
void BM_AddRemoveAll(benchmark::State& state) {
  const std::vector<Metadata>& records = Records();
  for (auto _ : state) {
    MetadataIndex index;
    for (InternalId slot = 0; slot < records.size(); ++slot)
      index.Add(slot, records[slot]);
    for (InternalId slot = 0; slot < records.size(); ++slot)
      index.Remove(slot, records[slot]);
    benchmark::DoNotOptimize(index);
  }
}
BENCHMARK(BM_AddRemoveAll)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ksdb::filter

BENCHMARK_MAIN();
