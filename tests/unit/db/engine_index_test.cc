// Engine + HNSW index: graph search on large collections, exact search on
// small ones and selective filters, and index snapshots — a clean reopen
// re-inserts nothing, a crash replays only what the snapshot lacks, and a
// truncated, corrupt or stale snapshot is rebuilt from the store. Also the
// add/delete loop that must leave memory and disk flat.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "db/engine.h"
#include "filter/where.h"
#include "test_util.h"

namespace ksdb::db {
namespace {

using testing::Batch;
using testing::CreateCollection;
using testing::TempDir;

constexpr size_t kDim = 16;
// Above the engine's exact-search size, so queries use the graph.
constexpr size_t kLarge = 5000;

std::vector<std::vector<float>> RandomRows(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<std::vector<float>> rows(count, std::vector<float>(kDim));
  for (auto& row : rows)
    for (float& x : row) x = dist(rng);
  return rows;
}

std::vector<std::string> Ids(size_t count, size_t first = 0, const std::string& prefix = "r") {
  std::vector<std::string> ids;
  for (size_t i = first; i < first + count; ++i) ids.push_back(prefix + std::to_string(i));
  return ids;
}

std::unique_ptr<Engine> Open(const std::string& path, bool checkpoint_on_close = true,
                             bool background_indexing = true) {
  EngineOptions options;
  options.path = path;
  options.store = testing::TestStoreFor(path);
  options.checkpoint_on_close = checkpoint_on_close;
  options.background_indexing = background_indexing;
  options.checkpoint_interval_ms = 0;  // only explicit checkpoints, for determinism
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(engine).value() : nullptr;
}

QueryRequest OneQuery(const std::vector<float>& q, uint32_t n_results) {
  QueryRequest request;
  request.num_queries = 1;
  request.dim = q.size();
  request.embeddings = q;
  request.n_results = n_results;
  return request;
}

std::vector<std::string> QueryIds(Engine* engine, const std::string& id,
                                  const QueryRequest& request) {
  auto hits = engine->Query(id, request);
  EXPECT_TRUE(hits.ok()) << hits.status().ToString();
  return hits.ok() ? hits->at(0).records.ids : std::vector<std::string>{};
}

// The exact top-k ids for `q` among `rows` (L2), named by `ids`.
std::set<std::string> ExactTopK(const std::vector<std::vector<float>>& rows,
                                const std::vector<std::string>& ids, const std::vector<float>& q,
                                size_t k) {
  std::vector<std::pair<float, std::string>> all;
  for (size_t i = 0; i < rows.size(); ++i) {
    float d = 0;
    for (size_t j = 0; j < kDim; ++j) d += (rows[i][j] - q[j]) * (rows[i][j] - q[j]);
    all.emplace_back(d, ids[i]);
  }
  std::sort(all.begin(), all.end());
  std::set<std::string> out;
  for (size_t i = 0; i < k && i < all.size(); ++i) out.insert(all[i].second);
  return out;
}

double Recall(const std::vector<std::string>& got, const std::set<std::string>& want) {
  size_t hits = 0;
  for (const std::string& id : got) hits += want.count(id);
  return static_cast<double>(hits) / static_cast<double>(want.size());
}

class EngineIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rows_ = RandomRows(kLarge, 1);
    ids_ = Ids(kLarge);
    auto engine = Open(dir_.path());
    id_ = CreateCollection(engine.get(), "col");
    ASSERT_TRUE(engine->Add(id_, Batch(ids_, rows_)).ok());
  }

  std::string SnapshotPath() const {
    return (std::filesystem::path(dir_.path()) / "index" / (id_ + ".hnsw")).string();
  }

  // Mean recall@10 of 20 random queries against the exact answer over
  // rows_/ids_.
  double MeanRecall(Engine* engine) {
    const auto queries = RandomRows(20, 99);
    double total = 0;
    for (const auto& q : queries)
      total += Recall(QueryIds(engine, id_, OneQuery(q, 10)), ExactTopK(rows_, ids_, q, 10));
    return total / 20;
  }

  TempDir dir_;
  std::string id_;
  std::vector<std::vector<float>> rows_;
  std::vector<std::string> ids_;
};

TEST_F(EngineIndexTest, GraphSearchHasHighRecallAndSeesFreshWrites) {
  auto engine = Open(dir_.path());
  EXPECT_GE(MeanRecall(engine.get()), 0.95);
  // A record is searchable as soon as its write returns.
  const std::vector<float> fresh(kDim, 7.5f);
  ASSERT_TRUE(engine->Add(id_, Batch({"fresh"}, {fresh})).ok());
  EXPECT_EQ(QueryIds(engine.get(), id_, OneQuery(fresh, 1)), std::vector<std::string>{"fresh"});
}

TEST_F(EngineIndexTest, SelectiveFilterIsAnsweredExactly) {
  auto engine = Open(dir_.path());
  // Filter by ids: ten scattered records, all must come back in exact order.
  QueryRequest request = OneQuery(RandomRows(1, 5)[0], 10);
  std::vector<std::string> allowed;
  std::vector<std::vector<float>> allowed_rows;
  for (size_t i = 0; i < kLarge; i += 500) {
    allowed.push_back(ids_[i]);
    allowed_rows.push_back(rows_[i]);
  }
  request.ids = allowed;
  const std::vector<std::string> got = QueryIds(engine.get(), id_, request);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()),
            ExactTopK(allowed_rows, allowed, request.embeddings, 10));
}

TEST_F(EngineIndexTest, CleanReopenLoadsSnapshotWithoutReinserting) {
  // SetUp's engine wrote the snapshot when it closed.
  ASSERT_TRUE(std::filesystem::exists(SnapshotPath()));
  auto engine = Open(dir_.path());
  EXPECT_EQ(engine->Stats().vectors_indexed_on_open, 0u);
  EXPECT_EQ(engine->Stats().records, kLarge);
  EXPECT_GE(MeanRecall(engine.get()), 0.95);
}

TEST_F(EngineIndexTest, CrashAfterSnapshotReplaysOnlyNewerWrites) {
  {
    auto engine = Open(dir_.path(), /*checkpoint_on_close=*/false);
    ASSERT_TRUE(engine->Checkpoint().ok());
    // After the snapshot: 100 adds, 20 moved vectors, 50 deletes; then "crash".
    ASSERT_TRUE(engine->Add(id_, Batch(Ids(100, 0, "new"), RandomRows(100, 2))).ok());
    const auto moved = RandomRows(20, 3);
    ASSERT_TRUE(engine->Update(id_, Batch(Ids(20, 100), moved)).ok());
    for (size_t i = 0; i < 20; ++i) rows_[100 + i] = moved[i];
    DeleteRequest del;
    del.ids = Ids(50, 1000);
    ASSERT_TRUE(engine->Delete(id_, del).ok());
  }
  auto engine = Open(dir_.path());
  EXPECT_EQ(engine->Stats().vectors_indexed_on_open, 120u);
  EXPECT_EQ(engine->Stats().records, kLarge + 100 - 50);
  // Deleted records are gone, moved ones are found where they moved to.
  for (const std::string& hit : QueryIds(engine.get(), id_, OneQuery(rows_[1000], 10)))
    EXPECT_NE(hit, "r1000");
  EXPECT_EQ(QueryIds(engine.get(), id_, OneQuery(rows_[107], 1)),
            std::vector<std::string>{"r107"});
  EXPECT_EQ(QueryIds(engine.get(), id_, OneQuery(RandomRows(100, 2)[42], 1)),
            std::vector<std::string>{"new42"});
}

TEST_F(EngineIndexTest, TruncatedSnapshotIsRebuiltFromStore) {
  { auto engine = Open(dir_.path()); }
  std::filesystem::resize_file(SnapshotPath(), std::filesystem::file_size(SnapshotPath()) / 2);
  auto engine = Open(dir_.path());
  EXPECT_EQ(engine->Stats().vectors_indexed_on_open, kLarge);
  EXPECT_GE(MeanRecall(engine.get()), 0.95);
}

TEST_F(EngineIndexTest, CorruptSnapshotIsRebuiltFromStore) {
  { auto engine = Open(dir_.path()); }
  {
    std::fstream f(SnapshotPath(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(SnapshotPath()) / 3));
    f.put('\x55');
    f.put('\xAA');
  }
  auto engine = Open(dir_.path());
  EXPECT_EQ(engine->Stats().vectors_indexed_on_open, kLarge);
  EXPECT_GE(MeanRecall(engine.get()), 0.95);
}

TEST_F(EngineIndexTest, StaleSnapshotNewerThanStoreIsRebuilt) {
  if (testing::UsePostgres()) GTEST_SKIP() << "restores a copy of the SQLite file";
  // Back up the store as it is now (no snapshot yet), write more and snapshot,
  // then restore the older store under the newer snapshot.
  const std::filesystem::path db = std::filesystem::path(dir_.path()) / "ksdb.sqlite3";
  const std::filesystem::path backup = std::filesystem::path(dir_.path()) / "backup.sqlite3";
  {
    auto engine = Open(dir_.path(), /*checkpoint_on_close=*/false);
  }
  std::filesystem::copy_file(db, backup);
  {
    auto engine = Open(dir_.path());
    ASSERT_TRUE(engine->Add(id_, Batch(Ids(10, 0, "later"), RandomRows(10, 4))).ok());
  }
  ASSERT_TRUE(std::filesystem::exists(SnapshotPath()));
  std::filesystem::remove(db);
  std::filesystem::remove(db.string() + "-wal");
  std::filesystem::remove(db.string() + "-shm");
  std::filesystem::rename(backup, db);
  auto engine = Open(dir_.path());
  EXPECT_EQ(engine->Stats().vectors_indexed_on_open, kLarge);
  EXPECT_EQ(engine->Stats().records, kLarge);
  for (const std::string& hit : QueryIds(engine.get(), id_, OneQuery(RandomRows(10, 4)[0], 5)))
    EXPECT_EQ(hit.rfind("later", 0), std::string::npos);
}

TEST_F(EngineIndexTest, DroppingCollectionRemovesSnapshot) {
  { auto engine = Open(dir_.path()); }
  ASSERT_TRUE(std::filesystem::exists(SnapshotPath()));
  auto engine = Open(dir_.path());
  ASSERT_TRUE(engine->DeleteCollection(kDefaultTenant, kDefaultDatabase, "col").ok());
  EXPECT_FALSE(std::filesystem::exists(SnapshotPath()));
}

uintmax_t DirectoryBytes(const std::string& path) {
  uintmax_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
    if (entry.is_regular_file()) total += entry.file_size();
  return total;
}

// Polls the engine's stats until nothing is pending; false after `limit`.
bool WaitUntilIndexed(Engine* engine, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (engine->Stats().vectors_pending > 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST_F(EngineIndexTest, BackgroundIndexerLinksEveryWrite) {
  auto engine = Open(dir_.path());
  const auto more = RandomRows(3000, 7);
  ASSERT_TRUE(engine->Add(id_, Batch(Ids(3000, kLarge), more)).ok());
  rows_.insert(rows_.end(), more.begin(), more.end());
  const auto more_ids = Ids(3000, kLarge);
  ids_.insert(ids_.end(), more_ids.begin(), more_ids.end());
  // Generous: sanitizer builds on a loaded 2-core machine link slowly.
  ASSERT_TRUE(WaitUntilIndexed(engine.get(), std::chrono::seconds(300)));
  EXPECT_GE(MeanRecall(engine.get()), 0.95);
}

TEST_F(EngineIndexTest, IndexerFinishesWhileQueriesKeepComing) {
  // Every query queues for the collection's lock, which interrupts the
  // indexer's step; the graph must still complete (a step taken after the
  // deferral runs whole, and every step links something).
  auto engine = Open(dir_.path());
  const auto more = RandomRows(3000, 10);
  const auto more_ids = Ids(3000, kLarge);
  std::atomic<bool> stop{false};
  std::atomic<size_t> queries{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        EXPECT_EQ(QueryIds(engine.get(), id_, OneQuery(more[5], 3)).size(), 3u);
        ++queries;
      }
    });
  }
  ASSERT_TRUE(engine->Add(id_, Batch(more_ids, more)).ok());
  const bool indexed = WaitUntilIndexed(engine.get(), std::chrono::seconds(300));
  stop = true;
  for (std::thread& reader : readers)
    reader.join();
  ASSERT_TRUE(indexed);
  EXPECT_GT(queries.load(), 0u);
  EXPECT_EQ(QueryIds(engine.get(), id_, OneQuery(more[5], 1)), std::vector<std::string>{more_ids[5]});
}

TEST_F(EngineIndexTest, WithoutIndexerWritesStayStagedAndAreFoundExactly) {
  auto engine = Open(dir_.path(), /*checkpoint_on_close=*/true, /*background_indexing=*/false);
  ASSERT_TRUE(engine->BuildIndexes().ok());
  const auto more = RandomRows(3000, 8);
  const auto more_ids = Ids(3000, kLarge);
  ASSERT_TRUE(engine->Add(id_, Batch(more_ids, more)).ok());
  EXPECT_EQ(engine->Stats().vectors_pending, 3000u);
  rows_.insert(rows_.end(), more.begin(), more.end());
  ids_.insert(ids_.end(), more_ids.begin(), more_ids.end());
  // Staged records are scanned exactly, so a query for one finds it first.
  EXPECT_EQ(QueryIds(engine.get(), id_, OneQuery(more[17], 1)),
            std::vector<std::string>{more_ids[17]});
  EXPECT_GE(MeanRecall(engine.get()), 0.95);
  ASSERT_TRUE(engine->BuildIndexes().ok());
  EXPECT_EQ(engine->Stats().vectors_pending, 0u);
  EXPECT_GE(MeanRecall(engine.get()), 0.95);
}

TEST_F(EngineIndexTest, StagedVectorsSurviveRestartWithoutReinsertion) {
  {
    auto engine = Open(dir_.path(), true, /*background_indexing=*/false);
    ASSERT_TRUE(engine->Add(id_, Batch(Ids(500, kLarge), RandomRows(500, 9))).ok());
  }  // the snapshot on close keeps the 500 staged (plus whatever SetUp left)
  auto engine = Open(dir_.path(), true, /*background_indexing=*/false);
  EXPECT_EQ(engine->Stats().vectors_indexed_on_open, 0u);
  EXPECT_GE(engine->Stats().vectors_pending, 500u);
  EXPECT_EQ(engine->Stats().records, kLarge + 500);
  ASSERT_TRUE(engine->BuildIndexes().ok());
  EXPECT_EQ(engine->Stats().vectors_pending, 0u);
}

TEST(EngineQuantizedIndexTest, Int8CollectionSearchesSnapshotsAndReopens) {
  TempDir dir;
  const auto rows = RandomRows(kLarge, 21);
  const auto ids = Ids(kLarge);
  std::string id;
  size_t float_memory = 0;
  {
    auto engine = Open(dir.path());
    CreateCollectionRequest plain;
    plain.name = "plain";
    plain.hnsw = HnswConfig{};
    auto plain_info = engine->CreateCollection(kDefaultTenant, kDefaultDatabase, plain);
    ASSERT_TRUE(plain_info.ok());
    ASSERT_TRUE(engine->Add(plain_info->id, Batch(ids, rows)).ok());
    float_memory = engine->Stats().index_memory_bytes;

    CreateCollectionRequest request;
    request.name = "quantized";
    request.hnsw = HnswConfig{};
    request.quantization = Quantization::kInt8;
    auto info = engine->CreateCollection(kDefaultTenant, kDefaultDatabase, request);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->config.quantization, Quantization::kInt8);
    id = info->id;
    ASSERT_TRUE(engine->Add(id, Batch(ids, rows)).ok());
    ASSERT_TRUE(engine->BuildIndexes().ok());
    // The int8 index keeps its float vectors in a mapped file, not on the heap.
    EXPECT_LT(engine->Stats().index_memory_bytes - float_memory, float_memory);
  }
  auto engine = Open(dir.path());
  auto info = engine->GetCollectionById(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->config.quantization, Quantization::kInt8);
  EXPECT_EQ(engine->Stats().vectors_indexed_on_open, 0u);  // both snapshots loaded
  const auto queries = RandomRows(20, 22);
  double total = 0;
  for (const auto& q : queries)
    total += Recall(QueryIds(engine.get(), id, OneQuery(q, 10)), ExactTopK(rows, ids, q, 10));
  EXPECT_GE(total / 20, 0.9);
  // The scratch file is unlinked as soon as it is mapped.
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(dir.path()) / "index")) {
    EXPECT_EQ(entry.path().extension(), ".hnsw") << entry.path();
  }
}

TEST(EngineQuantizedIndexTest, VectorsFileFailureRejectsTheWriteCleanly) {
  TempDir dir;
  auto engine = Open(dir.path());
  CreateCollectionRequest request;
  request.name = "quantized";
  request.quantization = Quantization::kInt8;
  auto info = engine->CreateCollection(kDefaultTenant, kDefaultDatabase, request);
  ASSERT_TRUE(info.ok());
  // A directory where the first add creates the int8 vectors file: creating
  // the index fails, before anything is committed.
  const auto blocker = std::filesystem::path(dir.path()) / "index" / (info->id + ".hnsw.f32");
  std::filesystem::create_directories(blocker);
  const auto rows = RandomRows(10, 31);
  const Status failed = engine->Add(info->id, Batch(Ids(10), rows));
  EXPECT_EQ(failed.code(), StatusCode::kIoError) << failed.ToString();
  EXPECT_EQ(engine->Count(info->id).value(), 0u);
  EXPECT_FALSE(engine->GetCollectionById(info->id)->dimension.has_value());
  // Once the obstacle is gone the same write succeeds.
  std::filesystem::remove(blocker);
  ASSERT_TRUE(engine->Add(info->id, Batch(Ids(10), rows)).ok());
  EXPECT_EQ(QueryIds(engine.get(), info->id, OneQuery(rows[3], 1)), std::vector<std::string>{"r3"});
}

TEST(EngineIndexLoopTest, AddDeleteLoopKeepsMemoryAndDiskFlat) {
  TempDir dir;
  auto engine = Open(dir.path());
  const std::string id = CreateCollection(engine.get(), "loop");
  // 10k records added and deleted 100 times, as the issue states it; small
  // vectors keep it quick.
  constexpr size_t kRecords = 10000;
#if defined(__SANITIZE_ADDRESS__)
  constexpr int kRounds = 20;  // the sanitizer build is ~5x slower; the shape is the same
#else
  constexpr int kRounds = 100;
#endif
  const std::vector<std::string> ids = Ids(kRecords);
  uint64_t memory_early = 0;
  uintmax_t disk_early = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::vector<float>> rows = RandomRows(kRecords, 1000 + round);
    for (auto& row : rows) row.resize(4);
    ASSERT_TRUE(engine->Add(id, Batch(ids, rows)).ok());
    DeleteRequest del;
    del.ids = ids;
    ASSERT_TRUE(engine->Delete(id, del).ok());
    if (round == 1) {
      ASSERT_TRUE(engine->Checkpoint().ok());
      memory_early = engine->Stats().index_memory_bytes;
      disk_early = DirectoryBytes(dir.path());
    }
  }
  ASSERT_TRUE(engine->Checkpoint().ok());
  EXPECT_EQ(engine->Stats().records, 0u);
  EXPECT_LE(engine->Stats().index_memory_bytes, memory_early + memory_early / 20);
  EXPECT_LE(DirectoryBytes(dir.path()), disk_early + disk_early / 10);
}

}  // namespace
}  // namespace ksdb::db
