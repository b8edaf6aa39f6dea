#include "storage/sqlite/row_codec.h"

#include <bit>
#include <cstring>
#include <limits>

namespace ksdb::storage::sqlite {
namespace {

constexpr bool kLittleEndian = std::endian::native == std::endian::little;

uint32_t ByteSwap(uint32_t v) {
  return ((v & 0xffu) << 24) | ((v & 0xff00u) << 8) | ((v >> 8) & 0xff00u) | (v >> 24);
}

}  // namespace

void BindEmbedding(ScopedStatement& stmt, int index, std::span<const float> embedding,
                   std::string* scratch) {
  const size_t size = embedding.size() * sizeof(float);
  if constexpr (kLittleEndian) {
    stmt.BindBlob(index, embedding.data(), size);
  } else {
    scratch->resize(size);
    for (size_t i = 0; i < embedding.size(); ++i) {
      const uint32_t le = ByteSwap(std::bit_cast<uint32_t>(embedding[i]));
      std::memcpy(scratch->data() + i * sizeof(float), &le, sizeof(le));
    }
    stmt.BindBlob(index, scratch->data(), size);
  }
}

Result<std::vector<float>> DecodeEmbedding(std::string_view bytes) {
  if (bytes.size() % sizeof(float) != 0) {
    return Status::Corruption("embedding blob of " + std::to_string(bytes.size()) +
                              " bytes is not a whole number of float32 values");
  }
  std::vector<float> out(bytes.size() / sizeof(float));
  if (!out.empty())
    std::memcpy(out.data(), bytes.data(), bytes.size());
  if constexpr (!kLittleEndian) {
    for (float& f : out)
      f = std::bit_cast<float>(ByteSwap(std::bit_cast<uint32_t>(f)));
  }
  return out;
}

std::string EncodeStoredMetadata(const Metadata& metadata) {
  if (metadata.empty())
    return std::string();
  return EncodeMetadata(metadata);
}

void BindStoredMetadata(ScopedStatement& stmt, int index, const std::string& encoded) {
  if (encoded.empty()) {
    stmt.BindNull(index);
  } else {
    stmt.BindBlob(index, encoded.data(), encoded.size());
  }
}

Result<Metadata> DecodeStoredMetadata(std::string_view bytes) {
  if (bytes.empty())
    return Metadata();
  return DecodeMetadata(bytes);
}

Result<int64_t> ToStoredInt(uint64_t value, std::string_view field) {
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Status::InvalidArgument(std::string(field) + " " + std::to_string(value) +
                                   " is too large for the record store");
  }
  return static_cast<int64_t>(value);
}

}  // namespace ksdb::storage::sqlite
