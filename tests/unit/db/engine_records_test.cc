// Engine record semantics (spec §5, §8, §9): add/upsert/update/delete/get/query.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "test_util.h"

namespace ksdb::db {
namespace {

using testing::AllIds;
using testing::Batch;
using testing::OpenEngine;
using testing::TempDir;

MetadataPatch Patch(std::vector<std::pair<std::string, std::optional<MetadataValue>>> kv) {
  return kv;
}

class EngineRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = OpenEngine(dir_.path());
    ASSERT_TRUE(engine_);
    id_ = testing::CreateCollection(engine_.get(), "recs");
  }
  void Reopen() {
    engine_.reset();
    engine_ = OpenEngine(dir_.path());
    ASSERT_TRUE(engine_);
  }
  GetResult GetAll(Include include = {}) {
    GetRequest req;
    req.include = include;
    auto r = engine_->Get(id_, req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : GetResult{};
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::string id_;
};

TEST_F(EngineRecordsTest, AddSetsDimensionAndSkipsExistingIds) {
  ASSERT_TRUE(engine_->Add(id_, Batch({"a", "b"}, {{1, 0, 0}, {0, 1, 0}})).ok());
  EXPECT_EQ(engine_->GetCollectionById(id_)->dimension, 3u);
  WriteBatch again = Batch({"a", "c"}, {{9, 9, 9}, {0, 0, 1}});
  again.documents = std::vector<std::optional<std::string>>{"new", "doc c"};
  ASSERT_TRUE(engine_->Add(id_, again).ok());
  Include inc{.embeddings = true};
  GetResult all = GetAll(inc);
  EXPECT_EQ(all.ids, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(all.embeddings[0], (std::vector<float>{1, 0, 0}));  // unchanged
  EXPECT_FALSE(all.documents[0].has_value());
  EXPECT_EQ(all.documents[2], "doc c");
}

TEST_F(EngineRecordsTest, AddRejectsBadBatchesWithoutSideEffects) {
  ASSERT_TRUE(engine_->Add(id_, Batch({"a"}, {{1, 2, 3}})).ok());
  EXPECT_EQ(engine_->Add(id_, Batch({"x", "x"}, {{1, 2, 3}, {1, 2, 3}})).code(),
            StatusCode::kDuplicateId);
  Status wrong_dim = engine_->Add(id_, Batch({"y"}, {{1, 2}}));
  EXPECT_EQ(wrong_dim.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong_dim.message(), "Collection expecting embedding with dimension of 3, got 2");
  EXPECT_EQ(engine_->Add(id_, Batch({""}, {{1, 2, 3}})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->Add(id_, Batch({"nan"}, {{1, std::nanf(""), 3}})).code(), StatusCode::kInvalidArgument);
  WriteBatch mismatched = Batch({"p", "q"}, {{1, 2, 3}, {1, 2, 3}});
  mismatched.documents = std::vector<std::optional<std::string>>{"only one"};
  EXPECT_EQ(engine_->Add(id_, mismatched).code(), StatusCode::kInvalidArgument);
  WriteBatch reserved = Batch({"r"}, {{1, 2, 3}});
  reserved.metadatas = std::vector<std::optional<MetadataPatch>>{
      Patch({{"chroma:document", MetadataValue{std::string("x")}}})};
  EXPECT_EQ(engine_->Add(id_, reserved).code(), StatusCode::kInvalidArgument);
  WriteBatch no_embeddings;
  no_embeddings.ids = {"z"};
  EXPECT_EQ(engine_->Add(id_, no_embeddings).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->Count(id_).value(), 1u);
}

TEST_F(EngineRecordsTest, UpsertMergesAndKeepsPosition) {
  WriteBatch first = Batch({"z", "a"}, {{1, 1}, {2, 2}});
  first.documents = std::vector<std::optional<std::string>>{"dz", "da"};
  first.metadatas = std::vector<std::optional<MetadataPatch>>{
      std::nullopt, Patch({{"x", MetadataValue{int64_t{5}}}, {"y", MetadataValue{std::string("keep")}}})};
  ASSERT_TRUE(engine_->Add(id_, first).ok());

  WriteBatch up = Batch({"a", "n"}, {{3, 3}, {4, 4}});
  up.documents = std::vector<std::optional<std::string>>{std::nullopt, "dn"};
  up.metadatas = std::vector<std::optional<MetadataPatch>>{
      Patch({{"x", MetadataValue{int64_t{6}}}, {"z", MetadataValue{true}}}),
      Patch({{"gone", std::nullopt}, {"b", MetadataValue{int64_t{1}}}})};
  ASSERT_TRUE(engine_->Upsert(id_, up).ok());

  GetResult all = GetAll(Include{.embeddings = true});
  EXPECT_EQ(all.ids, (std::vector<std::string>{"z", "a", "n"}));
  EXPECT_EQ(all.embeddings[1], (std::vector<float>{3, 3}));
  EXPECT_EQ(all.documents[1], "da");  // null document keeps
  const Metadata& m = *all.metadatas[1];
  EXPECT_EQ(std::get<int64_t>(*m.Find("x")), 6);
  EXPECT_EQ(std::get<std::string>(*m.Find("y")), "keep");
  EXPECT_TRUE(std::get<bool>(*m.Find("z")));
  EXPECT_EQ(all.metadatas[2]->size(), 1u);  // null-valued key dropped on insert
}

TEST_F(EngineRecordsTest, UpsertDuplicatesLastWins) {
  WriteBatch up = Batch({"d", "d"}, {{1, 1}, {2, 2}});
  up.documents = std::vector<std::optional<std::string>>{"first", "second"};
  ASSERT_TRUE(engine_->Upsert(id_, up).ok());
  GetResult all = GetAll(Include{.embeddings = true});
  ASSERT_EQ(all.ids.size(), 1u);
  EXPECT_EQ(all.embeddings[0], (std::vector<float>{2, 2}));
  EXPECT_EQ(all.documents[0], "second");
}

TEST_F(EngineRecordsTest, UpdateSemantics) {
  WriteBatch add = Batch({"a", "b"}, {{1, 1}, {2, 2}});
  add.uris = std::vector<std::optional<std::string>>{"u1", std::nullopt};
  add.metadatas = std::vector<std::optional<MetadataPatch>>{
      Patch({{"k", MetadataValue{int64_t{1}}}, {"del", MetadataValue{int64_t{2}}}}), std::nullopt};
  ASSERT_TRUE(engine_->Add(id_, add).ok());

  WriteBatch upd;
  upd.ids = {"a", "missing", "b"};
  upd.embeddings = EmbeddingColumn{2, {0, 0, 7, 7, 9, 9}, {0, 1, 1}};
  upd.uris = std::vector<std::optional<std::string>>{"u2", "ux", std::nullopt};
  upd.metadatas = std::vector<std::optional<MetadataPatch>>{
      Patch({{"del", std::nullopt}}), std::nullopt, MetadataPatch{}};
  ASSERT_TRUE(engine_->Update(id_, upd).ok());
  GetResult all = GetAll(Include{.embeddings = true, .uris = true});
  EXPECT_EQ(all.ids, (std::vector<std::string>{"a", "b"}));  // nothing created
  EXPECT_EQ(all.embeddings[0], (std::vector<float>{1, 1}));    // null entry keeps
  EXPECT_EQ(all.embeddings[1], (std::vector<float>{9, 9}));
  EXPECT_EQ(all.uris[0], "u2");
  EXPECT_EQ(all.metadatas[0]->size(), 1u);
  EXPECT_FALSE(all.metadatas[1].has_value());

  WriteBatch wrong;
  wrong.ids = {"a"};
  wrong.embeddings = EmbeddingColumn{3, {1, 2, 3}, {1}};
  EXPECT_EQ(engine_->Update(id_, wrong).code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineRecordsTest, DeleteSemanticsAndStorageOrder) {
  WriteBatch add = Batch({"z", "m", "a", "b", "y"}, {{1}, {2}, {3}, {4}, {5}});
  add.metadatas = std::vector<std::optional<MetadataPatch>>(5);
  for (int i = 0; i < 5; ++i) {
    (*add.metadatas)[i] = Patch({{"n", MetadataValue{int64_t{i % 2}}}});
  }
  ASSERT_TRUE(engine_->Add(id_, add).ok());

  DeleteRequest nothing;
  EXPECT_EQ(engine_->Delete(id_, nothing).value(), 0u);
  DeleteRequest empty_ids;
  empty_ids.ids = std::vector<std::string>{};
  EXPECT_EQ(engine_->Delete(id_, empty_ids).status().code(), StatusCode::kInvalidArgument);

  DeleteRequest anded;
  anded.ids = std::vector<std::string>{"m", "a", "unknown"};
  anded.where = filter::WhereFilter::ParseJson(R"({"n": 1})").value();
  EXPECT_EQ(engine_->Delete(id_, anded).value(), 1u);  // only m has n == 1
  EXPECT_EQ(AllIds(engine_.get(), id_), (std::vector<std::string>{"z", "a", "b", "y"}));

  // Re-adding a deleted id moves it to the end.
  ASSERT_TRUE(engine_->Add(id_, Batch({"m"}, {{9}})).ok());
  EXPECT_EQ(AllIds(engine_.get(), id_), (std::vector<std::string>{"z", "a", "b", "y", "m"}));
  Reopen();
  EXPECT_EQ(AllIds(engine_.get(), id_), (std::vector<std::string>{"z", "a", "b", "y", "m"}));
}

TEST_F(EngineRecordsTest, GetFiltersOffsetLimitAndIds) {
  std::vector<std::string> ids;
  std::vector<std::vector<float>> rows;
  WriteBatch add;
  for (int i = 1; i <= 15; ++i) {
    ids.push_back("r" + std::to_string(i));
    rows.push_back({static_cast<float>(i)});
  }
  add = Batch(ids, rows);
  add.metadatas = std::vector<std::optional<MetadataPatch>>();
  for (int i = 1; i <= 15; ++i) {
    add.metadatas->push_back(Patch({{"g", MetadataValue{int64_t{i % 3}}}}));
  }
  ASSERT_TRUE(engine_->Add(id_, add).ok());
  GetRequest req;
  req.where = filter::WhereFilter::ParseJson(R"({"g": 1})").value();
  req.limit = 2;
  req.offset = 1;
  EXPECT_EQ(engine_->Get(id_, req)->ids, (std::vector<std::string>{"r4", "r7"}));

  GetRequest by_ids;
  by_ids.ids = std::vector<std::string>{"r9", "r2", "nosuch", "r9"};
  EXPECT_EQ(engine_->Get(id_, by_ids)->ids, (std::vector<std::string>{"r2", "r9"}));
  by_ids.ids = std::vector<std::string>{};
  EXPECT_TRUE(engine_->Get(id_, by_ids)->ids.empty());

  GetRequest paged;
  paged.offset = 13;
  EXPECT_EQ(engine_->Get(id_, paged)->ids, (std::vector<std::string>{"r14", "r15"}));
  paged.offset = 100;
  EXPECT_TRUE(engine_->Get(id_, paged)->ids.empty());
  paged.offset = 0;
  paged.limit = 0;
  EXPECT_TRUE(engine_->Get(id_, paged)->ids.empty());
}

TEST_F(EngineRecordsTest, QueryDistancesPerSpace) {
  struct Case {
    DistanceSpace space;
    std::vector<std::string> order;
    std::vector<float> distances;
  };
  std::vector<Case> cases = {
      {DistanceSpace::kL2, {"a", "b", "d", "c"}, {1, 2, 8, 13}},
      {DistanceSpace::kIp, {"c", "b", "a", "d"}, {-6, -1, 0, 3}},
      {DistanceSpace::kCosine, {"c", "a", "b", "d"}, {0.010050476f, 0.29289323f, 0.29289323f, 2}},
  };
  for (const Case& c : cases) {
    std::string cid = testing::CreateCollection(engine_.get(), std::string("space-") +
                                                                   DistanceSpaceName(c.space), c.space);
    ASSERT_TRUE(engine_->Add(cid, Batch({"a", "b", "c", "d"}, {{1, 0}, {0, 2}, {3, 4}, {-1, -1}})).ok());
    QueryRequest q;
    q.num_queries = 1;
    q.dim = 2;
    q.embeddings = {1, 1};
    q.include.embeddings = true;
    auto hits = engine_->Query(cid, q);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_EQ(hits->size(), 1u);
    EXPECT_EQ((*hits)[0].records.ids, c.order) << DistanceSpaceName(c.space);
    for (size_t i = 0; i < c.distances.size(); ++i) {
      EXPECT_NEAR((*hits)[0].distances[i], c.distances[i], 1e-6) << i;
    }
    if (c.space == DistanceSpace::kCosine) {
      EXPECT_EQ((*hits)[0].records.embeddings[0], (std::vector<float>{3, 4}));  // unnormalised
    }
  }
}

TEST_F(EngineRecordsTest, QueryFiltersAndEdgeCases) {
  QueryRequest q;
  q.num_queries = 2;
  q.dim = 5;  // empty collection: no dimension check, empty inner lists
  q.embeddings.assign(10, 1.0f);
  auto empty = engine_->Query(id_, q);
  ASSERT_TRUE(empty.ok());
  ASSERT_EQ(empty->size(), 2u);
  EXPECT_TRUE((*empty)[0].records.ids.empty());

  WriteBatch add = Batch({"a", "b", "c"}, {{0, 0}, {1, 0}, {5, 0}});
  add.documents = std::vector<std::optional<std::string>>{"apple", "banana", std::nullopt};
  ASSERT_TRUE(engine_->Add(id_, add).ok());
  q.num_queries = 1;
  q.dim = 3;
  q.embeddings = {0, 0, 0};
  EXPECT_EQ(engine_->Query(id_, q).status().code(), StatusCode::kInvalidArgument);
  q.dim = 2;
  q.embeddings = {0, 0};
  q.n_results = 10;
  EXPECT_EQ((*engine_->Query(id_, q))[0].records.ids, (std::vector<std::string>{"a", "b", "c"}));
  q.ids = std::vector<std::string>{"c", "b", "deleted-or-unknown"};
  EXPECT_EQ((*engine_->Query(id_, q))[0].records.ids, (std::vector<std::string>{"b", "c"}));
  q.ids.reset();
  q.where_document = filter::DocumentFilter::ParseJson(R"({"$contains": "an"})").value();
  EXPECT_EQ((*engine_->Query(id_, q))[0].records.ids, (std::vector<std::string>{"b"}));
  q.n_results = 0;
  EXPECT_TRUE((*engine_->Query(id_, q))[0].records.ids.empty());
}

TEST_F(EngineRecordsTest, DimensionStaysAfterDeletingEverything) {
  ASSERT_TRUE(engine_->Add(id_, Batch({"a"}, {{1, 2, 3}})).ok());
  DeleteRequest del;
  del.ids = std::vector<std::string>{"a"};
  ASSERT_EQ(engine_->Delete(id_, del).value(), 1u);
  Reopen();
  EXPECT_EQ(engine_->GetCollectionById(id_)->dimension, 3u);
  EXPECT_EQ(engine_->Add(id_, Batch({"b"}, {{1, 2}})).code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineRecordsTest, EverythingSurvivesReopenAndSlotsAreReused) {
  WriteBatch add = Batch({"a", "b", "c"}, {{1, 2}, {3, 4}, {5, 6}});
  add.documents = std::vector<std::optional<std::string>>{"da", std::nullopt, ""};
  add.uris = std::vector<std::optional<std::string>>{std::nullopt, "ub", std::nullopt};
  add.metadatas = std::vector<std::optional<MetadataPatch>>{
      Patch({{"f", MetadataValue{1.0}}, {"arr", MetadataValue{std::vector<std::string>{"x", "y"}}}}),
      std::nullopt, std::nullopt};
  ASSERT_TRUE(engine_->Add(id_, add).ok());
  DeleteRequest del;
  del.ids = std::vector<std::string>{"b"};
  ASSERT_TRUE(engine_->Delete(id_, del).ok());
  ASSERT_TRUE(engine_->Add(id_, Batch({"d"}, {{7, 8}})).ok());  // reuses b's slot
  Include everything{.embeddings = true, .documents = true, .uris = true, .metadatas = true};
  GetResult before = GetAll(everything);
  Reopen();
  GetResult after = GetAll(everything);
  EXPECT_EQ(after.ids, (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(after.ids, before.ids);
  EXPECT_EQ(after.embeddings, before.embeddings);
  EXPECT_EQ(after.documents, before.documents);
  EXPECT_EQ(after.uris, before.uris);
  EXPECT_EQ(after.metadatas, before.metadatas);
  EXPECT_EQ(after.documents[1], "");  // empty document is kept, not null
}

TEST_F(EngineRecordsTest, ConcurrentWritersAndReaders) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  // On PostgreSQL the catalog writes before (defaults, the collection) took
  // numbers too: count from here.
  const uint64_t start_seq = engine_->Stats().last_sequence;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string rid = "t" + std::to_string(t) + "_" + std::to_string(i);
        EXPECT_TRUE(engine_->Add(id_, Batch({rid}, {{float(t), float(i)}})).ok());
        QueryRequest q;
        q.num_queries = 1;
        q.dim = 2;
        q.embeddings = {float(t), float(i)};
        q.n_results = 1;
        auto hits = engine_->Query(id_, q);
        ASSERT_TRUE(hits.ok());
        // Read-after-write: the record just acknowledged is its own nearest neighbour.
        ASSERT_EQ((*hits)[0].records.ids.size(), 1u);
        EXPECT_EQ((*hits)[0].distances[0], 0.0f);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(engine_->Count(id_).value(), uint64_t{kThreads * kPerThread});
  EXPECT_EQ(engine_->Stats().last_sequence - start_seq, uint64_t{kThreads * kPerThread});
}

// Graph-sized collection: queries (graph + exact scan of staged vectors),
// adds, updates and deletes race the background indexer linking them. Every
// acknowledged add must be its own nearest neighbour at once, and in the end
// nothing is pending. Run under TSan in CI.
TEST_F(EngineRecordsTest, ConcurrentGraphQueriesWritesAndBackgroundIndexing) {
  constexpr size_t kBase = 3000;  // above the exact-search size
  std::vector<std::string> ids;
  std::vector<std::vector<float>> rows;
  for (size_t i = 0; i < kBase; ++i) {
    ids.push_back("base" + std::to_string(i));
    rows.push_back({static_cast<float>(i % 97), static_cast<float>(i / 97)});
  }
  ASSERT_TRUE(engine_->Add(id_, Batch(ids, rows)).ok());
  constexpr int kWriters = 2;
  constexpr int kPerWriter = 60;
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerWriter; ++i) {
        const std::vector<float> v = {1000.0f + float(t), float(i)};
        const std::string rid = "w" + std::to_string(t) + "_" + std::to_string(i);
        ASSERT_TRUE(engine_->Add(id_, Batch({rid}, {v})).ok());
        QueryRequest q;
        q.num_queries = 1;
        q.dim = 2;
        q.embeddings = v;
        q.n_results = 1;
        auto hits = engine_->Query(id_, q);
        ASSERT_TRUE(hits.ok());
        ASSERT_EQ((*hits)[0].records.ids, std::vector<std::string>{rid});
        // Move a base record and delete another while the indexer works.
        const size_t k = static_cast<size_t>(t * kPerWriter + i);
        ASSERT_TRUE(engine_->Update(id_, Batch({ids[k]}, {{-1.0f, float(k)}})).ok());
        DeleteRequest del;
        del.ids = std::vector<std::string>{ids[kBase - 1 - k]};
        ASSERT_TRUE(engine_->Delete(id_, del).ok());
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 200; ++i) {
      QueryRequest q;
      q.num_queries = 1;
      q.dim = 2;
      q.embeddings = {float(i % 97), float(i % 30)};
      q.n_results = 5;
      auto hits = engine_->Query(id_, q);
      ASSERT_TRUE(hits.ok());
      ASSERT_EQ((*hits)[0].records.ids.size(), 5u);
    }
  });
  for (auto& th : threads) th.join();
  ASSERT_TRUE(engine_->BuildIndexes().ok());
  EXPECT_EQ(engine_->Stats().vectors_pending, 0u);
  // Each writer added as many records as it deleted.
  EXPECT_EQ(engine_->Count(id_).value(), uint64_t{kBase});
}

}  // namespace
}  // namespace ksdb::db
