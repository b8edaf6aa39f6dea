#include "core/metadata.h"

#include <gtest/gtest.h>

#include <limits>

namespace ksdb {
namespace {

Metadata AllKinds() {
  Metadata m;
  m.Set("b", true);
  m.Set("i", int64_t{-9223372036854775807 - 1});
  m.Set("f", 1.5);
  m.Set("s", std::string("héllo \0 world", 14));
  m.Set("", std::string("empty key"));
  m.Set("ab", std::vector<bool>{true, false});
  m.Set("ai", std::vector<int64_t>{1, -2, std::numeric_limits<int64_t>::max()});
  m.Set("af", std::vector<double>{0.5, -0.0});
  m.Set("as", std::vector<std::string>{"x", "", "long" + std::string(1000, 'z')});
  return m;
}

TEST(MetadataTest, SetReplacesInPlaceAndKeepsOrder) {
  Metadata m;
  m.Set("a", int64_t{1});
  m.Set("b", int64_t{2});
  m.Set("a", std::string("x"));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.entries()[0].first, "a");
  EXPECT_EQ(std::get<std::string>(*m.Find("a")), "x");
  EXPECT_EQ(m.Find("zz"), nullptr);
  EXPECT_TRUE(m.Erase("a"));
  EXPECT_FALSE(m.Erase("a"));
  EXPECT_EQ(m.size(), 1u);
}

TEST(MetadataTest, PatchMergesAndNullDeletes) {
  Metadata m;
  m.Set("x", int64_t{5});
  m.Set("y", std::string("keep"));
  m.Set("z", 1.0);
  MetadataPatch patch = {{"x", MetadataValue{int64_t{6}}}, {"z", std::nullopt}, {"n", MetadataValue{true}}};
  ApplyMetadataPatch(patch, &m);
  EXPECT_EQ(std::get<int64_t>(*m.Find("x")), 6);
  EXPECT_EQ(std::get<std::string>(*m.Find("y")), "keep");
  EXPECT_EQ(m.Find("z"), nullptr);
  EXPECT_TRUE(std::get<bool>(*m.Find("n")));
}

TEST(MetadataTest, FromPatchDropsNulls) {
  MetadataPatch patch = {{"a", std::nullopt}, {"b", MetadataValue{int64_t{1}}}};
  Metadata m = MetadataFromPatch(patch);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m.entries()[0].first, "b");
}

TEST(MetadataTest, CodecRoundTripsEveryKind) {
  Metadata m = AllKinds();
  Result<Metadata> back = DecodeMetadata(EncodeMetadata(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
  // Int and float kinds stay distinct.
  EXPECT_TRUE(std::holds_alternative<double>(*back->Find("f")));
  EXPECT_TRUE(std::holds_alternative<int64_t>(*back->Find("i")));
}

TEST(MetadataTest, EmptyRoundTrips) {
  Result<Metadata> back = DecodeMetadata(EncodeMetadata(Metadata()));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->empty());
}

TEST(MetadataTest, DecodeRejectsEveryTruncation) {
  std::string bytes = EncodeMetadata(AllKinds());
  for (size_t len = 0; len < bytes.size(); ++len) {
    Result<Metadata> r = DecodeMetadata(std::string_view(bytes).substr(0, len));
    EXPECT_FALSE(r.ok()) << "prefix of length " << len << " decoded";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
}

TEST(MetadataTest, DecodeRejectsGarbage) {
  EXPECT_FALSE(DecodeMetadata(EncodeMetadata(AllKinds()) + "x").ok());
  EXPECT_FALSE(DecodeMetadata(std::string("\x01\x01k\x09", 4)).ok());      // bad tag
  EXPECT_FALSE(DecodeMetadata(std::string("\x01\x01k\x00\x02", 5)).ok());  // bool byte 2
  EXPECT_FALSE(DecodeMetadata(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11)).ok());
}

}  // namespace
}  // namespace ksdb
