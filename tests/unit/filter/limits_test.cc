// Hostile filters: nesting, node counts, list sizes and regex caps must give
// InvalidArgument naming the limit, never a crash or a runaway.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "filter/where.h"

namespace ksdb::filter {
namespace {

// `{"$and":[` repeated `levels` times around `leaf`.
std::string NestedAnd(size_t levels, std::string_view leaf) {
  std::string json;
  for (size_t i = 0; i < levels; ++i)
    json += R"({"$and":[)";
  json += leaf;
  for (size_t i = 0; i < levels; ++i)
    json += "]}";
  return json;
}

// `{"$or":[leaf, leaf, ...]}` with `count` leaves.
std::string WideOr(size_t count, std::string_view leaf) {
  std::string json = R"({"$or":[)";
  for (size_t i = 0; i < count; ++i) {
    if (i > 0)
      json += ",";
    json += leaf;
  }
  return json + "]}";
}

// `{"n":{"<op>":[0,1,...]}}` with `count` ints.
std::string InList(std::string_view op, size_t count) {
  std::string json = R"({"n":{")" + std::string(op) + R"(":[)";
  for (size_t i = 0; i < count; ++i) {
    if (i > 0)
      json += ",";
    json += std::to_string(i);
  }
  return json + "]}}";
}

void ExpectLimitError(const Status& status, std::string_view prefix, std::string_view limit) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(status.message().starts_with(prefix)) << status.message();
  EXPECT_NE(status.message().find(limit), std::string::npos) << status.message();
}

TEST(FilterLimitsTest, NestingUpToMaxDepthIsAccepted) {
  const Limits limits;
  Result<WhereFilter> filter = WhereFilter::ParseJson(NestedAnd(limits.max_depth, R"({"n":1})"));
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  const Metadata one({{"n", int64_t{1}}});
  const Metadata two({{"n", int64_t{2}}});
  EXPECT_TRUE(filter->Matches(&one, nullptr));
  EXPECT_FALSE(filter->Matches(&two, nullptr));
}

TEST(FilterLimitsTest, NestingBeyondMaxDepthIsRejected) {
  const Limits limits;
  ExpectLimitError(WhereFilter::ParseJson(NestedAnd(limits.max_depth + 1, R"({"n":1})")).status(),
                   "Invalid where clause", "max_depth");
  ExpectLimitError(
      DocumentFilter::ParseJson(NestedAnd(limits.max_depth + 1, R"({"$contains":"x"})")).status(),
      "Invalid where document clause", "max_depth");
  Limits shallow;
  shallow.max_depth = 2;
  EXPECT_TRUE(WhereFilter::ParseJson(NestedAnd(2, R"({"n":1})"), shallow).ok());
  ExpectLimitError(WhereFilter::ParseJson(NestedAnd(3, "{}"), shallow).status(),
                   "Invalid where clause", "max_depth");
}

TEST(FilterLimitsTest, HundredThousandDeepJsonIsAnErrorNotACrash) {
  // simdjson's own depth limit (1024) rejects this before our parser runs.
  const std::string deep_where = NestedAnd(100'000, R"({"n":1})");
  ExpectLimitError(WhereFilter::ParseJson(deep_where).status(), "Invalid where clause", "");
  const std::string deep_doc = NestedAnd(100'000, R"({"$contains":"x"})");
  ExpectLimitError(DocumentFilter::ParseJson(deep_doc).status(), "Invalid where document clause",
                   "");
  // Unbalanced openers only.
  const std::string opened(100'000, '[');
  EXPECT_FALSE(WhereFilter::ParseJson(opened).ok());
}

TEST(FilterLimitsTest, DeepDomFromAPermissiveParserIsCheckedBeforeRecursing) {
  // A caller may hand us a DOM parsed with a much higher simdjson depth limit;
  // our own max_depth still bounds the recursion.
  const std::string deep = NestedAnd(50'000, R"({"n":1})");
  simdjson::dom::parser parser;
  ASSERT_EQ(parser.allocate(deep.size(), 200'000), simdjson::SUCCESS);
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(deep).get(root), simdjson::SUCCESS);
  Limits unbounded;
  unbounded.max_nodes = 1'000'000;
  ExpectLimitError(WhereFilter::Parse(root, unbounded).status(), "Invalid where clause",
                   "max_depth");
  ExpectLimitError(DocumentFilter::Parse(root, unbounded).status(), "Invalid where document clause",
                   "max_depth");
}

TEST(FilterLimitsTest, NodeCountIsCapped) {
  const Limits limits;
  // $or plus its children: exactly max_nodes nodes pass, one more fails.
  EXPECT_TRUE(WhereFilter::ParseJson(WideOr(limits.max_nodes - 1, R"({"n":1})")).ok());
  ExpectLimitError(WhereFilter::ParseJson(WideOr(limits.max_nodes, R"({"n":1})")).status(),
                   "Invalid where clause", "max_nodes");
  ExpectLimitError(
      DocumentFilter::ParseJson(WideOr(limits.max_nodes, R"({"$contains":"x"})")).status(),
      "Invalid where document clause", "max_nodes");
  Limits tiny;
  tiny.max_nodes = 3;
  EXPECT_TRUE(WhereFilter::ParseJson(R"({"$and":[{"a":1},{"b":2}]})", tiny).ok());
  ExpectLimitError(WhereFilter::ParseJson(R"({"$and":[{"a":1},{"b":2},{"c":3}]})", tiny).status(),
                   "Invalid where clause", "max_nodes");
}

TEST(FilterLimitsTest, InListSizeIsCapped) {
  const Limits limits;
  Result<WhereFilter> at_limit = WhereFilter::ParseJson(InList("$in", limits.max_in_values));
  ASSERT_TRUE(at_limit.ok()) << at_limit.status().ToString();
  const Metadata last({{"n", static_cast<int64_t>(limits.max_in_values - 1)}});
  const Metadata beyond({{"n", static_cast<int64_t>(limits.max_in_values)}});
  const Metadata as_float({{"n", 77.0}});
  EXPECT_TRUE(at_limit->Matches(&last, nullptr));
  EXPECT_FALSE(at_limit->Matches(&beyond, nullptr));
  EXPECT_TRUE(at_limit->Matches(&as_float, nullptr));
  ExpectLimitError(WhereFilter::ParseJson(InList("$in", limits.max_in_values + 1)).status(),
                   "Invalid where clause", "max_in_values");
  ExpectLimitError(WhereFilter::ParseJson(InList("$nin", limits.max_in_values + 1)).status(),
                   "Invalid where clause", "max_in_values");
  Limits small;
  small.max_in_values = 2;
  EXPECT_TRUE(WhereFilter::ParseJson(R"({"n":{"$in":["a","b"]}})", small).ok());
  ExpectLimitError(WhereFilter::ParseJson(R"({"n":{"$in":["a","b","c"]}})", small).status(),
                   "Invalid where clause", "max_in_values");
}

TEST(FilterLimitsTest, RegexLengthIsCapped) {
  const Limits limits;
  const std::string at_limit =
      R"({"$regex":")" + std::string(limits.max_regex_length, 'a') + R"("})";
  EXPECT_TRUE(DocumentFilter::ParseJson(at_limit).ok());
  const std::string too_long =
      R"({"$regex":")" + std::string(limits.max_regex_length + 1, 'a') + R"("})";
  ExpectLimitError(DocumentFilter::ParseJson(too_long).status(),
                   "Invalid regex in where_document: ", "max_regex_length");
  const std::string in_where =
      R"({"#document":{"$not_regex":")" + std::string(limits.max_regex_length + 1, 'a') + R"("}})";
  ExpectLimitError(WhereFilter::ParseJson(in_where).status(),
                   "Invalid regex in where: ", "max_regex_length");
}

TEST(FilterLimitsTest, RegexProgramSizeIsCapped) {
  // Each \pL expands to a large UTF-8 automaton; 1000 copies blow the 1 MiB cap.
  const Limits limits;
  const std::string huge = R"({"$regex":"\\pL{1000}"})";
  ExpectLimitError(DocumentFilter::ParseJson(huge, limits).status(),
                   "Invalid regex in where_document: ", "max_regex_program");
  Limits small;
  small.max_regex_program = 4096;
  EXPECT_TRUE(DocumentFilter::ParseJson(R"({"$regex":"fox"})", small).ok());
  ExpectLimitError(DocumentFilter::ParseJson(R"({"$regex":"[a-z]{500}"})", small).status(),
                   "Invalid regex in where_document: ", "max_regex_program");
}

TEST(FilterLimitsTest, DeeplyNestedRegexGroupsAreAnErrorNotACrash) {
  const std::string pattern = std::string(2000, '(') + "a" + std::string(2000, ')');
  Result<DocumentFilter> filter = DocumentFilter::ParseJson(R"({"$regex":")" + pattern + R"("})");
  if (filter.ok()) {
    const std::string doc = "a";
    EXPECT_TRUE(filter->Matches(&doc));
  } else {
    EXPECT_TRUE(filter.status().message().starts_with("Invalid regex"))
        << filter.status().ToString();
  }
}

TEST(FilterLimitsTest, RegexSearchOnLargeDocumentIsLinear) {
  // A classic backtracking killer; RE2 runs it in linear time.
  Result<DocumentFilter> filter = DocumentFilter::ParseJson(R"({"$regex":"(a+)+$"})");
  ASSERT_TRUE(filter.ok());
  const std::string doc = std::string(100'000, 'a') + "!";
  EXPECT_FALSE(filter->Matches(&doc));
}

}  // namespace
}  // namespace ksdb::filter
