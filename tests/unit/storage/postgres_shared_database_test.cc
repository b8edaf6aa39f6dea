// Two PostgreSQL stores (as two servers would have) on one database: writers
// are serialised across them and each sees the other's commits. Skipped
// without $KSDB_TEST_PG_URL.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "storage/postgres/postgres_store.h"
#include "store_backend.h"

namespace ksdb::storage {
namespace {

using testing::MakeRecord;
using testing::PostgresBackend;
using testing::ScanAll;

class PostgresSharedDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::PgTestUrl().empty())
      GTEST_SKIP() << testing::kPgSkipMessage;
    backend_ = std::make_unique<PostgresBackend>();
    first_ = backend_->Open();
    second_ = backend_->Open();
    ASSERT_NE(first_, nullptr);
    ASSERT_NE(second_, nullptr);
  }

  std::unique_ptr<PostgresBackend> backend_;
  std::unique_ptr<RecordStore> first_;
  std::unique_ptr<RecordStore> second_;
};

TEST_F(PostgresSharedDatabaseTest, CommitsOfOneStoreAreVisibleToTheOther) {
  testing::PutCollectionWithRecords(*first_, "c1", {MakeRecord("a", 1)});
  auto cols = second_->LoadCollections();
  ASSERT_TRUE(cols.ok());
  ASSERT_EQ(cols->size(), 1u);
  EXPECT_EQ(ScanAll(*second_, "c1").size(), 1u);
}

TEST_F(PostgresSharedDatabaseTest, WriterOfTheOtherStoreWaitsForTheFirst) {
  auto first_txn = first_->BeginWrite();
  ASSERT_TRUE(first_txn.ok());
  ASSERT_TRUE((*first_txn)->SetLastSequence(1).ok());

  std::atomic<bool> second_started{false};
  Status second_status;
  std::thread second([&] {
    auto txn = second_->BeginWrite();
    second_started = true;
    if (!txn.ok()) {
      second_status = txn.status();
      return;
    }
    // Runs strictly after the first commit, so it sees and raises 1 -> 2.
    auto seq = second_->LastSequence();
    second_status = seq.ok() && *seq == 1 ? (*txn)->SetLastSequence(2)
                                          : Status::Internal("first write not visible");
    if (second_status.ok())
      second_status = (*txn)->Commit();
  });
  // The other store cannot be in yet: this transaction holds the write lock
  // of the database (not just of this process).
  EXPECT_FALSE(second_started.load());
  ASSERT_TRUE((*first_txn)->Commit().ok());
  second.join();
  EXPECT_TRUE(second_started.load());
  EXPECT_TRUE(second_status.ok()) << second_status.ToString();
  EXPECT_EQ(*first_->LastSequence(), 2u);
}

}  // namespace
}  // namespace ksdb::storage
