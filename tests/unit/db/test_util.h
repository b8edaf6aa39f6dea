// Helpers shared by the engine tests: a temporary data directory and batch builders.
#ifndef KSDB_TESTS_UNIT_DB_TEST_UTIL_H_
#define KSDB_TESTS_UNIT_DB_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "db/engine.h"

namespace ksdb::db::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ksdb_db_test_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<Engine> OpenEngine(const std::string& path, bool allow_reset = false) {
  EngineOptions options;
  options.path = path;
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
