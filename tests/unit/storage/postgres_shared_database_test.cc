// Two PostgreSQL stores (as two servers would have) on one database: writers
// are serialised across them and each sees the other's commits. Skipped
// without $KSDB_TEST_PG_URL.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
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

// The change log carries deleted ids of any bytes and length to the other
// store, as the records read alongside it carry written ones.
TEST_F(PostgresSharedDatabaseTest, SameCollectionNameFromTheOtherStoreIsAlreadyExists) {
  // Two servers creating one name at once: the second commit must be a clean
  // AlreadyExists (HTTP 409), not an I/O error.
  {
    auto txn = first_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->PutCollection(testing::MakeCollection("c1", "same")).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto txn = second_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  Status put = (*txn)->PutCollection(testing::MakeCollection("c2", "same"));
  if (put.ok()) put = (*txn)->Commit();
  EXPECT_EQ(put.code(), StatusCode::kAlreadyExists) << put.ToString();
}

TEST_F(PostgresSharedDatabaseTest, ChangesCarryLongAndNulRecordIds) {
  const std::string long_id(1 << 20, 'x');
  const std::string nul_id("\0nul", 4);
  {
    auto txn = first_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->PutCollection(testing::MakeCollection("c1", "one")).ok());
    ASSERT_TRUE((*txn)
                    ->PutRecords(
                        "c1", std::vector<RecordRow>{MakeRecord(long_id, 1), MakeRecord(nul_id, 2)})
                    .ok());
    ASSERT_TRUE((*txn)->SetLastSequence(2).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  {
    auto txn = first_->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->DeleteRecords("c1", std::vector<std::string>{long_id, nul_id}).ok());
    ASSERT_TRUE((*txn)->SetLastSequence(3).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  std::vector<ChangeLogEntry> log;
  std::set<std::string> written;
  ChangeVisitor visitor;
  visitor.log = [&](std::vector<ChangeLogEntry>&& entries) {
    log = std::move(entries);
    return Status::Ok();
  };
  visitor.records = [&](std::vector<CollectionRecordRow>&& rows) {
    for (CollectionRecordRow& row : rows)
      written.insert(row.row.record_id);
    return Status::Ok();
  };
  // Nothing is left of the records; only the log names what was deleted.
  auto last = second_->ReadChangesSince(0, visitor);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, 3u);
  EXPECT_TRUE(written.empty());
  std::vector<std::string> deleted;
  for (const ChangeLogEntry& entry : log) {
    if (entry.kind == ChangeKind::kDeleteRecords) {
      EXPECT_EQ(entry.seq, 3u);
      EXPECT_EQ(entry.collection_id, "c1");
      deleted.insert(deleted.end(), entry.record_ids.begin(), entry.record_ids.end());
    }
  }
  EXPECT_EQ(std::set<std::string>(deleted.begin(), deleted.end()),
            (std::set<std::string>{long_id, nul_id}));
  EXPECT_EQ(deleted.size(), 2u);
}

// Records written in the range come back with their ids intact.
TEST_F(PostgresSharedDatabaseTest, ChangedRecordsCarryLongAndNulRecordIds) {
  const std::string long_id(1 << 20, 'y');
  const std::string nul_id("a\0b", 3);
  auto txn = first_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->PutCollection(testing::MakeCollection("c1", "one")).ok());
  ASSERT_TRUE(
      (*txn)
          ->PutRecords("c1", std::vector<RecordRow>{MakeRecord(long_id, 1), MakeRecord(nul_id, 2)})
          .ok());
  ASSERT_TRUE((*txn)->SetLastSequence(2).ok());
  ASSERT_TRUE((*txn)->Commit().ok());

  std::set<std::string> written;
  ChangeVisitor visitor;
  visitor.log = [](std::vector<ChangeLogEntry>&&) { return Status::Ok(); };
  visitor.records = [&](std::vector<CollectionRecordRow>&& rows) {
    for (CollectionRecordRow& row : rows)
      written.insert(row.row.record_id);
    return Status::Ok();
  };
  auto last = second_->ReadChangesSince(0, visitor);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(written, (std::set<std::string>{long_id, nul_id}));
}

}  // namespace
}  // namespace ksdb::storage
