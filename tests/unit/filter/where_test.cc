// WhereFilter: the spec §6.1 grammar, the §6.2 comparison table (with exact
// int/float comparison instead of the reference's truncation bug), Chroma 1.5
// array operators and `#document` predicates (§11).
#include "filter/where.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "filter_test_util.h"

namespace ksdb::filter {
namespace {

using testing::AllIds;
using testing::MatchingIds;
using testing::One;
using testing::TestRecord;
using Ids = std::vector<std::string>;

// The data set of spec §6.2, in storage order.
std::vector<TestRecord> SpecRecords() {
  return {
      {"i1", One("n", int64_t{1}), std::nullopt},
      {"i2", One("n", int64_t{2}), std::nullopt},
      {"f15", One("n", 1.5), std::nullopt},
      {"f2", One("n", 2.0), std::nullopt},
      {"s", One("n", std::string("2")), std::nullopt},
      {"b", One("n", true), std::nullopt},
      {"none", std::nullopt, std::nullopt},
      {"arr", One("n", int64_t{1}), std::nullopt},
      {"neg", One("n", int64_t{-3}), std::nullopt},
      {"big", One("n", int64_t{9007199254740993}), std::nullopt},
  };
}

Ids Match(std::string_view where, const std::vector<TestRecord>& records) {
  Result<WhereFilter> filter = WhereFilter::ParseJson(where);
  EXPECT_TRUE(filter.ok()) << where << " -> " << filter.status().ToString();
  if (!filter.ok())
    return {"<parse error>"};
  return MatchingIds(*filter, records);
}

struct TableCase {
  std::string where;
  Ids expected;
};

void PrintTo(const TableCase& c, std::ostream* os) {
  *os << c.where;
}

class SpecTableTest : public ::testing::TestWithParam<TableCase> {};

TEST_P(SpecTableTest, MatchesExpectedIds) {
  EXPECT_EQ(Match(GetParam().where, SpecRecords()), GetParam().expected);
}

const Ids kAllSpecIds = {"i1", "i2", "f15", "f2", "s", "b", "none", "arr", "neg", "big"};

INSTANTIATE_TEST_SUITE_P(
    Section62, SpecTableTest,
    ::testing::Values(
        TableCase{R"({"n":1})", {"i1", "arr"}}, TableCase{R"({"n":{"$eq":1}})", {"i1", "arr"}},
        TableCase{R"({"n":{"$eq":1.0}})", {"i1", "arr"}},
        TableCase{R"({"n":{"$eq":1e0}})", {"i1", "arr"}},
        TableCase{R"({"n":{"$eq":2}})", {"i2", "f2"}}, TableCase{R"({"n":{"$eq":"2"}})", {"s"}},
        TableCase{R"({"n":true})", {"b"}}, TableCase{R"({"b":1})", {}},
        TableCase{R"({"n":{"$ne":1}})", {"i2", "f15", "f2", "s", "b", "none", "neg", "big"}},
        TableCase{R"({"missing":{"$ne":"x"}})", kAllSpecIds},
        TableCase{R"({"missing":{"$nin":["x"]}})", kAllSpecIds},
        TableCase{R"({"missing":"x"})", {}}, TableCase{R"({"missing":{"$gt":0}})", {}},
        TableCase{R"({"missing":{"$in":["x"]}})", {}},
        TableCase{R"({"n":{"$gt":1}})", {"i2", "f15", "f2", "big"}},
        TableCase{R"({"n":{"$in":[1,2]}})", {"i1", "i2", "f2", "arr"}},
        TableCase{R"({"n":{"$nin":[1,2]}})", {"f15", "s", "b", "none", "neg", "big"}},
        TableCase{R"({"n":{"$in":[true]}})", {"b"}}, TableCase{R"({"n":{"$in":["2"]}})", {"s"}},
        TableCase{R"({"n":9007199254740993})", {"big"}},
        // Exact int/float comparison (spec §6.2 BUG note, §12 #4): a float
        // operand is not truncated, so 1.5 never equals int 1.
        TableCase{R"({"n":{"$eq":1.5}})", {"f15"}},
        TableCase{R"({"n":{"$gte":1.5}})", {"i2", "f15", "f2", "big"}},
        TableCase{R"({"n":{"$lt":1.5}})", {"i1", "arr", "neg"}},
        TableCase{R"({"n":{"$lte":1.5}})", {"i1", "f15", "arr", "neg"}},
        TableCase{R"({"n":{"$gt":1.5}})", {"i2", "f2", "big"}},
        TableCase{R"({"n":{"$ne":1.5}})",
                  {"i1", "i2", "f2", "s", "b", "none", "arr", "neg", "big"}},
        TableCase{R"({"n":{"$in":[1.5]}})", {"f15"}},
        TableCase{R"({"n":{"$nin":[1.5]}})",
                  {"i1", "i2", "f2", "s", "b", "none", "arr", "neg", "big"}},
        TableCase{R"({"n":{"$in":[1.5,2]}})", {"i2", "f15", "f2"}},
        TableCase{R"({"n":{"$gte":-3}})", {"i1", "i2", "f15", "f2", "arr", "neg", "big"}},
        TableCase{R"({"n":{"$lt":-2.5}})", {"neg"}}, TableCase{R"({"n":{"$lte":-3.0}})", {"neg"}},
        // 9007199254740993 is not representable as a double: it must not be
        // rounded to 9007199254740992.0 in either direction.
        TableCase{R"({"n":9007199254740992.0})", {}},
        TableCase{R"({"n":{"$gt":9007199254740992.0}})", {"big"}},
        TableCase{R"({"n":{"$lte":9007199254740992.0}})", {"i1", "i2", "f15", "f2", "arr", "neg"}},
        TableCase{R"({"n":{"$in":[9007199254740992]}})", {}},
        TableCase{R"({"n":{"$in":[0.5,9007199254740993]}})", {"big"}},
        TableCase{R"({"n":{"$ne":9007199254740993}})",
                  {"i1", "i2", "f15", "f2", "s", "b", "none", "arr", "neg"}},
        // Composites.
        TableCase{R"({"$and":[]})", kAllSpecIds}, TableCase{R"({"$or":[]})", {}},
        TableCase{R"({"$and":[{"n":1}]})", {"i1", "arr"}},
        TableCase{R"({"$or":[{"n":1}]})", {"i1", "arr"}},
        TableCase{R"({"$and":[{"n":{"$gt":1}},{"n":{"$lt":2}}]})", {"f15"}},
        TableCase{R"({"$or":[{"n":"2"},{"n":true},{"n":-3}]})", {"s", "b", "neg"}},
        TableCase{R"({"$and":[{"$or":[{"n":1},{"n":2}]},{"n":{"$ne":2.0}}]})", {"i1", "arr"}},
        // `$`-keys other than $and/$or are plain metadata keys (1.0.x).
        TableCase{R"({"$contains":"x"})", {}}, TableCase{R"({"$eq":1})", {}},
        TableCase{R"({"$contains":{"$ne":"x"}})", kAllSpecIds}));

TEST(WhereFilterTest, DollarKeyIsAPlainMetadataKey) {
  std::vector<TestRecord> records = {
      {"dollar", One("$contains", std::string("x")), std::nullopt},
      {"other", One("n", std::string("x")), std::nullopt},
  };
  EXPECT_EQ(Match(R"({"$contains":"x"})", records), Ids{"dollar"});
  EXPECT_EQ(Match(R"({"$weird":{"$in":["x"]}})", records), Ids{});
}

TEST(WhereFilterTest, NumericBoundariesCompareExactly) {
  std::vector<TestRecord> records = {
      {"max", One("n", int64_t{9223372036854775807}), std::nullopt},
      {"min", One("n", std::numeric_limits<int64_t>::min()), std::nullopt},
      {"huge", One("n", 1e300), std::nullopt},
      {"tiny", One("n", -1e300), std::nullopt},
      {"negzero", One("n", -0.0), std::nullopt},
      {"zero", One("n", int64_t{0}), std::nullopt},
  };
  // 2^63 as a double is above every int64, even int64 max.
  EXPECT_EQ(Match(R"({"n":9223372036854775808.0})", records), Ids{});
  EXPECT_EQ(Match(R"({"n":{"$lt":9223372036854775808.0}})", records),
            (Ids{"max", "min", "tiny", "negzero", "zero"}));
  EXPECT_EQ(Match(R"({"n":9223372036854775807})", records), Ids{"max"});
  // -2^63 is exactly representable, so it equals int64 min.
  EXPECT_EQ(Match(R"({"n":-9223372036854775808.0})", records), Ids{"min"});
  EXPECT_EQ(Match(R"({"n":-9223372036854775808})", records), Ids{"min"});
  EXPECT_EQ(Match(R"({"n":{"$gt":9223372036854775807}})", records), Ids{"huge"});
  EXPECT_EQ(Match(R"({"n":{"$lt":-9223372036854775808}})", records), Ids{"tiny"});
  EXPECT_EQ(Match(R"({"n":0})", records), (Ids{"negzero", "zero"}));
  EXPECT_EQ(Match(R"({"n":-0.0})", records), (Ids{"negzero", "zero"}));
  EXPECT_EQ(Match(R"({"n":{"$in":[-0.0, 1e300]}})", records), (Ids{"huge", "negzero", "zero"}));
}

TEST(WhereFilterTest, BoolsAreTheirOwnKind) {
  std::vector<TestRecord> records = {
      {"t", One("b", true), std::nullopt},
      {"f", One("b", false), std::nullopt},
      {"one", One("b", int64_t{1}), std::nullopt},
      {"zero", One("b", 0.0), std::nullopt},
      {"str", One("b", std::string("true")), std::nullopt},
  };
  EXPECT_EQ(Match(R"({"b":true})", records), Ids{"t"});
  EXPECT_EQ(Match(R"({"b":false})", records), Ids{"f"});
  EXPECT_EQ(Match(R"({"b":{"$ne":true}})", records), (Ids{"f", "one", "zero", "str"}));
  EXPECT_EQ(Match(R"({"b":{"$in":[true,false]}})", records), (Ids{"t", "f"}));
  EXPECT_EQ(Match(R"({"b":1})", records), Ids{"one"});
  EXPECT_EQ(Match(R"({"b":0})", records), Ids{"zero"});
  EXPECT_EQ(Match(R"({"b":{"$gte":0}})", records), (Ids{"one", "zero"}));
}

TEST(WhereFilterTest, StringsCompareByteExact) {
  std::vector<TestRecord> records = {
      {"lower", One("s", std::string("abc")), std::nullopt},
      {"upper", One("s", std::string("ABC")), std::nullopt},
      {"empty", One("s", std::string("")), std::nullopt},
      {"utf8", One("s", std::string("caf\xc3\xa9")), std::nullopt},
      {"key", One("", std::string("empty key")), std::nullopt},
  };
  EXPECT_EQ(Match(R"({"s":"abc"})", records), Ids{"lower"});
  EXPECT_EQ(Match(R"({"s":""})", records), Ids{"empty"});
  EXPECT_EQ(Match(R"({"s":"café"})", records), Ids{"utf8"});
  EXPECT_EQ(Match(R"({"s":"caf\u00e9"})", records), Ids{"utf8"});
  EXPECT_EQ(Match(R"({"s":{"$in":["ABC","zzz",""]}})", records), (Ids{"upper", "empty"}));
  EXPECT_EQ(Match(R"({"":"empty key"})", records), Ids{"key"});
}

TEST(WhereFilterTest, MultiKeyMetadataLooksUpTheNamedKey) {
  std::vector<TestRecord> records = {
      {"r1", Metadata({{"a", int64_t{1}}, {"b", std::string("x")}}), std::nullopt},
      {"r2", Metadata({{"a", int64_t{2}}, {"b", std::string("y")}}), std::nullopt},
      {"r3", Metadata({{"b", std::string("x")}}), std::nullopt},
  };
  EXPECT_EQ(Match(R"({"$and":[{"a":{"$gte":1}},{"b":"x"}]})", records), Ids{"r1"});
  EXPECT_EQ(Match(R"({"$or":[{"a":2},{"b":"x"}]})", records), (Ids{"r1", "r2", "r3"}));
  EXPECT_EQ(Match(R"({"a":{"$nin":[1]}})", records), (Ids{"r2", "r3"}));
}

// Chroma 1.5 array metadata (spec §11).
std::vector<TestRecord> ArrayRecords() {
  return {
      {"tags", One("v", std::vector<std::string>{"a", "b"}), std::nullopt},
      {"ints", One("v", std::vector<int64_t>{1, 2, 9007199254740993}), std::nullopt},
      {"floats", One("v", std::vector<double>{1.5, 2.0}), std::nullopt},
      {"bools", One("v", std::vector<bool>{true}), std::nullopt},
      {"scalar", One("v", std::string("a")), std::nullopt},
      {"scalar2", One("v", int64_t{2}), std::nullopt},
      {"none", std::nullopt, std::nullopt},
      {"other", One("w", std::vector<std::string>{"a"}), std::nullopt},
  };
}

TEST(WhereFilterArrayTest, ContainsMatchesArrayElements) {
  const auto records = ArrayRecords();
  EXPECT_EQ(Match(R"({"v":{"$contains":"a"}})", records), Ids{"tags"});
  EXPECT_EQ(Match(R"({"v":{"$contains":"c"}})", records), Ids{});
  EXPECT_EQ(Match(R"({"v":{"$contains":2}})", records), (Ids{"ints", "floats"}));
  EXPECT_EQ(Match(R"({"v":{"$contains":2.0}})", records), (Ids{"ints", "floats"}));
  EXPECT_EQ(Match(R"({"v":{"$contains":1.5}})", records), Ids{"floats"});
  EXPECT_EQ(Match(R"({"v":{"$contains":1}})", records), Ids{"ints"});
  EXPECT_EQ(Match(R"({"v":{"$contains":9007199254740993}})", records), Ids{"ints"});
  EXPECT_EQ(Match(R"({"v":{"$contains":9007199254740992.0}})", records), Ids{});
  EXPECT_EQ(Match(R"({"v":{"$contains":true}})", records), Ids{"bools"});
  EXPECT_EQ(Match(R"({"v":{"$contains":false}})", records), Ids{});
  EXPECT_EQ(Match(R"({"v":{"$contains":"2"}})", records), Ids{});
}

TEST(WhereFilterArrayTest, NotContainsIsTheComplement) {
  const auto records = ArrayRecords();
  EXPECT_EQ(Match(R"({"v":{"$not_contains":"a"}})", records),
            (Ids{"ints", "floats", "bools", "scalar", "scalar2", "none", "other"}));
  EXPECT_EQ(Match(R"({"v":{"$not_contains":2}})", records),
            (Ids{"tags", "bools", "scalar", "scalar2", "none", "other"}));
  EXPECT_EQ(Match(R"({"missing":{"$not_contains":"a"}})", records), AllIds(records));
}

TEST(WhereFilterArrayTest, ScalarOperatorsNeverMatchArrays) {
  const auto records = ArrayRecords();
  EXPECT_EQ(Match(R"({"v":"a"})", records), Ids{"scalar"});
  EXPECT_EQ(Match(R"({"v":2})", records), Ids{"scalar2"});
  EXPECT_EQ(Match(R"({"v":{"$in":[1,2]}})", records), Ids{"scalar2"});
  EXPECT_EQ(Match(R"({"v":{"$gt":0}})", records), Ids{"scalar2"});
  EXPECT_EQ(Match(R"({"v":{"$lte":100.5}})", records), Ids{"scalar2"});
  EXPECT_EQ(Match(R"({"v":{"$ne":"a"}})", records),
            (Ids{"tags", "ints", "floats", "bools", "scalar2", "none", "other"}));
  EXPECT_EQ(Match(R"({"v":{"$nin":[1,2]}})", records),
            (Ids{"tags", "ints", "floats", "bools", "scalar", "none", "other"}));
}

TEST(WhereFilterArrayTest, ContainsComposesWithOtherPredicates) {
  const auto records = ArrayRecords();
  EXPECT_EQ(Match(R"({"$or":[{"v":{"$contains":"b"}},{"w":{"$contains":"a"}}]})", records),
            (Ids{"tags", "other"}));
  EXPECT_EQ(Match(R"({"$and":[{"v":{"$contains":2}},{"v":{"$not_contains":1}}]})", records),
            Ids{"floats"});
}

// `#document` predicates inside `where` (spec §11).
std::vector<TestRecord> DocumentRecords() {
  return {
      {"fox", One("k", int64_t{1}), "fox trot"},
      {"Fox", One("k", int64_t{2}), "The quick brown Fox"},
      {"nodoc", One("k", int64_t{1}), std::nullopt},
      {"empty", std::nullopt, ""},
      {"meta", One("#document", std::string("fox")), "dog"},
  };
}

TEST(WhereFilterDocumentKeyTest, ContainsAndRegexTestTheDocument) {
  const auto records = DocumentRecords();
  EXPECT_EQ(Match(R"({"#document":{"$contains":"fox"}})", records), Ids{"fox"});
  EXPECT_EQ(Match(R"({"#document":{"$contains":""}})", records),
            (Ids{"fox", "Fox", "empty", "meta"}));
  EXPECT_EQ(Match(R"({"#document":{"$not_contains":"fox"}})", records),
            (Ids{"Fox", "nodoc", "empty", "meta"}));
  EXPECT_EQ(Match(R"({"#document":{"$regex":"(?i)FOX"}})", records), (Ids{"fox", "Fox"}));
  EXPECT_EQ(Match(R"({"#document":{"$not_regex":"^fox"}})", records),
            (Ids{"Fox", "nodoc", "empty", "meta"}));
}

TEST(WhereFilterDocumentKeyTest, CombinesWithMetadataPredicates) {
  const auto records = DocumentRecords();
  EXPECT_EQ(Match(R"({"$and":[{"k":1},{"#document":{"$contains":"fox"}}]})", records), Ids{"fox"});
  EXPECT_EQ(Match(R"({"$or":[{"k":2},{"#document":{"$regex":"^d"}}]})", records),
            (Ids{"Fox", "meta"}));
}

TEST(WhereFilterDocumentKeyTest, MetadataOperatorsOnDocumentKeyUseMetadata) {
  // In 1.0.x `#document` is an ordinary metadata key; only the document
  // operators turn it into a document predicate.
  const auto records = DocumentRecords();
  EXPECT_EQ(Match(R"({"#document":"fox"})", records), Ids{"meta"});
  EXPECT_EQ(Match(R"({"#document":{"$eq":"fox"}})", records), Ids{"meta"});
  EXPECT_EQ(Match(R"({"#document":{"$in":["dog","fox"]}})", records), Ids{"meta"});
}

TEST(WhereFilterDocumentKeyTest, BadRegexIsReported) {
  Result<WhereFilter> filter = WhereFilter::ParseJson(R"({"#document":{"$regex":"["}})");
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(filter.status().message(), "Invalid regex in where: missing ]: [");
}

// Every grammar error of spec §6.1 (observed cases plus their close relatives).
class WhereGrammarErrorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(WhereGrammarErrorTest, IsInvalidWhereClause) {
  Result<WhereFilter> filter = WhereFilter::ParseJson(GetParam());
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(filter.status().message(), "Invalid where clause");
}

INSTANTIATE_TEST_SUITE_P(
    Section61, WhereGrammarErrorTest,
    ::testing::Values(
        R"({})", R"({"a":1,"b":2})", R"({"a":1,"a":1})", R"({"n":{"$eq":1,"$ne":2}})",
        R"({"n":{"$gt":"a"}})", R"({"s":{"$gt":"b"}})", R"({"n":{"$gt":true}})",
        R"({"n":{"$lt":null}})", R"({"n":{"$lte":[1]}})", R"({"n":{"$gte":{"a":1}}})",
        R"({"n":{"$in":[1,"2"]}})", R"({"n":{"$in":[1,2.5]}})", R"({"n":{"$in":[true,1]}})",
        R"({"n":{"$in":["a",true]}})", R"({"n":{"$in":["a",null]}})", R"({"n":{"$in":[null]}})",
        R"({"n":{"$in":[[1]]}})", R"({"n":{"$in":[{"a":1}]}})", R"({"n":{"$in":[]}})",
        R"({"n":{"$nin":[]}})", R"({"n":{"$in":"x"}})", R"({"n":{"$in":1}})", R"({"n":null})",
        R"({"n":{"$eq":null}})", R"({"n":{"$ne":null}})", R"({"n":[1,2]})", R"({"n":[]})",
        R"({"n":{"$eq":[1]}})", R"({"n":{"$eq":{"a":1}}})", R"({"n":{"a":1}})", R"({"n":{}})",
        R"({"n":{"$exists":true}})", R"({"n":{"$matches":"x"}})", R"({"n":{"$regex":"x"}})",
        R"({"n":{"$not_regex":"x"}})", R"({"n":{"$contains":[1]}})", R"({"n":{"$contains":null}})",
        R"({"n":{"$not_contains":{}}})", R"({"#document":{"$contains":5}})",
        R"({"#document":{"$regex":null}})", R"({"#document":{"$not_contains":["x"]}})",
        R"({"$not":{"n":1}})", R"({"$and":{"n":1}})", R"({"$or":{"n":1}})", R"({"$and":"x"})",
        R"({"$and":null})", R"({"$and":[1]})", R"({"$and":[[]]})", R"({"$or":[{"n":1},{}]})",
        R"({"$and":[{"n":1},{"n":null}]})", R"("string")", R"([])", R"([{"n":1}])", R"(null)",
        R"(1)", R"(true)", R"({"n":18446744073709551615})", R"({"n":9223372036854775808})",
        R"({"n":{"$gt":18446744073709551615}})", R"({"n":{"$in":[1,18446744073709551615]}})",
        R"({"n":{"$in":[1.5,9223372036854775808]}})"));

TEST(WhereFilterTest, MalformedJsonIsInvalidArgument) {
  for (std::string_view json :
       {R"({"n":)", R"({n:1})", "", "   ", R"({"n":1}})", R"({"n":NaN})", R"({"n":Infinity})",
        R"({"n":1e999})", R"({"n":'x'})", R"({"n":"unterminated})", "{\"n\":\"\xff\"}",
        R"({"n":01})", R"({"n":1,})"}) {
    Result<WhereFilter> filter = WhereFilter::ParseJson(json);
    ASSERT_FALSE(filter.ok()) << json;
    EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument) << json;
    EXPECT_TRUE(filter.status().message().starts_with("Invalid where clause")) << json;
  }
}

TEST(WhereFilterTest, CopiesShareTheCompiledTree) {
  Result<WhereFilter> parsed = WhereFilter::ParseJson(R"({"n":{"$gt":1}})");
  ASSERT_TRUE(parsed.ok());
  const WhereFilter copy = *parsed;
  const Metadata two = One("n", int64_t{2});
  const Metadata one = One("n", int64_t{1});
  EXPECT_TRUE(copy.Matches(&two, nullptr));
  EXPECT_FALSE(copy.Matches(&one, nullptr));
  EXPECT_FALSE(copy.Matches(nullptr, nullptr));
}

TEST(WhereFilterTest, EmptyMetadataBehavesLikeMissingKey) {
  const Metadata empty;
  auto ne = WhereFilter::ParseJson(R"({"n":{"$ne":1}})");
  auto eq = WhereFilter::ParseJson(R"({"n":1})");
  ASSERT_TRUE(ne.ok() && eq.ok());
  EXPECT_TRUE(ne->Matches(&empty, nullptr));
  EXPECT_FALSE(eq->Matches(&empty, nullptr));
}

}  // namespace
}  // namespace ksdb::filter
