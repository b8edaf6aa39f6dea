// The engine answers selective where filters from its metadata index: the
// records a filtered get/query/delete sees must be exactly those a full scan
// would see, in storage order, through adds, metadata updates, deletes and a
// reopen. Each expectation is computed here from the test's own copy of the
// metadata, independently of the engine.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "db/engine.h"
#include "filter/where.h"
#include "test_util.h"

namespace ksdb::db {
namespace {

using testing::Batch;
using testing::CreateCollection;
using testing::TempDir;

constexpr size_t kRecords = 2000;

std::string Id(size_t i) { return "r" + std::to_string(i); }

// Record i: cat = i % 40 (an int, or the same number as a float for odd i),
// color = one of 7 strings, tags = [i % 11, i % 13] (ints), flag = i % 3 == 0.
MetadataPatch MetadataFor(size_t i, size_t generation) {
  const int64_t cat = static_cast<int64_t>((i + generation) % 40);
  MetadataPatch m;
  if (i % 2 == 1) {
    m.emplace_back("cat", MetadataValue(static_cast<double>(cat)));
  } else {
    m.emplace_back("cat", MetadataValue(cat));
  }
  m.emplace_back("color", MetadataValue(std::string("c") + std::to_string((i * 7 + generation) % 7)));
  m.emplace_back("tags", MetadataValue(std::vector<int64_t>{static_cast<int64_t>(i % 11),
                                                            static_cast<int64_t>(i % 13)}));
  m.emplace_back("flag", MetadataValue(i % 3 == 0));
  return m;
}

struct Case {
  const char* where;
  std::function<bool(size_t i, size_t generation)> matches;
};

int64_t Cat(size_t i, size_t g) { return static_cast<int64_t>((i + g) % 40); }
std::string Color(size_t i, size_t g) { return "c" + std::to_string((i * 7 + g) % 7); }

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {R"({"cat": 5})", [](size_t i, size_t g) { return Cat(i, g) == 5; }},
      {R"({"cat": {"$eq": 7.0}})", [](size_t i, size_t g) { return Cat(i, g) == 7; }},
      {R"({"cat": {"$in": [1, 2, 39]}})",
       [](size_t i, size_t g) { return Cat(i, g) == 1 || Cat(i, g) == 2 || Cat(i, g) == 39; }},
      {R"({"$and": [{"cat": 3}, {"color": "c2"}]})",
       [](size_t i, size_t g) { return Cat(i, g) == 3 && Color(i, g) == "c2"; }},
      {R"({"$or": [{"cat": 3}, {"cat": {"$gte": 38}}]})",
       [](size_t i, size_t g) { return Cat(i, g) == 3 || Cat(i, g) >= 38; }},
      {R"({"$and": [{"cat": 4}, {"color": {"$ne": "c1"}}]})",
       [](size_t i, size_t g) { return Cat(i, g) == 4 && Color(i, g) != "c1"; }},
      {R"({"tags": {"$contains": 10}})", [](size_t i, size_t) { return i % 11 == 10 || i % 13 == 10; }},
      {R"({"$and": [{"flag": true}, {"cat": 9}]})",
       [](size_t i, size_t g) { return i % 3 == 0 && Cat(i, g) == 9; }},
      {R"({"cat": "5"})", [](size_t, size_t) { return false; }},
      {R"({"flag": 1})", [](size_t, size_t) { return false; }},
  };
  return cases;
}

class EngineFilterIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = testing::OpenEngine(dir_.path());
    id_ = CreateCollection(engine_.get(), "col");
    WriteBatch batch = Batch({}, {});
    std::vector<std::vector<float>> rows;
    std::vector<std::string> ids;
    for (size_t i = 0; i < kRecords; ++i) {
      ids.push_back(Id(i));
      rows.push_back({static_cast<float>(i), 1.0f});
    }
    batch = Batch(ids, rows);
    batch.metadatas.emplace();
    for (size_t i = 0; i < kRecords; ++i) batch.metadatas->push_back(MetadataFor(i, 0));
    ASSERT_TRUE(engine_->Add(id_, batch).ok());
    generation_.assign(kRecords, 0);
    live_.assign(kRecords, true);
  }

  // Every case through get (storage order) and query (as an allowed set).
  void ExpectAllCasesMatch() {
    for (const Case& c : Cases()) {
      auto where = filter::WhereFilter::ParseJson(c.where);
      ASSERT_TRUE(where.ok()) << c.where;
      std::vector<std::string> want;
      for (size_t i = 0; i < kRecords; ++i) {
        if (live_[i] && c.matches(i, generation_[i])) want.push_back(Id(i));
      }
      GetRequest get;
      get.where = *where;
      auto got = engine_->Get(id_, get);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(got->ids, want) << c.where;

      QueryRequest query;
      query.num_queries = 1;
      query.dim = 2;
      query.embeddings = {0.0f, 1.0f};
      query.n_results = 5;
      query.where = *where;
      auto hits = engine_->Query(id_, query);
      ASSERT_TRUE(hits.ok()) << hits.status().ToString();
      // Nearest to (0, 1) are the smallest i: the first five of `want`.
      const size_t n = std::min<size_t>(5, want.size());
      EXPECT_EQ(hits->at(0).records.ids, std::vector<std::string>(want.begin(), want.begin() + n))
          << c.where;
    }
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::string id_;
  std::vector<size_t> generation_;
  std::vector<bool> live_;
};

TEST_F(EngineFilterIndexTest, FiltersMatchAFullScan) { ExpectAllCasesMatch(); }

TEST_F(EngineFilterIndexTest, MetadataUpdatesDeletesAndReopenKeepTheIndexTrue) {
  // Update the metadata of every third record (new generation), delete every
  // seventh, re-add a few deleted ones with fresh metadata.
  WriteBatch update = Batch({}, {});
  update.embeddings.reset();
  update.metadatas.emplace();
  for (size_t i = 0; i < kRecords; i += 3) {
    update.ids.push_back(Id(i));
    update.metadatas->push_back(MetadataFor(i, 5));
    generation_[i] = 5;
  }
  ASSERT_TRUE(engine_->Update(id_, update).ok());
  DeleteRequest del;
  del.ids.emplace();
  for (size_t i = 0; i < kRecords; i += 7) {
    del.ids->push_back(Id(i));
    live_[i] = false;
  }
  ASSERT_TRUE(engine_->Delete(id_, del).ok());
  ExpectAllCasesMatch();

  // A delete by filter removes exactly the matching records.
  auto by_filter = filter::WhereFilter::ParseJson(R"({"cat": 11})");
  ASSERT_TRUE(by_filter.ok());
  DeleteRequest del_where;
  del_where.where = *by_filter;
  ASSERT_TRUE(engine_->Delete(id_, del_where).ok());
  for (size_t i = 0; i < kRecords; ++i) {
    if (Cat(i, generation_[i]) == 11) live_[i] = false;
  }
  ExpectAllCasesMatch();

  engine_.reset();
  engine_ = testing::OpenEngine(dir_.path());
  ExpectAllCasesMatch();
}

}  // namespace
}  // namespace ksdb::db
