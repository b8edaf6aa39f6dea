// Review of session 4 (db): a follower's reload after missed change log
// entries must leave each reloaded collection with the index snapshot it was
// loaded from. The replaced object and its fresh successor share one
// snapshot path, so dropping the replaced object must not delete the file
// the successor stands on (else the next open rebuilds the whole index).
// PostgreSQL runs only (KSDB_TEST_ENGINE_STORE=postgresql with
// $KSDB_TEST_PG_URL, see test_util.h).
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "storage/postgres/postgres_store.h"
#include "storage/postgres/url.h"
#include "test_util.h"

namespace ksdb::db {
namespace {

using testing::Batch;
using testing::TempDir;

// Runs `sql` on `url`; EXPECTs success.
void RunSql(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexec(conn, sql.c_str());
  EXPECT_EQ(PQresultStatus(result), PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
}

class FollowReloadSnapshotTest : public ::testing::Test {
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

  // Every follower too old to hold back pruning, then the change log pruned
  // by a third store instance (as engine_follow_reload_test.cc does).
  void PruneAsIfBAwayForADay() {
    RunSql(url_, "UPDATE ksdb.followers SET seen_at = seen_at - interval '1 day'");
    auto parsed = storage::postgres::ParsePostgresUrl(url_, storage::postgres::PoolOptions{});
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    parsed->pool.pool_size = 1;
    auto pruner = storage::OpenPostgresStore(parsed->connect, parsed->pool);
    ASSERT_TRUE(pruner.ok()) << pruner.status().ToString();
    auto pruned = (*pruner)->PruneChangeLog();
    ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
    ASSERT_GT(*pruned, 0u);
  }

  std::string SnapshotOf(const std::string& dir, const std::string& collection_id) const {
    return (std::filesystem::path(dir) / "index" / (collection_id + ".hnsw")).string();
  }

  TempDir dir_a_;
  TempDir dir_b_;
  std::string url_;
  std::unique_ptr<Engine> a_;
  std::unique_ptr<Engine> b_;
};

TEST_F(FollowReloadSnapshotTest, ReloadKeepsTheSnapshotTheFreshObjectWasLoadedFrom) {
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
TEST_F(FollowReloadSnapshotTest, FailedReloadIsRetriedByALaterPass) {
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
  RunSql(url_, "UPDATE ksdb.collections SET dimension = 3 WHERE id = '" + keep + "'");
  EXPECT_FALSE(b_->CatchUp().ok());
  RunSql(url_, "UPDATE ksdb.collections SET dimension = 2 WHERE id = '" + keep + "'");

  Status retried = b_->CatchUp();
  EXPECT_TRUE(retried.ok()) << retried.ToString();
  Status next = b_->CatchUp();
  EXPECT_TRUE(next.ok()) << next.ToString();
  Result<uint64_t> count = b_->Count(keep);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 2u);
}

}  // namespace
}  // namespace ksdb::db
