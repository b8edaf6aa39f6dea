// The PostgreSQL store's session limits (statement, lock and
// idle-in-transaction timeouts): URL keys, what each connection runs with, and
// that each limit ends a stuck operation with a clear Unavailable error.
// The URL tests always run; the others need $KSDB_TEST_PG_URL.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "storage/postgres/migrations.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/postgres_store.h"
#include "storage/postgres/url.h"
#include "store_backend.h"

namespace ksdb::storage::postgres {
namespace {

using std::chrono::milliseconds;

constexpr char kBase[] = "postgresql://u:secret@h/db";

TEST(PostgresTimeoutUrlTest, DefaultsAreProductionLimits) {
  auto parsed = ParsePostgresUrl(kBase, PoolOptions{});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->pool.statement_timeout, milliseconds(30000));
  EXPECT_EQ(parsed->pool.lock_timeout, milliseconds(10000));
  EXPECT_EQ(parsed->pool.idle_in_transaction_timeout, milliseconds(60000));
  EXPECT_EQ(parsed->pool.change_log_retention, std::chrono::seconds(600));
}

TEST(PostgresTimeoutUrlTest, QueryKeysSetTheLimits) {
  auto parsed = ParsePostgresUrl(std::string(kBase) +
                                     "?statement_timeout_ms=1500&lock_timeout_ms=0"
                                     "&idle_in_transaction_timeout_ms=2500"
                                     "&change_log_retention_s=7200",
                                 PoolOptions{});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->pool.statement_timeout, milliseconds(1500));
  EXPECT_EQ(parsed->pool.lock_timeout, milliseconds(0));
  EXPECT_EQ(parsed->pool.idle_in_transaction_timeout, milliseconds(2500));
  EXPECT_EQ(parsed->pool.change_log_retention, std::chrono::seconds(7200));
}

TEST(PostgresTimeoutUrlTest, BadValuesAreRejectedWithoutThePassword) {
  for (const char* query : {"?statement_timeout_ms=-1", "?lock_timeout_ms=abc",
                            "?idle_in_transaction_timeout_ms=", "?statement_timeout_ms=9999999999",
                            "?change_log_retention_s=1.5"}) {
    auto parsed = ParsePostgresUrl(std::string(kBase) + query, PoolOptions{});
    ASSERT_FALSE(parsed.ok()) << query;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << query;
    EXPECT_EQ(parsed.status().message().find("secret"), std::string::npos)
        << parsed.status().message();
  }
  auto unknown = ParsePostgresUrl(std::string(kBase) + "?statement_timeout=5", PoolOptions{});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("statement_timeout_ms"), std::string::npos)
      << unknown.status().message();
}

class PostgresTimeoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::PgTestUrl().empty())
      GTEST_SKIP() << testing::kPgSkipMessage;
    backend_ = std::make_unique<testing::PostgresBackend>();
  }

  std::unique_ptr<Connection> OpenConnection(const PoolOptions& options) {
    auto conn = Connection::Open(backend_->params(), options);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(conn).value() : nullptr;
  }

  std::unique_ptr<PostgresRecordStore> OpenStore(const PoolOptions& options) {
    auto store = OpenPostgresStore(backend_->params(), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static std::string Show(Connection& conn, const char* setting) {
    const std::string sql = std::string("SHOW ") + setting;
    auto result = conn.Query(sql.c_str(), Params(), "show");
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? GetText(result->get(), 0, 0) : "";
  }

  // A timeout's error: Unavailable, names the store and the setting, carries
  // neither SQL nor the password.
  void ExpectTimeoutError(const Status& status, const std::string& setting) {
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    EXPECT_NE(status.message().find(backend_->StoreName()), std::string::npos) << status.message();
    EXPECT_NE(status.message().find(setting), std::string::npos) << status.message();
    for (const char* sql : {"SELECT", "pg_sleep", "DECLARE", "FROM ksdb"})
      EXPECT_EQ(status.message().find(sql), std::string::npos) << status.message();
  }

  std::unique_ptr<testing::PostgresBackend> backend_;
};

TEST_F(PostgresTimeoutTest, EveryConnectionRunsWithTheConfiguredLimits) {
  std::unique_ptr<Connection> defaults = OpenConnection(PoolOptions{});
  ASSERT_NE(defaults, nullptr);
  EXPECT_EQ(Show(*defaults, "statement_timeout"), "30s");
  EXPECT_EQ(Show(*defaults, "lock_timeout"), "10s");
  EXPECT_EQ(Show(*defaults, "idle_in_transaction_session_timeout"), "1min");

  PoolOptions options;
  options.statement_timeout = milliseconds(1234);
  options.lock_timeout = milliseconds(0);
  options.idle_in_transaction_timeout = milliseconds(5000);
  std::unique_ptr<Connection> custom = OpenConnection(options);
  ASSERT_NE(custom, nullptr);
  EXPECT_EQ(Show(*custom, "statement_timeout"), "1234ms");
  EXPECT_EQ(Show(*custom, "lock_timeout"), "0");
  EXPECT_EQ(Show(*custom, "idle_in_transaction_session_timeout"), "5s");
}

TEST_F(PostgresTimeoutTest, SlowStatementIsCancelledAndTheConnectionStaysUsable) {
  PoolOptions options;
  options.statement_timeout = milliseconds(50);
  std::unique_ptr<Connection> conn = OpenConnection(options);
  ASSERT_NE(conn, nullptr);
  Status slow = conn->Exec("SELECT pg_sleep(30)", "slow query");
  ExpectTimeoutError(slow, "statement_timeout_ms=50");
  EXPECT_NE(slow.message().find("slow query"), std::string::npos) << slow.message();
  EXPECT_FALSE(conn->IsBroken());
  EXPECT_TRUE(conn->Exec("SELECT 1", "after timeout").ok());
}

TEST_F(PostgresTimeoutTest, WriterWaitingOnAHungPeersWriteLockGivesUp) {
  PoolOptions options;
  options.lock_timeout = milliseconds(100);
  std::unique_ptr<PostgresRecordStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  // A peer server that took the write lock and hangs inside its transaction.
  testing::RawPg peer(backend_->params().dbname);
  peer.Exec("BEGIN");
  peer.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")");

  auto txn = store->BeginWrite();
  ASSERT_FALSE(txn.ok());
  ExpectTimeoutError(txn.status(), "lock_timeout_ms=100");

  // Once the peer is gone the next write goes through on a healthy pool.
  peer.Exec("ROLLBACK");
  auto retry = store->BeginWrite();
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  ASSERT_TRUE((*retry)->PutTenant({"t1", std::nullopt}).ok());
  ASSERT_TRUE((*retry)->Commit().ok());
}

TEST_F(PostgresTimeoutTest, ReadBlockedByATableLockEndsAtTheStatementTimeout) {
  PoolOptions options;
  options.statement_timeout = milliseconds(100);
  options.lock_timeout = milliseconds(0);
  std::unique_ptr<PostgresRecordStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  testing::RawPg peer(backend_->params().dbname);
  peer.Exec("BEGIN");
  peer.Exec("LOCK TABLE ksdb.records IN ACCESS EXCLUSIVE MODE");

  Status scan = store->ScanRecords("c1", [](RecordRow&&) { return Status::Ok(); });
  ExpectTimeoutError(scan, "statement_timeout_ms=100");
  peer.Exec("ROLLBACK");
  EXPECT_TRUE(store->ScanRecords("c1", [](RecordRow&&) { return Status::Ok(); }).ok());
}

// Waits, bounded, until the server has ended backend `pid`.
bool WaitForBackendGone(testing::RawPg& admin, int pid) {
  const std::string sql =
      "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (admin.Query(sql) == "0")
      return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

TEST_F(PostgresTimeoutTest, TransactionLeftIdleIsEndedByTheServer) {
  PoolOptions options;
  options.idle_in_transaction_timeout = milliseconds(100);
  std::unique_ptr<Connection> conn = OpenConnection(options);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("BEGIN", "begin").ok());
  ASSERT_TRUE(LockAdvisory(*conn, kWriteLockKey, "lock writer").ok());
  testing::RawPg admin(backend_->params().dbname);
  ASSERT_TRUE(WaitForBackendGone(admin, conn->BackendPid()));
  // The lock it held is free again.
  EXPECT_EQ(admin.Query("SELECT pg_try_advisory_lock(" + std::to_string(kWriteLockKey) + ")"), "t");

  Status next = conn->Exec("SELECT 1", "next statement");
  EXPECT_EQ(next.code(), StatusCode::kUnavailable) << next.ToString();
  EXPECT_NE(next.message().find(backend_->StoreName()), std::string::npos) << next.message();
  EXPECT_TRUE(conn->IsBroken());
}

TEST_F(PostgresTimeoutTest, SnapshotReadsOutliveTheIdleLimitWhileTheEngineWorks) {
  PoolOptions options;
  options.idle_in_transaction_timeout = milliseconds(100);
  std::unique_ptr<PostgresRecordStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  testing::PutCollectionWithRecords(*store, "c1",
                                    {testing::MakeRecord("a", 1), testing::MakeRecord("b", 2)});
  testing::RawPg admin(backend_->params().dbname);
  // The scan's callback takes longer than the idle limit: it waits until the
  // server has seen its session idle in the transaction for well over it.
  int seen = 0;
  Status scan = store->ScanRecords("c1", [&](RecordRow&&) {
    ++seen;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string idle = admin.Query(
          "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND "
          "clock_timestamp() - state_change > interval '300 milliseconds' AND "
          "datname = current_database()");
      if (idle == "1")
        return Status::Ok();
      std::this_thread::sleep_for(milliseconds(10));
    }
    return Status::Internal("the scan's session never looked idle");
  });
  EXPECT_TRUE(scan.ok()) << scan.ToString();
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace ksdb::storage::postgres
