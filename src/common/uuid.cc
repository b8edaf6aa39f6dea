#include "common/uuid.h"

#include <cstdint>
#include <mutex>
#include <random>

namespace ksdb {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string FormatHyphenated(const uint8_t bytes[16]) {
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xF];
  }
  return out;
}

}  // namespace

std::string NewUuidV4() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  uint8_t bytes[16];
  {
    std::lock_guard<std::mutex> lock(mu);
    for (int i = 0; i < 16; i += 8) {
      uint64_t r = rng();
      for (int j = 0; j < 8; ++j) bytes[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return FormatHyphenated(bytes);
}

std::optional<std::string> ParseUuid(std::string_view text) {
  std::string hex;
  hex.reserve(32);
  if (text.size() == 36) {
    for (size_t i = 0; i < text.size(); ++i) {
      bool dash_pos = (i == 8 || i == 13 || i == 18 || i == 23);
      if (dash_pos != (text[i] == '-')) return std::nullopt;
      if (!dash_pos) hex += text[i];
    }
  } else if (text.size() == 32) {
    hex.assign(text);
  } else {
    return std::nullopt;
  }
  uint8_t bytes[16];
  for (int i = 0; i < 16; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return FormatHyphenated(bytes);
}

}  // namespace ksdb
