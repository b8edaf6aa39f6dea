// Conversions between record-store values and their SQLite column form:
// embeddings as little-endian float32 blobs, metadata as EncodeMetadata blobs
// (NULL when empty), unsigned counters as INTEGER.
#ifndef KSDB_STORAGE_SQLITE_ROW_CODEC_H_
#define KSDB_STORAGE_SQLITE_ROW_CODEC_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/metadata.h"
#include "storage/sqlite/sqlite_handle.h"

namespace ksdb::storage::sqlite {

// Binds `embedding` as a little-endian float32 blob. On little-endian hosts the
// vector's own memory is bound (no copy); elsewhere the bytes are built in
// `*scratch`. Both must outlive the statement's next Reset().
void BindEmbedding(ScopedStatement& stmt, int index, std::span<const float> embedding,
                   std::string* scratch);

// Bit-exact inverse of BindEmbedding. Corruption if the size is not a multiple
// of 4 bytes (the message says what is wrong; the caller adds which record).
Result<std::vector<float>> DecodeEmbedding(std::string_view bytes);

// The stored form of `metadata`: empty for empty metadata (bound as NULL).
std::string EncodeStoredMetadata(const Metadata& metadata);
// Binds the output of EncodeStoredMetadata; `encoded` must outlive the bind.
void BindStoredMetadata(ScopedStatement& stmt, int index, const std::string& encoded);
// NULL or empty bytes -> empty metadata, else DecodeMetadata.
Result<Metadata> DecodeStoredMetadata(std::string_view bytes);

// SQLite integers are signed 64-bit; values above INT64_MAX would sort as
// negative, so they are refused (InvalidArgument naming `field`).
Result<int64_t> ToStoredInt(uint64_t value, std::string_view field);

}  // namespace ksdb::storage::sqlite

#endif  // KSDB_STORAGE_SQLITE_ROW_CODEC_H_
