// Binding record-store values to SQLite statements in their stored form
// (storage/stored_values.h): embeddings as little-endian float32 blobs,
// metadata as EncodeMetadata blobs (NULL when empty).
#ifndef KSDB_STORAGE_SQLITE_ROW_CODEC_H_
#define KSDB_STORAGE_SQLITE_ROW_CODEC_H_

#include <span>
#include <string>

#include "storage/sqlite/sqlite_handle.h"
#include "storage/stored_values.h"

namespace ksdb::storage::sqlite {

// Binds `embedding` as a little-endian float32 blob. On little-endian hosts the
// vector's own memory is bound (no copy); elsewhere the bytes are built in
// `*scratch`. Both must outlive the statement's next Reset().
void BindEmbedding(ScopedStatement& stmt, int index, std::span<const float> embedding,
                   std::string* scratch);

// Binds the output of EncodeStoredMetadata; `encoded` must outlive the bind.
void BindStoredMetadata(ScopedStatement& stmt, int index, const std::string& encoded);

}  // namespace ksdb::storage::sqlite

#endif  // KSDB_STORAGE_SQLITE_ROW_CODEC_H_
