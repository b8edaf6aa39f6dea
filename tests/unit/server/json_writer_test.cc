#include "server/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace ksdb::server {
namespace {

std::string F32(float value) {
  std::string out;
  AppendFloat(value, &out);
  return out;
}

std::string F64(double value) {
  std::string out;
  AppendDouble(value, &out);
  return out;
}

std::string Str(std::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

TEST(JsonWriterFloatTest, MatchesChromaFloat32Examples) {
  EXPECT_EQ(F32(1.0f), "1.0");
  EXPECT_EQ(F32(0.1f), "0.1");
  EXPECT_EQ(F32(1e-7f), "1e-7");
  EXPECT_EQ(F32(3.4028235e38f), "3.4028235e38");
  EXPECT_EQ(F32(-0.0f), "-0.0");
  EXPECT_EQ(F32(0.0f), "0.0");
  EXPECT_EQ(F32(0.010000004f), "0.010000004");
  EXPECT_EQ(F32(1.1920929e-7f), "1.1920929e-7");
  EXPECT_EQ(F32(1.81f), "1.81");
  EXPECT_EQ(F32(-6.0f), "-6.0");
  EXPECT_EQ(F32(0.29289323f), "0.29289323");
}

TEST(JsonWriterFloatTest, Float32LayoutBoundaries) {
  EXPECT_EQ(F32(1e12f), "1000000000000.0");  // kk = 13: still plain
  EXPECT_EQ(F32(1e13f), "1e13");             // kk = 14: exponent
  EXPECT_EQ(F32(123456.7f), "123456.7");
  EXPECT_EQ(F32(1e-6f), "0.000001");  // kk = -5 > -6: plain
  EXPECT_EQ(F32(1.5e-7f), "1.5e-7");
  EXPECT_EQ(F32(1.5e20f), "1.5e20");
  EXPECT_EQ(F32(std::numeric_limits<float>::denorm_min()), "1e-45");
}

TEST(JsonWriterFloatTest, MatchesChromaFloat64Examples) {
  EXPECT_EQ(F64(100.0), "100.0");
  EXPECT_EQ(F64(9223372036854775808.0), "9.223372036854776e18");
  EXPECT_EQ(F64(1.5), "1.5");
  EXPECT_EQ(F64(1e16), "1e16");                // kk = 17
  EXPECT_EQ(F64(1e15), "1000000000000000.0");  // kk = 16
  EXPECT_EQ(F64(0.0001), "0.0001");            // kk = -3
  EXPECT_EQ(F64(0.00001), "0.00001");          // kk = -4
  EXPECT_EQ(F64(0.000001), "1e-6");            // kk = -5
  EXPECT_EQ(F64(-2.5e-300), "-2.5e-300");
  EXPECT_EQ(F64(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(F64(-0.0), "-0.0");
}

TEST(JsonWriterFloatTest, NonFiniteIsNull) {
  EXPECT_EQ(F32(std::numeric_limits<float>::infinity()), "null");
  EXPECT_EQ(F64(std::nan("")), "null");
}

TEST(JsonWriterFloatTest, RandomFloatsRoundTrip) {
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    uint32_t bits = rng();
    float value;
    std::memcpy(&value, &bits, sizeof(value));
    if (!std::isfinite(value))
      continue;
    std::string text = F32(value);
    float parsed = std::strtof(text.c_str(), nullptr);
    ASSERT_EQ(std::memcmp(&parsed, &value, sizeof(float)), 0) << text;
  }
}

TEST(JsonWriterFloatTest, RandomDoublesRoundTrip) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double value;
    std::memcpy(&value, &bits, sizeof(value));
    if (!std::isfinite(value))
      continue;
    std::string text = F64(value);
    double parsed = std::strtod(text.c_str(), nullptr);
    ASSERT_EQ(std::memcmp(&parsed, &value, sizeof(double)), 0) << text;
  }
}

TEST(JsonWriterStringTest, EscapesPerRfc8259) {
  EXPECT_EQ(Str("plain"), "\"plain\"");
  EXPECT_EQ(Str("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Str("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(Str(std::string_view("\x00\x01\x1f", 3)), "\"\\u0000\\u0001\\u001f\"");
  EXPECT_EQ(Str("/"), "\"/\"");
  EXPECT_EQ(Str("\x7f"), "\"\x7f\"");
}

TEST(JsonWriterStringTest, KeepsValidUtf8) {
  EXPECT_EQ(Str("Émile café"), "\"Émile café\"");
  EXPECT_EQ(Str("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");  // U+1F600
}

TEST(JsonWriterStringTest, ReplacesInvalidUtf8) {
  const std::string kReplacement = "\xEF\xBF\xBD";
  EXPECT_EQ(Str("a\xFF"
                "b"),
            "\"a" + kReplacement + "b\"");
  EXPECT_EQ(Str("\xC3"), "\"" + kReplacement + "\"");                     // truncated
  EXPECT_EQ(Str("\xC0\xAF"), "\"" + kReplacement + kReplacement + "\"");  // overlong
  EXPECT_EQ(Str("\xED\xA0\x80"),
            "\"" + kReplacement + kReplacement + kReplacement + "\"");  // surrogate
}

TEST(JsonWriterTest, WritesNestedStructuresWithCommas) {
  std::string out;
  JsonWriter writer(&out);
  writer.BeginObject();
  writer.Key("a");
  writer.BeginArray();
  writer.Int(-1);
  writer.Uint(18446744073709551615ull);
  writer.Null();
  writer.Bool(true);
  writer.EndArray();
  writer.Key("b");
  writer.BeginObject();
  writer.EndObject();
  writer.Key("c");
  writer.Raw("{\"x\":1}");
  writer.Key("d");
  writer.Float(0.5f);
  writer.EndObject();
  EXPECT_EQ(out, R"({"a":[-1,18446744073709551615,null,true],"b":{},"c":{"x":1},"d":0.5})");
}

TEST(JsonWriterTest, WritesMetadataKinds) {
  Metadata metadata;
  metadata.Set("s", std::string("x"));
  metadata.Set("i", int64_t{1});
  metadata.Set("f", 100.0);
  metadata.Set("b", false);
  metadata.Set("ai", std::vector<int64_t>{1, 2});
  metadata.Set("af", std::vector<double>{1.5});
  metadata.Set("ab", std::vector<bool>{true, false});
  metadata.Set("as", std::vector<std::string>{"p", "q"});
  std::string out;
  JsonWriter writer(&out);
  writer.WriteMetadata(metadata);
  EXPECT_EQ(out, R"({"s":"x","i":1,"f":100.0,"b":false,"ai":[1,2],"af":[1.5],"ab":[true,false],)"
                 R"("as":["p","q"]})");
}

}  // namespace
}  // namespace ksdb::server
