#include "embed/tokenizer.h"

#include <gtest/gtest.h>

#include "embed_test_util.h"

namespace ksdb::embed {
namespace {

using Ids = std::vector<int32_t>;

class MiniLmTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::Exists(testing::MiniLmTokenizerPath()))
      GTEST_SKIP() << "no MiniLM tokenizer";
    auto loaded = Tokenizer::Load(testing::MiniLmTokenizerPath());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    tokenizer_ = std::move(*loaded);
  }
  Ids Encode(const std::string& text) {
    Ids ids;
    tokenizer_->Encode(text, &ids);
    return ids;
  }
  std::unique_ptr<Tokenizer> tokenizer_;
};

// Expected ids were worked out by hand from all-MiniLM-L6-v2-tokenizer/vocab.txt (id = line
// number - 1, looked up with `grep -nxF TOKEN vocab.txt`): normalise as BERT does (drop
// controls, accents stripped after NFD, lowercase, spaces around CJK), split on
// whitespace and on every punctuation character, then take the longest vocabulary
// prefix of each word, continuing with "##" pieces; a word with an unmatched rest, or
// longer than 100 characters, is [UNK] = 100.
TEST_F(MiniLmTokenizerTest, AccentsAreStrippedAndLowercased) {
  // hello=7592 ,=1010 world=2088 !=999 (each "!" is its own word)
  EXPECT_EQ(Encode("Héllo, Wörld!!!"), (Ids{7592, 1010, 2088, 999, 999, 999}));
  // creme: cr=13675 ##eme=21382; brulee: br=7987 ##ule=9307 ##e=2063
  EXPECT_EQ(Encode("Crème BRÛLÉE"), (Ids{13675, 21382, 7987, 9307, 2063}));
  // naïve -> naive=15743; café -> cafe=7668
  EXPECT_EQ(Encode("naïve café"), (Ids{15743, 7668}));
  // Αθήνα -> αθηνα: α=1155 ##θ=29725 ##η=24824 ##ν=16177 ##α=14608
  EXPECT_EQ(Encode("Αθήνα"), (Ids{1155, 29725, 24824, 16177, 14608}));
  // Москва -> москва: м=1191 ##о=14150 ##с=29747 ##к=23925 ##в=25529 ##а=10260
  EXPECT_EQ(Encode("Москва"), (Ids{1191, 14150, 29747, 23925, 25529, 10260}));
  // A combining acute after e is a nonspacing mark and disappears: cafe=7668
  EXPECT_EQ(Encode("cafe\xCC\x81"), (Ids{7668}));
}

TEST_F(MiniLmTokenizerTest, CjkCharactersAreSeparateWords) {
  // 北=1781 京=1755; 爱 is not in the vocabulary -> [UNK]=100
  EXPECT_EQ(Encode("北京爱"), (Ids{1781, 1755, 100}));
  // 東=1879 京=1755 (each ideograph is its own word, so no ## piece)
  EXPECT_EQ(Encode("東京"), (Ids{1879, 1755}));
  // hello=7592 北=1781 world=2088
  EXPECT_EQ(Encode("hello北world"), (Ids{7592, 1781, 2088}));
}

TEST_F(MiniLmTokenizerTest, PunctuationRunsSplitPerCharacter) {
  // wait=3524 .=1012 .=1012 .=1012 !=999 ?=1029
  EXPECT_EQ(Encode("wait...!?"), (Ids{3524, 1012, 1012, 1012, 999, 1029}));
  // leading dots: .=1012 x3, hi=7632
  EXPECT_EQ(Encode("...hi"), (Ids{1012, 1012, 1012, 7632}));
}

TEST_F(MiniLmTokenizerTest, LongWordsAndPieces) {
  // una=14477 ##ffa=20961 ##ble=3468
  EXPECT_EQ(Encode("unaffable"), (Ids{14477, 20961, 3468}));
  // aaa=13360 ##aa=11057 ##aa=11057 ##aa=11057 ##a=2050 (ten a's)
  EXPECT_EQ(Encode("aaaaaaaaaa"), (Ids{13360, 11057, 11057, 11057, 2050}));
  // 123=13138 ##45=19961 ##6=2575 ##7=2581 ##8=2620 ##90=21057 ##12=12521 ##34=22022
  // ##56=26976 ##7=2581 ##8=2620 ##90=21057
  EXPECT_EQ(Encode("12345678901234567890"),
            (Ids{13138, 19961, 2575, 2581, 2620, 21057, 12521, 22022, 26976, 2581, 2620, 21057}));
  // 101 characters is over max_input_chars_per_word (100): one [UNK]
  EXPECT_EQ(Encode(std::string(101, 'a') + " hi"), (Ids{100, 7632}));
  // Exactly 100 a's is pieced: aaa + 48 x ##aa + ##a
  Ids hundred = Encode(std::string(100, 'a'));
  ASSERT_EQ(hundred.size(), 50u);
  EXPECT_EQ(hundred.front(), 13360);
  EXPECT_EQ(hundred.back(), 2050);
}

TEST_F(MiniLmTokenizerTest, EmptyTextControlsAndSpecialTokens) {
  EXPECT_EQ(Encode(""), Ids{});
  EXPECT_EQ(Encode(" \t\n "), Ids{});
  // NUL and U+0001 are removed by clean_text (no split); \t becomes a space: hi=7632
  EXPECT_EQ(Encode(std::string("h\0i\x01\thi", 7)), (Ids{7632, 7632}));
  // Added tokens are matched in the raw text: [CLS]=101 hi=7632 [SEP]=102
  EXPECT_EQ(Encode("[CLS] hi[SEP]"), (Ids{101, 7632, 102}));
  // 😀 is not in the vocabulary: [UNK]=100
  EXPECT_EQ(Encode("😀"), (Ids{100}));
  EXPECT_EQ(tokenizer_->unk_id(), 100);
  EXPECT_EQ(tokenizer_->vocab_size(), 30522u);
  EXPECT_EQ(tokenizer_->TokenId("##eme"), 21382);
}

Ids EncodeWith(const std::string& json, const std::string& text) {
  auto tokenizer = Tokenizer::FromJson(json, "test.json");
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  Ids ids;
  if (tokenizer.ok())
    (*tokenizer)->Encode(text, &ids);
  return ids;
}

constexpr const char* kVocab =
    R"("vocab":{"[UNK]":0,"hello":1,"world":2,"!":3,"it":4,"'":5,"s":6,"Hello":7,"it's":8})";

TEST(TokenizerTest, WordLevelWithPreTokenizers) {
  std::string model =
      std::string(R"("model":{"type":"WordLevel",)") + kVocab + R"(,"unk_token":"[UNK]"})";
  std::string bert = R"({"pre_tokenizer":{"type":"BertPreTokenizer"},)" + model + "}";
  EXPECT_EQ(EncodeWith(bert, "Hello world! it's x"), (Ids{7, 2, 3, 4, 5, 6, 0}));
  std::string lower = R"({"normalizer":{"type":"Sequence","normalizers":[{"type":"Lowercase"}]},)"
                      R"("pre_tokenizer":{"type":"BertPreTokenizer"},)" +
                      model + "}";
  EXPECT_EQ(EncodeWith(lower, "HELLO"), (Ids{1}));
  // Whitespace: \w+ and runs of other non-space characters.
  std::string whitespace = R"({"pre_tokenizer":{"type":"Whitespace"},)" + model + "}";
  EXPECT_EQ(EncodeWith(whitespace, "hello!! it's"), (Ids{1, 0, 4, 5, 6}));
  // WhitespaceSplit keeps punctuation attached.
  std::string split = R"({"pre_tokenizer":{"type":"Sequence","pretokenizers":[)"
                      R"({"type":"WhitespaceSplit"}]},)" +
                      model + "}";
  EXPECT_EQ(EncodeWith(split, " it's\u3000hello "), (Ids{8, 1}));
  // No pre-tokenizer: the whole text is one word.
  std::string none = "{" + model + "}";
  EXPECT_EQ(EncodeWith(none, "hello"), (Ids{1}));
  EXPECT_EQ(EncodeWith(none, "hello world"), (Ids{0}));
}

TEST(TokenizerTest, NfdStripAccentsSequence) {
  std::string json = R"({"normalizer":{"type":"Sequence","normalizers":[{"type":"NFD"},)"
                     R"({"type":"StripAccents"},{"type":"Lowercase"}]},)"
                     R"("pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordLevel",)" +
                     std::string(kVocab) + R"(,"unk_token":"[UNK]"})" + "}";
  EXPECT_EQ(EncodeWith(json, "Hëllö wörld"), (Ids{1, 2}));
}

void ExpectUnsupported(const std::string& json, const std::string& component) {
  auto tokenizer = Tokenizer::FromJson(json, "/models/x/tokenizer.json");
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_EQ(tokenizer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(tokenizer.status().message().find("/models/x/tokenizer.json"), std::string::npos);
  EXPECT_NE(tokenizer.status().message().find(component), std::string::npos)
      << tokenizer.status().message();
}

TEST(TokenizerTest, UnsupportedComponentsAreNamed) {
  std::string model =
      std::string(R"("model":{"type":"WordLevel",)") + kVocab + R"(,"unk_token":"[UNK]"})";
  ExpectUnsupported(R"({"model":{"type":"BPE","vocab":{},"merges":[]}})", "model BPE");
  ExpectUnsupported(R"({"model":{"type":"Unigram","vocab":[]}})", "model Unigram");
  ExpectUnsupported(R"({"normalizer":{"type":"NFKC"},)" + model + "}", "normalizer NFKC");
  ExpectUnsupported(
      R"({"normalizer":{"type":"Sequence","normalizers":[{"type":"NFD"}]},)" + model + "}",
      "normalizer NFD");
  ExpectUnsupported(R"({"pre_tokenizer":{"type":"ByteLevel"},)" + model + "}",
                    "pre_tokenizer ByteLevel");
  ExpectUnsupported(
      R"({"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Metaspace"}]},)" + model +
          "}",
      "pre_tokenizer Metaspace");
  ExpectUnsupported("{\"model\": [}", "invalid JSON");
  ExpectUnsupported("{}", "missing \"model\"");
  ExpectUnsupported(R"({"model":{"type":"WordLevel","vocab":{"a":-1}}})", "vocab id of 'a'");
  ExpectUnsupported(R"({"model":{"type":"WordPiece","vocab":{"a":0},"unk_token":"[UNK]"}})",
                    "unk_token is missing");
}

TEST(TokenizerTest, MissingFileIsNamed) {
  auto tokenizer = Tokenizer::Load("/nonexistent/tokenizer.json");
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_NE(tokenizer.status().message().find("/nonexistent/tokenizer.json"), std::string::npos);
}

}  // namespace
}  // namespace ksdb::embed
