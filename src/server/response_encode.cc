#include "server/response_encode.h"

#include <optional>

namespace ksdb::server {
namespace {

void WriteOptionalString(const std::optional<std::string>& value, JsonWriter* writer) {
  if (value) {
    writer->String(*value);
  } else {
    writer->Null();
  }
}

void WriteHnsw(const HnswConfig& hnsw, JsonWriter* writer) {
  writer->BeginObject();
  writer->Key("space");
  writer->String(DistanceSpaceName(hnsw.space));
  writer->Key("ef_construction");
  writer->Uint(hnsw.ef_construction);
  writer->Key("ef_search");
  writer->Uint(hnsw.ef_search);
  writer->Key("max_neighbors");
  writer->Uint(hnsw.max_neighbors);
  writer->Key("resize_factor");
  writer->Double(hnsw.resize_factor);
  writer->Key("sync_threshold");
  writer->Uint(hnsw.sync_threshold);
  writer->EndObject();
}

void WriteIds(const GetResult& records, JsonWriter* writer) {
  writer->BeginArray();
  for (const std::string& id : records.ids)
    writer->String(id);
  writer->EndArray();
}

void WriteFloats(const std::vector<float>& values, JsonWriter* writer) {
  writer->BeginArray();
  for (float value : values)
    writer->Float(value);
  writer->EndArray();
}

void WriteEmbeddings(const GetResult& records, JsonWriter* writer) {
  writer->BeginArray();
  for (const std::vector<float>& embedding : records.embeddings)
    WriteFloats(embedding, writer);
  writer->EndArray();
}

void WriteStrings(const std::vector<std::optional<std::string>>& values, JsonWriter* writer) {
  writer->BeginArray();
  for (const auto& value : values)
    WriteOptionalString(value, writer);
  writer->EndArray();
}

void WriteMetadatas(const std::vector<std::optional<Metadata>>& values, JsonWriter* writer) {
  writer->BeginArray();
  for (const auto& value : values) {
    if (value && !value->empty()) {
      writer->WriteMetadata(*value);
    } else {
      writer->Null();
    }
  }
  writer->EndArray();
}

void WriteIncludeEcho(const std::vector<std::string>& include_echo, JsonWriter* writer) {
  writer->Key("include");
  writer->BeginArray();
  for (const std::string& name : include_echo)
    writer->String(name);
  writer->EndArray();
}

// Writes `key` with the value built by `write`, or null when the field is not
// included.
template <typename Fn>
void WriteColumn(const char* key, bool included, JsonWriter* writer, Fn write) {
  writer->Key(key);
  if (included) {
    write();
  } else {
    writer->Null();
  }
}

// The per-record columns of a get result, each a JSON array or null.
void WriteRecordColumns(const GetResult& records, const Include& include, JsonWriter* writer) {
  writer->Key("ids");
  WriteIds(records, writer);
  WriteColumn("embeddings", include.embeddings, writer, [&] { WriteEmbeddings(records, writer); });
  WriteColumn("documents", include.documents, writer,
              [&] { WriteStrings(records.documents, writer); });
  WriteColumn("uris", include.uris, writer, [&] { WriteStrings(records.uris, writer); });
  WriteColumn("metadatas", include.metadatas, writer,
              [&] { WriteMetadatas(records.metadatas, writer); });
}

size_t EstimateBytes(const GetResult& records, const Include& include) {
  size_t bytes = 128 + records.ids.size() * 24;
  if (include.embeddings && !records.embeddings.empty()) {
    bytes += records.embeddings.size() * records.embeddings[0].size() * 12;
  }
  if (include.documents) {
    for (const auto& document : records.documents)
      bytes += document ? document->size() + 4 : 6;
  }
  if (include.metadatas)
    bytes += records.metadatas.size() * 48;
  return bytes;
}

// Writes `key` as a list over the query results built by `write_one`, or null
// when the field is not included.
template <typename Fn>
void WriteQueryColumn(const char* key, bool included, const std::vector<QueryHits>& hits,
                      JsonWriter* writer, Fn write_one) {
  WriteColumn(key, included, writer, [&] {
    writer->BeginArray();
    for (const QueryHits& hit : hits)
      write_one(hit);
    writer->EndArray();
  });
}

}  // namespace

void WriteCollection(const db::CollectionInfo& collection, JsonWriter* writer) {
  writer->BeginObject();
  writer->Key("id");
  writer->String(collection.id);
  writer->Key("name");
  writer->String(collection.name);
  writer->Key("configuration_json");
  writer->BeginObject();
  writer->Key("hnsw");
  WriteHnsw(collection.config.hnsw, writer);
  writer->Key("spann");
  writer->Null();
  writer->Key("embedding_function");
  if (collection.config.embedding_function_json.empty()) {
    writer->Null();
  } else {
    writer->Raw(collection.config.embedding_function_json);
  }
  // ksdb's extensions appear only when set, so a default collection looks
  // exactly like Chroma's.
  if (collection.config.quantization != Quantization::kNone) {
    writer->Key("ksdb");
    writer->BeginObject();
    writer->Key("quantization");
    writer->String(QuantizationName(collection.config.quantization));
    writer->EndObject();
  }
  writer->EndObject();
  writer->Key("metadata");
  if (collection.metadata.empty()) {
    writer->Null();
  } else {
    writer->WriteMetadata(collection.metadata);
  }
  writer->Key("dimension");
  if (collection.dimension) {
    writer->Uint(*collection.dimension);
  } else {
    writer->Null();
  }
  writer->Key("tenant");
  writer->String(collection.tenant);
  writer->Key("database");
  writer->String(collection.database);
  writer->Key("log_position");
  writer->Int(0);
  writer->Key("version");
  writer->Int(0);
  writer->EndObject();
}

void WriteDatabase(const db::DatabaseInfo& database, JsonWriter* writer) {
  writer->BeginObject();
  writer->Key("id");
  writer->String(database.id);
  writer->Key("name");
  writer->String(database.name);
  writer->Key("tenant");
  writer->String(database.tenant);
  writer->EndObject();
}

std::string EncodeGetResult(const GetResult& result, const Include& include,
                            const std::vector<std::string>& include_echo) {
  std::string out;
  out.reserve(EstimateBytes(result, include));
  JsonWriter writer(&out);
  writer.BeginObject();
  WriteRecordColumns(result, include, &writer);
  WriteIncludeEcho(include_echo, &writer);
  writer.EndObject();
  return out;
}

std::string EncodeQueryResult(const std::vector<QueryHits>& hits, const Include& include,
                              const std::vector<std::string>& include_echo) {
  std::string out;
  size_t estimate = 128;
  for (const QueryHits& hit : hits)
    estimate += EstimateBytes(hit.records, include);
  out.reserve(estimate);
  JsonWriter writer(&out);
  writer.BeginObject();
  WriteQueryColumn("ids", true, hits, &writer,
                   [&](const QueryHits& hit) { WriteIds(hit.records, &writer); });
  WriteQueryColumn("embeddings", include.embeddings, hits, &writer,
                   [&](const QueryHits& hit) { WriteEmbeddings(hit.records, &writer); });
  WriteQueryColumn("documents", include.documents, hits, &writer,
                   [&](const QueryHits& hit) { WriteStrings(hit.records.documents, &writer); });
  WriteQueryColumn("uris", include.uris, hits, &writer,
                   [&](const QueryHits& hit) { WriteStrings(hit.records.uris, &writer); });
  WriteQueryColumn("metadatas", include.metadatas, hits, &writer,
                   [&](const QueryHits& hit) { WriteMetadatas(hit.records.metadatas, &writer); });
  WriteQueryColumn("distances", include.distances, hits, &writer,
                   [&](const QueryHits& hit) { WriteFloats(hit.distances, &writer); });
  WriteIncludeEcho(include_echo, &writer);
  writer.EndObject();
  return out;
}

}  // namespace ksdb::server
