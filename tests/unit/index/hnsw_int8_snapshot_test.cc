// Snapshot tests for int8-quantised HNSW indexes (format version 2): a round
// trip gives identical results with the float vectors on the heap or in a
// mapped scratch file, trained or not, with staged vectors kept pending; and
// truncation, flipped bytes, another quantisation, another format version and
// files that pass their checksums but hold inconsistent int8 state are all
// rejected as Corruption (the engine then rebuilds from the store).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/checksum.h"
#include "index/hnsw_index.h"
#include "index_test_util.h"

namespace ksdb::index {
namespace {

constexpr size_t kDim = 16;
// Header layout of format version 2 (hnsw_snapshot.cc): the fields the tests
// patch, and the size of the part the header checksum covers.
constexpr size_t kHeaderBytes = 104;
constexpr size_t kVersionOffset = 8;
constexpr size_t kQuantizationOffset = 80;
constexpr size_t kTrainedOffset = 84;
constexpr size_t kBodyChecksumOffset = 88;
constexpr size_t kHeaderChecksumOffset = 96;
const std::string kUserData("slots\0map", 9);

std::vector<float> RandomVectors(size_t count, uint32_t seed) {
  return testing::RandomVectors(count, kDim, seed);
}

using testing::Iota;

std::span<const float> Row(const std::vector<float>& v, size_t i) {
  return {v.data() + i * kDim, kDim};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <typename T>
void Patch(std::string* bytes, size_t offset, T value) {
  std::memcpy(bytes->data() + offset, &value, sizeof(value));
}

// Recomputes both checksums after a deliberate edit, so that only the
// structural checks stand between the edited file and the index.
void Reseal(std::string* bytes) {
  Checksum64 body;
  body.Update(bytes->data() + kHeaderBytes, bytes->size() - kHeaderBytes);
  Patch(bytes, kBodyChecksumOffset, body.Finish());
  Checksum64 header;
  header.Update(bytes->data(), kHeaderChecksumOffset);
  Patch(bytes, kHeaderChecksumOffset, header.Finish());
}

enum class Storage { kFloat, kInt8Heap, kInt8Mapped };

class Int8SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = "ksdb_int8_snapshot_" + std::to_string(::getpid()) + "_" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name();
    // Parameterised test names hold '/'.
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "c.hnsw").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  HnswParams Params(Storage storage, const std::string& vectors_name = "vectors") const {
    HnswParams params;
    params.ef_construction = 64;
    params.quantize_int8 = storage != Storage::kFloat;
    if (storage == Storage::kInt8Mapped)
      params.vectors_file = (dir_ / vectors_name).string();
    return params;
  }

  std::unique_ptr<HnswIndex> Make(DistanceSpace space, const HnswParams& params) {
    Result<std::unique_ptr<HnswIndex>> index = NewHnswIndex(kDim, space, params);
    EXPECT_TRUE(index.ok()) << index.status().ToString();
    return std::move(index).value();
  }

  // `linked` vectors upserted, then a few removed, a few updated and
  // `staged` more staged (pending), and saved.
  std::unique_ptr<HnswIndex> BuildAndSave(DistanceSpace space, const HnswParams& params,
                                          size_t linked, size_t staged) {
    auto index = Make(space, params);
    data_ = RandomVectors(linked + staged, 40);
    EXPECT_TRUE(index->Upsert(Iota(linked), std::span(data_).first(linked * kDim)).ok());
    index->Remove(std::vector<InternalId>{3, 30, 300});
    const std::vector<float> moved = RandomVectors(2, 41);
    EXPECT_TRUE(index->Upsert(std::vector<InternalId>{5, 50}, moved).ok());
    std::copy(moved.begin(), moved.end(), data_.begin() + 5 * kDim);
    std::copy(moved.begin() + kDim, moved.end(), data_.begin() + 50 * kDim);
    if (staged > 0) {
      EXPECT_TRUE(index
                      ->Stage(Iota(staged, static_cast<InternalId>(linked)),
                              std::span(data_).subspan(linked * kDim))
                      .ok());
    }
    EXPECT_TRUE(index->SaveSnapshot(path_, 77, kUserData).ok());
    return index;
  }

  Result<LoadedHnswSnapshot> Load(DistanceSpace space, const HnswParams& params) {
    return LoadHnswSnapshot(path_, kDim, space, params);
  }

  std::filesystem::path dir_;
  std::string path_;
  std::vector<float> data_;
};

void ExpectSameResults(const HnswIndex& a, const HnswIndex& b) {
  const std::vector<float> queries = RandomVectors(25, 42);
  for (size_t q = 0; q < 25; ++q) {
    const auto x = a.SearchWithEf(Row(queries, q), 10, 64, nullptr);
    const auto y = b.SearchWithEf(Row(queries, q), 10, 64, nullptr);
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].internal_id, y[i].internal_id) << "query " << q << " rank " << i;
      EXPECT_EQ(x[i].distance, y[i].distance) << "query " << q << " rank " << i;
    }
  }
}

class Int8SnapshotRoundTripTest
    : public Int8SnapshotTest,
      public ::testing::WithParamInterface<std::tuple<DistanceSpace, Storage, size_t>> {};

TEST_P(Int8SnapshotRoundTripTest, GivesIdenticalResultsAndKeepsWorking) {
  const auto [space, storage, linked] = GetParam();
  constexpr size_t kStaged = 150;
  auto original = BuildAndSave(space, Params(storage, "original"), linked, kStaged);
  Result<LoadedHnswSnapshot> loaded = Load(space, Params(storage, "loaded"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  HnswIndex& restored = *loaded->index;
  EXPECT_EQ(loaded->watermark, 77u);
  EXPECT_EQ(loaded->user_data, kUserData);
  EXPECT_EQ(restored.size(), original->size());
  EXPECT_EQ(restored.pending(), kStaged);
  EXPECT_FALSE(restored.Contains(30));
  for (InternalId id :
       {InternalId{0}, InternalId{5}, InternalId{50}, static_cast<InternalId>(linked + 7)}) {
    const std::span<const float> stored = restored.GetVector(id);
    ASSERT_EQ(stored.size(), kDim);
    EXPECT_TRUE(std::equal(stored.begin(), stored.end(), Row(data_, id).begin())) << id;
  }
  ExpectSameResults(*original, restored);
  // Scratch files are never left in the directory.
  EXPECT_FALSE(std::filesystem::exists(dir_ / "loaded"));
  if (storage == Storage::kInt8Mapped) {
    // The loaded float rows live in the recreated mapped file, not on the heap.
    Result<LoadedHnswSnapshot> on_heap = Load(space, Params(Storage::kInt8Heap));
    ASSERT_TRUE(on_heap.ok()) << on_heap.status().ToString();
    EXPECT_LT(restored.MemoryBytes(), on_heap->index->MemoryBytes());
  }

  // Linking the staged vectors, updates and slot reuse keep working.
  EXPECT_EQ(restored.LinkPending(1000), kStaged);
  const std::vector<float> fresh = RandomVectors(2, 43);
  ASSERT_TRUE(restored.Upsert(std::vector<InternalId>{30, 7}, fresh).ok());
  EXPECT_EQ(restored.Search(Row(fresh, 0), 1, nullptr).at(0).internal_id, 30u);
  EXPECT_EQ(restored.Search(Row(fresh, 1), 1, nullptr).at(0).internal_id, 7u);
}

INSTANTIATE_TEST_SUITE_P(
    SpacesStoragesAndTraining, Int8SnapshotRoundTripTest,
    ::testing::Combine(::testing::Values(DistanceSpace::kL2, DistanceSpace::kIp,
                                         DistanceSpace::kCosine),
                       ::testing::Values(Storage::kFloat, Storage::kInt8Heap, Storage::kInt8Mapped),
                       // Below and above the size at which the codes are trained.
                       ::testing::Values(size_t{400}, size_t{1600})));

TEST_F(Int8SnapshotTest, EmptyInt8IndexRoundTrips) {
  for (Storage storage : {Storage::kInt8Heap, Storage::kInt8Mapped}) {
    auto index = Make(DistanceSpace::kL2, Params(storage));
    ASSERT_TRUE(index->SaveSnapshot(path_, 3).ok());
    Result<LoadedHnswSnapshot> loaded = Load(DistanceSpace::kL2, Params(storage));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->index->size(), 0u);
    ASSERT_TRUE(loaded->index->Upsert(Iota(2), RandomVectors(2, 44)).ok());
    EXPECT_EQ(loaded->index->size(), 2u);
  }
}

TEST_F(Int8SnapshotTest, LoadedUntrainedIndexTrainsLater) {
  // Saved below the training size: the loaded index trains its codes once it
  // reaches it, and searches still find every vector.
  BuildAndSave(DistanceSpace::kCosine, Params(Storage::kInt8Heap), 600, 0);
  Result<LoadedHnswSnapshot> loaded = Load(DistanceSpace::kCosine, Params(Storage::kInt8Heap));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const std::vector<float> more = RandomVectors(1000, 45);
  ASSERT_TRUE(loaded->index->Upsert(Iota(1000, 600), more).ok());
  for (size_t i : {size_t{0}, size_t{500}, size_t{999}}) {
    EXPECT_EQ(loaded->index->Search(Row(more, i), 1, nullptr).at(0).internal_id, 600 + i);
  }
  // And a snapshot of it, now trained, round-trips too.
  ASSERT_TRUE(loaded->index->SaveSnapshot(path_, 4).ok());
  Result<LoadedHnswSnapshot> again = Load(DistanceSpace::kCosine, Params(Storage::kInt8Heap));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectSameResults(*loaded->index, *again->index);
}

TEST_F(Int8SnapshotTest, OtherQuantisationIsRejected) {
  BuildAndSave(DistanceSpace::kL2, Params(Storage::kInt8Heap), 1200, 0);
  Result<LoadedHnswSnapshot> as_float = Load(DistanceSpace::kL2, Params(Storage::kFloat));
  EXPECT_EQ(as_float.status().code(), StatusCode::kCorruption);
  EXPECT_NE(as_float.status().message().find("int8"), std::string::npos);

  BuildAndSave(DistanceSpace::kL2, Params(Storage::kFloat), 1200, 0);
  for (Storage storage : {Storage::kInt8Heap, Storage::kInt8Mapped}) {
    Result<LoadedHnswSnapshot> as_int8 = Load(DistanceSpace::kL2, Params(storage));
    EXPECT_EQ(as_int8.status().code(), StatusCode::kCorruption);
    EXPECT_NE(as_int8.status().message().find("int8"), std::string::npos);
  }
}

TEST_F(Int8SnapshotTest, TruncatedFileIsCorruption) {
  BuildAndSave(DistanceSpace::kCosine, Params(Storage::kInt8Mapped), 1200, 20);
  const std::string whole = ReadFile(path_);
  for (size_t keep : {size_t{0}, size_t{60}, kHeaderBytes, whole.size() / 2,
                      whole.size() - kUserData.size() - 4, whole.size() - 1}) {
    WriteFile(path_, whole.substr(0, keep));
    Result<LoadedHnswSnapshot> loaded = Load(DistanceSpace::kCosine, Params(Storage::kInt8Mapped));
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << keep;
    EXPECT_NE(loaded.status().message().find(path_), std::string::npos) << keep;
  }
}

TEST_F(Int8SnapshotTest, FlippedBytesAreCorruption) {
  BuildAndSave(DistanceSpace::kL2, Params(Storage::kInt8Heap), 1200, 0);
  const std::string whole = ReadFile(path_);
  // Header fields, a node block, the code ranges, the float rows, user data.
  for (size_t offset :
       {size_t{12}, size_t{kQuantizationOffset}, size_t{kTrainedOffset}, kHeaderBytes + 3000,
        whole.size() / 2, whole.size() - kUserData.size() - 1200 * 4 * kDim - 8,
        whole.size() - kUserData.size() - 9, whole.size() - 2}) {
    std::string bytes = whole;
    bytes[offset] = static_cast<char>(bytes[offset] ^ 0x21);
    WriteFile(path_, bytes);
    EXPECT_EQ(Load(DistanceSpace::kL2, Params(Storage::kInt8Heap)).status().code(),
              StatusCode::kCorruption)
        << offset;
  }
}

TEST_F(Int8SnapshotTest, OlderOrNewerFormatVersionIsCorruption) {
  BuildAndSave(DistanceSpace::kL2, Params(Storage::kFloat), 300, 0);
  const std::string whole = ReadFile(path_);
  for (uint32_t version : {1u, 3u}) {
    std::string bytes = whole;
    Patch(&bytes, kVersionOffset, version);
    Reseal(&bytes);
    WriteFile(path_, bytes);
    Result<LoadedHnswSnapshot> loaded = Load(DistanceSpace::kL2, Params(Storage::kFloat));
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << version;
    EXPECT_NE(loaded.status().message().find("version"), std::string::npos);
  }
}

// --- files with valid checksums but inconsistent int8 state ---

TEST_F(Int8SnapshotTest, ResealedUnchangedFileLoads) {
  // Guards the helpers below: resealing alone changes nothing.
  BuildAndSave(DistanceSpace::kL2, Params(Storage::kInt8Heap), 1200, 0);
  std::string bytes = ReadFile(path_);
  Reseal(&bytes);
  WriteFile(path_, bytes);
  EXPECT_TRUE(Load(DistanceSpace::kL2, Params(Storage::kInt8Heap)).ok());
}

TEST_F(Int8SnapshotTest, CodesNotMatchingTheVectorsAreCorruption) {
  BuildAndSave(DistanceSpace::kL2, Params(Storage::kInt8Heap), 1200, 0);
  std::string bytes = ReadFile(path_);
  // Node 0's first code byte: the blocks follow the levels and states.
  const size_t code = kHeaderBytes + 2 * 1200;
  bytes[code] = static_cast<char>(bytes[code] ^ 0x01);
  Reseal(&bytes);
  WriteFile(path_, bytes);
  Result<LoadedHnswSnapshot> loaded = Load(DistanceSpace::kL2, Params(Storage::kInt8Heap));
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption);
  EXPECT_NE(loaded.status().message().find("codes"), std::string::npos);
}

TEST_F(Int8SnapshotTest, NonFiniteOrZeroCodeScaleIsCorruption) {
  BuildAndSave(DistanceSpace::kL2, Params(Storage::kInt8Heap), 1200, 0);
  const std::string whole = ReadFile(path_);
  // code_scale[0] sits right after code_min, before the float rows.
  const size_t scale = whole.size() - kUserData.size() - 1200 * kDim * 4 - kDim * 4;
  for (float bad : {0.0f, -1.0f, std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    std::string bytes = whole;
    Patch(&bytes, scale, bad);
    Reseal(&bytes);
    WriteFile(path_, bytes);
    Result<LoadedHnswSnapshot> loaded = Load(DistanceSpace::kL2, Params(Storage::kInt8Heap));
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << bad;
  }
}

TEST_F(Int8SnapshotTest, NonFiniteFloatRowIsCorruption) {
  BuildAndSave(DistanceSpace::kL2, Params(Storage::kInt8Heap), 1200, 0);
  std::string bytes = ReadFile(path_);
  // Node 1's first float (node 0 is live too; a live node's vector is checked).
  const size_t row = bytes.size() - kUserData.size() - 1200 * kDim * 4 + kDim * 4;
  Patch(&bytes, row, std::numeric_limits<float>::quiet_NaN());
  Reseal(&bytes);
  WriteFile(path_, bytes);
  EXPECT_EQ(Load(DistanceSpace::kL2, Params(Storage::kInt8Heap)).status().code(),
            StatusCode::kCorruption);
}

TEST_F(Int8SnapshotTest, BadQuantisationFieldsAreCorruption) {
  BuildAndSave(DistanceSpace::kL2, Params(Storage::kFloat), 300, 0);
  const std::string whole = ReadFile(path_);
  // A float snapshot claiming trained codes, and an unknown quantisation.
  for (auto [offset, value] : {std::pair{kTrainedOffset, 1u}, std::pair{kQuantizationOffset, 7u}}) {
    std::string bytes = whole;
    Patch(&bytes, offset, value);
    Reseal(&bytes);
    WriteFile(path_, bytes);
    EXPECT_EQ(Load(DistanceSpace::kL2, Params(Storage::kFloat)).status().code(),
              StatusCode::kCorruption)
        << offset;
  }
}

}  // namespace
}  // namespace ksdb::index
