// DocumentFilter: the spec §6.3 grammar and semantics, and regex errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "filter/where.h"
#include "filter_test_util.h"

namespace ksdb::filter {
namespace {

using testing::AllIds;
using testing::MatchingIds;
using testing::TestRecord;
using Ids = std::vector<std::string>;

std::vector<TestRecord> Documents() {
  return {
      {"trot", std::nullopt, "fox trot 100%"},
      {"quick", std::nullopt, "The quick brown Fox"},
      {"caps", std::nullopt, "FOX"},
      {"cafe", std::nullopt, "\xc3\x89mile caf\xc3\xa9"},  // "Émile café"
      {"empty", std::nullopt, ""},
      {"null", std::nullopt, std::nullopt},
      {"chars", std::nullopt, "a_b\\c"},
      {"lines", std::nullopt, "first\nsecond fox"},
  };
}

Ids Match(std::string_view where_document) {
  Result<DocumentFilter> filter = DocumentFilter::ParseJson(where_document);
  EXPECT_TRUE(filter.ok()) << where_document << " -> " << filter.status().ToString();
  if (!filter.ok())
    return {"<parse error>"};
  return MatchingIds(*filter, Documents());
}

TEST(DocumentFilterTest, ContainsIsCaseSensitiveSubstring) {
  EXPECT_EQ(Match(R"({"$contains":"fox"})"), (Ids{"trot", "lines"}));
  EXPECT_EQ(Match(R"({"$contains":"Fox"})"), Ids{"quick"});
  EXPECT_EQ(Match(R"({"$contains":"fox trot 100%"})"), Ids{"trot"});
  EXPECT_EQ(Match(R"({"$contains":"fox trot 100%!"})"), Ids{});
}

TEST(DocumentFilterTest, ContainsTreatsLikeWildcardsLiterally) {
  EXPECT_EQ(Match(R"({"$contains":"%"})"), Ids{"trot"});
  EXPECT_EQ(Match(R"({"$contains":"_"})"), Ids{"chars"});
  EXPECT_EQ(Match(R"({"$contains":"\\"})"), Ids{"chars"});
  EXPECT_EQ(Match(R"({"$contains":"a%b"})"), Ids{});
}

TEST(DocumentFilterTest, ContainsWorksOnUtf8) {
  EXPECT_EQ(Match(R"({"$contains":"é"})"), Ids{"cafe"});
  EXPECT_EQ(Match(R"({"$contains":"\u00c9mile"})"), Ids{"cafe"});
}

TEST(DocumentFilterTest, EmptyContainsMatchesEveryRecordWithADocument) {
  EXPECT_EQ(Match(R"({"$contains":""})"),
            (Ids{"trot", "quick", "caps", "cafe", "empty", "chars", "lines"}));
}

TEST(DocumentFilterTest, NotContainsIncludesNullDocuments) {
  EXPECT_EQ(Match(R"({"$not_contains":"fox"})"),
            (Ids{"quick", "caps", "cafe", "empty", "null", "chars"}));
  EXPECT_EQ(Match(R"({"$not_contains":""})"), Ids{"null"});
}

TEST(DocumentFilterTest, RegexIsAnUnanchoredSearch) {
  EXPECT_EQ(Match(R"({"$regex":"(?i)fox"})"), (Ids{"trot", "quick", "caps", "lines"}));
  EXPECT_EQ(Match(R"({"$regex":"^fox"})"), Ids{"trot"});
  EXPECT_EQ(Match(R"({"$regex":"(?m)^second"})"), Ids{"lines"});
  EXPECT_EQ(Match(R"({"$regex":"^second"})"), Ids{});
  EXPECT_EQ(Match(R"({"$regex":"\\d{3}%$"})"), Ids{"trot"});
  EXPECT_EQ(Match(R"({"$regex":"^$"})"), Ids{"empty"});
  EXPECT_EQ(Match(R"({"$regex":""})"),
            (Ids{"trot", "quick", "caps", "cafe", "empty", "chars", "lines"}));
}

TEST(DocumentFilterTest, RegexIsUtf8Aware) {
  // `.` must consume the two-byte "é" as one character.
  EXPECT_EQ(Match(R"({"$regex":"caf.$"})"), Ids{"cafe"});
  EXPECT_EQ(Match(R"({"$regex":"(?i)émile"})"), Ids{"cafe"});
}

TEST(DocumentFilterTest, NotRegexIncludesNullDocuments) {
  EXPECT_EQ(Match(R"({"$not_regex":"(?i)fox"})"), (Ids{"cafe", "empty", "null", "chars"}));
}

TEST(DocumentFilterTest, Composites) {
  const Ids all = AllIds(Documents());
  EXPECT_EQ(Match(R"({"$and":[]})"), all);
  EXPECT_EQ(Match(R"({"$or":[]})"), Ids{});
  EXPECT_EQ(Match(R"({"$and":[{"$contains":"fox"}]})"), (Ids{"trot", "lines"}));
  EXPECT_EQ(Match(R"({"$and":[{"$contains":"fox"},{"$not_contains":"%"}]})"), Ids{"lines"});
  EXPECT_EQ(Match(R"({"$or":[{"$contains":"FOX"},{"$regex":"^a_"}]})"), (Ids{"caps", "chars"}));
  EXPECT_EQ(Match(R"({"$or":[{"$and":[{"$contains":"o"},{"$contains":"q"}]},{"$contains":"É"}]})"),
            (Ids{"quick", "cafe"}));
}

TEST(DocumentFilterTest, InvalidRegexGivesAClearMessage) {
  Result<DocumentFilter> filter = DocumentFilter::ParseJson(R"({"$regex":"["})");
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(filter.status().message(), "Invalid regex in where_document: missing ]: [");

  for (std::string_view json :
       {R"({"$not_regex":"(a"})", R"({"$regex":"a**"})", R"({"$regex":"(?<=a)b"})",
        R"({"$regex":"(a)\\1"})", R"({"$and":[{"$contains":"x"},{"$regex":"\\"}]})"}) {
    Result<DocumentFilter> bad = DocumentFilter::ParseJson(json);
    ASSERT_FALSE(bad.ok()) << json;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << json;
    EXPECT_TRUE(bad.status().message().starts_with("Invalid regex in where_document: ")) << json;
  }
}

TEST(DocumentFilterTest, PathologicalRepetitionIsRejected) {
  // The reference answers 500 here (spec §6.3, §12 #6); we must give a 400.
  for (std::string_view json : {R"({"$regex":"a{1000000}"})", R"({"$regex":"(a{1000}){1000}"})",
                                R"({"$regex":"((a{999}){999}){999}"})"}) {
    Result<DocumentFilter> filter = DocumentFilter::ParseJson(json);
    ASSERT_FALSE(filter.ok()) << json;
    EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument) << json;
    EXPECT_TRUE(filter.status().message().starts_with("Invalid regex")) << json;
  }
}

class DocumentGrammarErrorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DocumentGrammarErrorTest, IsInvalidWhereDocumentClause) {
  Result<DocumentFilter> filter = DocumentFilter::ParseJson(GetParam());
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(filter.status().message(), "Invalid where document clause");
}

INSTANTIATE_TEST_SUITE_P(
    Section63, DocumentGrammarErrorTest,
    ::testing::Values(R"({})", R"({"$contains":"a","$regex":"b"})", R"({"$contains":5})",
                      R"({"$contains":null})", R"({"$contains":true})", R"({"$contains":["a"]})",
                      R"({"$not_contains":{}})", R"({"$regex":1})", R"({"$not_regex":null})",
                      R"({"$matches":"x"})", R"({"$not_matches":"x"})", R"({"$eq":"x"})",
                      R"({"$in":["x"]})", R"({"$unknown":"x"})", R"({"fox":"x"})",
                      R"({"#document":{"$contains":"x"}})", R"({"$and":{}})", R"({"$or":"x"})",
                      R"({"$and":[{}]})", R"({"$and":[{"$contains":"x"},5]})", R"({"$not":{}})",
                      R"([])", R"("fox")", R"(null)", R"(7)"));

TEST(DocumentFilterTest, MalformedJsonIsInvalidArgument) {
  for (std::string_view json :
       {R"({"$contains":)", "", R"({"$contains":"x"]})", "{\"$contains\"}"}) {
    Result<DocumentFilter> filter = DocumentFilter::ParseJson(json);
    ASSERT_FALSE(filter.ok()) << json;
    EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument) << json;
    EXPECT_TRUE(filter.status().message().starts_with("Invalid where document clause")) << json;
  }
}

TEST(DocumentFilterTest, HandlesDocumentsWithNulBytes) {
  Result<DocumentFilter> filter = DocumentFilter::ParseJson(R"({"$contains":"b\u0000c"})");
  ASSERT_TRUE(filter.ok());
  const std::string with_nul("ab\0cd", 5);
  const std::string without("abcd");
  EXPECT_TRUE(filter->Matches(&with_nul));
  EXPECT_FALSE(filter->Matches(&without));
}

}  // namespace
}  // namespace ksdb::filter
