#include "storage/sqlite/row_codec.h"

namespace ksdb::storage::sqlite {

void BindEmbedding(ScopedStatement& stmt, int index, std::span<const float> embedding,
                   std::string* scratch) {
  if constexpr (kEmbeddingBytesAreNative) {
    stmt.BindBlob(index, embedding.data(), embedding.size() * sizeof(float));
  } else {
    scratch->clear();
    AppendEmbeddingBytes(embedding, scratch);
    stmt.BindBlob(index, scratch->data(), scratch->size());
  }
}

void BindStoredMetadata(ScopedStatement& stmt, int index, const std::string& encoded) {
  if (encoded.empty()) {
    stmt.BindNull(index);
  } else {
    stmt.BindBlob(index, encoded.data(), encoded.size());
  }
}

}  // namespace ksdb::storage::sqlite
