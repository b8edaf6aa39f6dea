// OpenRecordStore: choosing the store from its location.
#include "storage/open_store.h"

#include <gtest/gtest.h>

#include <string>

#include "storage_test_util.h"

namespace ksdb::storage {
namespace {

TEST(OpenRecordStoreTest, PathOpensSqlite) {
  testing::TempDir dir;
  StoreOptions options;
  options.location = dir.File("ksdb.sqlite3");
  auto store = OpenRecordStore(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->LastSequence(), 0u);
  EXPECT_EQ(testing::RawQuery(options.location, "SELECT max(version) FROM schema_migrations"), "1");
}

TEST(OpenRecordStoreTest, MalformedUrlIsInvalidArgument) {
  StoreOptions options;
  options.location = "postgresql://user:topsecret@host:notaport/db";
  auto store = OpenRecordStore(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.status().message().find("topsecret"), std::string::npos);
}

TEST(OpenRecordStoreTest, UnreachableDatabaseIsUnavailableWithoutThePassword) {
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  StoreOptions options;
  options.location = "postgresql://user:topsecret@127.0.0.1:1/db?connect_timeout=5";
  auto store = OpenRecordStore(options);
  ASSERT_FALSE(store.ok());
  const std::string message = store.status().message();
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << message;
  EXPECT_NE(message.find("postgresql store 'postgresql://user@127.0.0.1:1/db'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("cannot connect to the database"), std::string::npos) << message;
  EXPECT_EQ(message.find("topsecret"), std::string::npos) << message;
}

}  // namespace
}  // namespace ksdb::storage
