#include "embed/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace ksdb::embed {
namespace {

std::string Bytes(const void* data, size_t size) {
  return std::string(static_cast<const char*>(data), size);
}

// A raw file from a header text and a data section.
std::string RawFile(const std::string& header, const std::string& data) {
  uint64_t size = header.size();
  return Bytes(&size, 8) + header + data;
}

TEST(SafetensorsTest, RoundTripAllFloatAndIntegerKinds) {
  float f32[] = {1.5f, -2.0f, 0.0f, 3.25f};
  uint16_t f16[] = {0x3C00, 0xC000, 0x0001, 0x7BFF};  // 1, -2, smallest subnormal, 65504
  uint16_t bf16[] = {0x3F80, 0xC040};                 // 1, -3
  double f64[] = {0.5, -1e10};
  int32_t i32[] = {-1, 7};
  uint8_t u8[] = {200};
  const std::string data[] = {Bytes(f32, sizeof(f32)),   Bytes(f16, sizeof(f16)),
                              Bytes(bf16, sizeof(bf16)), Bytes(f64, sizeof(f64)),
                              Bytes(i32, sizeof(i32)),   Bytes(u8, sizeof(u8))};
  TensorToWrite tensors[] = {{"a", Dtype::kF32, {2, 2}, data[0]}, {"h", Dtype::kF16, {4}, data[1]},
                             {"b", Dtype::kBF16, {2}, data[2]},   {"d", Dtype::kF64, {2}, data[3]},
                             {"i", Dtype::kI32, {2}, data[4]},    {"u", Dtype::kU8, {1}, data[5]}};
  std::pair<std::string, std::string> metadata[] = {{"format", "pt"}};
  std::string bytes = SerializeSafetensors(tensors, metadata);
  uint64_t header_size;
  std::memcpy(&header_size, bytes.data(), 8);
  EXPECT_EQ((8 + header_size) % 8, 0u);
  EXPECT_EQ(bytes.substr(8, 30), "{\"__metadata__\":{\"format\":\"pt\"");

  auto file = SafetensorsFile::Parse(bytes, "x.safetensors");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->tensors().size(), 6u);
  EXPECT_EQ(file->Find("a")->shape, (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(*file->ReadFloats("a"), (std::vector<float>{1.5f, -2.0f, 0.0f, 3.25f}));
  auto half = *file->ReadFloats("h");
  EXPECT_EQ(half[0], 1.0f);
  EXPECT_EQ(half[1], -2.0f);
  EXPECT_EQ(half[2], std::ldexp(1.0f, -24));
  EXPECT_EQ(half[3], 65504.0f);
  EXPECT_EQ(*file->ReadFloats("b"), (std::vector<float>{1.0f, -3.0f}));
  EXPECT_EQ(*file->ReadFloats("d"), (std::vector<float>{0.5f, -1e10f}));
  EXPECT_EQ(*file->ReadIntegers("i"), (std::vector<int64_t>{-1, 7}));
  EXPECT_EQ(*file->ReadIntegers("u"), (std::vector<int64_t>{200}));
  EXPECT_EQ(file->ReadFloats("i").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(file->ReadIntegers("a").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(file->ReadFloats("zzz").status().code(), StatusCode::kNotFound);
}

void ExpectDamaged(const std::string& bytes, const std::string& words,
                   StatusCode code = StatusCode::kCorruption) {
  auto file = SafetensorsFile::Parse(bytes, "/m/model.safetensors");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), code) << file.status().ToString();
  EXPECT_NE(file.status().message().find("/m/model.safetensors"), std::string::npos);
  EXPECT_NE(file.status().message().find(words), std::string::npos) << file.status().message();
}

TEST(SafetensorsTest, DamagedFilesGiveClearErrors) {
  ExpectDamaged("", "shorter than the 8-byte header length");
  ExpectDamaged(std::string("\x05\0\0\0", 4), "shorter than the 8-byte header length");
  ExpectDamaged(RawFile("{}", "").substr(0, 9), "exceeds the file size");
  uint64_t huge = ~0ull;
  ExpectDamaged(Bytes(&huge, 8) + "{}", "exceeds the file size");
  ExpectDamaged(RawFile("{\"a\":", ""), "invalid JSON", StatusCode::kInvalidArgument);
  ExpectDamaged(RawFile("[1]", ""), "not a JSON object");
  ExpectDamaged(RawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234"),
                "(file truncated?)");
  ExpectDamaged(RawFile(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "12345678"),
                "need 12 bytes but data_offsets span 8");
  ExpectDamaged(RawFile(R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", "1"),
                "unsupported dtype F8_E4M3", StatusCode::kInvalidArgument);
  ExpectDamaged(RawFile(R"({"a":{"shape":[1],"data_offsets":[0,1]}})", "1"), "\"dtype\"");
  ExpectDamaged(RawFile(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", "1"),
                "non-negative integers");
  ExpectDamaged(RawFile(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1]}})", "1"),
                "data_offsets");
  ExpectDamaged(RawFile(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                        R"("b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
                        "123"),
                "overlaps");
  ExpectDamaged(RawFile(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,16],)"
                        R"("data_offsets":[0,0]}})",
                        ""),
                "overflows");
}

TEST(SafetensorsTest, MissingFileIsIoError) {
  auto file = SafetensorsFile::Open("/nonexistent/model.safetensors");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kIoError);
  EXPECT_NE(file.status().message().find("/nonexistent/model.safetensors"), std::string::npos);
}

}  // namespace
}  // namespace ksdb::embed
