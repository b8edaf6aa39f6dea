// Helpers shared by the record-store tests: a temporary directory, a raw
// SQLite handle for poking at the file behind the store's back, and row
// builders.
#ifndef KSDB_TESTS_UNIT_STORAGE_STORAGE_TEST_UTIL_H_
#define KSDB_TESTS_UNIT_STORAGE_STORAGE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "storage/record_store.h"

namespace ksdb::storage::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string templ = std::string(base != nullptr ? base : "/tmp") + "/ksdb_storage_XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    const char* made = mkdtemp(buf.data());
    EXPECT_NE(made, nullptr);
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty())
      std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs `sql` on the database file directly (not through the store).
inline void RawExec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// First column of the first row of `sql` as text ("" when there is no row).
inline std::string RawQuery(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    if (text != nullptr)
      out = text;
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

inline std::unique_ptr<RecordStore> OpenOrDie(const std::string& path) {
  auto store = OpenSqliteStore(path, SqliteOptions{});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok())
    return nullptr;
  return std::move(store).value();
}

inline CollectionRow MakeCollection(const std::string& id, const std::string& name) {
  CollectionRow row;
  row.id = id;
  row.name = name;
  row.tenant = "default_tenant";
  row.database = "default_database";
  return row;
}

inline RecordRow MakeRecord(const std::string& id, uint64_t position,
                            std::vector<float> embedding = {1.0f, 2.0f, 3.0f}) {
  RecordRow row;
  row.record_id = id;
  row.position = position;
  row.seq = position;
  row.embedding = std::move(embedding);
  row.created_at_us = 1700000000000000 + static_cast<int64_t>(position);
  row.updated_at_us = row.created_at_us;
  return row;
}

// Commits `rows` to collection `collection_id`, creating the collection row.
inline void PutCollectionWithRecords(RecordStore& store, const std::string& collection_id,
                                     const std::vector<RecordRow>& rows) {
  auto txn = store.BeginWrite();
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  ASSERT_TRUE((*txn)->PutCollection(MakeCollection(collection_id, "c-" + collection_id)).ok());
  Status put = (*txn)->PutRecords(collection_id, rows);
  ASSERT_TRUE(put.ok()) << put.ToString();
  Status commit = (*txn)->Commit();
  ASSERT_TRUE(commit.ok()) << commit.ToString();
}

// Every record of `collection_id`, in scan order.
inline std::vector<RecordRow> ScanAll(RecordStore& store, const std::string& collection_id) {
  std::vector<RecordRow> rows;
  Status status = store.ScanRecords(collection_id, [&](RecordRow&& row) {
    rows.push_back(std::move(row));
    return Status::Ok();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return rows;
}

}  // namespace ksdb::storage::testing

#endif  // KSDB_TESTS_UNIT_STORAGE_STORAGE_TEST_UTIL_H_
