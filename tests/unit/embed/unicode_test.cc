#include "embed/unicode.h"

#include <gtest/gtest.h>

namespace ksdb::embed::unicode {
namespace {

std::u32string Decode(std::string_view text) {
  std::u32string out;
  DecodeUtf8(text, &out);
  return out;
}

TEST(UnicodeTest, Utf8RoundTripAndInvalidBytes) {
  EXPECT_EQ(Decode("aé北😀"), (std::u32string{U'a', 0xE9, 0x5317, 0x1F600}));
  std::string encoded;
  AppendUtf8(Decode("aé北😀"), &encoded);
  EXPECT_EQ(encoded, "aé北😀");
  // Lone continuation byte, overlong '/', a surrogate, a truncated sequence.
  EXPECT_EQ(Decode("\x80"), std::u32string(1, 0xFFFD));
  EXPECT_EQ(Decode("\xC0\xAF"), std::u32string(2, 0xFFFD));
  EXPECT_EQ(Decode("\xED\xA0\x80").front(), 0xFFFD);
  EXPECT_EQ(Decode("\xE5\x8C"), std::u32string(2, 0xFFFD));
}

TEST(UnicodeTest, Classes) {
  EXPECT_TRUE(IsBertPunctuation(U'$'));
  EXPECT_TRUE(IsBertPunctuation(U'`'));
  EXPECT_TRUE(IsBertPunctuation(0x00BF));   // ¿ Po
  EXPECT_TRUE(IsBertPunctuation(0x2014));   // em dash Pd
  EXPECT_FALSE(IsBertPunctuation(0x00A9));  // © So
  EXPECT_FALSE(IsBertPunctuation(U'a'));
  EXPECT_TRUE(IsWhitespace(0x3000));
  EXPECT_TRUE(IsWhitespace(0x2028));
  EXPECT_TRUE(IsWhitespace(U'\t'));
  EXPECT_FALSE(IsWhitespace(0x200B));  // zero-width space is Cf
  EXPECT_TRUE(IsControl(0x200B));
  EXPECT_TRUE(IsControl(0x0001));
  EXPECT_TRUE(IsControl(0xE000));  // private use
  EXPECT_FALSE(IsControl(U'\n'));
  EXPECT_TRUE(IsChineseChar(0x5317));
  EXPECT_FALSE(IsChineseChar(0x3042));  // hiragana
  EXPECT_TRUE(IsWordChar(0x00E9));
  EXPECT_FALSE(IsWordChar(U'-'));
}

std::u32string Lower(std::u32string_view text) {
  std::u32string out;
  for (char32_t c : text)
    AppendLowercase(c, &out);
  return out;
}

std::u32string Strip(std::u32string_view text) {
  std::u32string out;
  for (char32_t c : text)
    AppendAccentStripped(c, &out);
  return out;
}

TEST(UnicodeTest, LowercaseAndAccentStripping) {
  EXPECT_EQ(Lower(U"ÀΣЖ"), U"àσж");
  EXPECT_EQ(Lower(U"İ"), U"i\u0307");  // full mapping, two code points
  EXPECT_EQ(Strip(U"Crème brûlée"), U"Creme brulee");
  EXPECT_EQ(Strip(U"Ἀθῆναι"), U"Αθηναι");
  EXPECT_EQ(Strip(U"Ёлка й"), U"Елка и");
  EXPECT_EQ(Strip(U"e\u0301"), U"e");
  EXPECT_EQ(Strip(U"한"), U"\u1112\u1161\u11AB");  // Hangul decomposes into jamo
  EXPECT_EQ(Strip(U"Ω"), U"Ω");                    // U+2126 -> U+03A9
}

}  // namespace
}  // namespace ksdb::embed::unicode
