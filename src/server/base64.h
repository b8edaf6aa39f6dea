// Standard base64 (RFC 4648, '=' padding required) decoding of packed
// little-endian float32 embeddings, as sent by Chroma clients (spec §8.3).
#ifndef KSDB_SERVER_BASE64_H_
#define KSDB_SERVER_BASE64_H_

#include <cstddef>
#include <string_view>

#include "common/result.h"

namespace ksdb::server {

// Number of bytes `text` decodes to, or InvalidArgument when its length or
// padding is malformed. O(1): does not look at the symbols between.
Result<size_t> Base64DecodedSize(std::string_view text);

// Decodes `text` into `out`, which must hold Base64DecodedSize(text) bytes.
// InvalidArgument "Base64 decoding error: Invalid base64 string: Invalid symbol
// <byte>, offset <i>." for a bad character.
Status Base64Decode(std::string_view text, unsigned char* out);

// The number of float32 values `text` encodes. InvalidArgument for a bad
// length, or for a byte count that is not a multiple of 4 (a bad symbol is
// reported in preference to the latter).
Result<size_t> Base64FloatCount(std::string_view text);

// Decodes one base64 embedding into `out`, which must have room for
// Base64FloatCount(text) floats (little-endian float32 on the wire).
Status Base64DecodeFloats(std::string_view text, float* out);

}  // namespace ksdb::server

#endif  // KSDB_SERVER_BASE64_H_
