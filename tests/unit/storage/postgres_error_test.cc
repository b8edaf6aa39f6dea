// The PostgreSQL store's error messages: the server's reason, never the SQL
// or row data that libpq's DETAIL/CONTEXT/QUERY fields quote. An API error
// carries these messages to clients. Needs $KSDB_TEST_PG_URL.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "storage/postgres/pg_connection.h"
#include "store_backend.h"

namespace ksdb::storage::postgres {
namespace {

class PostgresErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::PgTestUrl().empty())
      GTEST_SKIP() << testing::kPgSkipMessage;
    backend_ = std::make_unique<testing::PostgresBackend>();
    auto conn = Connection::Open(backend_->params());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
  }

  // Names the store and the operation, quotes no statement text.
  void ExpectNoSql(const Status& status, const std::string& what) {
    EXPECT_NE(status.message().find(backend_->StoreName()), std::string::npos) << status.message();
    EXPECT_NE(status.message().find(what), std::string::npos) << status.message();
    for (const char* sql : {"SELECT", "PERFORM", "pg_sleep", "CONTEXT", "PL/pgSQL"})
      EXPECT_EQ(status.message().find(sql), std::string::npos) << status.message();
  }

  std::unique_ptr<testing::PostgresBackend> backend_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(PostgresErrorTest, ErrorInsideANestedStatementGivesOnlyTheReason) {
  // The division runs as a nested statement, so the server adds a CONTEXT
  // field quoting it.
  Status status = conn_->Exec("DO $$ BEGIN PERFORM 1 / 0; END $$", "nested division");
  ASSERT_FALSE(status.ok());
  ExpectNoSql(status, "nested division");
  EXPECT_NE(status.message().find("division by zero"), std::string::npos) << status.message();
  EXPECT_FALSE(conn_->IsBroken());
}

TEST_F(PostgresErrorTest, ConnectionEndedInsideANestedStatementGivesOnlyTheReason) {
  // The backend terminates itself; the FATAL arrives during the nested
  // pg_sleep, with a CONTEXT field quoting it, and the connection closes.
  Status status = conn_->Exec(
      "DO $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(30); END $$",
      "terminated statement");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_TRUE(conn_->IsBroken());
  ExpectNoSql(status, "terminated statement");
  EXPECT_NE(status.message().find("lost the connection"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("terminating connection"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace ksdb::storage::postgres
