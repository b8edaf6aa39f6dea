#include "embed_test_util.h"

namespace ksdb::embed::testing {

std::vector<std::string> VariedTexts(size_t count) {
  static const char* const kFragments[] = {"The cat sat on the mat.",
                                           "A kitten was resting on the rug",
                                           "Stock markets fell sharply",
                                           "HELLO",
                                           "World",
                                           "what?!?",
                                           "...",
                                           "--",
                                           "(brackets)",
                                           "\"quoted\"",
                                           "it's",
                                           "U.S.A.",
                                           "e-mail",
                                           "$100",
                                           "50%",
                                           "3.14159",
                                           "2024-01-02",
                                           "C++",
                                           "#hashtag",
                                           "@user",
                                           "a/b\\c",
                                           "Crème brûlée",
                                           "naïve café",
                                           "Über",
                                           "façade",
                                           "Ångström",
                                           "résumé",
                                           "São Paulo",
                                           "Αθήνα",
                                           "ΣΟΦΙΑ",
                                           "Ελλάδα",
                                           "Москва",
                                           "привет",
                                           "Ёлка",
                                           "北京",
                                           "我爱北京天安门",
                                           "東京",
                                           "日本語のテキスト",
                                           "한국어",
                                           "안녕하세요",
                                           "😀",
                                           "🇫🇷",
                                           "emoji😀inside",
                                           "\t",
                                           "\n",
                                           "  ",
                                           "\u00a0",
                                           "\u3000",
                                           "\u2028",
                                           "a\u200bb",
                                           "x\u0301",
                                           "\u00ad",
                                           "tab\there",
                                           "zero\x01byte",
                                           "[UNK]",
                                           "[unk]",
                                           "supercalifragilisticexpialidocious",
                                           "pneumonoultramicroscopicsilicovolcanoconiosis",
                                           "unaffable",
                                           "12345678901234567890",
                                           "¿Qué?",
                                           "¡Hola!",
                                           "«guillemets»",
                                           "“smart quotes”",
                                           "‘single’",
                                           "em—dash",
                                           "en–dash",
                                           "ellipsis…",
                                           "©2024",
                                           "™",
                                           "½",
                                           "Ⅻ",
                                           "ﬁ",
                                           "Ǆ",
                                           "İstanbul",
                                           "ß",
                                           "ǅ",
                                           "Ω",
                                           "K",
                                           "the",
                                           "of",
                                           "and",
                                           "government",
                                           "president",
                                           "said",
                                           "million",
                                           "people",
                                           "percent"};
  constexpr size_t kNumFragments = sizeof(kFragments) / sizeof(kFragments[0]);
  std::mt19937 random(12345);
  std::vector<std::string> texts;
  texts.push_back("");
  texts.push_back(" ");
  texts.push_back(std::string(150, 'a'));
  texts.push_back(std::string(120, 'x') + " the " + std::string(101, 'b'));
  for (size_t i = 0; i < kNumFragments && texts.size() < count; ++i)
    texts.push_back(kFragments[i]);
  static const char* const kSeparators[] = {" ", " ", " ", "", ", ", "\t", "\n", "!", " - "};
  while (texts.size() < count) {
    std::string text;
    size_t words = 1 + random() % 24;
    for (size_t w = 0; w < words; ++w) {
      if (w > 0)
        text += kSeparators[random() % (sizeof(kSeparators) / sizeof(kSeparators[0]))];
      text += kFragments[random() % kNumFragments];
    }
    texts.push_back(std::move(text));
  }
  // One long text past the 512-token cap.
  std::string long_text;
  for (int i = 0; i < 700; ++i)
    long_text += i % 2 ? "the " : "government ";
  if (!texts.empty())
    texts.back() = long_text;
  return texts;
}

}  // namespace ksdb::embed::testing
