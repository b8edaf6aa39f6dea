#include "server/base64.h"

#include <gtest/gtest.h>

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
