// Tests for the HNSW index: recall against the exact index in every space,
// filtered search, updates and deletes with slot reuse (memory stays flat),
// parallel builds, exact scans, and snapshots (round trip and every kind of
// damage).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/id_filter.h"
#include "index/hnsw_index.h"
#include "index_test_util.h"
#include "index/huge_pages.h"
#include "index/vector_index.h"

namespace ksdb::index {
namespace {

constexpr size_t kDim = 24;

using testing::RandomVectors;

using testing::Iota;

std::unique_ptr<HnswIndex> MakeIndex(DistanceSpace space, HnswParams params = {}) {
  Result<std::unique_ptr<HnswIndex>> index = NewHnswIndex(kDim, space, params);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

// Fraction of the exact top-k ids that `got` contains.
double Recall(const std::vector<Neighbor>& got, const std::vector<Neighbor>& want) {
  std::set<InternalId> ids;
  for (const Neighbor& n : got)
    ids.insert(n.internal_id);
  size_t hits = 0;
  for (const Neighbor& n : want)
    hits += ids.count(n.internal_id);
  return want.empty() ? 1.0 : static_cast<double>(hits) / static_cast<double>(want.size());
}

// Mean recall@k of `index` over `queries` against its own exact scan.
double MeanRecall(const HnswIndex& index, const std::vector<float>& queries, size_t k,
                  const IdFilter* filter = nullptr, size_t ef = 64) {
  const size_t count = queries.size() / kDim;
  double total = 0;
  for (size_t q = 0; q < count; ++q) {
    std::span<const float> query(queries.data() + q * kDim, kDim);
    total += Recall(index.SearchWithEf(query, k, ef, filter), index.ExactSearch(query, k, filter));
  }
  return total / static_cast<double>(count);
}

class HnswSpaceTest : public ::testing::TestWithParam<DistanceSpace> {};

TEST_P(HnswSpaceTest, HighRecallAgainstExactScan) {
  auto index = MakeIndex(GetParam());
  const std::vector<float> data = RandomVectors(3000, kDim, 1);
  ASSERT_TRUE(index->Upsert(Iota(3000), data).ok());
  EXPECT_EQ(index->size(), 3000u);
  EXPECT_GE(MeanRecall(*index, RandomVectors(100, kDim, 2), 10), 0.95);
}

TEST_P(HnswSpaceTest, ExactSearchEqualsFlatIndex) {
  auto index = MakeIndex(GetParam());
  auto flat = NewFlatIndex(kDim, GetParam());
  const std::vector<float> data = RandomVectors(500, kDim, 3);
  ASSERT_TRUE(index->Upsert(Iota(500), data).ok());
  ASSERT_TRUE(flat->Upsert(Iota(500), data).ok());
  const std::vector<float> query = RandomVectors(1, kDim, 4);
  const std::vector<Neighbor> got = index->ExactSearch(query, 20, nullptr);
  const std::vector<Neighbor> want = flat->Search(query, 20, nullptr);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].internal_id, want[i].internal_id);
    EXPECT_EQ(got[i].distance, want[i].distance);
  }
}

INSTANTIATE_TEST_SUITE_P(AllSpaces, HnswSpaceTest,
                         ::testing::Values(DistanceSpace::kL2, DistanceSpace::kIp,
                                           DistanceSpace::kCosine));

// --- int8 quantisation ---

class HnswInt8Test : public ::testing::TestWithParam<DistanceSpace> {};

HnswParams Int8Params(const std::string& vectors_file = "") {
  HnswParams params;
  params.quantize_int8 = true;
  params.vectors_file = vectors_file;
  return params;
}

TEST_P(HnswInt8Test, HighRecallAfterRerankAndExactStoredVectors) {
  auto index = MakeIndex(GetParam(), Int8Params());
  const std::vector<float> data = RandomVectors(3000, kDim, 31);
  ASSERT_TRUE(index->Upsert(Iota(3000), data).ok());
  EXPECT_GE(MeanRecall(*index, RandomVectors(100, kDim, 32), 10), 0.95);
  const std::span<const float> stored = index->GetVector(123);
  EXPECT_TRUE(std::equal(stored.begin(), stored.end(), data.begin() + 123 * kDim));
  // Reported distances are exact (reranked), equal to the exact scan's.
  const std::vector<float> query = RandomVectors(1, kDim, 33);
  const auto approx = index->Search(query, 1, nullptr);
  const auto exact = index->ExactSearch(query, 1, nullptr);
  ASSERT_EQ(approx.size(), 1u);
  if (approx[0].internal_id == exact[0].internal_id) {
    EXPECT_EQ(approx[0].distance, exact[0].distance);
  }
}

INSTANTIATE_TEST_SUITE_P(AllSpaces, HnswInt8Test,
                         ::testing::Values(DistanceSpace::kL2, DistanceSpace::kIp,
                                           DistanceSpace::kCosine));

TEST(HnswIndexTest, Int8BelowTrainingSizeSearchesFloats) {
  auto index = MakeIndex(DistanceSpace::kL2, Int8Params());
  const std::vector<float> data = RandomVectors(200, kDim, 34);
  ASSERT_TRUE(index->Upsert(Iota(200), data).ok());
  const auto hit = index->Search({data.data() + 17 * kDim, kDim}, 1, nullptr);
  ASSERT_EQ(hit.size(), 1u);
  EXPECT_EQ(hit[0].internal_id, 17u);
  EXPECT_EQ(hit[0].distance, 0.0f);
}

TEST(HnswIndexTest, Int8WithMappedVectorsUsesLessHeapAndKeepsRecall) {
  const std::string file =
      (std::filesystem::temp_directory_path() / ("ksdb_int8_" + std::to_string(::getpid()))).string();
  auto mapped = MakeIndex(DistanceSpace::kCosine, Int8Params(file));
  auto plain = MakeIndex(DistanceSpace::kCosine);
  const std::vector<float> data = RandomVectors(3000, kDim, 35);
  ASSERT_TRUE(mapped->Upsert(Iota(3000), data).ok());
  ASSERT_TRUE(plain->Upsert(Iota(3000), data).ok());
  EXPECT_FALSE(std::filesystem::exists(file));  // scratch file unlinked at once
  EXPECT_LT(mapped->MemoryBytes(), plain->MemoryBytes());
  EXPECT_GE(MeanRecall(*mapped, RandomVectors(100, kDim, 36), 10), 0.95);
  // Updates and deletes after training keep working.
  HnswIndex& m = *mapped;
  m.Remove(std::vector<InternalId>{0, 1, 2});
  const std::vector<float> moved = RandomVectors(1, kDim, 37);
  ASSERT_TRUE(m.Upsert(std::vector<InternalId>{5}, moved).ok());
  const auto hit = m.Search(moved, 1, nullptr);
  ASSERT_EQ(hit.size(), 1u);
  EXPECT_EQ(hit[0].internal_id, 5u);
  ASSERT_TRUE(m.SaveSnapshot(file + ".hnsw", 1).ok());
  std::filesystem::remove(file + ".hnsw");
}

TEST(HnswIndexTest, Int8VectorFileInMissingDirectoryIsIoError) {
  EXPECT_EQ(NewHnswIndex(kDim, DistanceSpace::kL2, Int8Params("/nonexistent-dir/x")).status().code(),
            StatusCode::kIoError);
}

TEST(HnswIndexTest, RejectsBadParameters) {
  EXPECT_FALSE(NewHnswIndex(0, DistanceSpace::kL2, {}).ok());
  HnswParams params;
  params.m = 1;
  EXPECT_FALSE(NewHnswIndex(4, DistanceSpace::kL2, params).ok());
  params = {};
  params.ef_construction = 0;
  EXPECT_FALSE(NewHnswIndex(4, DistanceSpace::kL2, params).ok());
}

TEST(HnswIndexTest, InvalidUpsertChangesNothing) {
  auto index = MakeIndex(DistanceSpace::kL2);
  std::vector<float> data = RandomVectors(2, kDim, 5);
  EXPECT_FALSE(index->Upsert(Iota(3), data).ok());
  data[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(index->Upsert(Iota(2), data).ok());
  EXPECT_EQ(index->size(), 0u);
  EXPECT_TRUE(index->Search(RandomVectors(1, kDim, 6), 5, nullptr).empty());
}

TEST(HnswIndexTest, FilteredSearchReturnsOnlyAllowedWithHighRecall) {
  auto index = MakeIndex(DistanceSpace::kCosine);
  const size_t n = 4000;
  ASSERT_TRUE(index->Upsert(Iota(n), RandomVectors(n, kDim, 7)).ok());
  for (size_t modulus : {2, 10, 50}) {
    SCOPED_TRACE("1/" + std::to_string(modulus) + " allowed");
    BitmapIdFilter filter(n);
    for (InternalId id = 0; id < n; id += static_cast<InternalId>(modulus))
      filter.Add(id);
    const std::vector<float> queries = RandomVectors(50, kDim, 8);
    for (size_t q = 0; q < 50; ++q) {
      for (const Neighbor& hit : index->Search({queries.data() + q * kDim, kDim}, 10, &filter))
        EXPECT_TRUE(filter.IsMember(hit.internal_id));
    }
    EXPECT_GE(MeanRecall(*index, queries, 10, &filter), 0.95);
  }
}

TEST(HnswIndexTest, FilterMatchingNothingOrFewReturnsWhatMatches) {
  auto index = MakeIndex(DistanceSpace::kL2);
  ASSERT_TRUE(index->Upsert(Iota(1000), RandomVectors(1000, kDim, 9)).ok());
  BitmapIdFilter none(1000);
  EXPECT_TRUE(index->Search(RandomVectors(1, kDim, 10), 10, &none).empty());
  BitmapIdFilter three(1000);
  for (InternalId id : {5u, 500u, 999u})
    three.Add(id);
  // A graph search may miss isolated matches; the exact paths never do.
  const std::vector<InternalId> among{5, 500, 999};
  EXPECT_EQ(index->SearchAmong(RandomVectors(1, kDim, 10), 10, among).size(), 3u);
  EXPECT_EQ(index->ExactSearch(RandomVectors(1, kDim, 10), 10, &three).size(), 3u);
}

TEST(HnswIndexTest, RemoveHidesVectorsAndReuseRelinksThem) {
  auto index = MakeIndex(DistanceSpace::kL2);
  const std::vector<float> data = RandomVectors(2000, kDim, 11);
  ASSERT_TRUE(index->Upsert(Iota(2000), data).ok());
  std::vector<InternalId> removed;
  for (InternalId id = 0; id < 2000; id += 2)
    removed.push_back(id);
  index->Remove(removed);
  EXPECT_EQ(index->size(), 1000u);
  EXPECT_FALSE(index->Contains(0));
  EXPECT_TRUE(index->GetVector(0).empty());
  // A query equal to a removed vector must not find it.
  const std::span<const float> first(data.data(), kDim);
  for (const Neighbor& hit : index->Search(first, 10, nullptr))
    EXPECT_EQ(hit.internal_id % 2, 1u);
  EXPECT_GE(MeanRecall(*index, RandomVectors(50, kDim, 12), 10), 0.95);

  // Reuse the removed ids with new vectors: they are found at their new place.
  const std::vector<float> fresh = RandomVectors(removed.size(), kDim, 13);
  ASSERT_TRUE(index->Upsert(removed, fresh).ok());
  EXPECT_EQ(index->size(), 2000u);
  const std::vector<Neighbor> hit = index->Search({fresh.data(), kDim}, 1, nullptr);
  ASSERT_EQ(hit.size(), 1u);
  EXPECT_EQ(hit[0].internal_id, removed[0]);
  EXPECT_EQ(hit[0].distance, 0.0f);
  EXPECT_GE(MeanRecall(*index, RandomVectors(50, kDim, 14), 10), 0.95);
}

TEST(HnswIndexTest, UpdateMovesVectorAndKeepsRecall) {
  auto index = MakeIndex(DistanceSpace::kCosine);
  ASSERT_TRUE(index->Upsert(Iota(2000), RandomVectors(2000, kDim, 15)).ok());
  // Move a quarter of the vectors, including (likely) the entry point.
  const std::vector<InternalId> moved = Iota(500, 0);
  const std::vector<float> fresh = RandomVectors(500, kDim, 16);
  ASSERT_TRUE(index->Upsert(moved, fresh).ok());
  EXPECT_EQ(index->size(), 2000u);
  const std::span<const float> stored = index->GetVector(7);
  EXPECT_TRUE(std::equal(stored.begin(), stored.end(), fresh.begin() + 7 * kDim));
  const std::vector<Neighbor> hit = index->Search({fresh.data() + 7 * kDim, kDim}, 1, nullptr);
  ASSERT_EQ(hit.size(), 1u);
  EXPECT_EQ(hit[0].internal_id, 7u);
  EXPECT_GE(MeanRecall(*index, RandomVectors(50, kDim, 17), 10), 0.95);
}

TEST(HnswIndexTest, RepeatedIdInOneBatchKeepsLastVector) {
  auto index = MakeIndex(DistanceSpace::kL2);
  std::vector<float> data = RandomVectors(3, kDim, 18);
  const std::vector<InternalId> ids{4, 4, 4};
  ASSERT_TRUE(index->Upsert(ids, data).ok());
  EXPECT_EQ(index->size(), 1u);
  const std::span<const float> stored = index->GetVector(4);
  EXPECT_TRUE(std::equal(stored.begin(), stored.end(), data.begin() + 2 * kDim));
}

TEST(HnswIndexTest, AddDeleteLoopKeepsMemoryFlat) {
  auto index = MakeIndex(DistanceSpace::kL2);
  const std::vector<InternalId> ids = Iota(1000);
  size_t memory_after_first = 0;
  for (uint32_t round = 0; round < 20; ++round) {
    ASSERT_TRUE(index->Upsert(ids, RandomVectors(1000, kDim, 100 + round)).ok());
    index->Remove(ids);
    if (round == 0)
      memory_after_first = index->MemoryBytes();
  }
  EXPECT_EQ(index->size(), 0u);
  EXPECT_LE(index->MemoryBytes(), memory_after_first + memory_after_first / 20);
}

TEST(HnswIndexTest, ParallelBuildHasSameRecallAsSequential) {
  HnswParams params;
  params.num_threads = 4;
  auto index = MakeIndex(DistanceSpace::kL2, params);
  ASSERT_TRUE(index->Upsert(Iota(4000), RandomVectors(4000, kDim, 19)).ok());
  EXPECT_EQ(index->size(), 4000u);
  EXPECT_GE(MeanRecall(*index, RandomVectors(100, kDim, 20), 10), 0.95);
}

TEST(HnswIndexTest, ConcurrentSearchesAgree) {
  auto index = MakeIndex(DistanceSpace::kCosine);
  ASSERT_TRUE(index->Upsert(Iota(2000), RandomVectors(2000, kDim, 21)).ok());
  const std::vector<float> queries = RandomVectors(20, kDim, 22);
  std::vector<std::vector<Neighbor>> expected;
  for (size_t q = 0; q < 20; ++q)
    expected.push_back(index->Search({queries.data() + q * kDim, kDim}, 10, nullptr));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (size_t q = 0; q < 20; ++q) {
        const auto got = index->Search({queries.data() + q * kDim, kDim}, 10, nullptr);
        if (got.size() != expected[q].size() ||
            !std::equal(got.begin(), got.end(), expected[q].begin(),
                        [](const Neighbor& a, const Neighbor& b) {
                          return a.internal_id == b.internal_id;
                        }))
          ++mismatches;
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// --- snapshots ---

class HnswSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ksdb_hnsw_snapshot_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "c.hnsw").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<HnswIndex> BuildAndSave(uint64_t watermark) {
    auto index = MakeIndex(DistanceSpace::kCosine);
    EXPECT_TRUE(index->Upsert(Iota(1500), RandomVectors(1500, kDim, 23)).ok());
    index->Remove(std::vector<InternalId>{3, 30, 300});
    EXPECT_TRUE(index->SaveSnapshot(path_, watermark, std::string("slot\0map", 8)).ok());
    return index;
  }
  Result<LoadedHnswSnapshot> Load() { return LoadHnswSnapshot(path_, kDim, DistanceSpace::kCosine, {}); }

  void Corrupt(std::streamoff offset, char value) {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    f.put(value);
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(HnswSnapshotTest, RoundTripGivesIdenticalResults) {
  auto original = BuildAndSave(42);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  Result<LoadedHnswSnapshot> loaded = Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->watermark, 42u);
  EXPECT_EQ(loaded->user_data, std::string("slot\0map", 8));
  EXPECT_EQ(loaded->index->size(), original->size());
  EXPECT_FALSE(loaded->index->Contains(30));
  const std::vector<float> queries = RandomVectors(20, kDim, 24);
  for (size_t q = 0; q < 20; ++q) {
    const std::span<const float> query(queries.data() + q * kDim, kDim);
    const auto a = original->Search(query, 10, nullptr);
    const auto b = loaded->index->Search(query, 10, nullptr);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].internal_id, b[i].internal_id);
      EXPECT_EQ(a[i].distance, b[i].distance);
    }
  }
  // The loaded index keeps working: inserts and reuse.
  ASSERT_TRUE(loaded->index->Upsert(std::vector<InternalId>{30, 2000},
                                    RandomVectors(2, kDim, 25)).ok());
  EXPECT_EQ(loaded->index->size(), original->size() + 2);
}

TEST_F(HnswSnapshotTest, MissingFileIsNotFound) {
  EXPECT_EQ(Load().status().code(), StatusCode::kNotFound);
}

TEST_F(HnswSnapshotTest, TruncatedFileIsCorruption) {
  BuildAndSave(1);
  const auto size = std::filesystem::file_size(path_);
  for (uintmax_t keep : {uintmax_t{0}, uintmax_t{40}, size / 2, size - 1}) {
    BuildAndSave(1);
    std::filesystem::resize_file(path_, keep);
    Result<LoadedHnswSnapshot> loaded = Load();
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << keep;
    EXPECT_NE(loaded.status().message().find(path_), std::string::npos);
  }
}

TEST_F(HnswSnapshotTest, FlippedBodyByteFailsChecksum) {
  BuildAndSave(1);
  const auto size = std::filesystem::file_size(path_);
  Corrupt(static_cast<std::streamoff>(size - 100), 0x5a);
  Result<LoadedHnswSnapshot> loaded = Load();
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption);
  EXPECT_NE(loaded.status().message().find("checksum"), std::string::npos);
}

TEST_F(HnswSnapshotTest, FlippedHeaderByteIsDetected) {
  BuildAndSave(1);
  Corrupt(50, 0x7f);
  EXPECT_EQ(Load().status().code(), StatusCode::kCorruption);
  Corrupt(0, 'X');
  EXPECT_EQ(Load().status().code(), StatusCode::kCorruption);
}

TEST_F(HnswSnapshotTest, OtherDimensionOrSpaceIsRejected) {
  BuildAndSave(1);
  EXPECT_EQ(LoadHnswSnapshot(path_, kDim + 1, DistanceSpace::kCosine, {}).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(LoadHnswSnapshot(path_, kDim, DistanceSpace::kL2, {}).status().code(),
            StatusCode::kCorruption);
  HnswParams other_m;
  other_m.m = 8;
  EXPECT_EQ(LoadHnswSnapshot(path_, kDim, DistanceSpace::kCosine, other_m).status().code(),
            StatusCode::kCorruption);
}

TEST(HnswPolicyTest, ExactScanPreferredForSelectiveFilters) {
  EXPECT_TRUE(PreferExactScan(10, 1000000, 100, 384));
  EXPECT_TRUE(PreferExactScan(10000, 1000000, 100, 384));
  EXPECT_FALSE(PreferExactScan(500000, 1000000, 100, 384));
}

TEST_F(HnswSnapshotTest, EmptyIndexRoundTrips) {
  auto index = MakeIndex(DistanceSpace::kL2);
  ASSERT_TRUE(index->SaveSnapshot(path_, 7).ok());
  Result<LoadedHnswSnapshot> loaded = LoadHnswSnapshot(path_, kDim, DistanceSpace::kL2, {});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->index->size(), 0u);
  EXPECT_EQ(loaded->watermark, 7u);
}

TEST(HugePagesTest, WholeHugePagesKeepsOnlyAlignedPagesInside) {
  const uintptr_t page = kHugePageBytes;
  // An unaligned start rounds up, an unaligned end rounds down.
  HugePageRange r = WholeHugePages(reinterpret_cast<void*>(page + 64), 3 * page);
  EXPECT_EQ(r.begin, 2 * page);
  EXPECT_EQ(r.bytes, 2 * page);
  // Aligned on both ends: the whole range.
  r = WholeHugePages(reinterpret_cast<void*>(4 * page), 2 * page);
  EXPECT_EQ(r.begin, 4 * page);
  EXPECT_EQ(r.bytes, 2 * page);
  // Less than one whole page inside: nothing.
  EXPECT_EQ(WholeHugePages(reinterpret_cast<void*>(page + 64), page).bytes, 0u);
  EXPECT_EQ(WholeHugePages(reinterpret_cast<void*>(page), page - 1).bytes, 0u);
}

TEST(HugePagesTest, AdviseLeavesTheBufferUsable) {
  // A hint only: whatever the kernel answers, the memory reads and writes as before.
  const size_t bytes = 3 * kHugePageBytes;
  std::vector<uint8_t> buffer(bytes);
  const bool small_advised = AdviseHugePages(buffer.data(), kHugePageBytes / 2);
  EXPECT_FALSE(small_advised);  // no whole huge page inside
  AdviseHugePages(buffer.data(), bytes);
  for (size_t i = 0; i < bytes; i += 4096)
    buffer[i] = static_cast<uint8_t>(i / 4096);
  for (size_t i = 0; i < bytes; i += 4096)
    EXPECT_EQ(buffer[i], static_cast<uint8_t>(i / 4096));
}

}  // namespace
}  // namespace ksdb::index
