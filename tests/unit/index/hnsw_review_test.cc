// Review tests for the HNSW index: snapshot files that pass their checksums
// (a checksum catches damage, not a deliberately written file) but hold state
// SaveSnapshot never writes must be rejected as Corruption, not used.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "index/hnsw_index.h"

namespace ksdb::index {
namespace {

constexpr size_t kDim = 8;
constexpr size_t kM = 4;

// The snapshot header as hnsw_snapshot.cc lays it out (format version 2).
struct Header {
  char magic[8];
  uint32_t version;
  uint32_t space;
  uint64_t dim;
  uint64_t m;
  uint64_t num_nodes;
  uint64_t size;
  uint64_t upper_words;
  uint64_t watermark;
  uint64_t user_data_bytes;
  uint32_t entry_point;
  int32_t max_level;
  uint32_t quantization;  // 0: none
  uint32_t trained;
  uint64_t body_checksum;
  uint64_t header_checksum;
};
static_assert(sizeof(Header) == 104);

// One l2 node block: dim floats, then the layer-0 row (count, 2m ids),
// padded to 32 bytes.
constexpr size_t kLinksOffset = kDim * sizeof(float);
constexpr size_t kBlockBytes = (kLinksOffset + (1 + 2 * kM) * 4 + 31) / 32 * 32;

struct Node {
  uint8_t level = 0;
  uint8_t state = 0;  // 0 empty, 1 live, 2 deleted
  std::vector<float> vector = std::vector<float>(kDim, 0.0f);
  std::vector<uint32_t> links;  // layer 0
};

// Writes a level-0-only l2 snapshot of `nodes` with valid checksums.
void WriteSnapshot(const std::string& path, const std::vector<Node>& nodes, uint64_t size,
                   uint32_t entry_point, int32_t max_level) {
  std::string body;
  for (const Node& n : nodes)
    body.push_back(static_cast<char>(n.level));
  for (const Node& n : nodes)
    body.push_back(static_cast<char>(n.state));
  for (const Node& n : nodes) {
    std::string block(kBlockBytes, '\0');
    std::memcpy(block.data(), n.vector.data(), kDim * sizeof(float));
    const uint32_t count = static_cast<uint32_t>(n.links.size());
    std::memcpy(block.data() + kLinksOffset, &count, 4);
    std::memcpy(block.data() + kLinksOffset + 4, n.links.data(), 4 * n.links.size());
    body += block;
  }
  Header h{};
  std::memcpy(h.magic, "KSDBHNSW", 8);
  h.version = 2;
  h.space = static_cast<uint32_t>(DistanceSpace::kL2);
  h.dim = kDim;
  h.m = kM;
  h.num_nodes = nodes.size();
  h.size = size;
  h.entry_point = entry_point;
  h.max_level = max_level;
  Checksum64 body_sum;
  body_sum.Update(body.data(), body.size());
  h.body_checksum = body_sum.Finish();
  Checksum64 header_sum;
  header_sum.Update(&h, offsetof(Header, header_checksum));
  h.header_checksum = header_sum.Finish();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(&h), sizeof(h));
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
}

class HnswReviewSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        ("ksdb_hnsw_review_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "index.hnsw").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Result<LoadedHnswSnapshot> Load() {
    HnswParams params;
    params.m = kM;
    return LoadHnswSnapshot(path_, kDim, DistanceSpace::kL2, params);
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(HnswReviewSnapshotTest, WellFormedCraftedFileLoads) {
  // Guards the helper: a consistent two-node file is accepted.
  std::vector<Node> nodes(2);
  nodes[0].state = nodes[1].state = 1;
  nodes[1].vector[0] = 1.0f;
  nodes[0].links = {1};
  nodes[1].links = {0};
  WriteSnapshot(path_, nodes, 2, 0, 0);
  Result<LoadedHnswSnapshot> loaded = Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->index->size(), 2u);
}

TEST_F(HnswReviewSnapshotTest, EmptySlotWithLinksIsCorruption) {
  // An empty slot is never linked and SaveSnapshot writes it zeroed, so its
  // link row is not checked; but when the slot becomes the first node of the
  // graph its row is kept as is, and the next insert follows link 7 of a
  // two-node graph (out of bounds).
  std::vector<Node> nodes(1);
  nodes[0].links = {7};
  WriteSnapshot(path_, nodes, 0, ~uint32_t{0}, -1);
  Result<LoadedHnswSnapshot> loaded = Load();
  ASSERT_FALSE(loaded.ok()) << "a snapshot with links on an empty slot was accepted";
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption);
}

TEST_F(HnswReviewSnapshotTest, NonFiniteVectorIsCorruption) {
  // Upsert rejects non-finite vectors; a snapshot holding one would give NaN
  // distances (breaking every heap and sort order) and NaN embeddings in
  // get/query results.
  std::vector<Node> nodes(2);
  nodes[0].state = nodes[1].state = 1;
  nodes[0].links = {1};
  nodes[1].links = {0};
  nodes[1].vector[3] = std::numeric_limits<float>::quiet_NaN();
  WriteSnapshot(path_, nodes, 2, 0, 0);
  Result<LoadedHnswSnapshot> loaded = Load();
  ASSERT_FALSE(loaded.ok()) << "a snapshot with a NaN vector was accepted";
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace ksdb::index
