// Helpers shared by the engine tests: a temporary data directory and batch builders.
//
// The store under test: SQLite (PATH/ksdb.sqlite3) by default; PostgreSQL when
// $KSDB_TEST_ENGINE_STORE is "postgresql" (ctest runs each engine test binary
// both ways). Then every TempDir gets a database of its own on the server
// named by $KSDB_TEST_PG_URL, dropped at the end; without that variable the
// whole PostgreSQL run is skipped with a message (scripts/test_pg_api.sh
// starts a cluster and sets it).
#ifndef KSDB_TESTS_UNIT_DB_TEST_UTIL_H_
#define KSDB_TESTS_UNIT_DB_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "db/engine.h"

namespace ksdb::db::testing {

inline bool UsePostgres() {
  const char* store = getenv("KSDB_TEST_ENGINE_STORE");
  return store != nullptr && std::string(store) == "postgresql";
}

inline std::string PgTestUrl() {
  const char* url = getenv("KSDB_TEST_PG_URL");
  return url != nullptr ? url : "";
}

// Skips every test of a PostgreSQL run that has no server to run on.
class PgStoreEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    if (UsePostgres() && PgTestUrl().empty()) {
      GTEST_SKIP() << "KSDB_TEST_ENGINE_STORE=postgresql but KSDB_TEST_PG_URL is not set: "
                      "PostgreSQL engine tests skipped (scripts/test_pg_api.sh sets it)";
    }
  }
};
// gtest takes ownership of the environment.
inline ::testing::Environment* const kPgStoreEnvironment =
    ::testing::AddGlobalTestEnvironment(std::make_unique<PgStoreEnvironment>().release());

// Runs `sql` on the test server's admin database; EXPECTs success.
inline void PgAdminExec(const std::string& sql) {
  PGconn* conn = PQconnectdb(PgTestUrl().c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexec(conn, sql.c_str());
  EXPECT_EQ(PQresultStatus(result), PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
}

// Data directory -> store location of the TempDirs alive now.
inline std::map<std::string, std::string>& StoreByPath() {
  static std::map<std::string, std::string> stores;
  return stores;
}
inline std::mutex& StoreByPathMutex() {
  static std::mutex mu;
  return mu;
}

// The EngineOptions::store for data directory `path` ("" = SQLite in PATH).
inline std::string TestStoreFor(const std::string& path) {
  std::lock_guard<std::mutex> lock(StoreByPathMutex());
  auto it = StoreByPath().find(path);
  return it == StoreByPath().end() ? "" : it->second;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ksdb_db_test_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
    if (UsePostgres() && !PgTestUrl().empty()) CreateDatabase();
  }
  ~TempDir() {
    std::filesystem::remove_all(path_);
    if (database_.empty()) return;
    {
      std::lock_guard<std::mutex> lock(StoreByPathMutex());
      StoreByPath().erase(path_);
    }
    PgAdminExec("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
  }
  const std::string& path() const { return path_; }

 private:
  void CreateDatabase() {
    static std::atomic<int> counter{0};
    database_ = "ksdb_e_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    PgAdminExec("CREATE DATABASE " + database_);
    const std::string url = PgTestUrl();
    std::string store = url.substr(0, url.rfind('/') + 1) + database_;
    std::lock_guard<std::mutex> lock(StoreByPathMutex());
    StoreByPath()[path_] = std::move(store);
  }

  std::string path_;
  std::string database_;  // PostgreSQL runs only
};

inline std::unique_ptr<Engine> OpenEngine(const std::string& path, bool allow_reset = false) {
  EngineOptions options;
  options.path = path;
  options.store = TestStoreFor(path);
  options.allow_reset = allow_reset;
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(engine).value() : nullptr;
}

// A batch of `ids` with the given embedding rows (all the same length).
inline WriteBatch Batch(std::vector<std::string> ids, std::vector<std::vector<float>> rows) {
  WriteBatch b;
  b.ids = std::move(ids);
  EmbeddingColumn col;
  col.dim = rows.empty() ? 0 : rows[0].size();
  for (const auto& r : rows) {
    col.values.insert(col.values.end(), r.begin(), r.end());
    col.present.push_back(1);
  }
  b.embeddings = std::move(col);
  return b;
}

inline std::string CreateCollection(Engine* engine, const std::string& name,
                                    DistanceSpace space = DistanceSpace::kL2) {
  CreateCollectionRequest req;
  req.name = name;
  HnswConfig hnsw;
  hnsw.space = space;
  req.hnsw = hnsw;
  auto info = engine->CreateCollection(kDefaultTenant, kDefaultDatabase, req);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return info.ok() ? info->id : "";
}

inline std::vector<std::string> AllIds(Engine* engine, const std::string& collection_id) {
  auto r = engine->Get(collection_id, GetRequest{});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->ids : std::vector<std::string>{};
}

}  // namespace ksdb::db::testing

#endif  // KSDB_TESTS_UNIT_DB_TEST_UTIL_H_
