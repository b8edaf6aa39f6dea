#include "embed/unicode.h"

#include <algorithm>
#include <cstdint>
#include <span>

namespace ksdb::embed::unicode {
namespace {

struct CodeRange {
  char32_t lo;
  char32_t hi;
};
struct LowerEntry {
  char32_t code_point;
  uint8_t length;
  char32_t mapped[3];
};
struct StripEntry {
  char32_t code_point;
  uint16_t offset;
  uint8_t length;
};

#include "embed/unicode_tables.inc"

bool InRanges(std::span<const CodeRange> ranges, char32_t c) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), c,
                             [](char32_t value, const CodeRange& r) { return value < r.lo; });
  return it != ranges.begin() && c <= std::prev(it)->hi;
}

template <typename Entry>
const Entry* FindEntry(std::span<const Entry> entries, char32_t c) {
  auto it = std::lower_bound(entries.begin(), entries.end(), c,
                             [](const Entry& e, char32_t value) { return e.code_point < value; });
  return it != entries.end() && it->code_point == c ? &*it : nullptr;
}

constexpr char32_t kReplacement = 0xFFFD;

// Length of the UTF-8 sequence led by `lead`, 0 when `lead` cannot start one.
int SequenceLength(unsigned char lead) {
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

}  // namespace

void DecodeUtf8(std::string_view text, std::u32string* out) {
  out->reserve(out->size() + text.size());
  size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      out->push_back(lead);
      ++i;
      continue;
    }
    int length = SequenceLength(lead);
    if (length == 0 || i + length > text.size()) {
      out->push_back(kReplacement);
      ++i;
      continue;
    }
    char32_t c = lead & (0xFF >> (length + 1));
    bool valid = true;
    for (int k = 1; k < length; ++k) {
      auto byte = static_cast<unsigned char>(text[i + k]);
      if ((byte & 0xC0) != 0x80) {
        valid = false;
        break;
      }
      c = (c << 6) | (byte & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
    static constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (!valid || c < kMinForLength[length] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
      out->push_back(kReplacement);
      ++i;
      continue;
    }
    out->push_back(c);
    i += length;
  }
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

void AppendUtf8(std::u32string_view code_points, std::string* out) {
  for (char32_t c : code_points)
    AppendUtf8(c, out);
}

bool IsPunctuation(char32_t c) {
  return InRanges(kPunctuation, c);
}

bool IsBertPunctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126)) {
    return true;
  }
  return c >= 0x80 && IsPunctuation(c);
}

bool IsWhitespace(char32_t c) {
  if (c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85)
    return true;
  return c >= 0x80 && InRanges(kSpaceSeparator, c);
}

bool IsControl(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r')
    return false;
  return InRanges(kOther, c);
}

bool IsNonspacingMark(char32_t c) {
  return c >= 0x300 && InRanges(kNonspacingMark, c);
}

bool IsWordChar(char32_t c) {
  if (c < 0x80) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  return InRanges(kWordChar, c);
}

bool IsChineseChar(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

void AppendLowercase(char32_t c, std::u32string* out) {
  if (c < 0x80) {
    out->push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  const LowerEntry* entry = FindEntry<LowerEntry>(kLower, c);
  if (entry == nullptr) {
    out->push_back(c);
    return;
  }
  out->append(entry->mapped, entry->length);
}

void AppendAccentStripped(char32_t c, std::u32string* out) {
  if (c < 0xC0) {
    out->push_back(c);
    return;
  }
  // Hangul syllables decompose arithmetically into conjoining jamo (none of them Mn).
  constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
  constexpr char32_t kTCount = 28, kNCount = 21 * 28, kSCount = 19 * 21 * 28;
  if (c >= kSBase && c < kSBase + kSCount) {
    char32_t index = c - kSBase;
    out->push_back(kLBase + index / kNCount);
    out->push_back(kVBase + (index % kNCount) / kTCount);
    if (index % kTCount != 0)
      out->push_back(kTBase + index % kTCount);
    return;
  }
  if (const StripEntry* entry = FindEntry<StripEntry>(kStrip, c)) {
    out->append(kStripData + entry->offset, entry->length);
    return;
  }
  if (!IsNonspacingMark(c))
    out->push_back(c);
}

}  // namespace ksdb::embed::unicode
