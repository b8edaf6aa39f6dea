// The record-store tests run against every store. A StoreBackend makes a
// fresh, empty store of one kind for one test and gives raw access to what is
// behind it:
// - SQLite: a file in a temporary directory;
// - PostgreSQL: a new database (ksdb_t_<pid>_<n>) on the server named by
//   $KSDB_TEST_PG_URL, dropped at the end of the test. Without that variable
//   the PostgreSQL variants are skipped (scripts/test_pg.sh sets it).
#ifndef KSDB_TESTS_UNIT_STORAGE_STORE_BACKEND_H_
#define KSDB_TESTS_UNIT_STORAGE_STORE_BACKEND_H_

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "storage/postgres/postgres_store.h"
#include "storage/postgres/url.h"
#include "storage/record_store.h"
#include "storage_test_util.h"

namespace ksdb::storage::testing {

enum class StoreKind { kSqlite, kPostgres };

inline std::string StoreKindName(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kSqlite ? "Sqlite" : "Postgres";
}

inline constexpr char kPgUrlVariable[] = "KSDB_TEST_PG_URL";
inline constexpr char kPgSkipMessage[] =
    "KSDB_TEST_PG_URL is not set: PostgreSQL variant skipped (scripts/test_pg.sh starts a "
    "test cluster and sets it)";

// The URL of the test server, or "" when the PostgreSQL tests are off.
inline std::string PgTestUrl() {
  const char* url = getenv(kPgUrlVariable);
  return url != nullptr ? url : "";
}

inline postgres::ConnectParams PgTestParams() {
  auto parsed = postgres::ParsePostgresUrl(PgTestUrl(), postgres::PoolOptions{});
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? parsed->connect : postgres::ConnectParams{};
}

// A libpq connection to `dbname` on the test server (search_path ksdb).
class RawPg {
 public:
  explicit RawPg(const std::string& dbname) {
    const postgres::ConnectParams params = PgTestParams();
    const std::string port = std::to_string(params.port);
    const char* keys[] = {"host", "port", "dbname", "user", "options", nullptr};
    const char* values[] = {params.host.c_str(),
                            port.c_str(),
                            dbname.c_str(),
                            params.user.c_str(),
                            "-csearch_path=ksdb -cclient_min_messages=warning",
                            nullptr};
    conn_ = PQconnectdbParams(keys, values, 0);
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
  }
  ~RawPg() { PQfinish(conn_); }
  RawPg(const RawPg&) = delete;
  RawPg& operator=(const RawPg&) = delete;

  void Exec(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(conn_);
    PQclear(result);
  }

  // First column of the first row, as text ("" when there is no row).
  std::string Query(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    EXPECT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << sql << ": " << PQerrorMessage(conn_);
    std::string out;
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) > 0)
      out = PQgetvalue(result, 0, 0);
    PQclear(result);
    return out;
  }

 private:
  PGconn* conn_;
};

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Opens the test's store (again); EXPECTs success, null on failure.
  virtual std::unique_ptr<RecordStore> Open() = 0;
  // Runs SQL on the store's tables directly (unqualified table names).
  virtual void RawExec(const std::string& sql) = 0;
  virtual std::string RawQuery(const std::string& sql) = 0;
  // How error messages name the store: the file path or the redacted URL.
  virtual std::string StoreName() const = 0;
  // SQL for the upper-case hex of a blob column, and a blob literal.
  virtual std::string HexOf(const std::string& column) const = 0;
  virtual std::string BlobLiteral(const std::string& hex) const = 0;
  virtual StoreKind kind() const = 0;
};

class SqliteBackend final : public StoreBackend {
 public:
  SqliteBackend() : path_(dir_.File("ksdb.sqlite3")) {}
  std::unique_ptr<RecordStore> Open() override { return OpenOrDie(path_); }
  void RawExec(const std::string& sql) override { testing::RawExec(path_, sql); }
  std::string RawQuery(const std::string& sql) override { return testing::RawQuery(path_, sql); }
  std::string StoreName() const override { return path_; }
  std::string HexOf(const std::string& column) const override { return "hex(" + column + ")"; }
  std::string BlobLiteral(const std::string& hex) const override { return "x'" + hex + "'"; }
  StoreKind kind() const override { return StoreKind::kSqlite; }
  const std::string& path() const { return path_; }

 private:
  TempDir dir_;
  std::string path_;
};

class PostgresBackend final : public StoreBackend {
 public:
  PostgresBackend() : params_(PgTestParams()) {
    static std::atomic<int> counter{0};
    params_.dbname = "ksdb_t_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    RawPg admin(PgTestParams().dbname);
    admin.Exec("DROP DATABASE IF EXISTS " + params_.dbname + " WITH (FORCE)");
    admin.Exec("CREATE DATABASE " + params_.dbname);
  }
  ~PostgresBackend() override {
    RawPg admin(PgTestParams().dbname);
    admin.Exec("DROP DATABASE IF EXISTS " + params_.dbname + " WITH (FORCE)");
  }

  std::unique_ptr<RecordStore> Open() override {
    auto store = OpenPostgresStore(params_, pool_options_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok())
      return nullptr;
    return std::move(store).value();
  }
  void RawExec(const std::string& sql) override { RawPg(params_.dbname).Exec(sql); }
  std::string RawQuery(const std::string& sql) override { return RawPg(params_.dbname).Query(sql); }
  std::string StoreName() const override { return params_.Redacted(); }
  std::string HexOf(const std::string& column) const override {
    return "upper(encode(" + column + ", 'hex'))";
  }
  std::string BlobLiteral(const std::string& hex) const override {
    return "'\\x" + hex + "'::bytea";
  }
  StoreKind kind() const override { return StoreKind::kPostgres; }

  const postgres::ConnectParams& params() const { return params_; }
  postgres::PoolOptions& pool_options() { return pool_options_; }

 private:
  postgres::ConnectParams params_;
  postgres::PoolOptions pool_options_;
};

// A backend of `kind`, or null for PostgreSQL when no test server is set.
inline std::unique_ptr<StoreBackend> MakeBackend(StoreKind kind) {
  if (kind == StoreKind::kSqlite)
    return std::make_unique<SqliteBackend>();
  if (PgTestUrl().empty())
    return nullptr;
  return std::make_unique<PostgresBackend>();
}

}  // namespace ksdb::storage::testing

#endif  // KSDB_TESTS_UNIT_STORAGE_STORE_BACKEND_H_
