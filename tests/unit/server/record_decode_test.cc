#include "server/record_decode.h"

#include <gtest/gtest.h>

#include <limits>

#include "decode_test_util.h"

namespace ksdb::server {
namespace {

constexpr StatusCode k400 = StatusCode::kInvalidArgument;
constexpr StatusCode k422 = StatusCode::kInvalidShape;

Result<WriteBatch> Write(const std::string& json, WriteKind kind = WriteKind::kAdd) {
  return DecodeText(json, [kind](const JsonElement& e) { return DecodeWriteBatch(e, kind); });
}

Result<DecodedGet> Get(const std::string& json) {
  return DecodeText(json, [](const JsonElement& e) { return DecodeGet(e); });
}

Result<DecodedQuery> Query(const std::string& json) {
  return DecodeText(json, [](const JsonElement& e) { return DecodeQuery(e); });
}

Result<db::DeleteRequest> Delete(const std::string& json) {
  return DecodeText(json, [](const JsonElement& e) { return DecodeDelete(e); });
}

TEST(JsonBodyTest, SyntaxErrorsAre400) {
  simdjson::dom::parser parser;
  Result<JsonElement> empty = ParseJsonText("", &parser);
  ExpectError(empty, k400,
              "Failed to parse the request body as JSON: EOF while parsing a value at line 1 "
              "column 0");
  ExpectError(ParseJsonText("{nope", &parser), k400, "Failed to parse the request body as JSON: ");
  ExpectError(ParseJsonText("[NaN]", &parser), k400, "Failed to parse");
  ExpectError(ParseJsonText("[Infinity]", &parser), k400, "Failed to parse");
}

TEST(WriteBatchTest, DecodesFullAdd) {
  Result<WriteBatch> batch =
      Write(R"({"ids":["a","b"],"embeddings":[[1,2.5],[3,-4e-2]],"documents":["d",null],)"
            R"("uris":[null,"u"],"metadatas":[{"k":1,"f":1.0,"s":"x","b":true},null],)"
            R"("extra":1})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->ids, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(batch->embeddings.has_value());
  EXPECT_EQ(batch->embeddings->dim, 2u);
  EXPECT_EQ(batch->embeddings->values, (std::vector<float>{1, 2.5f, 3, -0.04f}));
  EXPECT_EQ(batch->embeddings->present, (std::vector<uint8_t>{1, 1}));
  ASSERT_TRUE(batch->documents.has_value());
  EXPECT_EQ((*batch->documents)[0], "d");
  EXPECT_FALSE((*batch->documents)[1].has_value());
  EXPECT_EQ((*batch->uris)[1], "u");
  ASSERT_TRUE(batch->metadatas.has_value());
  const MetadataPatch& patch = *(*batch->metadatas)[0];
  ASSERT_EQ(patch.size(), 4u);
  EXPECT_EQ(patch[0].first, "k");
  EXPECT_EQ(std::get<int64_t>(*patch[0].second), 1);
  EXPECT_EQ(std::get<double>(*patch[1].second), 1.0);
  EXPECT_EQ(std::get<std::string>(*patch[2].second), "x");
  EXPECT_EQ(std::get<bool>(*patch[3].second), true);
  EXPECT_FALSE((*batch->metadatas)[1].has_value());
}

TEST(WriteBatchTest, DecodesBase64Embeddings) {
  Result<WriteBatch> batch =
      Write(R"({"ids":["a","b"],"embeddings":["AACAPwAAAEAAAEBA","AAAAPwAAgD4AAIC/"]})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->embeddings->dim, 3u);
  EXPECT_EQ(batch->embeddings->values, (std::vector<float>{1, 2, 3, 0.5f, 0.25f, -1}));
}

TEST(WriteBatchTest, Base64Errors) {
  ExpectError(Write(R"({"ids":["a"],"embeddings":["!AAAAAAA"]})"), k400, "Invalid symbol 33");
  ExpectError(Write(R"({"ids":["a"],"embeddings":["AAAAAAA="]})"), k400,
              "5 bytes cannot be converted to f32");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[""]})"), k400,
              "Each embedding must have at least 1 dimension");
  ExpectError(Write(R"({"ids":["a","b"],"embeddings":["AACAPw==","AACAPwAAAEA="]})"), k400,
              "Inconsistent dimensions in provided embeddings");
  // NaN encoded in base64 (0x7fc00000).
  ExpectError(Write(R"({"ids":["a"],"embeddings":["AADAfw=="]})"), k400, "NaN");
}

TEST(WriteBatchTest, EmbeddingShapeErrorsAre422) {
  ExpectError(Write(R"({"ids":["a"]})"), k422, "missing field `embeddings`");
  ExpectError(Write(R"({"ids":["a"],"embeddings":null})"), k422,
              "data did not match any variant of untagged enum EmbeddingsPayload");
  ExpectError(Write(R"({"ids":["a","b"],"embeddings":[[1],"AACAPw=="]})"), k422,
              "untagged enum EmbeddingsPayload");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[null]})"), k422, "untagged enum");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[null]})", WriteKind::kUpsert), k422,
              "untagged enum");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[["x"]]})"), k422,
              "embeddings[0][0]: invalid type: string \"x\", expected f32");
  ExpectError(Write(R"({"ids":["a"],"embeddings":{}})"), k422, "untagged enum");
}

TEST(WriteBatchTest, EmbeddingSemanticErrorsAre400) {
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[]]})"), k400,
              "Validation error: embeddings: Each embedding must have at least 1 dimension");
  ExpectError(Write(R"({"ids":["a","b"],"embeddings":[[1,2],[1]]})"), k400,
              "Inconsistent dimensions in provided embeddings");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1e39]]})"), k400, "float32 range");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[3.4028236e38]]})"), k400, "float32 range");
  Result<WriteBatch> max = Write(R"({"ids":["a"],"embeddings":[[3.4028235e38,-3.4028235e38]]})");
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(max->embeddings->values[0], std::numeric_limits<float>::max());
}

TEST(WriteBatchTest, ShapeErrorWinsOverEarlierSemanticError) {
  // The overflow (400) comes first in the body, the bad metadata (422) later.
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1e39]],"metadatas":[{"x":{}}]})"), k422,
              "untagged enum MetadataValue");
  ExpectError(Write(R"({"ids":[""],"embeddings":null})"), k422, "untagged enum");
}

TEST(WriteBatchTest, LengthMismatchIs400) {
  const char* kMessage = "Inconsistent number of IDs, embeddings, documents, URIs and metadatas";
  ExpectError(Write(R"({"ids":["a","b"],"embeddings":[[1]]})"), k400, kMessage);
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1]],"documents":[]})"), k400, kMessage);
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1]],"uris":["x","y"]})"), k400, kMessage);
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1]],"metadatas":[null,null]})"), k400, kMessage);
  ExpectError(Write(R"({"ids":["a"],"metadatas":[]})", WriteKind::kUpdate), k400, kMessage);
}

TEST(WriteBatchTest, IdErrors) {
  ExpectError(Write(R"({"ids":[""],"embeddings":[[1]]})"), k400,
              "Empty ID, ID must have at least one character");
  ExpectError(Write(R"({"ids":[1],"embeddings":[[1]]})"), k422,
              "ids[0]: invalid type: integer `1`, expected a string");
  ExpectError(Write(R"({"embeddings":[[1]]})"), k422, "missing field `ids`");
  ExpectError(Write(R"({"ids":null,"embeddings":[[1]]})"), k422, "invalid type: null");
  ExpectError(Write(R"([1])"), k422, "invalid type: sequence");
}

TEST(WriteBatchTest, EmptyBatchIsValid) {
  Result<WriteBatch> batch = Write(R"({"ids":[],"embeddings":[]})");
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch->ids.empty());
  EXPECT_EQ(batch->embeddings->dim, 0u);
}

TEST(WriteBatchTest, MetadataValueRules) {
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1]],"metadatas":[{"x":{"y":1}}]})"), k422,
              "untagged enum MetadataValue");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1]],"metadatas":[{"x":null}]})"), k422,
              "MetadataValue");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1]],"metadatas":[{"x":[]}]})"), k422,
              "MetadataValue");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1]],"metadatas":[{"x":[1,"a"]}]})"), k422,
              "MetadataValue");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1]],"metadatas":[{"x":[[1]]}]})"), k422,
              "MetadataValue");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1]],"metadatas":["x"]})"), k422,
              "metadatas[0]: invalid type");
  ExpectError(Write(R"({"ids":["a"],"embeddings":[[1]],"metadatas":[{"chroma:document":"x"}]})"),
              k400, "chroma:");

  Result<WriteBatch> batch = Write(
      R"({"ids":["a"],"embeddings":[[1]],"metadatas":[{"big":9223372036854775808,)"
      R"("min":-9223372036854775808,"ints":[1,2],"mixed":[1,2.5],"bools":[true],"strs":["a"]}]})");
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const MetadataPatch& patch = *(*batch->metadatas)[0];
  EXPECT_EQ(std::get<double>(*patch[0].second), 9223372036854775808.0);
  EXPECT_EQ(std::get<int64_t>(*patch[1].second), INT64_MIN);
  EXPECT_EQ(std::get<std::vector<int64_t>>(*patch[2].second), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(std::get<std::vector<double>>(*patch[3].second), (std::vector<double>{1, 2.5}));
  EXPECT_EQ(std::get<std::vector<bool>>(*patch[4].second), (std::vector<bool>{true}));
  EXPECT_EQ(std::get<std::vector<std::string>>(*patch[5].second), (std::vector<std::string>{"a"}));
}

TEST(WriteBatchTest, UpdateAllowsNullRowsAndNullValues) {
  Result<WriteBatch> batch = Write(
      R"({"ids":["a","b","c"],"embeddings":[null,[1,2],null],"metadatas":[{"x":null},null,{}]})",
      WriteKind::kUpdate);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->embeddings->dim, 2u);
  EXPECT_EQ(batch->embeddings->present, (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(batch->embeddings->values.size(), 6u);
  EXPECT_EQ(batch->embeddings->values[2], 1.0f);
  const MetadataPatch& patch = *(*batch->metadatas)[0];
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_FALSE(patch[0].second.has_value());  // delete key

  Result<WriteBatch> base64 =
      Write(R"({"ids":["a","b"],"embeddings":["AACAPw==",null]})", WriteKind::kUpdate);
  ASSERT_TRUE(base64.ok()) << base64.status().ToString();
  EXPECT_EQ(base64->embeddings->present, (std::vector<uint8_t>{1, 0}));

  Result<WriteBatch> ids_only = Write(R"({"ids":["a"]})", WriteKind::kUpdate);
  ASSERT_TRUE(ids_only.ok());
  EXPECT_FALSE(ids_only->embeddings.has_value());
  EXPECT_FALSE(ids_only->documents.has_value());
}

TEST(WriteBatchTest, UpsertKeepsNullMetadataValues) {
  Result<WriteBatch> batch = Write(
      R"({"ids":["a"],"embeddings":[[1]],"metadatas":[{"y":null,"b":1}]})", WriteKind::kUpsert);
  ASSERT_TRUE(batch.ok());
  const MetadataPatch& patch = *(*batch->metadatas)[0];
  ASSERT_EQ(patch.size(), 2u);
  EXPECT_FALSE(patch[0].second.has_value());
}

TEST(GetDecodeTest, Defaults) {
  Result<DecodedGet> get = Get("{}");
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->include, (std::vector<std::string>{"documents", "metadatas"}));
  EXPECT_TRUE(get->request.include.documents);
  EXPECT_TRUE(get->request.include.metadatas);
  EXPECT_FALSE(get->request.include.embeddings);
  EXPECT_FALSE(get->request.limit.has_value());
  EXPECT_EQ(get->request.offset, 0u);
  EXPECT_FALSE(get->request.ids.has_value());
}

TEST(GetDecodeTest, ExplicitNullsAreAbsent) {
  Result<DecodedGet> get =
      Get(R"({"ids":null,"where":null,"where_document":null,"limit":null,"offset":null})");
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_FALSE(get->request.where.has_value());
}

TEST(GetDecodeTest, IncludeEchoedVerbatim) {
  Result<DecodedGet> get =
      Get(R"({"include":["documents","documents","distances","embeddings"],"limit":2,)"
          R"("offset":1,"ids":["x"]})");
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->include,
            (std::vector<std::string>{"documents", "documents", "distances", "embeddings"}));
  EXPECT_TRUE(get->request.include.embeddings);
  EXPECT_FALSE(get->request.include.metadatas);
  EXPECT_FALSE(get->request.include.distances);
  EXPECT_EQ(*get->request.limit, 2u);
  EXPECT_EQ(get->request.offset, 1u);
  EXPECT_EQ(*get->request.ids, (std::vector<std::string>{"x"}));
}

TEST(GetDecodeTest, ShapeErrors) {
  ExpectError(Get(R"({"include":null})"), k422, "include: invalid type: null");
  ExpectError(Get(R"({"include":["bogus"]})"), k422,
              "include[0]: unknown variant `bogus`, expected one of `distances`, `documents`, "
              "`embeddings`, `metadatas`, `uris`");
  ExpectError(Get(R"({"limit":-1})"), k422, "limit: invalid value: integer `-1`, expected u32");
  ExpectError(Get(R"({"offset":1.5})"), k422, "offset: invalid type: floating point");
  ExpectError(Get(R"({"limit":4294967296})"), k422, "expected u32");
  ExpectError(Get(R"({"ids":"a"})"), k422, "ids: invalid type: string");
}

TEST(GetDecodeTest, U32Bounds) {
  Result<DecodedGet> get = Get(R"({"limit":4294967295,"offset":0})");
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->request.limit, 4294967295u);
  EXPECT_EQ(get->request.offset, 0u);
  ExpectError(Get(R"({"limit":4294967296})"), k422,
              "limit: invalid value: integer `4294967296`, expected u32");
  ExpectError(Get(R"({"limit":18446744073709551615})"), k422,
              "limit: invalid value: integer `18446744073709551615`, expected u32");
  ExpectError(Get(R"({"limit":-9223372036854775808})"), k422,
              "limit: invalid value: integer `-9223372036854775808`, expected u32");
  ExpectError(Get(R"({"limit":true})"), k422, "limit: invalid type: boolean `true`, expected u32");
}

TEST(QueryDecodeTest, DecodesEmbeddingsAndDefaults) {
  Result<DecodedQuery> query = Query(R"({"query_embeddings":[[1,2,3],[4,5,6]]})");
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  EXPECT_EQ(query->request.num_queries, 2u);
  EXPECT_EQ(query->request.dim, 3u);
  EXPECT_EQ(query->request.embeddings, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(query->request.n_results, 10u);
  EXPECT_EQ(query->include, (std::vector<std::string>{"documents", "metadatas", "distances"}));
  EXPECT_TRUE(query->request.include.distances);

  Result<DecodedQuery> empty = Query(R"({"query_embeddings":[],"n_results":null})");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->request.num_queries, 0u);
  EXPECT_EQ(empty->request.n_results, 10u);
}

TEST(QueryDecodeTest, Errors) {
  ExpectError(Query(R"({"query_texts":["x"],"query_embeddings":[[1]]})"), k400,
              "only provide query_embeddings or query_texts");
  ExpectError(Query(R"({"query_embeddings":null})"), k422, "invalid type: null");
  ExpectError(Query(R"({"query_embeddings":["AACAPw=="]})"), k422,
              "query_embeddings[0]: invalid type: string");
  ExpectError(Query(R"({"query_embeddings":[[1]],"n_results":-1})"), k422, "expected u32");
  ExpectError(Query(R"({"query_embeddings":[[1],[1,2]]})"), k400, "Inconsistent dimensions");
  ExpectError(Query(R"({"query_embeddings":[[]]})"), k400, "at least 1 dimension");
  ExpectError(Query(R"({"query_embeddings":[[-1e39]]})"), k400, "float32 range");
}

TEST(DeleteDecodeTest, EmptyIdsWithoutWhereIs400) {
  ExpectError(Delete(R"({"ids":[]})"), k400,
              "Validation error: ids, where: Either ids or where must be specified");
  Result<db::DeleteRequest> none = Delete("{}");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->ids.has_value());
  Result<db::DeleteRequest> ids = Delete(R"({"ids":["a","b"]})");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->ids->size(), 2u);
}

}  // namespace
}  // namespace ksdb::server
