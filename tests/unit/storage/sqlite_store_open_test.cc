// Opening the SQLite record store: schema migrations, foreign files, options.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "storage/record_store.h"
#include "storage_test_util.h"

namespace ksdb::storage {
namespace {

using testing::OpenOrDie;
using testing::RawExec;
using testing::RawQuery;
using testing::TempDir;

void ExpectNoSql(const std::string& message) {
  for (const char* word : {"SELECT", "INSERT", "CREATE", "PRAGMA", "UPDATE"}) {
    EXPECT_EQ(message.find(word), std::string::npos) << message;
  }
}

TEST(SqliteStoreOpenTest, NewStoreRecordsItsSchemaVersion) {
  TempDir dir;
  const std::string path = dir.File("s.db");
  ASSERT_NE(OpenOrDie(path), nullptr);
  EXPECT_EQ(RawQuery(path, "SELECT max(version) FROM schema_migrations"), "1");
  EXPECT_EQ(RawQuery(path, "PRAGMA application_id"), std::to_string(0x6B736462));
  EXPECT_EQ(RawQuery(path, "PRAGMA journal_mode"), "wal");
  // Reopening applies nothing twice.
  ASSERT_NE(OpenOrDie(path), nullptr);
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM schema_migrations"), "1");
}

TEST(SqliteStoreOpenTest, NonSqliteFileGivesCleanError) {
  TempDir dir;
  const std::string path = dir.File("not_a_db.txt");
  {
    std::ofstream out(path);
    out << "this is certainly not an SQLite database, just some text padding it out to more "
           "than one hundred bytes so SQLite reads a whole header and rejects it as garbage.\n";
  }
  auto store = OpenSqliteStore(path, SqliteOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kIoError);
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status().message();
  EXPECT_NE(store.status().message().find("not an SQLite database"), std::string::npos)
      << store.status().message();
  ExpectNoSql(store.status().message());
}

TEST(SqliteStoreOpenTest, OtherApplicationsDatabaseIsRefused) {
  TempDir dir;
  const std::string path = dir.File("other.db");
  RawExec(path, "CREATE TABLE foo (x INTEGER); INSERT INTO foo VALUES (1);");
  auto store = OpenSqliteStore(path, SqliteOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kIoError);
  EXPECT_NE(store.status().message().find("not a ksdb store"), std::string::npos)
      << store.status().message();
  // Untouched: no ksdb tables were added.
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM sqlite_master"), "1");
}

TEST(SqliteStoreOpenTest, NewerSchemaVersionIsRefused) {
  TempDir dir;
  const std::string path = dir.File("s.db");
  ASSERT_NE(OpenOrDie(path), nullptr);
  RawExec(path,
          "INSERT INTO schema_migrations (version, name, applied_at_us) "
          "VALUES (999, 'from the future', 0)");
  auto store = OpenSqliteStore(path, SqliteOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kIoError);
  EXPECT_NE(
      store.status().message().find("data directory was written by a newer ksdb (schema v999)"),
      std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find(path), std::string::npos);
  ExpectNoSql(store.status().message());
}

TEST(SqliteStoreOpenTest, MissingDirectoryGivesIoError) {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/s.db");
  auto store = OpenSqliteStore(path, SqliteOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kIoError);
  EXPECT_NE(store.status().message().find(path), std::string::npos);
}

TEST(SqliteStoreOpenTest, SynchronousOption) {
  TempDir dir;
  for (const char* mode : {"FULL", "normal", "Off"}) {
    auto store = OpenSqliteStore(dir.File(std::string(mode) + ".db"), SqliteOptions{mode});
    EXPECT_TRUE(store.ok()) << mode << ": " << store.status().ToString();
  }
  auto bad = OpenSqliteStore(dir.File("bad.db"), SqliteOptions{"FULL; DROP TABLE x"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(SqliteStoreOpenTest, EmptyExistingFileIsInitialised) {
  TempDir dir;
  const std::string path = dir.File("empty.db");
  { std::ofstream out(path); }
  auto store = OpenSqliteStore(path, SqliteOptions{});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->LastSequence(), 0u);
}

}  // namespace
}  // namespace ksdb::storage
