// Round trips and write semantics of the record stores, run against SQLite and
// PostgreSQL (store_backend.h).
#include "storage/record_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "storage_test_util.h"
#include "store_backend.h"

namespace ksdb::storage {
namespace {

using testing::MakeBackend;
using testing::MakeCollection;
using testing::MakeRecord;
using testing::PutCollectionWithRecords;
using testing::ScanAll;
using testing::SqliteBackend;
using testing::StoreBackend;
using testing::StoreKind;

// Metadata with every value kind, including edge values.
Metadata EveryKindMetadata() {
  Metadata m;
  m.Set("bool_true", true);
  m.Set("bool_false", false);
  m.Set("int_min", std::numeric_limits<int64_t>::min());
  m.Set("int_max", std::numeric_limits<int64_t>::max());
  m.Set("int_zero", int64_t{0});
  m.Set("double", 3.141592653589793);
  m.Set("double_neg_zero", -0.0);
  m.Set("double_denormal", std::numeric_limits<double>::denorm_min());
  m.Set("double_max", std::numeric_limits<double>::max());
  m.Set("string", std::string("plain"));
  m.Set("string_empty", std::string());
  m.Set("unicode \xF0\x9F\x98\x80 key",
        std::string("h\xC3\xA9llo w\xC3\xB6rld \xE4\xB8\xAD\xE6\x96\x87"));
  m.Set("string_long", std::string(100000, 'x'));
  m.Set("bools", std::vector<bool>{true, false, true});
  m.Set("ints", std::vector<int64_t>{1, -2, std::numeric_limits<int64_t>::max()});
  m.Set("doubles", std::vector<double>{0.5, -1e300, 2.25});
  m.Set("strings", std::vector<std::string>{"a", "", "\xE2\x82\xAC"});
  return m;
}

bool BitEqual(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i]))
      return false;
  }
  return true;
}

void ExpectRecordEq(const RecordRow& actual, const RecordRow& expected) {
  EXPECT_EQ(actual.record_id, expected.record_id);
  EXPECT_EQ(actual.position, expected.position);
  EXPECT_EQ(actual.seq, expected.seq);
  EXPECT_TRUE(BitEqual(actual.embedding, expected.embedding)) << expected.record_id;
  EXPECT_EQ(actual.document, expected.document);
  EXPECT_EQ(actual.uri, expected.uri);
  EXPECT_EQ(actual.metadata, expected.metadata);
  EXPECT_EQ(actual.created_at_us, expected.created_at_us);
  EXPECT_EQ(actual.updated_at_us, expected.updated_at_us);
}

class RecordStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    backend_ = MakeBackend(GetParam());
    if (backend_ == nullptr)
      GTEST_SKIP() << testing::kPgSkipMessage;
    store_ = backend_->Open();
    ASSERT_NE(store_, nullptr);
  }

  void Reopen() {
    store_.reset();
    store_ = backend_->Open();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<WriteTransaction> Begin() {
    auto txn = store_->BeginWrite();
    EXPECT_TRUE(txn.ok()) << txn.status().ToString();
    return txn.ok() ? std::move(txn).value() : nullptr;
  }

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<RecordStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Stores, RecordStoreTest,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres),
                         testing::StoreKindName);

TEST_P(RecordStoreTest, NewStoreIsEmpty) {
  EXPECT_TRUE(store_->LoadTenants()->empty());
  EXPECT_TRUE(store_->LoadDatabases()->empty());
  EXPECT_TRUE(store_->LoadCollections()->empty());
  EXPECT_EQ(*store_->LastSequence(), 0u);
  EXPECT_TRUE(ScanAll(*store_, "nope").empty());
}

TEST_P(RecordStoreTest, TenantsRoundTripAndUpsert) {
  auto txn = Begin();
  ASSERT_TRUE(txn->PutTenant({"default_tenant", std::nullopt}).ok());
  ASSERT_TRUE(txn->PutTenant({"t\xC3\xA9nant", std::string("crn:xyz")}).ok());
  ASSERT_TRUE(txn->PutTenant({"empty", std::string()}).ok());
  ASSERT_TRUE(txn->Commit().ok());

  auto tenants = store_->LoadTenants();
  ASSERT_TRUE(tenants.ok());
  ASSERT_EQ(tenants->size(), 3u);
  EXPECT_EQ((*tenants)[0].name, "default_tenant");
  EXPECT_EQ((*tenants)[0].resource_name, std::nullopt);
  EXPECT_EQ((*tenants)[1].name, "t\xC3\xA9nant");
  EXPECT_EQ((*tenants)[1].resource_name, "crn:xyz");
  EXPECT_EQ((*tenants)[2].resource_name, std::string());  // empty, not null

  txn = Begin();
  ASSERT_TRUE(txn->PutTenant({"default_tenant", std::string("r2")}).ok());
  ASSERT_TRUE(txn->Commit().ok());
  tenants = store_->LoadTenants();
  ASSERT_EQ(tenants->size(), 3u);
  EXPECT_EQ((*tenants)[0].name, "default_tenant");  // keeps its place
  EXPECT_EQ((*tenants)[0].resource_name, "r2");
}

TEST_P(RecordStoreTest, DatabasesRoundTripUpsertAndDelete) {
  auto txn = Begin();
  ASSERT_TRUE(txn->PutDatabase({"id-1", "default_database", "default_tenant"}).ok());
  ASSERT_TRUE(txn->PutDatabase({"id-2", "other", "default_tenant"}).ok());
  ASSERT_TRUE(txn->PutDatabase({"id-3", "other", "tenant2"}).ok());
  ASSERT_TRUE(txn->Commit().ok());
  auto dbs = store_->LoadDatabases();
  ASSERT_TRUE(dbs.ok());
  ASSERT_EQ(dbs->size(), 3u);
  EXPECT_EQ((*dbs)[1].id, "id-2");
  EXPECT_EQ((*dbs)[1].name, "other");
  EXPECT_EQ((*dbs)[1].tenant, "default_tenant");

  txn = Begin();
  ASSERT_TRUE(txn->PutDatabase({"id-9", "other", "default_tenant"}).ok());  // replace by key
  ASSERT_TRUE(txn->DeleteDatabase("tenant2", "other").ok());
  ASSERT_TRUE(txn->DeleteDatabase("tenant2", "missing").ok());
  ASSERT_TRUE(txn->Commit().ok());
  dbs = store_->LoadDatabases();
  ASSERT_EQ(dbs->size(), 2u);
  EXPECT_EQ((*dbs)[0].id, "id-1");
  EXPECT_EQ((*dbs)[1].id, "id-9");
}

TEST_P(RecordStoreTest, CollectionsRoundTripEveryField) {
  CollectionRow full = MakeCollection("c1", "full");
  full.metadata = EveryKindMetadata();
  full.config.hnsw.space = DistanceSpace::kCosine;
  full.config.hnsw.ef_construction = 200;
  full.config.hnsw.ef_search = 50;
  full.config.hnsw.max_neighbors = 32;
  full.config.hnsw.resize_factor = 1.5;
  full.config.embedding_function_json = R"({"name":"default","type":"known"})";
  full.dimension = 384;
  CollectionRow bare = MakeCollection("c2", "bare \xF0\x9F\x90\x8D");

  auto txn = Begin();
  ASSERT_TRUE(txn->PutCollection(full).ok());
  ASSERT_TRUE(txn->PutCollection(bare).ok());
  ASSERT_TRUE(txn->Commit().ok());

  for (int pass = 0; pass < 2; ++pass) {
    auto cols = store_->LoadCollections();
    ASSERT_TRUE(cols.ok()) << cols.status().ToString();
    ASSERT_EQ(cols->size(), 2u);
    const CollectionRow& a = (*cols)[0];
    EXPECT_EQ(a.id, "c1");
    EXPECT_EQ(a.name, "full");
    EXPECT_EQ(a.tenant, "default_tenant");
    EXPECT_EQ(a.database, "default_database");
    EXPECT_EQ(a.metadata, full.metadata);
    EXPECT_EQ(a.config, full.config);
    EXPECT_EQ(a.dimension, 384u);
    const CollectionRow& b = (*cols)[1];
    EXPECT_EQ(b.name, bare.name);
    EXPECT_TRUE(b.metadata.empty());
    EXPECT_EQ(b.config, CollectionConfig{});
    EXPECT_EQ(b.dimension, std::nullopt);
    Reopen();
  }
  // Empty metadata is stored as NULL.
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM collections WHERE metadata IS NULL"), "1");
}

TEST_P(RecordStoreTest, PutCollectionUpdatesInPlaceAndKeepsRecords) {
  PutCollectionWithRecords(*store_, "c1", {MakeRecord("r1", 1)});
  CollectionRow renamed = MakeCollection("c1", "renamed");
  renamed.dimension = 3;
  renamed.metadata.Set("k", int64_t{7});
  auto txn = Begin();
  ASSERT_TRUE(txn->PutCollection(renamed).ok());
  ASSERT_TRUE(txn->Commit().ok());

  auto cols = store_->LoadCollections();
  ASSERT_EQ(cols->size(), 1u);
  EXPECT_EQ((*cols)[0].name, "renamed");
  EXPECT_EQ((*cols)[0].dimension, 3u);
  EXPECT_EQ((*cols)[0].metadata, renamed.metadata);
  // An upsert, not delete + insert: the records must survive.
  EXPECT_EQ(ScanAll(*store_, "c1").size(), 1u);
}

TEST_P(RecordStoreTest, RecordsRoundTripEveryKind) {
  std::vector<RecordRow> rows;
  RecordRow full = MakeRecord("full", 1);
  full.metadata = EveryKindMetadata();
  full.document = "doc \xE2\x9C\x93 with unicode and \"quotes\" and a\nnewline";
  full.uri = "s3://bucket/key?x=1";
  full.seq = 42;
  full.created_at_us = -5;  // before the epoch still round-trips
  full.updated_at_us = std::numeric_limits<int64_t>::max();
  rows.push_back(full);

  RecordRow bare = MakeRecord("bare", 2);  // no document, uri or metadata
  rows.push_back(bare);

  RecordRow empties = MakeRecord("empties", 3, {});
  empties.document = std::string();
  empties.uri = std::string();
  rows.push_back(empties);

  RecordRow floats = MakeRecord(
      "\xE6\x97\xA5\xE6\x9C\xAC id", 4,
      {-0.0f, std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(),
       std::numeric_limits<float>::lowest(), std::numeric_limits<float>::min(), 1.0f / 3.0f,
       std::numeric_limits<float>::infinity()});
  rows.push_back(floats);

  RecordRow long_doc = MakeRecord(std::string(500, 'i'), 5, std::vector<float>(1536, 0.25f));
  long_doc.document = std::string(1 << 20, 'd');
  long_doc.metadata.Set("s", std::string(70000, 'm'));
  rows.push_back(long_doc);

  PutCollectionWithRecords(*store_, "c1", rows);
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<RecordRow> got = ScanAll(*store_, "c1");
    ASSERT_EQ(got.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i)
      ExpectRecordEq(got[i], rows[i]);
    Reopen();
  }
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM records WHERE metadata IS NULL"), "3");
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM records WHERE document IS NULL"), "2");
  // Embeddings are little-endian float32: 1.0f, 2.0f, 3.0f.
  EXPECT_EQ(backend_->RawQuery("SELECT " + backend_->HexOf("embedding") +
                               " FROM records WHERE record_id = 'bare'"),
            "0000803F0000004000004040");
}

TEST_P(RecordStoreTest, ScanIsOrderedByPositionAndPerCollection) {
  std::vector<uint64_t> positions(200);
  std::iota(positions.begin(), positions.end(), 1000);
  std::mt19937 rng(7);
  std::shuffle(positions.begin(), positions.end(), rng);
  std::vector<RecordRow> rows;
  for (uint64_t p : positions)
    rows.push_back(MakeRecord("id" + std::to_string(p), p));
  PutCollectionWithRecords(*store_, "c1", rows);
  PutCollectionWithRecords(*store_, "c2", {MakeRecord("other", 1)});

  std::vector<RecordRow> got = ScanAll(*store_, "c1");
  ASSERT_EQ(got.size(), 200u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].position, 1000 + i);
    EXPECT_EQ(got[i].record_id, "id" + std::to_string(1000 + i));
  }
  ASSERT_EQ(ScanAll(*store_, "c2").size(), 1u);
  if (GetParam() != StoreKind::kSqlite)
    return;
  // SQLite: the scan is served by the position index, not by a sort.
  const std::string& path = static_cast<SqliteBackend&>(*backend_).path();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "EXPLAIN QUERY PLAN SELECT record_id FROM records WHERE "
                               "collection_id = 'c1' ORDER BY position",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  std::string details;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    details += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    details += ";";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_NE(details.find("records_by_position"), std::string::npos) << details;
  EXPECT_EQ(details.find("TEMP B-TREE"), std::string::npos) << details;
}

TEST_P(RecordStoreTest, ScanStopsAtFirstErrorFromCallback) {
  PutCollectionWithRecords(*store_, "c1",
                           {MakeRecord("a", 1), MakeRecord("b", 2), MakeRecord("c", 3)});
  int calls = 0;
  Status status = store_->ScanRecords("c1", [&](RecordRow&&) {
    ++calls;
    return calls == 2 ? Status::Internal("stop here") : Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(status.message(), "stop here");
  EXPECT_EQ(calls, 2);
}

TEST_P(RecordStoreTest, ScanCallbackMayReadTheStore) {
  PutCollectionWithRecords(*store_, "c1", {MakeRecord("a", 1), MakeRecord("b", 2)});
  Status status = store_->ScanRecords("c1", [&](RecordRow&&) {
    auto cols = store_->LoadCollections();
    if (!cols.ok())
      return cols.status();
    return ScanAll(*store_, "c1").size() == 2 ? Status::Ok() : Status::Internal("nested scan");
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST_P(RecordStoreTest, PutRecordsReplacesById) {
  PutCollectionWithRecords(*store_, "c1", {MakeRecord("a", 1), MakeRecord("b", 2)});
  RecordRow replaced = MakeRecord("a", 3, {9.0f});
  replaced.document = "new";
  replaced.metadata.Set("v", int64_t{2});
  auto txn = Begin();
  ASSERT_TRUE(txn->PutRecords("c1", std::vector<RecordRow>{replaced}).ok());
  ASSERT_TRUE(txn->Commit().ok());

  std::vector<RecordRow> got = ScanAll(*store_, "c1");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].record_id, "b");
  ExpectRecordEq(got[1], replaced);
}

TEST_P(RecordStoreTest, RepeatedIdInOneBatchKeepsTheLastRow) {
  PutCollectionWithRecords(*store_, "c1", {MakeRecord("a", 1, {1.0f})});
  RecordRow second = MakeRecord("b", 2, {2.0f});
  RecordRow last = MakeRecord("a", 3, {3.0f});
  last.document = "last";
  auto txn = Begin();
  ASSERT_TRUE(
      txn->PutRecords("c1", std::vector<RecordRow>{MakeRecord("a", 2, {9.0f}), second, last}).ok());
  ASSERT_TRUE(txn->Commit().ok());
  std::vector<RecordRow> got = ScanAll(*store_, "c1");
  ASSERT_EQ(got.size(), 2u);
  ExpectRecordEq(got[0], second);
  ExpectRecordEq(got[1], last);
}

TEST_P(RecordStoreTest, QuotesAndSqlInValuesAreData) {
  const std::string hostile = "x'); DELETE FROM records; --\\ \"$1\" %s";
  CollectionRow col = MakeCollection("c'1", hostile);
  col.tenant = hostile;
  RecordRow rec = MakeRecord(hostile, 1);
  rec.document = hostile;
  rec.uri = hostile;
  auto txn = Begin();
  ASSERT_TRUE(txn->PutTenant({hostile, hostile}).ok());
  ASSERT_TRUE(txn->PutCollection(col).ok());
  ASSERT_TRUE(txn->PutRecords("c'1", std::vector<RecordRow>{rec}).ok());
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ((*store_->LoadTenants())[0].resource_name, hostile);
  EXPECT_EQ((*store_->LoadCollections())[0].name, hostile);
  std::vector<RecordRow> got = ScanAll(*store_, "c'1");
  ASSERT_EQ(got.size(), 1u);
  ExpectRecordEq(got[0], rec);
  txn = Begin();
  std::vector<std::string> ids = {hostile};
  ASSERT_TRUE(txn->DeleteRecords("c'1", ids).ok());
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_TRUE(ScanAll(*store_, "c'1").empty());
}

// Ids the API accepts that a text column or a btree key cannot hold as they
// are: one of 1 MB, a second 1 MB id equal to it but for its last byte, one
// with a NUL, and the same without the NUL (which must stay a different id).
std::vector<std::string> UnusualIds() {
  std::string long_a(1 << 20, 'x');
  std::string long_b = long_a;
  long_a.back() = 'a';
  long_b.back() = 'b';
  return {long_a, std::string("\0nul", 4), long_b, "nul"};
}

std::vector<std::string> SortedIds(const std::vector<RecordRow>& rows) {
  std::vector<std::string> ids;
  for (const RecordRow& row : rows)
    ids.push_back(row.record_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST_P(RecordStoreTest, LongAndNulRecordIdsRoundTripByteForByte) {
  const std::vector<std::string> ids = UnusualIds();
  std::vector<RecordRow> rows;
  for (size_t i = 0; i < ids.size(); ++i)
    rows.push_back(MakeRecord(ids[i], i + 1, {static_cast<float>(i)}));
  PutCollectionWithRecords(*store_, "c1", rows);

  std::vector<RecordRow> got = ScanAll(*store_, "c1");
  ASSERT_EQ(got.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    ExpectRecordEq(got[i], rows[i]);

  if (!store_->shared())
    return;  // LoadRecords is offered by shared stores only
  auto txn = Begin();
  auto loaded = txn->LoadRecords("c1", std::vector<std::string>{ids[1], ids[2], "missing"});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  std::vector<std::string> expected = {ids[1], ids[2]};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(SortedIds(*loaded), expected);
  ASSERT_TRUE(txn->Commit().ok());
}

TEST_P(RecordStoreTest, LongAndNulRecordIdsAreReplacedAndDeletedById) {
  const std::vector<std::string> ids = UnusualIds();
  std::vector<RecordRow> rows;
  for (size_t i = 0; i < ids.size(); ++i)
    rows.push_back(MakeRecord(ids[i], i + 1));
  PutCollectionWithRecords(*store_, "c1", rows);

  RecordRow replaced = MakeRecord(ids[0], 5, {9.0f});
  replaced.document = "replaced";
  auto txn = Begin();
  ASSERT_TRUE(txn->PutRecords("c1", std::vector<RecordRow>{replaced}).ok());
  ASSERT_TRUE(txn->DeleteRecords("c1", std::vector<std::string>{ids[1], ids[2]}).ok());
  ASSERT_TRUE(txn->Commit().ok());

  Reopen();
  std::vector<RecordRow> got = ScanAll(*store_, "c1");
  ASSERT_EQ(got.size(), 2u);
  ExpectRecordEq(got[0], rows[3]);
  ExpectRecordEq(got[1], replaced);
}

TEST_P(RecordStoreTest, SameRecordIdInTwoCollectionsIsIndependent) {
  PutCollectionWithRecords(*store_, "c1", {MakeRecord("a", 1, {1.0f})});
  PutCollectionWithRecords(*store_, "c2", {MakeRecord("a", 2, {2.0f})});
  EXPECT_EQ(ScanAll(*store_, "c1")[0].embedding, std::vector<float>{1.0f});
  EXPECT_EQ(ScanAll(*store_, "c2")[0].embedding, std::vector<float>{2.0f});
}

TEST_P(RecordStoreTest, DeleteRecordsIgnoresUnknownIds) {
  PutCollectionWithRecords(*store_, "c1",
                           {MakeRecord("a", 1), MakeRecord("b", 2), MakeRecord("c", 3)});
  PutCollectionWithRecords(*store_, "c2", {MakeRecord("a", 4)});
  auto txn = Begin();
  std::vector<std::string> ids = {"a", "zzz", "c"};
  ASSERT_TRUE(txn->DeleteRecords("c1", ids).ok());
  ASSERT_TRUE(txn->Commit().ok());
  std::vector<RecordRow> got = ScanAll(*store_, "c1");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].record_id, "b");
  EXPECT_EQ(ScanAll(*store_, "c2").size(), 1u);  // same id elsewhere untouched
}

TEST_P(RecordStoreTest, DeleteCollectionRemovesItsRecords) {
  PutCollectionWithRecords(*store_, "c1", {MakeRecord("a", 1), MakeRecord("b", 2)});
  PutCollectionWithRecords(*store_, "c2", {MakeRecord("x", 3)});
  auto txn = Begin();
  ASSERT_TRUE(txn->DeleteCollection("c1").ok());
  ASSERT_TRUE(txn->DeleteCollection("never-existed").ok());
  ASSERT_TRUE(txn->Commit().ok());

  auto cols = store_->LoadCollections();
  ASSERT_EQ(cols->size(), 1u);
  EXPECT_EQ((*cols)[0].id, "c2");
  EXPECT_TRUE(ScanAll(*store_, "c1").empty());
  EXPECT_EQ(ScanAll(*store_, "c2").size(), 1u);
  EXPECT_EQ(backend_->RawQuery("SELECT count(*) FROM records WHERE collection_id = 'c1'"), "0");
  // A new collection under the same id starts empty.
  PutCollectionWithRecords(*store_, "c1", {});
  EXPECT_TRUE(ScanAll(*store_, "c1").empty());
}

TEST_P(RecordStoreTest, DeleteAllWipesEverythingButTheSequence) {
  auto txn = Begin();
  ASSERT_TRUE(txn->PutTenant({"t", std::nullopt}).ok());
  ASSERT_TRUE(txn->PutDatabase({"d1", "db", "t"}).ok());
  ASSERT_TRUE(txn->SetLastSequence(77).ok());
  ASSERT_TRUE(txn->Commit().ok());
  PutCollectionWithRecords(*store_, "c1", {MakeRecord("a", 1)});

  txn = Begin();
  ASSERT_TRUE(txn->DeleteAll().ok());
  ASSERT_TRUE(txn->Commit().ok());
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_TRUE(store_->LoadTenants()->empty());
    EXPECT_TRUE(store_->LoadDatabases()->empty());
    EXPECT_TRUE(store_->LoadCollections()->empty());
    EXPECT_TRUE(ScanAll(*store_, "c1").empty());
    // Sequence numbers never go backwards, even across a reset.
    EXPECT_EQ(*store_->LastSequence(), 77u);
    Reopen();
  }
}

TEST_P(RecordStoreTest, LastSequencePersistsAcrossReopen) {
  auto txn = Begin();
  ASSERT_TRUE(txn->SetLastSequence(5).ok());
  ASSERT_TRUE(txn->SetLastSequence(123456789012345).ok());
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ(*store_->LastSequence(), 123456789012345u);
  Reopen();
  EXPECT_EQ(*store_->LastSequence(), 123456789012345u);
}

TEST_P(RecordStoreTest, DestroyWithoutCommitRollsBack) {
  PutCollectionWithRecords(*store_, "c1", {MakeRecord("kept", 1)});
  {
    auto txn = Begin();
    ASSERT_TRUE(txn->PutTenant({"t", std::nullopt}).ok());
    ASSERT_TRUE(txn->PutCollection(MakeCollection("c2", "two")).ok());
    ASSERT_TRUE(txn->PutRecords("c1", std::vector<RecordRow>{MakeRecord("lost", 2)}).ok());
    std::vector<std::string> ids = {"kept"};
    ASSERT_TRUE(txn->DeleteRecords("c1", ids).ok());
    ASSERT_TRUE(txn->SetLastSequence(99).ok());
  }
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_TRUE(store_->LoadTenants()->empty());
    EXPECT_EQ(store_->LoadCollections()->size(), 1u);
    std::vector<RecordRow> got = ScanAll(*store_, "c1");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].record_id, "kept");
    EXPECT_EQ(*store_->LastSequence(), 0u);
    Reopen();
  }
  // The write lock was released: a new transaction can start and commit.
  auto txn = Begin();
  ASSERT_TRUE(txn->PutTenant({"t", std::nullopt}).ok());
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ(store_->LoadTenants()->size(), 1u);
}

TEST_P(RecordStoreTest, FailedOperationRollsBackWholeTransaction) {
  auto txn = Begin();
  ASSERT_TRUE(txn->PutTenant({"t", std::nullopt}).ok());
  // No such collection: the foreign key refuses the rows.
  Status put = txn->PutRecords("missing", std::vector<RecordRow>{MakeRecord("a", 1)});
  EXPECT_EQ(put.code(), StatusCode::kIoError);
  EXPECT_NE(put.message().find(backend_->StoreName()), std::string::npos) << put.message();
  EXPECT_EQ(put.message().find("INSERT"), std::string::npos) << put.message();
  // The transaction is finished; later calls fail and nothing was committed.
  EXPECT_EQ(txn->PutTenant({"u", std::nullopt}).code(), StatusCode::kInternal);
  EXPECT_EQ(txn->Commit().code(), StatusCode::kInternal);
  EXPECT_TRUE(store_->LoadTenants()->empty());
  // And the writer is free again while `txn` still exists.
  auto next = Begin();
  ASSERT_TRUE(next->PutTenant({"v", std::nullopt}).ok());
  ASSERT_TRUE(next->Commit().ok());
  EXPECT_EQ(store_->LoadTenants()->size(), 1u);
}

TEST_P(RecordStoreTest, PositionAboveInt64MaxIsRejected) {
  PutCollectionWithRecords(*store_, "c1", {});
  auto txn = Begin();
  RecordRow row = MakeRecord("a", 1);
  row.position = std::numeric_limits<uint64_t>::max();
  Status status = txn->PutRecords("c1", std::vector<RecordRow>{row});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(txn->SetLastSequence(std::numeric_limits<uint64_t>::max()).code(),
            StatusCode::kInternal);  // already rolled back
}

TEST_P(RecordStoreTest, CommitTwiceFails) {
  auto txn = Begin();
  ASSERT_TRUE(txn->Commit().ok());
  EXPECT_EQ(txn->Commit().code(), StatusCode::kInternal);
}

TEST_P(RecordStoreTest, ReopenKeepsEverything) {
  auto txn = Begin();
  ASSERT_TRUE(txn->PutTenant({"t", std::string("res")}).ok());
  ASSERT_TRUE(txn->PutDatabase({"d1", "db", "t"}).ok());
  CollectionRow col = MakeCollection("c1", "one");
  col.metadata.Set("x", std::vector<int64_t>{1, 2});
  col.dimension = 2;
  ASSERT_TRUE(txn->PutCollection(col).ok());
  RecordRow rec = MakeRecord("r", 9, {0.5f, -0.5f});
  rec.metadata.Set("tag", std::string("v"));
  ASSERT_TRUE(txn->PutRecords("c1", std::vector<RecordRow>{rec}).ok());
  ASSERT_TRUE(txn->SetLastSequence(9).ok());
  ASSERT_TRUE(txn->Commit().ok());
  txn.reset();

  Reopen();
  auto tenants = store_->LoadTenants();
  ASSERT_EQ(tenants->size(), 1u);
  EXPECT_EQ((*tenants)[0].resource_name, "res");
  ASSERT_EQ(store_->LoadDatabases()->size(), 1u);
  auto cols = store_->LoadCollections();
  ASSERT_EQ(cols->size(), 1u);
  EXPECT_EQ((*cols)[0].metadata, col.metadata);
  EXPECT_EQ((*cols)[0].dimension, 2u);
  std::vector<RecordRow> got = ScanAll(*store_, "c1");
  ASSERT_EQ(got.size(), 1u);
  ExpectRecordEq(got[0], rec);
  EXPECT_EQ(*store_->LastSequence(), 9u);
}

TEST_P(RecordStoreTest, TwentyThousandRecordBatchCommits) {
  constexpr int kRows = 20000;
  constexpr int kDim = 384;
  std::vector<RecordRow> rows;
  rows.reserve(kRows);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int i = 0; i < kRows; ++i) {
    std::vector<float> embedding(kDim);
    for (float& f : embedding)
      f = dist(rng);
    RecordRow row = MakeRecord("rec-" + std::to_string(rng()), static_cast<uint64_t>(i + 1),
                               std::move(embedding));
    row.document = "document " + std::to_string(i);
    row.metadata.Set("i", int64_t{i});
    rows.push_back(std::move(row));
  }
  PutCollectionWithRecords(*store_, "big", rows);

  size_t count = 0;
  uint64_t last_position = 0;
  Status status = store_->ScanRecords("big", [&](RecordRow&& row) {
    EXPECT_GT(row.position, last_position);
    last_position = row.position;
    if (count % 997 == 0) {
      ExpectRecordEq(row, rows[count]);
    }
    ++count;
    return Status::Ok();
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(count, static_cast<size_t>(kRows));
}

TEST_P(RecordStoreTest, CorruptRecordMetadataIsReportedWithItsRecord) {
  PutCollectionWithRecords(*store_, "c1", {MakeRecord("good", 1), MakeRecord("bad", 2)});
  store_.reset();
  backend_->RawExec("UPDATE records SET metadata = " + backend_->BlobLiteral("FFFFFFFF01") +
                    " WHERE record_id = 'bad'");
  store_ = backend_->Open();
  std::vector<std::string> seen;
  Status status = store_->ScanRecords("c1", [&](RecordRow&& row) {
    seen.push_back(row.record_id);
    return Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("'c1'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("'bad'"), std::string::npos) << status.message();
  EXPECT_EQ(seen, std::vector<std::string>{"good"});
}

TEST_P(RecordStoreTest, CorruptEmbeddingIsReported) {
  PutCollectionWithRecords(*store_, "c1", {MakeRecord("r", 1)});
  store_.reset();
  backend_->RawExec("UPDATE records SET embedding = " + backend_->BlobLiteral("000000") +
                    " WHERE record_id = 'r'");
  store_ = backend_->Open();
  Status status = store_->ScanRecords("c1", [](RecordRow&&) { return Status::Ok(); });
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("'r'"), std::string::npos) << status.message();
}

TEST_P(RecordStoreTest, CorruptCollectionConfigIsReported) {
  PutCollectionWithRecords(*store_, "c1", {});
  store_.reset();
  backend_->RawExec("UPDATE collections SET config = " + backend_->BlobLiteral("09") +
                    " WHERE id = 'c1'");
  store_ = backend_->Open();
  auto cols = store_->LoadCollections();
  ASSERT_FALSE(cols.ok());
  EXPECT_EQ(cols.status().code(), StatusCode::kCorruption);
  EXPECT_NE(cols.status().message().find("'c1'"), std::string::npos);
}

}  // namespace
}  // namespace ksdb::storage
