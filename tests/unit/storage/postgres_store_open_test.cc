// Opening the PostgreSQL record store: schema migrations, foreign schemas,
// several openers at once. Skipped without $KSDB_TEST_PG_URL.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "core/collection_config.h"
#include "storage/postgres/migrations.h"
#include "storage/postgres/postgres_store.h"
#include "storage/stored_values.h"
#include "store_backend.h"

namespace ksdb::storage {
namespace {

using testing::MakeRecord;
using testing::PostgresBackend;
using testing::ScanAll;

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
  EXPECT_EQ(backend_->RawQuery("SELECT max(version) FROM schema_migrations"), "4");
  EXPECT_EQ(backend_->RawQuery("SELECT name FROM schema_migrations ORDER BY version"),
            "initial schema");
  // Reopening applies nothing twice.
  ASSERT_NE(backend_->Open(), nullptr);
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM schema_migrations"), "4");
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
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM schema_migrations"), "4");
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

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// A database as a ksdb of schema v2 left it (text record ids, keyed by them),
// with records and a logged delete, is migrated with every id intact.
TEST_F(PostgresStoreOpenTest, VersionTwoRecordIdsAreMigratedToBytes) {
  const std::span<const Migration> migrations = postgres::Migrations();
  ASSERT_GE(migrations.size(), 3u);
  for (size_t i = 0; i < 2; ++i) {
    backend_->RawExec(migrations[i].sql);
    backend_->RawExec("INSERT INTO schema_migrations (version, name, applied_at_us) VALUES (" +
                      std::to_string(migrations[i].version) + ", 'v', 0)");
  }
  std::string embedding;
  AppendEmbeddingBytes(std::vector<float>{1.0f, 2.0f, 3.0f}, &embedding);
  const std::string config = EncodeCollectionConfig(CollectionConfig{});
  const std::string unicode_id = "h\xC3\xA9llo \xF0\x9F\x98\x80";
  backend_->RawExec(
      "INSERT INTO collections (id, name, tenant, \"database\", config) VALUES "
      "('c1', 'one', 'default_tenant', 'default_database', '\\x" +
      Hex(config) + "')");
  for (const auto& [id, position] :
       std::vector<std::pair<std::string, int>>{{"a", 1}, {unicode_id, 2}, {"b", 3}}) {
    backend_->RawExec(
        "INSERT INTO records (collection_id, record_id, position, seq, embedding, "
        "created_at_us, updated_at_us) VALUES ('c1', convert_from('\\x" +
        Hex(id) + "', 'UTF8'), " + std::to_string(position) + ", " + std::to_string(position) +
        ", '\\x" + Hex(embedding) + "', 7, 7)");
  }
  backend_->RawExec(
      "INSERT INTO meta (key, value) VALUES ('last_sequence', 4); "
      "INSERT INTO changes (seq, kind) VALUES (4, 0); "
      "INSERT INTO changes (seq, kind, collection_id, record_id) VALUES (4, 1, 'c1', 'gone')");

  std::unique_ptr<RecordStore> store = backend_->Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(backend_->RawQuery("SELECT max(version) FROM schema_migrations"), "4");
  std::vector<RecordRow> got = ScanAll(*store, "c1");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].record_id, "a");
  EXPECT_EQ(got[1].record_id, unicode_id);
  EXPECT_EQ(got[2].record_id, "b");
  EXPECT_EQ(got[1].embedding, (std::vector<float>{1.0f, 2.0f, 3.0f}));

  // Migrated rows are found by their new key: an upsert replaces, a delete
  // and a load by id find them.
  auto txn = store->BeginWrite();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->PutRecords("c1", std::vector<RecordRow>{MakeRecord("a", 9, {5.0f})}).ok());
  ASSERT_TRUE((*txn)->DeleteRecords("c1", std::vector<std::string>{"b"}).ok());
  auto loaded = (*txn)->LoadRecords("c1", std::vector<std::string>{unicode_id});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].record_id, unicode_id);
  ASSERT_TRUE((*txn)->Commit().ok());
  got = ScanAll(*store, "c1");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].record_id, unicode_id);
  EXPECT_EQ(got[1].record_id, "a");
  EXPECT_EQ(got[1].embedding, std::vector<float>{5.0f});

  std::vector<ChangeLogEntry> log;
  ChangeVisitor visitor;
  visitor.log = [&](std::vector<ChangeLogEntry>&& entries) {
    log = std::move(entries);
    return Status::Ok();
  };
  visitor.records = [](std::vector<CollectionRecordRow>&&) { return Status::Ok(); };
  auto last = store->ReadChangesSince(3, visitor);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  ASSERT_EQ(log.size(), 2u);
  const auto deleted = std::find_if(log.begin(), log.end(), [](const ChangeLogEntry& entry) {
    return entry.kind == ChangeKind::kDeleteRecords;
  });
  ASSERT_NE(deleted, log.end());
  EXPECT_EQ(deleted->record_ids, std::vector<std::string>{"gone"});
}

}  // namespace
}  // namespace ksdb::storage
