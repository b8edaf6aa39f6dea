#include "server/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ksdb::server {
namespace {

Result<std::vector<float>> DecodeFloats(std::string_view text) {
  KSDB_ASSIGN_OR_RETURN(size_t count, Base64FloatCount(text));
  std::vector<float> out(count);
  KSDB_RETURN_IF_ERROR(Base64DecodeFloats(text, out.data()));
  return out;
}

TEST(Base64Test, DecodesClientExamples) {
  Result<std::vector<float>> a = DecodeFloats("AACAPwAAAEAAAEBA");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, (std::vector<float>{1, 2, 3}));
  Result<std::vector<float>> b = DecodeFloats("AAAAPwAAgD4AAIC/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, (std::vector<float>{0.5f, 0.25f, -1.0f}));
}

// A plain reference encoder (RFC 4648, with padding) for round trips.
std::string Encode(const std::vector<unsigned char>& bytes) {
  constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = 0;
    for (size_t j = 0; j < 3; ++j)
      group = group << 8 | (j < n ? bytes[i + j] : 0);
    for (size_t j = 0; j < 4; ++j)
      out += j <= n ? kAlphabet[(group >> (18 - 6 * j)) & 0x3F] : '=';
  }
  return out;
}

TEST(Base64Test, RoundTripsEveryByteValueAndEveryTailLength) {
  std::mt19937 rng(7);
  for (size_t size : {1, 2, 3, 4, 5, 6, 255, 256, 257, 6000}) {
    std::vector<unsigned char> bytes(size);
    for (size_t i = 0; i < size; ++i)
      bytes[i] = static_cast<unsigned char>(i < 256 ? i : rng());
    const std::string text = Encode(bytes);
    ASSERT_EQ(*Base64DecodedSize(text), size);
    std::vector<unsigned char> out(size);
    ASSERT_TRUE(Base64Decode(text, out.data()).ok()) << size;
    EXPECT_EQ(out, bytes) << size;
  }
}

TEST(Base64Test, ReportsTheFirstBadSymbolFarIntoALongString) {
  std::string text = Encode(std::vector<unsigned char>(3000, 0x5A));
  text[2345] = '.';
  text[2901] = '!';
  std::vector<unsigned char> out(3000);
  Status status = Base64Decode(text, out.data());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "Base64 decoding error: Invalid base64 string: Invalid symbol 46, offset 2345.");
}

TEST(Base64Test, DecodesPaddedBytes) {
  unsigned char out[2];
  ASSERT_TRUE(Base64DecodedSize("aGk=").ok());
  EXPECT_EQ(*Base64DecodedSize("aGk="), 2u);
  ASSERT_TRUE(Base64Decode("aGk=", out).ok());
  EXPECT_EQ(out[0], 'h');
  EXPECT_EQ(out[1], 'i');
  EXPECT_EQ(*Base64DecodedSize("aA=="), 1u);
  EXPECT_EQ(*Base64DecodedSize(""), 0u);
}

TEST(Base64Test, RejectsBadSymbolWithOffset) {
  Result<std::vector<float>> r = DecodeFloats("!AAAAAAA");  // also 6 bytes: symbol wins
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "Base64 decoding error: Invalid base64 string: Invalid symbol 33, offset 0.");
  Result<std::vector<float>> mid = DecodeFloats("AAAA*AAA");
  ASSERT_FALSE(mid.ok());
  EXPECT_NE(mid.status().message().find("Invalid symbol 42, offset 4."), std::string::npos);
}

TEST(Base64Test, RejectsLengthNotMultipleOfFour) {
  Result<std::vector<float>> r = DecodeFloats("AAAAA");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("Invalid input length"), std::string::npos);
}

TEST(Base64Test, RejectsByteCountNotMultipleOfFloat) {
  // "AAAAAAA=" decodes to 5 bytes.
  Result<std::vector<float>> r = DecodeFloats("AAAAAAA=");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Base64 decoding error: Invalid byte length: 5 bytes cannot be converted to f32 "
            "values (must be divisible by 4)");
}

TEST(Base64Test, RejectsMisplacedPadding) {
  EXPECT_FALSE(DecodeFloats("AA=AAAAA").ok());
  EXPECT_FALSE(DecodeFloats("====").ok());
  unsigned char out[3];
  EXPECT_FALSE(Base64Decode("A===", out).ok());
}

TEST(Base64Test, RejectsNonCanonicalLastSymbol) {
  unsigned char out[2];
  Status status = Base64Decode("aGl=", out);  // 'l' leaves non-zero dropped bits
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("Invalid last symbol"), std::string::npos);
}

}  // namespace
}  // namespace ksdb::server
