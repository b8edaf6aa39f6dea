// Value types for record writes and reads shared by the engine and its faces.
#ifndef KSDB_CORE_RECORDS_H_
#define KSDB_CORE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/metadata.h"

namespace ksdb {

// A column of embeddings for a write batch, row-major: row i is
// values[i * dim, (i + 1) * dim). `present[i] == 0` marks a null entry (update:
// keep the old embedding); present rows must all have length `dim`.
struct EmbeddingColumn {
  size_t dim = 0;
  std::vector<float> values;
  std::vector<uint8_t> present;  // one per row
};

// One add / upsert / update request. A field that was not sent is nullopt; an
// entry that was sent as JSON null is nullopt inside the vector.
struct WriteBatch {
  std::vector<std::string> ids;
  std::optional<EmbeddingColumn> embeddings;
  std::optional<std::vector<std::optional<std::string>>> documents;
  std::optional<std::vector<std::optional<std::string>>> uris;
  std::optional<std::vector<std::optional<MetadataPatch>>> metadatas;
};

// Which fields a get/query returns (spec §8).
struct Include {
  bool embeddings = false;
  bool documents = true;
  bool uris = false;
  bool metadatas = true;
  bool distances = false;
};

// Records as returned by get: parallel arrays. Vectors for fields not included
// stay empty. A record without document/uri/metadata has nullopt there.
struct GetResult {
  std::vector<std::string> ids;
  std::vector<std::vector<float>> embeddings;
  std::vector<std::optional<std::string>> documents;
  std::vector<std::optional<std::string>> uris;
  std::vector<std::optional<Metadata>> metadatas;
};

// One query embedding's answer: GetResult plus distances, nearest first.
struct QueryHits {
  GetResult records;
  std::vector<float> distances;
};

}  // namespace ksdb

#endif  // KSDB_CORE_RECORDS_H_
