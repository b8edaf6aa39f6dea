// Two engines on one PostgreSQL database: when the change log entries engine
// B needed were pruned while it was not following (away longer than the
// retention), B's next follow pass reloads everything from the store and
// then sees exactly A's state, keeps its own writes and follows on. A gap
// right after a reload is an error, not another reload; a reload that failed
// is retried by a later pass; a reloaded collection keeps the index snapshot
// it was loaded from. A follower's index reuses the slots of records deleted
// and re-added. PostgreSQL runs only (KSDB_TEST_ENGINE_STORE=postgresql
// with $KSDB_TEST_PG_URL, see test_util.h).
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "storage/postgres/postgres_store.h"
#include "storage/postgres/url.h"
#include "test_util.h"

namespace ksdb::db {
namespace {

using testing::AllIds;
using testing::Batch;
using testing::TempDir;

// Runs `sql` on `url` and returns the first value of its result ("" if none).
std::string PgValue(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
      << sql << ": " << PQerrorMessage(conn);
  std::string value;
  if (status == PGRES_TUPLES_OK && PQntuples(result) > 0)
    value = PQgetvalue(result, 0, 0);
  PQclear(result);
  PQfinish(conn);
  return value;
}

std::vector<std::string> Sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

class EngineFollowReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::UsePostgres())
      GTEST_SKIP() << "a PostgreSQL test (two servers, one database)";
    if (testing::PgTestUrl().empty())
      GTEST_SKIP() << "no $KSDB_TEST_PG_URL";
    url_ = testing::TestStoreFor(dir_a_.path());
    a_ = Open(dir_a_.path());
    b_ = Open(dir_b_.path());
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
  }

  // Followers, checkpoints and the indexer off: the test drives every pass.
  std::unique_ptr<Engine> Open(const std::string& path) {
    EngineOptions options;
    options.path = path;
    options.store = url_;
    options.follow_interval_ms = 0;
    options.checkpoint_interval_ms = 0;
    options.background_indexing = false;
    auto engine = Engine::Open(options);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? std::move(engine).value() : nullptr;
  }

  // What a server away for a day finds: every follower row too old to hold
  // back pruning, and the change log pruned through the last sequence number
  // by a third store instance (the only follower seen within the retention).
  void PruneAsIfBAwayForADay() {
    PgValue(url_, "UPDATE ksdb.followers SET seen_at = seen_at - interval '1 day'");
    auto parsed = storage::postgres::ParsePostgresUrl(url_, storage::postgres::PoolOptions{});
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    parsed->pool.pool_size = 1;
    auto pruner = storage::OpenPostgresStore(parsed->connect, parsed->pool);
    ASSERT_TRUE(pruner.ok()) << pruner.status().ToString();
    auto pruned = (*pruner)->PruneChangeLog();
    ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
    ASSERT_GT(*pruned, 0u);
    ASSERT_EQ(PgValue(url_, "SELECT count(*) FROM ksdb.changes"), "0");
  }

  void CatchUpOk(Engine* engine) {
    Status s = engine->CatchUp();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::string SnapshotOf(const std::string& dir, const std::string& collection_id) const {
    return (std::filesystem::path(dir) / "index" / (collection_id + ".hnsw")).string();
  }

  std::string IdOf(Engine* engine, const std::string& name) {
    auto info = engine->GetCollectionByName(kDefaultTenant, kDefaultDatabase, name);
    EXPECT_TRUE(info.ok()) << name << ": " << info.status().ToString();
    return info.ok() ? info->id : "";
  }

  bool Exists(Engine* engine, const std::string& name) {
    return engine->GetCollectionByName(kDefaultTenant, kDefaultDatabase, name).ok();
  }

  // The id of the nearest record to `vector` in collection `id`.
  std::string Nearest(Engine* engine, const std::string& id, std::vector<float> vector) {
    QueryRequest query;
    query.num_queries = 1;
    query.dim = vector.size();
    query.embeddings = std::move(vector);
    query.n_results = 1;
    auto hits = engine->Query(id, query);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    if (!hits.ok() || hits->empty() || hits->front().records.ids.empty())
      return "";
    return hits->front().records.ids.front();
  }

  std::string Document(Engine* engine, const std::string& id, const std::string& record_id) {
    GetRequest get;
    get.ids = std::vector<std::string>{record_id};
    auto result = engine->Get(id, get);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok() || result->documents.empty() || !result->documents[0])
      return "";
    return *result->documents[0];
  }

  // A (records k1..k4, collections keep/gone/old_name), followed by B.
  void SeedAndFollow() {
    keep_ = testing::CreateCollection(a_.get(), "keep");
    testing::CreateCollection(a_.get(), "gone");
    testing::CreateCollection(a_.get(), "old_name");
    ASSERT_TRUE(
        a_->Add(keep_, Batch({"k1", "k2", "k3", "k4"}, {{0, 0}, {1, 0}, {2, 0}, {3, 0}})).ok());
    CatchUpOk(b_.get());
    ASSERT_EQ(Sorted(AllIds(b_.get(), keep_)), (std::vector<std::string>{"k1", "k2", "k3", "k4"}));
    ASSERT_TRUE(Exists(b_.get(), "gone"));
  }

  // While B does not follow, A adds, updates and deletes records, drops,
  // creates and renames collections; B adds a record of its own.
  void ChangeWhileBIsAway() {
    ASSERT_TRUE(a_->Add(keep_, Batch({"k5", "k6"}, {{50, 50}, {60, 60}})).ok());
    DeleteRequest del;
    del.ids = std::vector<std::string>{"k1"};
    auto deleted = a_->Delete(keep_, del);
    ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
    ASSERT_EQ(*deleted, 1u);
    WriteBatch update;
    update.ids = {"k2"};
    update.documents = std::vector<std::optional<std::string>>{std::string("updated by a")};
    ASSERT_TRUE(a_->Update(keep_, update).ok());
    ASSERT_TRUE(a_->DeleteCollection(kDefaultTenant, kDefaultDatabase, "gone").ok());
    const std::string fresh = testing::CreateCollection(a_.get(), "fresh");
    ASSERT_TRUE(a_->Add(fresh, Batch({"f1", "f2"}, {{7, 7, 7}, {-7, -7, -7}})).ok());
    ModifyCollectionRequest rename;
    rename.new_name = "new_name";
    rename.new_metadata = Metadata({{"owner", MetadataValue{std::string("a")}}});
    ASSERT_TRUE(a_->ModifyCollection(IdOf(a_.get(), "old_name"), rename).ok());
    ASSERT_TRUE(b_->Add(keep_, Batch({"b1"}, {{-40, -40}})).ok());
  }

  TempDir dir_a_;
  TempDir dir_b_;  // B's data directory; its store is A's database
  std::string url_;
  std::unique_ptr<Engine> a_;
  std::unique_ptr<Engine> b_;
  std::string keep_;
};

TEST_F(EngineFollowReloadTest, ReloadsAfterMissedEntriesAndSeesExactlyTheOtherServersState) {
  SeedAndFollow();
  ChangeWhileBIsAway();
  PruneAsIfBAwayForADay();

  // Without the reload this pass fails (entries after B's watermark are gone)
  // and B keeps k1 and the dropped collection.
  CatchUpOk(b_.get());
  EXPECT_EQ(b_->Stats().follow_reloads, 1u);
  EXPECT_EQ(b_->Stats().follow_errors, 0u);

  EXPECT_EQ(Sorted(AllIds(b_.get(), keep_)),
            (std::vector<std::string>{"b1", "k2", "k3", "k4", "k5", "k6"}));
  EXPECT_EQ(Document(b_.get(), keep_, "k2"), "updated by a");
  EXPECT_FALSE(Exists(b_.get(), "gone"));
  EXPECT_FALSE(Exists(b_.get(), "old_name"));
  ASSERT_TRUE(Exists(b_.get(), "new_name"));
  auto renamed = b_->GetCollectionById(IdOf(b_.get(), "new_name"));
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->metadata, Metadata({{"owner", MetadataValue{std::string("a")}}}));
  const std::string fresh = IdOf(b_.get(), "fresh");
  EXPECT_EQ(fresh, IdOf(a_.get(), "fresh"));
  EXPECT_EQ(Sorted(AllIds(b_.get(), fresh)), (std::vector<std::string>{"f1", "f2"}));
  EXPECT_EQ(Nearest(b_.get(), fresh, {-6, -6, -6}), "f2");
  EXPECT_EQ(Nearest(b_.get(), keep_, {59, 59}), "k6");
  EXPECT_EQ(Nearest(b_.get(), keep_, {0, 0}), "k2");
  // B's catalog is A's.
  auto a_list = a_->ListCollections(kDefaultTenant, kDefaultDatabase, std::nullopt, 0);
  auto b_list = b_->ListCollections(kDefaultTenant, kDefaultDatabase, std::nullopt, 0);
  ASSERT_TRUE(a_list.ok());
  ASSERT_TRUE(b_list.ok());
  ASSERT_EQ(a_list->size(), b_list->size());
  for (size_t i = 0; i < a_list->size(); ++i) {
    EXPECT_EQ((*a_list)[i].id, (*b_list)[i].id);
    EXPECT_EQ((*a_list)[i].name, (*b_list)[i].name);
  }

  // B follows on normally from where it reloaded, and A sees B's write.
  ASSERT_TRUE(a_->Add(keep_, Batch({"k7"}, {{70, 70}})).ok());
  CatchUpOk(b_.get());
  CatchUpOk(a_.get());
  EXPECT_EQ(b_->Stats().follow_reloads, 1u);
  EXPECT_EQ(Sorted(AllIds(b_.get(), keep_)),
            (std::vector<std::string>{"b1", "k2", "k3", "k4", "k5", "k6", "k7"}));
  EXPECT_EQ(Sorted(AllIds(a_.get(), keep_)), Sorted(AllIds(b_.get(), keep_)));
  EXPECT_EQ(b_->Stats().last_sequence, a_->Stats().last_sequence);
}

TEST_F(EngineFollowReloadTest, AGapRightAfterAReloadIsAnErrorNotAnotherReload) {
  SeedAndFollow();
  ChangeWhileBIsAway();
  PruneAsIfBAwayForADay();
  CatchUpOk(b_.get());
  ASSERT_EQ(b_->Stats().follow_reloads, 1u);

  DeleteRequest del;
  del.ids = std::vector<std::string>{"k3"};
  ASSERT_TRUE(a_->Delete(keep_, del).ok());
  PruneAsIfBAwayForADay();
  for (int pass = 0; pass < 2; ++pass) {
    Status s = b_->CatchUp();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kIoError);
    EXPECT_NE(s.message().find("change_log_retention_s"), std::string::npos) << s.message();
  }
  EXPECT_EQ(b_->Stats().follow_reloads, 1u);
  EXPECT_EQ(b_->Stats().follow_errors, 2u);
}

TEST_F(EngineFollowReloadTest, AGapAfterASuccessfulPassReloadsAgain) {
  SeedAndFollow();
  ChangeWhileBIsAway();
  PruneAsIfBAwayForADay();
  CatchUpOk(b_.get());
  CatchUpOk(b_.get());

  DeleteRequest del;
  del.ids = std::vector<std::string>{"k3"};
  ASSERT_TRUE(a_->Delete(keep_, del).ok());
  PruneAsIfBAwayForADay();
  CatchUpOk(b_.get());
  EXPECT_EQ(b_->Stats().follow_reloads, 2u);
  EXPECT_EQ(Sorted(AllIds(b_.get(), keep_)),
            (std::vector<std::string>{"b1", "k2", "k4", "k5", "k6"}));
}

// The replaced object and its fresh successor share one snapshot path, so
// dropping the replaced object must not delete the file the successor stands
// on (else the next open rebuilds the whole index).
TEST_F(EngineFollowReloadTest, ReloadKeepsTheSnapshotTheFreshObjectWasLoadedFrom) {
  const std::string keep = testing::CreateCollection(a_.get(), "keep");
  ASSERT_TRUE(a_->Add(keep, Batch({"k1", "k2", "k3"}, {{0, 0}, {1, 0}, {2, 0}})).ok());
  ASSERT_TRUE(b_->CatchUp().ok());
  ASSERT_TRUE(b_->Checkpoint().ok());
  const std::string snapshot = SnapshotOf(dir_b_.path(), keep);
  ASSERT_TRUE(std::filesystem::exists(snapshot));

  // Only another collection changes while B is away: "keep" reloads from its
  // snapshot with nothing to replay.
  const std::string other = testing::CreateCollection(a_.get(), "other");
  ASSERT_TRUE(a_->Add(other, Batch({"o1"}, {{5, 5}})).ok());
  PruneAsIfBAwayForADay();
  Status caught_up = b_->CatchUp();
  ASSERT_TRUE(caught_up.ok()) << caught_up.ToString();
  ASSERT_EQ(b_->Stats().follow_reloads, 1u);

  EXPECT_TRUE(std::filesystem::exists(snapshot)) << "deleted by the replaced object's drop";
  // Nothing changed since the file the fresh object loaded, so a checkpoint
  // does not write it again: without the file the next open rebuilds.
  ASSERT_TRUE(b_->Checkpoint().ok());
  EXPECT_TRUE(std::filesystem::exists(snapshot));
  b_.reset();
  b_ = Open(dir_b_.path());
  ASSERT_NE(b_, nullptr);
  EXPECT_EQ(b_->Stats().vectors_indexed_on_open, 0u) << "the index was rebuilt from the store";
}

// A reload that fails (here: the store's rows cannot be loaded for a moment)
// must be retried by a later pass once the store is fine again, as any other
// failed follow pass is; it must not leave the follower failing every pass
// until a restart while it serves its stale state.
TEST_F(EngineFollowReloadTest, FailedReloadIsRetriedByALaterPass) {
  const std::string keep = testing::CreateCollection(a_.get(), "keep");
  ASSERT_TRUE(a_->Add(keep, Batch({"k1", "k2"}, {{0, 0}, {1, 0}})).ok());
  ASSERT_TRUE(b_->CatchUp().ok());
  ASSERT_TRUE(a_->Add(keep, Batch({"k3"}, {{2, 0}})).ok());
  DeleteRequest del;
  del.ids = std::vector<std::string>{"k1"};
  ASSERT_TRUE(a_->Delete(keep, del).ok());
  PruneAsIfBAwayForADay();

  // A transient failure of the reload: the collection's rows do not match its
  // dimension while B loads them.
  PgValue(url_, "UPDATE ksdb.collections SET dimension = 3 WHERE id = '" + keep + "'");
  EXPECT_FALSE(b_->CatchUp().ok());
  PgValue(url_, "UPDATE ksdb.collections SET dimension = 2 WHERE id = '" + keep + "'");

  Status retried = b_->CatchUp();
  EXPECT_TRUE(retried.ok()) << retried.ToString();
  Status next = b_->CatchUp();
  EXPECT_TRUE(next.ok()) << next.ToString();
  Result<uint64_t> count = b_->Count(keep);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 2u);
}

// A follower's index is the size of the collection: a pass that re-reads rows
// it already holds (here: the catalog reload of a new collection loads them,
// then the pass reads them again) or that re-adds deleted records takes no
// slots beyond the free ones. It reserved a slot per row read, free slots or
// not: 1.5x the writer's index at 2,000 records.
TEST_F(EngineFollowReloadTest, FollowersIndexIsTheSizeOfTheWritersThroughAnAddDeleteLoop) {
  const std::string loop = testing::CreateCollection(a_.get(), "loop");
  constexpr size_t kRecords = 2000;
  std::vector<std::string> ids;
  std::vector<std::vector<float>> rows;
  for (size_t i = 0; i < kRecords; ++i) {
    ids.push_back("r" + std::to_string(i));
    rows.push_back({static_cast<float>(i), static_cast<float>(i % 7)});
  }
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(a_->Add(loop, Batch(ids, rows)).ok());
    CatchUpOk(b_.get());
    ASSERT_EQ(b_->Count(loop).value(), kRecords);
    const uint64_t writer = a_->Stats().index_memory_bytes;
    EXPECT_GT(writer, 0u);
    EXPECT_LE(b_->Stats().index_memory_bytes, writer + writer / 20) << "round " << round;
    DeleteRequest del;
    del.ids = ids;
    ASSERT_TRUE(a_->Delete(loop, del).ok());
    CatchUpOk(b_.get());
    ASSERT_EQ(b_->Count(loop).value(), 0u);
  }
}

}  // namespace
}  // namespace ksdb::db
