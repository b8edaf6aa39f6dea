#include "core/collection_config.h"

#include <gtest/gtest.h>

namespace ksdb {
namespace {

TEST(CollectionConfigTest, SpaceNamesRoundTrip) {
  for (DistanceSpace s : {DistanceSpace::kL2, DistanceSpace::kCosine, DistanceSpace::kIp}) {
    EXPECT_EQ(ParseDistanceSpace(DistanceSpaceName(s)), s);
  }
  EXPECT_FALSE(ParseDistanceSpace("hamming").has_value());
}

TEST(CollectionConfigTest, ValidateRejectsOutOfRange) {
  HnswConfig c;
  EXPECT_TRUE(ValidateHnswConfig(c).ok());
  c.max_neighbors = 0;
  EXPECT_EQ(ValidateHnswConfig(c).code(), StatusCode::kInvalidArgument);
  c = HnswConfig{};
  c.sync_threshold = 1;
  EXPECT_FALSE(ValidateHnswConfig(c).ok());
  c = HnswConfig{};
  c.ef_search = 0;
  EXPECT_FALSE(ValidateHnswConfig(c).ok());
  c = HnswConfig{};
  c.resize_factor = 0.5;
  EXPECT_FALSE(ValidateHnswConfig(c).ok());
}

TEST(CollectionConfigTest, LegacyMetadataKeys) {
  Metadata m;
  m.Set("hnsw:space", std::string("cosine"));
  m.Set("hnsw:M", int64_t{32});
  m.Set("hnsw:construction_ef", int64_t{200});
  m.Set("hnsw:search_ef", int64_t{50});
  m.Set("other", std::string("ignored"));
  HnswConfig c;
  ASSERT_TRUE(ApplyLegacyHnswMetadata(m, &c).ok());
  EXPECT_EQ(c.space, DistanceSpace::kCosine);
  EXPECT_EQ(c.max_neighbors, 32u);
  EXPECT_EQ(c.ef_construction, 200u);
  EXPECT_EQ(c.ef_search, 50u);
}

TEST(CollectionConfigTest, LegacyMetadataErrorsLeaveConfigUnchanged) {
  for (auto [key, value] : std::vector<std::pair<std::string, MetadataValue>>{
           {"hnsw:M", std::string("16")},
           {"hnsw:space", std::string("hamming")},
           {"hnsw:bogus", int64_t{1}},
           {"hnsw:sync_threshold", int64_t{1}},
           {"hnsw:M", int64_t{-1}}}) {
    Metadata m;
    m.Set(key, value);
    HnswConfig c;
    Status s = ApplyLegacyHnswMetadata(m, &c);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(s.message(), "Failed to parse hnsw parameters from segment metadata");
    EXPECT_EQ(c, HnswConfig{});
  }
}

TEST(CollectionConfigTest, PatchChangesOnlyGivenFields) {
  CollectionConfig c;
  CollectionConfigPatch p;
  p.hnsw.ef_search = 7;
  p.embedding_function_json = R"({"type":"legacy"})";
  ApplyConfigPatch(p, &c);
  EXPECT_EQ(c.hnsw.ef_search, 7u);
  EXPECT_EQ(c.hnsw.max_neighbors, 16u);
  EXPECT_EQ(c.embedding_function_json, R"({"type":"legacy"})");
}

TEST(CollectionConfigTest, CodecRoundTripAndCorruption) {
  CollectionConfig c;
  c.hnsw.space = DistanceSpace::kIp;
  c.hnsw.ef_construction = 123;
  c.hnsw.resize_factor = 1.75;
  c.embedding_function_json = R"({"type":"known","name":"default","config":{}})";
  std::string bytes = EncodeCollectionConfig(c);
  Result<CollectionConfig> back = DecodeCollectionConfig(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, c);
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_FALSE(DecodeCollectionConfig(bytes.substr(0, len)).ok()) << len;
  }
  std::string bad_space = bytes;
  bad_space[1] = 9;
  EXPECT_EQ(DecodeCollectionConfig(bad_space).status().code(), StatusCode::kCorruption);
}

TEST(CollectionConfigTest, QuantizationRoundTripsAndVersionOneStillDecodes) {
  CollectionConfig c;
  c.quantization = Quantization::kInt8;
  c.embedding_function_json = R"({"type":"legacy"})";
  const std::string bytes = EncodeCollectionConfig(c);
  Result<CollectionConfig> back = DecodeCollectionConfig(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->quantization, Quantization::kInt8);
  EXPECT_EQ(*back, c);

  // Version 1 (before quantization existed): no quantization byte.
  constexpr size_t kQuantizationByte = 2 + 7 * 4 + 8;
  std::string v1 = bytes;
  v1[0] = 1;
  v1.erase(kQuantizationByte, 1);
  back = DecodeCollectionConfig(v1);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->quantization, Quantization::kNone);
  EXPECT_EQ(back->embedding_function_json, c.embedding_function_json);

  std::string bad = bytes;
  bad[kQuantizationByte] = 7;
  EXPECT_EQ(DecodeCollectionConfig(bad).status().code(), StatusCode::kCorruption);
  std::string future = bytes;
  future[0] = 3;
  EXPECT_EQ(DecodeCollectionConfig(future).status().code(), StatusCode::kCorruption);
}

TEST(CollectionConfigTest, QuantizationNames) {
  EXPECT_EQ(ParseQuantization("int8"), Quantization::kInt8);
  EXPECT_EQ(ParseQuantization("none"), Quantization::kNone);
  EXPECT_FALSE(ParseQuantization("INT8").has_value());
  EXPECT_STREQ(QuantizationName(Quantization::kInt8), "int8");
}

}  // namespace
}  // namespace ksdb
