// Pruning of the PostgreSQL store's change log: servers that follow hold back
// pruning of what they have not read, follow passes prune on their own, and a
// server gone longer than the retention is told it missed pruned entries
// instead of silently missing deletes. Skipped without $KSDB_TEST_PG_URL.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/postgres/postgres_store.h"
#include "store_backend.h"

namespace ksdb::storage {
namespace {

using testing::MakeCollection;
using testing::MakeRecord;

class PostgresChangeLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::PgTestUrl().empty())
      GTEST_SKIP() << testing::kPgSkipMessage;
    backend_ = std::make_unique<testing::PostgresBackend>();
  }

  std::unique_ptr<PostgresRecordStore> Open(
      std::chrono::seconds retention = std::chrono::seconds(600)) {
    postgres::PoolOptions options;
    options.pool_size = 2;
    options.change_log_retention = retention;
    auto store = OpenPostgresStore(backend_->params(), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Commits what `body` writes under sequence number `seq`.
  static void CommitAt(RecordStore& store, uint64_t seq,
                       const std::function<Status(WriteTransaction&)>& body) {
    auto txn = store.BeginWrite();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    Status written = body(**txn);
    ASSERT_TRUE(written.ok()) << written.ToString();
    ASSERT_TRUE((*txn)->SetLastSequence(seq).ok());
    Status commit = (*txn)->Commit();
    ASSERT_TRUE(commit.ok()) << commit.ToString();
  }

  // Seq 1 creates c1 with records a, b, c; seq 2 deletes a.
  static void CreateThenDelete(RecordStore& store) {
    CommitAt(store, 1, [](WriteTransaction& txn) {
      KSDB_RETURN_IF_ERROR(txn.PutCollection(MakeCollection("c1", "one")));
      const std::vector<RecordRow> rows = {MakeRecord("a", 1), MakeRecord("b", 1),
                                           MakeRecord("c", 1)};
      return txn.PutRecords("c1", rows);
    });
    CommitAt(store, 2, [](WriteTransaction& txn) {
      const std::vector<std::string> ids = {"a"};
      return txn.DeleteRecords("c1", ids);
    });
  }

  // A follow pass from `since`; its log entries are appended to `log`.
  static Result<uint64_t> Follow(RecordStore& store, uint64_t since,
                                 std::vector<ChangeLogEntry>* log = nullptr) {
    ChangeVisitor visitor;
    visitor.log = [log](std::vector<ChangeLogEntry>&& entries) {
      if (log != nullptr)
        log->insert(log->end(), entries.begin(), entries.end());
      return Status::Ok();
    };
    visitor.records = [](std::vector<CollectionRecordRow>&&) { return Status::Ok(); };
    return store.ReadChangesSince(since, visitor);
  }

  static void FollowOk(RecordStore& store, uint64_t since, uint64_t expected_last) {
    Result<uint64_t> last = Follow(store, since);
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    EXPECT_EQ(*last, expected_last);
  }

  std::string LogRows() { return backend_->RawQuery("SELECT count(*) FROM changes"); }

  std::unique_ptr<testing::PostgresBackend> backend_;
};

TEST_F(PostgresChangeLogTest, OpeningRegistersAtTheLastSequenceNumber) {
  std::unique_ptr<PostgresRecordStore> writer = Open();
  ASSERT_NE(writer, nullptr);
  CreateThenDelete(*writer);
  std::unique_ptr<PostgresRecordStore> later = Open();
  ASSERT_NE(later, nullptr);
  EXPECT_NE(writer->server_id(), later->server_id());
  EXPECT_EQ(backend_->RawQuery("SELECT followed_seq FROM followers WHERE server_id = '" +
                               later->server_id() + "'"),
            "2");
  EXPECT_EQ(backend_->RawQuery("SELECT followed_seq FROM followers WHERE server_id = '" +
                               writer->server_id() + "'"),
            "0");
}

TEST_F(PostgresChangeLogTest, LaggingFollowerHoldsBackPruningUntilItHasRead) {
  std::unique_ptr<PostgresRecordStore> a = Open();
  std::unique_ptr<PostgresRecordStore> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  CreateThenDelete(*a);
  FollowOk(*a, 2, 2);
  // b has followed nothing yet: nothing may go.
  auto held = a->PruneChangeLog();
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(*held, 0u);
  EXPECT_EQ(LogRows(), "2");

  std::vector<ChangeLogEntry> log;
  ASSERT_TRUE(Follow(*b, 0, &log).ok());
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].kind, ChangeKind::kDeleteRecords);
  EXPECT_EQ(log[1].record_ids, std::vector<std::string>{"a"});
  // Reading is not having applied: only the next pass, from 2, says so.
  ASSERT_TRUE(a->PruneChangeLog().ok());
  EXPECT_EQ(LogRows(), "2");
  FollowOk(*b, 2, 2);
  auto pruned = a->PruneChangeLog();
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 2u);
  EXPECT_EQ(LogRows(), "0");
  FollowOk(*b, 2, 2);
  FollowOk(*a, 2, 2);
}

TEST_F(PostgresChangeLogTest, FollowPassPrunesOnItsOwn) {
  std::unique_ptr<PostgresRecordStore> a = Open();
  std::unique_ptr<PostgresRecordStore> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  CreateThenDelete(*a);
  FollowOk(*b, 0, 2);
  FollowOk(*b, 2, 2);
  EXPECT_EQ(LogRows(), "2");
  // a's first pass reports 2 and, its first prune being due, prunes.
  FollowOk(*a, 2, 2);
  EXPECT_EQ(LogRows(), "0");
  EXPECT_EQ(backend_->RawQuery("SELECT value FROM meta WHERE key = 'changes_pruned_through'"), "2");
}

TEST_F(PostgresChangeLogTest, ServerGoneLongerThanTheRetentionLearnsItMissedEntries) {
  std::unique_ptr<PostgresRecordStore> a = Open();
  std::unique_ptr<PostgresRecordStore> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  CommitAt(*a, 1, [](WriteTransaction& txn) {
    KSDB_RETURN_IF_ERROR(txn.PutCollection(MakeCollection("c1", "one")));
    return txn.PutRecords("c1", std::vector<RecordRow>{MakeRecord("a", 1)});
  });
  FollowOk(*b, 0, 1);
  FollowOk(*b, 1, 1);
  // b then hangs for a day while a deletes a record and follows.
  CommitAt(*a, 2, [](WriteTransaction& txn) {
    return txn.DeleteRecords("c1", std::vector<std::string>{"a"});
  });
  FollowOk(*a, 2, 2);
  backend_->RawExec(
      "UPDATE followers SET seen_at = seen_at - interval '1 day' WHERE server_id = '" +
      b->server_id() + "'");
  auto pruned = a->PruneChangeLog();
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 2u);
  EXPECT_EQ(LogRows(), "0");
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM followers"), "1");

  // b comes back: it must not take "nothing new" for an answer.
  std::vector<ChangeLogEntry> log;
  Result<uint64_t> missed = Follow(*b, 1, &log);
  ASSERT_FALSE(missed.ok());
  EXPECT_EQ(missed.status().code(), StatusCode::kIoError);
  const std::string message = missed.status().message();
  EXPECT_NE(message.find(backend_->StoreName()), std::string::npos) << message;
  EXPECT_NE(message.find("after sequence number 1 (pruned through 2)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("change_log_retention_s"), std::string::npos) << message;
  EXPECT_EQ(message.find("SELECT"), std::string::npos) << message;
  EXPECT_TRUE(log.empty());
  // It does not come back as a follower holding pruning at 1.
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM followers WHERE server_id = '" +
                               b->server_id() + "'"),
            "0");
  // Restarted, it starts from the current state and follows normally.
  b = Open();
  ASSERT_NE(b, nullptr);
  auto last = b->LastSequence();
  ASSERT_TRUE(last.ok());
  FollowOk(*b, *last, 2);
}

// A visitor with `missed` set is told about the gap instead of failing: the
// store registers the server again first, so nothing after the number it
// hands over is pruned while the server reloads.
TEST_F(PostgresChangeLogTest, MissedEntriesAreHandedToAVisitorThatCanReload) {
  std::unique_ptr<PostgresRecordStore> a = Open();
  // A pool of one: the visitor's reload must get a connection.
  postgres::PoolOptions one;
  one.pool_size = 1;
  one.max_overflow = 0;
  auto opened = OpenPostgresStore(backend_->params(), one);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<PostgresRecordStore> b = std::move(opened).value();
  ASSERT_NE(a, nullptr);
  CreateThenDelete(*a);
  backend_->RawExec("UPDATE followers SET seen_at = seen_at - interval '1 day'");
  std::unique_ptr<PostgresRecordStore> pruner = Open();
  ASSERT_NE(pruner, nullptr);
  auto pruned = pruner->PruneChangeLog();
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  ASSERT_EQ(*pruned, 2u);

  bool delivered = false;
  std::optional<uint64_t> missed_from;
  size_t reloaded_collections = 0;
  ChangeVisitor visitor;
  visitor.log = [&](std::vector<ChangeLogEntry>&&) {
    delivered = true;
    return Status::Ok();
  };
  visitor.records = [&](std::vector<CollectionRecordRow>&&) {
    delivered = true;
    return Status::Ok();
  };
  visitor.missed = [&](uint64_t from) {
    missed_from = from;
    // Registered again before the reload starts.
    EXPECT_EQ(backend_->RawQuery("SELECT followed_seq FROM followers WHERE server_id = '" +
                                 b->server_id() + "'"),
              "2");
    auto collections = b->LoadCollections();
    EXPECT_TRUE(collections.ok()) << collections.status().ToString();
    if (collections.ok())
      reloaded_collections = collections->size();
    return Status::Ok();
  };
  Result<uint64_t> last = b->ReadChangesSince(0, visitor);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, 2u);
  ASSERT_TRUE(missed_from.has_value());
  EXPECT_EQ(*missed_from, 2u);
  EXPECT_FALSE(delivered);
  EXPECT_EQ(reloaded_collections, 1u);
  // Now it holds back pruning again, from where it reloaded.
  CommitAt(*a, 3, [](WriteTransaction& txn) {
    return txn.DeleteRecords("c1", std::vector<std::string>{"b"});
  });
  ASSERT_TRUE(pruner->PruneChangeLog().ok());
  EXPECT_EQ(LogRows(), "1");
  std::vector<ChangeLogEntry> log;
  Result<uint64_t> next = Follow(*b, 2, &log);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(*next, 3u);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].record_ids, std::vector<std::string>{"b"});
}

TEST_F(PostgresChangeLogTest, AnErrorOfTheReloadIsReturned) {
  std::unique_ptr<PostgresRecordStore> a = Open();
  std::unique_ptr<PostgresRecordStore> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  CreateThenDelete(*a);
  backend_->RawExec(
      "UPDATE followers SET seen_at = seen_at - interval '1 day' WHERE server_id = '" +
      b->server_id() + "'");
  FollowOk(*a, 2, 2);
  ChangeVisitor visitor;
  visitor.log = [](std::vector<ChangeLogEntry>&&) { return Status::Ok(); };
  visitor.records = [](std::vector<CollectionRecordRow>&&) { return Status::Ok(); };
  visitor.missed = [](uint64_t) { return Status::Unavailable("reload failed"); };
  Result<uint64_t> last = b->ReadChangesSince(0, visitor);
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(last.status().message(), "reload failed");
}

TEST_F(PostgresChangeLogTest, ZeroRetentionNeverPrunes) {
  std::unique_ptr<PostgresRecordStore> a = Open(std::chrono::seconds(0));
  ASSERT_NE(a, nullptr);
  CreateThenDelete(*a);
  FollowOk(*a, 2, 2);
  auto pruned = a->PruneChangeLog();
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 0u);
  EXPECT_EQ(LogRows(), "2");
}

TEST_F(PostgresChangeLogTest, LargeBacklogIsPrunedInChunks) {
  std::unique_ptr<PostgresRecordStore> a = Open();
  ASSERT_NE(a, nullptr);
  // 120k log rows over 120k sequence numbers: more than two prune chunks.
  backend_->RawExec(
      "INSERT INTO changes (seq, kind, collection_id, record_id) "
      "SELECT g, 1, 'c1', 'x'::bytea FROM generate_series(1, 120000) AS g; "
      "UPDATE meta SET value = 120000 WHERE key = 'last_sequence'; "
      "INSERT INTO meta (key, value) VALUES ('last_sequence', 120000) ON CONFLICT DO NOTHING");
  FollowOk(*a, 100000, 120000);
  EXPECT_EQ(LogRows(), "20000");
  EXPECT_EQ(backend_->RawQuery("SELECT min(seq) FROM changes"), "100001");
}

}  // namespace
}  // namespace ksdb::storage
