// The PostgreSQL connection pool: sizing, overflow, timeouts, pre-ping and its
// counters. Skipped without $KSDB_TEST_PG_URL.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pool.h"
#include "store_backend.h"

namespace ksdb::storage::postgres {
namespace {

using Lease = ConnectionPool::Lease;

class PostgresPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::PgTestUrl().empty())
      GTEST_SKIP() << testing::kPgSkipMessage;
    params_ = testing::PgTestParams();
  }

  std::unique_ptr<ConnectionPool> MakePool(size_t pool_size, size_t max_overflow,
                                           int timeout_ms = 30000, bool pre_ping = true) {
    PoolOptions options;
    options.pool_size = pool_size;
    options.max_overflow = max_overflow;
    options.checkout_timeout = std::chrono::milliseconds(timeout_ms);
    options.pre_ping = pre_ping;
    const ConnectParams params = params_;
    return std::make_unique<ConnectionPool>([params] { return Connection::Open(params); }, options,
                                            StoreName(params));
  }

  static Lease CheckoutOk(ConnectionPool& pool) {
    auto lease = pool.Checkout();
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
    return std::move(lease).value();
  }

  // Terminates backend `pid` and waits (server side, bounded) until it is gone.
  void KillBackend(int pid) {
    testing::RawPg admin(params_.dbname);
    EXPECT_EQ(admin.Query("SELECT pg_terminate_backend(" + std::to_string(pid) + ", 10000)"), "t");
  }

  ConnectParams params_;
};

TEST_F(PostgresPoolTest, ReusesIdleConnections) {
  auto pool = MakePool(2, 0);
  int pid = 0;
  {
    Lease lease = CheckoutOk(*pool);
    pid = lease->BackendPid();
    EXPECT_EQ(pool->Stats().in_use, 1u);
  }
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.idle, 1u);
  Lease again = CheckoutOk(*pool);
  EXPECT_EQ(again->BackendPid(), pid);
  EXPECT_EQ(pool->Stats().checkouts, 2u);
  EXPECT_EQ(pool->Stats().reconnects, 0u);
}

TEST_F(PostgresPoolTest, OverflowThenTimeoutWhenExhausted) {
  auto pool = MakePool(2, 1, /*timeout_ms=*/100);
  std::vector<Lease> leases;
  for (int i = 0; i < 3; ++i)
    leases.push_back(CheckoutOk(*pool));
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.in_use, 3u);
  EXPECT_EQ(stats.overflow, 1u);
  EXPECT_EQ(stats.idle, 0u);

  auto fourth = pool->Checkout();
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(fourth.status().message().find(
                "timed out after 100 ms waiting for a database connection (pool_size=2, "
                "max_overflow=1)"),
            std::string::npos)
      << fourth.status().message();
  stats = pool->Stats();
  EXPECT_EQ(stats.waits, 1u);
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.waiting, 0u);

  // The first connection returned while over pool_size is closed, not kept.
  leases.pop_back();
  stats = pool->Stats();
  EXPECT_EQ(stats.in_use, 2u);
  EXPECT_EQ(stats.overflow, 0u);
  EXPECT_EQ(stats.idle, 0u);
  leases.clear();
  stats = pool->Stats();
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.idle, 2u);
  EXPECT_EQ(stats.checkouts, 3u);
}

TEST_F(PostgresPoolTest, WaiterGetsTheReturnedConnection) {
  auto pool = MakePool(1, 0);
  std::optional<Lease> held = CheckoutOk(*pool);
  const int pid = (*held)->BackendPid();
  Status waiter_status;
  int waiter_pid = 0;
  std::thread waiter([&] {
    auto lease = pool->Checkout();
    waiter_status = lease.status();
    if (lease.ok())
      waiter_pid = (*lease)->BackendPid();
  });
  // Hand the connection back only once the waiter is really blocked.
  while (pool->Stats().waiting == 0)
    std::this_thread::yield();
  held.reset();
  waiter.join();
  EXPECT_TRUE(waiter_status.ok()) << waiter_status.ToString();
  EXPECT_EQ(waiter_pid, pid);
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.waits, 1u);
  EXPECT_EQ(stats.timeouts, 0u);
  EXPECT_EQ(stats.idle, 1u);
}

TEST_F(PostgresPoolTest, PrePingReplacesAKilledConnection) {
  auto pool = MakePool(1, 0);
  int old_pid = 0;
  {
    Lease lease = CheckoutOk(*pool);
    old_pid = lease->BackendPid();
  }
  KillBackend(old_pid);
  Lease lease = CheckoutOk(*pool);
  EXPECT_NE(lease->BackendPid(), old_pid);
  EXPECT_TRUE(lease->Exec("SELECT 1", "probe").ok());
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.reconnects, 1u);
  EXPECT_EQ(stats.discarded, 1u);
  EXPECT_EQ(stats.connect_errors, 0u);
  EXPECT_EQ(stats.in_use, 1u);
  EXPECT_EQ(stats.overflow, 0u);
}

TEST_F(PostgresPoolTest, WithoutPrePingADeadConnectionFailsCleanlyAndIsDiscarded) {
  auto pool = MakePool(1, 0, 30000, /*pre_ping=*/false);
  int old_pid = 0;
  {
    Lease lease = CheckoutOk(*pool);
    old_pid = lease->BackendPid();
  }
  KillBackend(old_pid);
  {
    Lease lease = CheckoutOk(*pool);
    Status status = lease->Exec("SELECT 1", "probe");
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    EXPECT_NE(status.message().find(params_.Redacted()), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find("SELECT"), std::string::npos) << status.message();
  }
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.discarded, 1u);
  EXPECT_EQ(stats.idle, 0u);
  EXPECT_EQ(stats.reconnects, 0u);
  Lease fresh = CheckoutOk(*pool);
  EXPECT_NE(fresh->BackendPid(), old_pid);
  EXPECT_TRUE(fresh->Exec("SELECT 1", "probe").ok());
  // The new connection replaces the discarded one.
  EXPECT_EQ(pool->Stats().reconnects, 1u);
}

// A database restart as the pool sees it: the pooled connection dies, the
// database refuses connections for a while, then accepts them again. Every
// failed attempt is a connect error; the connection finally opened is the
// reconnect, though it is not made by the checkout that found the old one dead.
TEST_F(PostgresPoolTest, ReconnectAfterTheDatabaseWasDownIsCounted) {
  std::atomic<bool> down{false};
  PoolOptions options;
  options.pool_size = 1;
  options.max_overflow = 0;
  const ConnectParams params = params_;
  ConnectionPool pool(
      [params, &down]() -> Result<std::unique_ptr<Connection>> {
        if (down)
          return Status::Unavailable("cannot connect to the database: down for the test");
        return Connection::Open(params);
      },
      options, StoreName(params));
  int old_pid = 0;
  {
    Lease lease = CheckoutOk(pool);
    old_pid = lease->BackendPid();
  }
  KillBackend(old_pid);
  down = true;
  for (int i = 0; i < 2; ++i) {
    auto lease = pool.Checkout();
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.status().code(), StatusCode::kUnavailable);
  }
  PoolStats stats = pool.Stats();
  EXPECT_EQ(stats.discarded, 1u);
  EXPECT_EQ(stats.connect_errors, 2u);
  EXPECT_EQ(stats.reconnects, 0u);
  EXPECT_EQ(stats.idle, 0u);
  EXPECT_EQ(stats.in_use, 0u);

  down = false;
  {
    Lease lease = CheckoutOk(pool);
    EXPECT_NE(lease->BackendPid(), old_pid);
    EXPECT_TRUE(lease->Exec("SELECT 1", "probe").ok());
  }
  stats = pool.Stats();
  EXPECT_EQ(stats.reconnects, 1u);
  EXPECT_EQ(stats.connect_errors, 2u);
  // Reusing the healthy replacement is no reconnect.
  Lease again = CheckoutOk(pool);
  EXPECT_EQ(pool.Stats().reconnects, 1u);
}

TEST_F(PostgresPoolTest, ConnectFailureIsUnavailableAndFreesTheSlot) {
  ConnectParams bad = params_;
  bad.port = 1;  // nothing listens there
  PoolOptions options;
  options.pool_size = 1;
  options.max_overflow = 0;
  ConnectionPool pool([bad] { return Connection::Open(bad); }, options, StoreName(bad));
  for (int i = 0; i < 2; ++i) {
    auto lease = pool.Checkout();
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(lease.status().message().find("cannot connect to the database"), std::string::npos)
        << lease.status().message();
  }
  PoolStats stats = pool.Stats();
  EXPECT_EQ(stats.connect_errors, 2u);
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.timeouts, 0u);  // the failed slot was given back, nobody waited
}

TEST_F(PostgresPoolTest, ConnectionReturnedInsideATransactionIsRolledBack) {
  auto pool = MakePool(1, 0);
  {
    Lease lease = CheckoutOk(*pool);
    ASSERT_TRUE(lease->Exec("BEGIN", "begin").ok());
    ASSERT_TRUE(lease->Exec("CREATE TEMP TABLE t (x int)", "create").ok());
  }
  Lease lease = CheckoutOk(*pool);
  EXPECT_FALSE(lease->InTransaction());
  // The temp table went away with the rollback.
  EXPECT_FALSE(lease->Exec("SELECT * FROM t", "probe").ok());
}

}  // namespace
}  // namespace ksdb::storage::postgres
