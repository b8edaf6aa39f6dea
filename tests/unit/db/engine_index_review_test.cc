// Review tests for the engine's index snapshots: a snapshot whose graph holds
// live nodes its slot map does not name (a file that passes its checksums but
// was not written by Checkpoint) must be discarded and the index rebuilt, not
// used: such a node would come back from a search with no record behind it.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "db/engine.h"
#include "index/hnsw_index.h"
#include "test_util.h"

namespace ksdb::db {
namespace {

using testing::Batch;
using testing::CreateCollection;
using testing::TempDir;

constexpr size_t kDim = 8;

std::unique_ptr<Engine> Open(const std::string& path) {
  EngineOptions options;
  options.path = path;
  options.store = testing::TestStoreFor(path);
  options.checkpoint_on_close = true;
  options.checkpoint_interval_ms = 0;
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(engine).value() : nullptr;
}

TEST(EngineIndexReviewTest, SnapshotWithNodesOutsideItsSlotMapIsRebuilt) {
  TempDir dir;
  std::string id;
  std::vector<std::string> ids;
  std::vector<std::vector<float>> rows;
  for (size_t i = 0; i < 10; ++i) {
    ids.push_back("r" + std::to_string(i));
    rows.push_back(std::vector<float>(kDim, static_cast<float>(i)));
  }
  {
    auto engine = Open(dir.path());
    ASSERT_NE(engine, nullptr);
    id = CreateCollection(engine.get(), "col");
    ASSERT_TRUE(engine->Add(id, Batch(ids, rows)).ok());
  }
  // Rewrite the snapshot with one more live node (slot 10, which the slot
  // map of 10 slots does not cover), keeping watermark and slot map.
  const std::string path =
      (std::filesystem::path(dir.path()) / "index" / (id + ".hnsw")).string();
  index::HnswParams params;
  params.m = 16;
  {
    auto loaded = index::LoadHnswSnapshot(path, kDim, DistanceSpace::kL2, params);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    const std::vector<float> far(kDim, 1000.0f);
    const std::vector<InternalId> extra{10};
    ASSERT_TRUE(loaded->index->Upsert(extra, far).ok());
    ASSERT_TRUE(loaded->index->SaveSnapshot(path, loaded->watermark, loaded->user_data).ok());
  }
  auto engine = Open(dir.path());
  ASSERT_NE(engine, nullptr);
  QueryRequest request;
  request.num_queries = 1;
  request.dim = kDim;
  request.embeddings = std::vector<float>(kDim, 1000.0f);
  request.n_results = 3;
  auto hits = engine->Query(id, request);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  const std::vector<std::string>& got = hits->at(0).records.ids;
  EXPECT_EQ(got, (std::vector<std::string>{"r9", "r8", "r7"}));
  EXPECT_EQ(engine->Stats().records, 10u);
}

}  // namespace
}  // namespace ksdb::db
