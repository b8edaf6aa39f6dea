// WalCheckpointer: commits never checkpoint; the thread copies the WAL into
// the database file once it passes the limit; writers that wait for it keep
// the WAL small; a closed store leaves no WAL behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "storage/record_store.h"
#include "storage/sqlite/wal_checkpointer.h"
#include "storage_test_util.h"

namespace ksdb::storage::sqlite {
namespace {

using testing::TempDir;

constexpr int kNever = 1 << 30;

class WalCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("c.db");
    ConnectionOptions options;
    options.create = true;
    auto writer = Connection::Open(path_, options);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    writer_ = std::move(writer).value();
    ASSERT_TRUE(writer_->Exec("PRAGMA journal_mode = WAL", "wal").ok());
    ASSERT_TRUE(writer_->Exec("CREATE TABLE t (b BLOB)", "create").ok());
    ASSERT_TRUE(writer_->Checkpoint("initial").ok());
    initial_size_ = FileSize(path_);
  }

  void Start(int start_pages) {
    auto checkpointer = WalCheckpointer::Start(writer_.get(), start_pages);
    ASSERT_TRUE(checkpointer.ok()) << checkpointer.status().ToString();
    checkpointer_ = std::move(checkpointer).value();
  }

  // One commit of `pages` 4 KiB blobs (each fills a page of its own).
  void CommitPages(int pages) {
    ASSERT_TRUE(writer_->Exec("BEGIN", "begin").ok());
    for (int i = 0; i < pages; ++i)
      ASSERT_TRUE(writer_->Exec("INSERT INTO t VALUES (zeroblob(4000))", "insert").ok());
    ASSERT_TRUE(writer_->Exec("COMMIT", "commit").ok());
  }

  static uintmax_t FileSize(const std::string& path) { return std::filesystem::file_size(path); }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Connection> writer_;
  std::unique_ptr<WalCheckpointer> checkpointer_;
  uintmax_t initial_size_ = 0;
};

TEST_F(WalCheckpointerTest, CommitsNeverCheckpointThemselves) {
  Start(kNever);
  // Past SQLite's own automatic limit (1,000 pages), which the hook replaces.
  for (int i = 0; i < 3; ++i)
    CommitPages(500);
  checkpointer_->WaitUntilIdle();
  EXPECT_EQ(FileSize(path_), initial_size_);
  EXPECT_EQ(checkpointer_->checkpoints(), 0u);
}

TEST_F(WalCheckpointerTest, ThreadCopiesTheWalOnceItPassesTheStartLimit) {
  Start(50);
  CommitPages(20);
  checkpointer_->WaitUntilIdle();
  EXPECT_EQ(checkpointer_->checkpoints(), 0u);
  CommitPages(60);
  checkpointer_->WaitUntilIdle();
  EXPECT_EQ(checkpointer_->checkpoints(), 1u);
  EXPECT_GE(FileSize(path_), initial_size_ + 80 * 4096);
}

TEST_F(WalCheckpointerTest, WritesThatWaitForTheCheckpointKeepTheWalSmall) {
  Start(50);
  for (int i = 0; i < 20; ++i) {
    checkpointer_->WaitUntilIdle();
    CommitPages(60);
  }
  checkpointer_->WaitUntilIdle();
  // Each transaction began on a checkpointed WAL and wrote it from the start.
  EXPECT_LT(FileSize(path_ + "-wal"), 2 * 61 * 4200u);
  EXPECT_GE(FileSize(path_), initial_size_ + 20 * 60 * 4096);
}

TEST_F(WalCheckpointerTest, StoppedCheckpointerNoLongerHooksTheWriter) {
  Start(1);
  checkpointer_.reset();
  CommitPages(20);
  CommitPages(20);
  EXPECT_EQ(FileSize(path_), initial_size_);
}

TEST(SqliteStoreWalTest, ClosedStoreLeavesNoWal) {
  TempDir dir;
  const std::string path = dir.File("s.db");
  {
    std::unique_ptr<RecordStore> store = testing::OpenOrDie(path);
    testing::PutCollectionWithRecords(*store, "c1",
                                      {testing::MakeRecord("a", 1), testing::MakeRecord("b", 2)});
    EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
  }
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  std::unique_ptr<RecordStore> again = testing::OpenOrDie(path);
  EXPECT_EQ(testing::ScanAll(*again, "c1").size(), 2u);
}

}  // namespace
}  // namespace ksdb::storage::sqlite
