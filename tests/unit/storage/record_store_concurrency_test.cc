// Readers and writers of the record stores (SQLite and PostgreSQL) on several
// threads.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "storage/record_store.h"
#include "storage_test_util.h"
#include "store_backend.h"

namespace ksdb::storage {
namespace {

using testing::MakeBackend;
using testing::MakeRecord;
using testing::PutCollectionWithRecords;
using testing::ScanAll;
using testing::StoreBackend;
using testing::StoreKind;

class RecordStoreConcurrencyTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    backend_ = MakeBackend(GetParam());
    if (backend_ == nullptr)
      GTEST_SKIP() << testing::kPgSkipMessage;
  }

  std::unique_ptr<StoreBackend> backend_;
};

INSTANTIATE_TEST_SUITE_P(Stores, RecordStoreConcurrencyTest,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres),
                         testing::StoreKindName);

TEST_P(RecordStoreConcurrencyTest, ReadersCompleteWhileWriterHoldsTransaction) {
  auto store = backend_->Open();
  ASSERT_NE(store, nullptr);
  PutCollectionWithRecords(*store, "c1", {MakeRecord("committed", 1)});

  auto txn = store->BeginWrite();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->PutRecords("c1", std::vector<RecordRow>{MakeRecord("pending", 2)}).ok());
  ASSERT_TRUE((*txn)->PutTenant({"pending-tenant", std::nullopt}).ok());
  ASSERT_TRUE((*txn)->SetLastSequence(2).ok());

  // Several readers, each in its own thread, all finishing (join returns)
  // while the write transaction above is still open: a reader blocked behind
  // the writer would hang the test here.
  constexpr int kReaders = 4;
  std::vector<std::thread> readers;
  std::vector<std::vector<std::string>> seen(kReaders);
  std::vector<size_t> tenants(kReaders, 99);
  std::vector<uint64_t> sequences(kReaders, 99);
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&, i] {
      for (const RecordRow& row : ScanAll(*store, "c1"))
        seen[i].push_back(row.record_id);
      auto loaded = store->LoadTenants();
      if (loaded.ok())
        tenants[i] = loaded->size();
      auto seq = store->LastSequence();
      if (seq.ok())
        sequences[i] = *seq;
    });
  }
  for (std::thread& t : readers)
    t.join();
  for (int i = 0; i < kReaders; ++i) {
    EXPECT_EQ(seen[i], std::vector<std::string>{"committed"});
    EXPECT_EQ(tenants[i], 0u);
    EXPECT_EQ(sequences[i], 0u);
  }

  ASSERT_TRUE((*txn)->Commit().ok());
  std::vector<RecordRow> after = ScanAll(*store, "c1");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1].record_id, "pending");
  EXPECT_EQ(*store->LastSequence(), 2u);
}

TEST_P(RecordStoreConcurrencyTest, SecondWriterWaitsForTheFirst) {
  auto store = backend_->Open();
  ASSERT_NE(store, nullptr);

  auto first = store->BeginWrite();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->SetLastSequence(1).ok());

  std::atomic<bool> second_started{false};
  Status second_status;
  std::thread second([&] {
    auto txn = store->BeginWrite();
    second_started = true;
    if (!txn.ok()) {
      second_status = txn.status();
      return;
    }
    // Runs strictly after the first commit, so it sees and raises 1 -> 2.
    auto seq = store->LastSequence();
    second_status = seq.ok() && *seq == 1 ? (*txn)->SetLastSequence(2)
                                          : Status::Internal("first write not visible");
    if (second_status.ok())
      second_status = (*txn)->Commit();
  });
  // Whenever this runs, the second writer cannot be in yet: we hold the lock.
  EXPECT_FALSE(second_started.load());
  ASSERT_TRUE((*first)->Commit().ok());
  second.join();
  EXPECT_TRUE(second_started.load());
  EXPECT_TRUE(second_status.ok()) << second_status.ToString();
  EXPECT_EQ(*store->LastSequence(), 2u);
}

Status WriteBatch(RecordStore& store, const std::vector<RecordRow>& rows, uint64_t last_seq) {
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<WriteTransaction> txn, store.BeginWrite());
  KSDB_RETURN_IF_ERROR(txn->PutRecords("c1", rows));
  KSDB_RETURN_IF_ERROR(txn->SetLastSequence(last_seq));
  return txn->Commit();
}

TEST_P(RecordStoreConcurrencyTest, ManyReadersAndAWriterInterleave) {
  auto store = backend_->Open();
  ASSERT_NE(store, nullptr);
  PutCollectionWithRecords(*store, "c1", {});

  constexpr int kBatches = 20;
  constexpr int kPerBatch = 50;
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        // Every snapshot holds whole batches only, in position order.
        std::vector<RecordRow> rows = ScanAll(*store, "c1");
        if (rows.size() % kPerBatch != 0)
          ++bad_reads;
        for (size_t i = 0; i < rows.size(); ++i) {
          if (rows[i].position != i + 1)
            ++bad_reads;
        }
      }
    });
  }
  uint64_t position = 0;
  Status write_status;
  for (int b = 0; b < kBatches && write_status.ok(); ++b) {
    std::vector<RecordRow> rows;
    for (int i = 0; i < kPerBatch; ++i) {
      ++position;
      rows.push_back(MakeRecord("r" + std::to_string(position), position));
    }
    write_status = WriteBatch(*store, rows, position);
  }
  // No ASSERT before the joins: a failing test must still stop its threads.
  done = true;
  for (std::thread& t : readers)
    t.join();
  ASSERT_TRUE(write_status.ok()) << write_status.ToString();
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_EQ(ScanAll(*store, "c1").size(), static_cast<size_t>(kBatches * kPerBatch));
}

}  // namespace
}  // namespace ksdb::storage
