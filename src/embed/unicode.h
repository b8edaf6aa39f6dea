// Unicode character classes and mappings needed by the tokenizers (internal to embed/).
//
// Tables are generated from the Unicode Character Database by gen_unicode_tables.py
// (unicode_tables.inc). All functions are pure and thread-safe.
#ifndef KSDB_EMBED_UNICODE_H_
#define KSDB_EMBED_UNICODE_H_

#include <string>
#include <string_view>
#include <vector>

namespace ksdb::embed::unicode {

// Decodes UTF-8; each invalid byte sequence becomes U+FFFD (one per bad byte).
void DecodeUtf8(std::string_view text, std::u32string* out);
// Appends the UTF-8 encoding of `code_points` to `out`.
void AppendUtf8(std::u32string_view code_points, std::string* out);
void AppendUtf8(char32_t code_point, std::string* out);

// General category P* (any punctuation).
bool IsPunctuation(char32_t c);
// BERT punctuation: ASCII punctuation (33-47, 58-64, 91-96, 123-126) or category P*.
bool IsBertPunctuation(char32_t c);
// White space as BERT sees it: \t \n \r, space separators (Zs), Zl, Zp, and the other
// ASCII White_Space controls (\v \f) and U+0085.
bool IsWhitespace(char32_t c);
// "Other" categories (Cc, Cf, Cn, Co, Cs) except \t \n \r.
bool IsControl(char32_t c);
// Nonspacing mark (Mn).
bool IsNonspacingMark(char32_t c);
// A regex \w character: letters, marks, decimal/letter numbers, connector punctuation.
bool IsWordChar(char32_t c);
// CJK ideographs as the BERT tokenizer defines them (the CJK Unified Ideographs blocks,
// extensions A-E and the compatibility ideographs).
bool IsChineseChar(char32_t c);
// Appends the full lowercase mapping of `c` (one to three code points) to `out`.
void AppendLowercase(char32_t c, std::u32string* out);
// Appends the canonical decomposition of `c` without nonspacing marks (NFD, then drop Mn).
// A nonspacing mark itself appends nothing.
void AppendAccentStripped(char32_t c, std::u32string* out);

}  // namespace ksdb::embed::unicode

#endif  // KSDB_EMBED_UNICODE_H_
