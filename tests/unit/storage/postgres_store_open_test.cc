// Opening the PostgreSQL record store: schema migrations, foreign schemas,
// several openers at once. Skipped without $KSDB_TEST_PG_URL.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "storage/postgres/postgres_store.h"
#include "store_backend.h"

namespace ksdb::storage {
namespace {

using testing::PostgresBackend;

class PostgresStoreOpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::PgTestUrl().empty())
      GTEST_SKIP() << testing::kPgSkipMessage;
    backend_ = std::make_unique<PostgresBackend>();
  }

  std::unique_ptr<PostgresBackend> backend_;
};

void ExpectNoSql(const std::string& message) {
  for (const char* word : {"SELECT", "INSERT", "CREATE", "UPDATE", "ksdb.records"}) {
    EXPECT_EQ(message.find(word), std::string::npos) << message;
  }
}

TEST_F(PostgresStoreOpenTest, NewStoreRecordsItsSchemaVersion) {
  ASSERT_NE(backend_->Open(), nullptr);
  EXPECT_EQ(backend_->RawQuery("SELECT max(version) FROM schema_migrations"), "2");
  EXPECT_EQ(backend_->RawQuery("SELECT name FROM schema_migrations ORDER BY version"),
            "initial schema");
  // Reopening applies nothing twice.
  ASSERT_NE(backend_->Open(), nullptr);
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM schema_migrations"), "2");
}

TEST_F(PostgresStoreOpenTest, ConcurrentOpenersMigrateOnce) {
  constexpr int kOpeners = 4;
  std::vector<std::thread> threads;
  std::vector<Status> results(kOpeners);
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      auto store = OpenPostgresStore(backend_->params(), postgres::PoolOptions{});
      results[i] = store.status();
    });
  }
  for (std::thread& t : threads)
    t.join();
  for (const Status& status : results)
    EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM schema_migrations"), "2");
}

TEST_F(PostgresStoreOpenTest, ForeignKsdbSchemaIsRefused) {
  backend_->RawExec("CREATE SCHEMA ksdb; CREATE TABLE ksdb.foo (x int)");
  auto store = OpenPostgresStore(backend_->params(), postgres::PoolOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kIoError);
  EXPECT_NE(store.status().message().find("not a ksdb store"), std::string::npos)
      << store.status().message();
  // Untouched: no ksdb tables were added.
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM pg_tables WHERE schemaname = 'ksdb'"), "1");
}

TEST_F(PostgresStoreOpenTest, OtherSchemasOfTheDatabaseAreLeftAlone) {
  backend_->RawExec("CREATE TABLE public.records (x int); INSERT INTO public.records VALUES (7)");
  ASSERT_NE(backend_->Open(), nullptr);
  EXPECT_EQ(backend_->RawQuery("SELECT x FROM public.records"), "7");
}

TEST_F(PostgresStoreOpenTest, NewerSchemaVersionIsRefused) {
  ASSERT_NE(backend_->Open(), nullptr);
  backend_->RawExec(
      "INSERT INTO schema_migrations (version, name, applied_at_us) "
      "VALUES (999, 'from the future', 0)");
  auto store = OpenPostgresStore(backend_->params(), postgres::PoolOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kIoError);
  EXPECT_NE(store.status().message().find("database was written by a newer ksdb (schema v999)"),
            std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find(backend_->StoreName()), std::string::npos);
  ExpectNoSql(store.status().message());
}

TEST_F(PostgresStoreOpenTest, MissingDatabaseIsUnavailable) {
  postgres::ConnectParams params = backend_->params();
  params.dbname = "ksdb_no_such_database";
  auto store = OpenPostgresStore(params, postgres::PoolOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(store.status().message().find("ksdb_no_such_database"), std::string::npos)
      << store.status().message();
}

TEST_F(PostgresStoreOpenTest, PoolStatsAreReported) {
  backend_->pool_options().pool_size = 3;
  backend_->pool_options().max_overflow = 2;
  auto store = OpenPostgresStore(backend_->params(), backend_->pool_options());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->LoadTenants().ok());
  const postgres::PoolStats stats = (*store)->PoolStats();
  EXPECT_EQ(stats.pool_size, 3u);
  EXPECT_EQ(stats.max_overflow, 2u);
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.idle, 1u);  // the migration's connection, reused by the load
  EXPECT_EQ(stats.checkouts, 2u);
}

}  // namespace
}  // namespace ksdb::storage
