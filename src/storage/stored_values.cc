#include "storage/stored_values.h"

#include <cstring>
#include <limits>
#include <utility>

namespace ksdb::storage {
namespace {

Status CorruptRecord(const std::string& collection_id, const std::string& record_id,
                     const Status& cause) {
  return Status::Corruption("collection '" + collection_id + "' record '" + record_id +
                            "': " + cause.message());
}

Status CorruptCollection(const std::string& collection_id, const Status& cause) {
  return Status::Corruption("collection '" + collection_id + "': " + cause.message());
}

uint32_t ByteSwap(uint32_t v) {
  return ((v & 0xffu) << 24) | ((v & 0xff00u) << 8) | ((v >> 8) & 0xff00u) | (v >> 24);
}

}  // namespace

void AppendEmbeddingBytes(std::span<const float> embedding, std::string* out) {
  const size_t start = out->size();
  out->resize(start + embedding.size() * sizeof(float));
  char* dst = out->data() + start;
  if constexpr (kEmbeddingBytesAreNative) {
    if (!embedding.empty())
      std::memcpy(dst, embedding.data(), embedding.size() * sizeof(float));
  } else {
    for (size_t i = 0; i < embedding.size(); ++i) {
      const uint32_t le = ByteSwap(std::bit_cast<uint32_t>(embedding[i]));
      std::memcpy(dst + i * sizeof(float), &le, sizeof(le));
    }
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
  if constexpr (!kEmbeddingBytesAreNative) {
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

Result<RecordRow> DecodeRecordRow(StoredRecordColumns&& columns, const std::string& collection_id) {
  RecordRow row;
  row.record_id = std::move(columns.record_id);
  row.position = static_cast<uint64_t>(columns.position);
  row.seq = static_cast<uint64_t>(columns.seq);
  Result<std::vector<float>> embedding = DecodeEmbedding(columns.embedding);
  if (!embedding.ok())
    return CorruptRecord(collection_id, row.record_id, embedding.status());
  row.embedding = std::move(embedding).value();
  row.document = std::move(columns.document);
  row.uri = std::move(columns.uri);
  Result<Metadata> metadata = DecodeStoredMetadata(columns.metadata);
  if (!metadata.ok())
    return CorruptRecord(collection_id, row.record_id, metadata.status());
  row.metadata = std::move(metadata).value();
  row.created_at_us = columns.created_at_us;
  row.updated_at_us = columns.updated_at_us;
  return row;
}

Result<CollectionRow> DecodeCollectionRow(StoredCollectionColumns&& columns) {
  CollectionRow row;
  row.id = std::move(columns.id);
  row.name = std::move(columns.name);
  row.tenant = std::move(columns.tenant);
  row.database = std::move(columns.database);
  Result<Metadata> metadata = DecodeStoredMetadata(columns.metadata);
  if (!metadata.ok())
    return CorruptCollection(row.id, metadata.status());
  row.metadata = std::move(metadata).value();
  Result<CollectionConfig> config = DecodeCollectionConfig(columns.config);
  if (!config.ok())
    return CorruptCollection(row.id, config.status());
  row.config = std::move(config).value();
  if (columns.dimension.has_value()) {
    const int64_t dimension = *columns.dimension;
    if (dimension < 0 || dimension > std::numeric_limits<uint32_t>::max()) {
      return CorruptCollection(row.id, Status::Corruption("dimension out of range"));
    }
    row.dimension = static_cast<uint32_t>(dimension);
  }
  return row;
}

}  // namespace ksdb::storage
