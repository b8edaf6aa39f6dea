// Review of session 4 (index): the bfloat16 construction copy must hold the
// current vector of every node that construction can reach. A vector staged
// while the copy exists (an update of a linked node, or the reuse of a
// deleted node's slot) keeps its links, so other nodes' candidate searches
// reach it before it is re-linked itself; its copy row must not still
// describe the old vector then.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "index/hnsw_graph.h"
#include "index_test_util.h"
#include "simd/distance.h"

namespace ksdb::index {

class HnswGraphTestPeer {
 public:
  explicit HnswGraphTestPeer(const HnswGraph& graph) : graph_(graph) {}
  bool HasCopy() const { return static_cast<bool>(graph_.mirror_); }
  // The bfloat16 copy row of `id` (dim values).
  std::vector<uint16_t> CopyRow(InternalId id) const {
    const uint16_t* row = graph_.MirrorRow(id);
    return std::vector<uint16_t>(row, row + graph_.dim());
  }
  bool Linked(InternalId id) const {
    const uint32_t* row = graph_.Links(id, 0);
    return row[0] > 0;
  }

 private:
  const HnswGraph& graph_;
};

namespace {

using testing::Iota;
using testing::RandomVectors;

constexpr size_t kDim = 16;
constexpr size_t kNodes = 2048;  // a backlog that gets the copy (>= 1024)

std::vector<uint16_t> Bf16Row(float value) {
  return std::vector<uint16_t>(kDim, simd::Bf16FromFloat(value));
}

class ConstructionCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HnswParams params;
    params.m = 8;
    params.ef_construction = 32;
    params.num_threads = 1;
    auto made = NewHnswIndex(kDim, DistanceSpace::kL2, params);
    ASSERT_TRUE(made.ok());
    index_ = std::move(made).value();
    graph_ = static_cast<HnswGraph*>(index_.get());
    ASSERT_TRUE(index_->Stage(Iota(kNodes), RandomVectors(kNodes, kDim, 7)).ok());
    // One chunk, as the background indexer links: the copy stays for the rest.
    ASSERT_EQ(index_->LinkPending(256), 256u);
    ASSERT_TRUE(HnswGraphTestPeer(*graph_).HasCopy());
  }

  // A node the first chunk linked (the most recently staged are linked first).
  static constexpr InternalId kLinkedNode = kNodes - 1;

  std::unique_ptr<HnswIndex> index_;
  HnswGraph* graph_ = nullptr;
};

TEST_F(ConstructionCopyTest, UpdateStagedWhileTheCopyExistsRefreshesItsRow) {
  const HnswGraphTestPeer peer(*graph_);
  ASSERT_TRUE(peer.Linked(kLinkedNode));
  const std::vector<InternalId> id = {kLinkedNode};
  ASSERT_TRUE(index_->Stage(id, std::vector<float>(kDim, 100.0f)).ok());
  // Still linked (its old links stay until it is re-linked), so the next
  // chunk's candidate searches reach it through the copy.
  ASSERT_TRUE(peer.Linked(kLinkedNode));
  ASSERT_TRUE(peer.HasCopy());
  EXPECT_EQ(peer.CopyRow(kLinkedNode), Bf16Row(100.0f));
}

TEST_F(ConstructionCopyTest, ReusedSlotStagedWhileTheCopyExistsRefreshesItsRow) {
  const HnswGraphTestPeer peer(*graph_);
  const std::vector<InternalId> id = {kLinkedNode};
  index_->Remove(id);
  ASSERT_TRUE(index_->Stage(id, std::vector<float>(kDim, -50.0f)).ok());
  ASSERT_TRUE(peer.Linked(kLinkedNode));
  ASSERT_TRUE(peer.HasCopy());
  EXPECT_EQ(peer.CopyRow(kLinkedNode), Bf16Row(-50.0f));
}

TEST_F(ConstructionCopyTest, LinkingOnAfterAnUpdateKeepsEveryNodeSearchable) {
  const std::vector<InternalId> id = {kLinkedNode};
  const std::vector<float> moved(kDim, 100.0f);
  ASSERT_TRUE(index_->Stage(id, moved).ok());
  while (index_->LinkPending(256) > 0) {
  }
  EXPECT_FALSE(HnswGraphTestPeer(*graph_).HasCopy());
  const std::vector<Neighbor> hits = index_->SearchWithEf(moved, 1, 32, nullptr);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].internal_id, kLinkedNode);
  EXPECT_EQ(hits[0].distance, 0.0f);
}

}  // namespace
}  // namespace ksdb::index
