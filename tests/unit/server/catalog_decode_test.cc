#include "server/catalog_decode.h"

#include <gtest/gtest.h>

#include "decode_test_util.h"

namespace ksdb::server {
namespace {

constexpr StatusCode k400 = StatusCode::kInvalidArgument;
constexpr StatusCode k422 = StatusCode::kInvalidShape;

Result<db::CreateCollectionRequest> Create(const std::string& json) {
  return DecodeText(json, [](const JsonElement& e) { return DecodeCreateCollection(e); });
}

Result<db::ModifyCollectionRequest> Modify(const std::string& json) {
  return DecodeText(json, [](const JsonElement& e) { return DecodeModifyCollection(e); });
}

TEST(CreateCollectionDecodeTest, MinimalBody) {
  Result<db::CreateCollectionRequest> request =
      Create(R"({"name":"c1","metadata":null,"configuration":null})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->name, "c1");
  EXPECT_TRUE(request->metadata.empty());
  EXPECT_FALSE(request->hnsw.has_value());
  EXPECT_TRUE(request->embedding_function_json.empty());
  EXPECT_FALSE(request->get_or_create);
}

TEST(CreateCollectionDecodeTest, FullConfiguration) {
  Result<db::CreateCollectionRequest> request = Create(
      R"({"name":"c","get_or_create":true,"metadata":{"a":1,"hnsw:space":"ip"},)"
      R"("configuration":{"hnsw":{"space":"cosine","ef_construction":200,"ef_search":50,)"
      R"("max_neighbors":32,"resize_factor":1.5,"sync_threshold":500,"num_threads":4,)"
      R"("batch_size":64},"embedding_function":{"type":"known","name":"default","config":{}}}})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_TRUE(request->hnsw.has_value());
  EXPECT_EQ(request->hnsw->space, DistanceSpace::kCosine);
  EXPECT_EQ(request->hnsw->ef_construction, 200u);
  EXPECT_EQ(request->hnsw->ef_search, 50u);
  EXPECT_EQ(request->hnsw->max_neighbors, 32u);
  EXPECT_EQ(request->hnsw->resize_factor, 1.5);
  EXPECT_EQ(request->hnsw->sync_threshold, 500u);
  EXPECT_EQ(request->hnsw->num_threads, 4u);
  EXPECT_EQ(request->hnsw->batch_size, 64u);
  EXPECT_EQ(request->embedding_function_json, R"({"type":"known","name":"default","config":{}})");
  EXPECT_TRUE(request->get_or_create);
  EXPECT_EQ(request->metadata.size(), 2u);
}

TEST(CreateCollectionDecodeTest, EmbeddingFunctionOnlyKeepsLegacyPath) {
  Result<db::CreateCollectionRequest> request =
      Create(R"({"name":"c","configuration":{"embedding_function":{"type":"legacy"}}})");
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(request->hnsw.has_value());
  EXPECT_EQ(request->embedding_function_json, R"({"type":"legacy"})");
}

TEST(CreateCollectionDecodeTest, SpannBecomesHnswWithItsSpace) {
  Result<db::CreateCollectionRequest> request =
      Create(R"({"name":"c","configuration":{"spann":{"space":"ip","search_nprobe":8}}})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_TRUE(request->hnsw.has_value());
  EXPECT_EQ(request->hnsw->space, DistanceSpace::kIp);
  EXPECT_EQ(request->hnsw->ef_search, HnswConfig().ef_search);
}

TEST(CreateCollectionDecodeTest, KsdbQuantization) {
  Result<db::CreateCollectionRequest> request =
      Create(R"({"name":"c","configuration":{"ksdb":{"quantization":"int8"}}})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->quantization, Quantization::kInt8);
  EXPECT_FALSE(request->hnsw.has_value());  // legacy metadata path unaffected
  request = Create(R"({"name":"c","configuration":{"ksdb":{}}})");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->quantization, Quantization::kNone);
  EXPECT_EQ(Create(R"({"name":"c","configuration":{"ksdb":{"quantization":"int4"}}})")
                .status().code(), k422);
  EXPECT_EQ(Create(R"({"name":"c","configuration":{"ksdb":{"quantisation":"int8"}}})")
                .status().code(), k422);
  EXPECT_EQ(Create(R"({"name":"c","configuration":{"ksdb":{"quantization":8}}})")
                .status().code(), k422);
  EXPECT_EQ(Create(R"({"name":"c","configuration":{"ksdb":"int8"}})").status().code(), k422);
  EXPECT_EQ(Modify(R"({"new_configuration":{"ksdb":{"quantization":"int8"}}})").status().code(),
            k400);
}

TEST(CreateCollectionDecodeTest, Errors) {
  ExpectError(Create("{}"), k422, "missing field `name`");
  ExpectError(Create(R"({"name":5})"), k422, "name: invalid type: integer `5`");
  ExpectError(Create(R"({"name":"c","configuration":{"hnsw":{"foo":1}}})"), k422,
              "unknown field `foo`, expected one of `space`");
  ExpectError(Create(R"({"name":"c","configuration":{"hnsw":{"space":"hamming"}}})"), k422,
              "unknown variant `hamming`, expected one of `l2`, `cosine`, `ip`");
  ExpectError(Create(R"({"name":"c","configuration":{"hnsw":{"ef_search":-1}}})"), k422,
              "expected u32");
  ExpectError(Create(R"({"name":"c","configuration":{"spann":{"bogus":1}}})"), k422,
              "unknown field `bogus`");
  ExpectError(Create(R"({"name":"c","configuration":{"hnsw":{},"spann":{}}})"), k400,
              "Multiple vector index configurations provided");
  ExpectError(Create(R"({"name":"c","metadata":{}})"), k400,
              "Validation error: metadata: Metadata cannot be empty");
  ExpectError(Create(R"({"name":"c","metadata":{"a":null}})"), k422, "MetadataValue");
  ExpectError(Create(R"({"name":"c","metadata":{"a":{}}})"), k422, "MetadataValue");
  ExpectError(Create(R"({"name":"c","get_or_create":"yes"})"), k422, "expected a boolean");
}

TEST(ModifyCollectionDecodeTest, EmptyBodyIsNoOp) {
  Result<db::ModifyCollectionRequest> request = Modify("{}");
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(request->new_name.has_value());
  EXPECT_FALSE(request->new_metadata.has_value());
  EXPECT_FALSE(request->new_configuration.has_value());
}

TEST(ModifyCollectionDecodeTest, DecodesAllFields) {
  Result<db::ModifyCollectionRequest> request =
      Modify(R"({"new_name":"n2","new_metadata":{"c":2,"gone":null},)"
             R"("new_configuration":{"hnsw":{"ef_search":77,"resize_factor":2},)"
             R"("spann":{"search_nprobe":3},"embedding_function":{"type":"legacy"}}})");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(*request->new_name, "n2");
  ASSERT_EQ(request->new_metadata->size(), 1u);  // null value dropped
  EXPECT_EQ(*request->new_configuration->hnsw.ef_search, 77u);
  EXPECT_EQ(*request->new_configuration->hnsw.resize_factor, 2.0);
  EXPECT_FALSE(request->new_configuration->hnsw.max_neighbors.has_value());
  EXPECT_EQ(*request->new_configuration->embedding_function_json, R"({"type":"legacy"})");
}

TEST(ModifyCollectionDecodeTest, NullOnlyMetadataBecomesEmpty) {
  Result<db::ModifyCollectionRequest> request = Modify(R"({"new_metadata":{"n":null}})");
  ASSERT_TRUE(request.ok());
  EXPECT_TRUE(request->new_metadata->empty());
}

TEST(ModifyCollectionDecodeTest, Errors) {
  ExpectError(Modify(R"({"new_configuration":{"hnsw":{"space":"l2"}}})"), k422,
              "unknown field `space`, expected one of `ef_search`");
  ExpectError(Modify(R"({"new_configuration":{"hnsw":{"ef_construction":1}}})"), k422,
              "unknown field `ef_construction`");
  ExpectError(Modify(R"({"new_metadata":{}})"), k400,
              "Validation error: new_metadata: Metadata cannot be empty");
  ExpectError(Modify(R"({"new_name":1})"), k422, "new_name: invalid type");
}

TEST(StringFieldDecodeTest, RequiredString) {
  auto decode = [](const std::string& json) {
    return DecodeText(json, [](const JsonElement& e) {
      return DecodeStringField(e, "CreateTenantPayload", "name");
    });
  };
  Result<std::string> ok = decode(R"({"name":"ten1","x":1})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "ten1");
  ExpectError(decode("{}"), k422,
              "Failed to deserialize the JSON body into the target type: missing field `name`");
  ExpectError(decode(R"({"name":null})"), k422, "invalid type: null, expected a string");
  ExpectError(decode(R"("x")"), k422, "expected struct CreateTenantPayload");
}

}  // namespace
}  // namespace ksdb::server
