#include "server/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace ksdb::server {
namespace {

// Appends the decimal text of the integer `value`.
template <typename T>
void AppendInteger(T value, std::string* out) {
  char buf[24];  // fits every 64-bit integer with its sign
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  (void)ec;
  out->append(buf, end);
}

// The shortest round-trip decimal of a finite non-zero value: digits d1..dn
// (no leading zeros) and `kk` such that value = 0.d1..dn * 10^kk.
struct Decimal {
  char digits[32];
  int length = 0;
  int kk = 0;
};

template <typename T>
Decimal ShortestDecimal(T magnitude) {
  // to_chars in scientific form yields the shortest round-trip digits as
  // "d.ddde+XX"; we only re-layout them.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), magnitude, std::chars_format::scientific);
  (void)ec;  // cannot fail: the buffer fits every float/double
  Decimal dec;
  const char* p = buf;
  for (; p < end && *p != 'e'; ++p) {
    if (*p != '.')
      dec.digits[dec.length++] = *p;
  }
  int exp10 = 0;
  std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), end, exp10);
  // Scientific digits never carry trailing zeros except the single "0" case.
  while (dec.length > 1 && dec.digits[dec.length - 1] == '0')
    --dec.length;
  dec.kk = exp10 + 1;
  return dec;
}

// Lays out `dec` like ryu's pretty formatter. `max_plain` is the largest kk
// printed without exponent (16 for f64, 13 for f32); `min_small` the smallest
// kk printed as 0.000ddd (exclusive bound: -5 for f64, -6 for f32).
void AppendPretty(const Decimal& dec, int max_plain, int min_small, std::string* out) {
  const int length = dec.length;
  const int kk = dec.kk;
  const int k = kk - length;
  if (k >= 0 && kk <= max_plain) {
    out->append(dec.digits, length);
    out->append(static_cast<size_t>(k), '0');
    out->append(".0");
  } else if (kk > 0 && kk <= max_plain) {
    out->append(dec.digits, kk);
    out->push_back('.');
    out->append(dec.digits + kk, length - kk);
  } else if (kk > min_small && kk <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-kk), '0');
    out->append(dec.digits, length);
  } else {
    out->push_back(dec.digits[0]);
    if (length > 1) {
      out->push_back('.');
      out->append(dec.digits + 1, length - 1);
    }
    out->push_back('e');
    AppendInteger(kk - 1, out);
  }
}

template <typename T>
void AppendFloating(T value, int max_plain, int min_small, std::string* out) {
  if (!std::isfinite(value)) {
    out->append("null");
    return;
  }
  if (std::signbit(value))
    out->push_back('-');
  if (value == 0) {
    out->append("0.0");
    return;
  }
  AppendPretty(ShortestDecimal(std::fabs(value)), max_plain, min_small, out);
}

// Length of the valid UTF-8 sequence starting at s[0] (a byte >= 0x80), or 0
// when it is invalid (overlong, surrogate, out of range or truncated).
size_t Utf8SequenceLength(const unsigned char* s, size_t avail) {
  unsigned char c = s[0];
  auto cont = [&](size_t i) { return i < avail && (s[i] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2))
      return 0;
    if (c == 0xE0 && s[1] < 0xA0)
      return 0;  // overlong
    if (c == 0xED && s[1] > 0x9F)
      return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3))
      return 0;
    if (c == 0xF0 && s[1] < 0x90)
      return 0;  // overlong
    if (c == 0xF4 && s[1] > 0x8F)
      return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool NeedsEscape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

void AppendEscape(unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out->append("\\\"");
      return;
    case '\\':
      out->append("\\\\");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    default: {
      char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(buf, 6);
    }
  }
}

}  // namespace

void AppendFloat(float value, std::string* out) {
  AppendFloating(value, 13, -6, out);
}

void AppendDouble(double value, std::string* out) {
  AppendFloating(value, 16, -5, out);
}

void AppendJsonString(std::string_view text, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  out->reserve(out->size() + n + 2);
  out->push_back('"');
  size_t run_start = 0;
  size_t i = 0;
  while (i < n) {
    if (!NeedsEscape(s[i])) {
      ++i;
      continue;
    }
    if (s[i] >= 0x80) {
      size_t len = Utf8SequenceLength(s + i, n - i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out->append(text.data() + run_start, i - run_start);
    if (s[i] >= 0x80) {
      out->append("\xEF\xBF\xBD");  // U+FFFD for an invalid byte
    } else {
      AppendEscape(s[i], out);
    }
    ++i;
    run_start = i;
  }
  out->append(text.data() + run_start, n - run_start);
  out->push_back('"');
}

void JsonWriter::Key(std::string_view key) {
  Separate();
  AppendJsonString(key, out_);
  out_->push_back(':');
  need_comma_ = false;
}

void JsonWriter::String(std::string_view value) {
  Separate();
  AppendJsonString(value, out_);
  need_comma_ = true;
}

void JsonWriter::Int(int64_t value) {
  Separate();
  AppendInteger(value, out_);
  need_comma_ = true;
}

void JsonWriter::Uint(uint64_t value) {
  Separate();
  AppendInteger(value, out_);
  need_comma_ = true;
}

void JsonWriter::Float(float value) {
  Separate();
  AppendFloat(value, out_);
  need_comma_ = true;
}

void JsonWriter::Double(double value) {
  Separate();
  AppendDouble(value, out_);
  need_comma_ = true;
}

void JsonWriter::Bool(bool value) {
  Separate();
  out_->append(value ? "true" : "false");
  need_comma_ = true;
}

void JsonWriter::Null() {
  Separate();
  out_->append("null");
  need_comma_ = true;
}

void JsonWriter::Raw(std::string_view json) {
  Separate();
  out_->append(json);
  need_comma_ = true;
}

void JsonWriter::WriteMetadata(const Metadata& metadata) {
  BeginObject();
  for (const auto& [key, value] : metadata.entries()) {
    Key(key);
    WriteMetadataValue(value);
  }
  EndObject();
}

void JsonWriter::WriteMetadataValue(const MetadataValue& value) {
  std::visit(
      [this](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, bool>) {
          Bool(v);
        } else if constexpr (std::is_same_v<V, int64_t>) {
          Int(v);
        } else if constexpr (std::is_same_v<V, double>) {
          Double(v);
        } else if constexpr (std::is_same_v<V, std::string>) {
          String(v);
        } else {
          BeginArray();
          for (const auto& element : v) {
            using E = std::decay_t<decltype(element)>;
            if constexpr (std::is_same_v<V, std::vector<bool>>) {
              Bool(static_cast<bool>(element));
            } else if constexpr (std::is_same_v<E, int64_t>) {
              Int(element);
            } else if constexpr (std::is_same_v<E, double>) {
              Double(element);
            } else {
              String(element);
            }
          }
          EndArray();
        }
      },
      value);
}

}  // namespace ksdb::server
