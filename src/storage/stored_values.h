// The stored form of record-store values, shared by every store: embeddings as
// little-endian float32 bytes, metadata as EncodeMetadata bytes (absent when
// empty), unsigned counters as signed 64-bit integers.
#ifndef KSDB_STORAGE_STORED_VALUES_H_
#define KSDB_STORAGE_STORED_VALUES_H_

#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/metadata.h"
#include "storage/record_store.h"

namespace ksdb::storage {

// True when the host's float layout already is the stored one, so a vector's
// own memory can be written out without a copy.
inline constexpr bool kEmbeddingBytesAreNative = std::endian::native == std::endian::little;

// Appends `embedding` as little-endian float32 bytes to `*out`.
void AppendEmbeddingBytes(std::span<const float> embedding, std::string* out);

// Bit-exact inverse of AppendEmbeddingBytes. Corruption if the size is not a
// multiple of 4 bytes (the message says what is wrong; the caller adds which
// record).
Result<std::vector<float>> DecodeEmbedding(std::string_view bytes);

// The stored form of `metadata`: empty for empty metadata (stored as NULL).
std::string EncodeStoredMetadata(const Metadata& metadata);
// NULL or empty bytes -> empty metadata, else DecodeMetadata.
Result<Metadata> DecodeStoredMetadata(std::string_view bytes);

// Stored integers are signed 64-bit; values above INT64_MAX would sort as
// negative, so they are refused (InvalidArgument naming `field`).
Result<int64_t> ToStoredInt(uint64_t value, std::string_view field);

// A records row as read from a store, before decoding. The views must stay
// valid during DecodeRecordRow.
struct StoredRecordColumns {
  std::string record_id;
  int64_t position = 0;
  int64_t seq = 0;
  std::string_view embedding;
  std::optional<std::string> document;
  std::optional<std::string> uri;
  std::string_view metadata;  // empty = NULL
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

// Decodes a records row of collection `collection_id`; Corruption naming the
// collection and the record if the embedding or metadata bytes are bad.
Result<RecordRow> DecodeRecordRow(StoredRecordColumns&& columns, const std::string& collection_id);

// A collections row as read from a store, before decoding.
struct StoredCollectionColumns {
  std::string id;
  std::string name;
  std::string tenant;
  std::string database;
  std::string_view metadata;  // empty = NULL
  std::string_view config;
  std::optional<int64_t> dimension;
};

// Decodes a collections row; Corruption naming the collection if its metadata,
// config or dimension is bad.
Result<CollectionRow> DecodeCollectionRow(StoredCollectionColumns&& columns);

}  // namespace ksdb::storage

#endif  // KSDB_STORAGE_STORED_VALUES_H_
