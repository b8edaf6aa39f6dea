#include "server/catalog_decode.h"

#include <algorithm>
#include <array>

#include "server/metadata_decode.h"

namespace ksdb::server {
namespace {

constexpr std::array<std::string_view, 8> kCreateHnswKeys = {
    "space",       "ef_construction", "ef_search",      "max_neighbors",
    "num_threads", "resize_factor",   "sync_threshold", "batch_size"};
constexpr std::array<std::string_view, 6> kModifyHnswKeys = {
    "ef_search", "max_neighbors", "num_threads", "resize_factor", "sync_threshold", "batch_size"};
constexpr std::array<std::string_view, 9> kCreateSpannKeys = {
    "space",         "search_nprobe",           "write_nprobe",    "ef_construction", "ef_search",
    "max_neighbors", "reassign_neighbor_count", "split_threshold", "merge_threshold"};
constexpr std::array<std::string_view, 2> kModifySpannKeys = {"search_nprobe", "ef_search"};
constexpr std::array<std::string_view, 1> kKsdbKeys = {"quantization"};

template <size_t N>
std::string ExpectedList(const std::array<std::string_view, N>& keys) {
  std::string out;
  for (std::string_view key : keys) {
    if (!out.empty())
      out += ", ";
    // Appended piecewise: GCC 12 -O3 reports a false -Wrestrict on "`" + std::string(key).
    out += '`';
    out += key;
    out += '`';
  }
  return out;
}

// 422 for a key of `object` outside `allowed` (serde's deny_unknown_fields).
template <size_t N>
Status CheckKnownKeys(const JsonObject& object, std::string_view path,
                      const std::array<std::string_view, N>& allowed) {
  for (auto field : object) {
    if (std::find(allowed.begin(), allowed.end(), field.key) == allowed.end()) {
      return ShapeError(std::string(path) + ": unknown field `" + std::string(field.key) +
                        "`, expected one of " + ExpectedList(allowed));
    }
  }
  return Status::Ok();
}

// Sets `*out` (a uint32_t or an optional<uint32_t>) from the u32 field `key`
// when it is present.
template <typename T>
Status SetU32(const JsonObject& object, std::string_view key, std::string_view path, T* out) {
  if (auto value = OptionalField(object, key)) {
    KSDB_ASSIGN_OR_RETURN(*out, AsU32(*value, std::string(path) + "." + std::string(key)));
  }
  return Status::Ok();
}

// The hnsw keys that create and modify both accept, into an HnswConfig or an
// HnswConfigPatch.
template <typename Config>
Status DecodeHnswTunables(const JsonObject& object, std::string_view path, Config* config) {
  KSDB_RETURN_IF_ERROR(SetU32(object, "ef_search", path, &config->ef_search));
  KSDB_RETURN_IF_ERROR(SetU32(object, "max_neighbors", path, &config->max_neighbors));
  KSDB_RETURN_IF_ERROR(SetU32(object, "num_threads", path, &config->num_threads));
  KSDB_RETURN_IF_ERROR(SetU32(object, "sync_threshold", path, &config->sync_threshold));
  KSDB_RETURN_IF_ERROR(SetU32(object, "batch_size", path, &config->batch_size));
  if (auto resize = OptionalField(object, "resize_factor")) {
    KSDB_ASSIGN_OR_RETURN(config->resize_factor,
                          AsF64(*resize, std::string(path) + ".resize_factor"));
  }
  return Status::Ok();
}

// Checks a spann object whose values are not kept: only `allowed` keys (422
// otherwise), each of them but "space" a u32.
template <size_t N>
Status CheckSpannFields(const JsonObject& object, std::string_view path,
                        const std::array<std::string_view, N>& allowed) {
  KSDB_RETURN_IF_ERROR(CheckKnownKeys(object, path, allowed));
  for (std::string_view key : allowed) {
    if (key == "space")
      continue;
    uint32_t ignored = 0;
    KSDB_RETURN_IF_ERROR(SetU32(object, key, path, &ignored));
  }
  return Status::Ok();
}

Result<DistanceSpace> DecodeSpace(const JsonElement& value, std::string_view path) {
  KSDB_ASSIGN_OR_RETURN(std::string_view name, AsString(value, path));
  std::optional<DistanceSpace> space = ParseDistanceSpace(name);
  if (!space) {
    return ShapeError(std::string(path) + ": unknown variant `" + std::string(name) +
                      "`, expected one of `l2`, `cosine`, `ip`");
  }
  return *space;
}

Result<HnswConfig> DecodeCreateHnsw(const JsonElement& value) {
  constexpr std::string_view kPath = "configuration.hnsw";
  KSDB_ASSIGN_OR_RETURN(JsonObject object, AsObject(value, kPath));
  KSDB_RETURN_IF_ERROR(CheckKnownKeys(object, kPath, kCreateHnswKeys));
  HnswConfig config;
  if (auto space = OptionalField(object, "space")) {
    KSDB_ASSIGN_OR_RETURN(config.space, DecodeSpace(*space, "configuration.hnsw.space"));
  }
  KSDB_RETURN_IF_ERROR(SetU32(object, "ef_construction", kPath, &config.ef_construction));
  KSDB_RETURN_IF_ERROR(DecodeHnswTunables(object, kPath, &config));
  return config;
}

// spann is accepted for compatibility; single-node mode keeps only its space.
Result<HnswConfig> DecodeCreateSpann(const JsonElement& value) {
  constexpr std::string_view kPath = "configuration.spann";
  KSDB_ASSIGN_OR_RETURN(JsonObject object, AsObject(value, kPath));
  KSDB_RETURN_IF_ERROR(CheckSpannFields(object, kPath, kCreateSpannKeys));
  HnswConfig config;
  if (auto space = OptionalField(object, "space")) {
    KSDB_ASSIGN_OR_RETURN(config.space, DecodeSpace(*space, "configuration.spann.space"));
  }
  return config;
}

// configuration.ksdb, ksdb's own extensions: {"quantization": "none"|"int8"}.
Result<Quantization> DecodeKsdbBlock(const JsonElement& value) {
  constexpr std::string_view kPath = "configuration.ksdb";
  KSDB_ASSIGN_OR_RETURN(JsonObject object, AsObject(value, kPath));
  KSDB_RETURN_IF_ERROR(CheckKnownKeys(object, kPath, kKsdbKeys));
  Quantization quantization = Quantization::kNone;
  if (auto field = OptionalField(object, "quantization")) {
    KSDB_ASSIGN_OR_RETURN(std::string_view name, AsString(*field, "configuration.ksdb.quantization"));
    std::optional<Quantization> parsed = ParseQuantization(name);
    if (!parsed) {
      return ShapeError("configuration.ksdb.quantization: unknown variant `" + std::string(name) +
                        "`, expected one of `none`, `int8`");
    }
    quantization = *parsed;
  }
  return quantization;
}

Status DecodeConfiguration(const JsonElement& value, db::CreateCollectionRequest* request,
                           Status* deferred) {
  KSDB_ASSIGN_OR_RETURN(JsonObject object, AsObject(value, "configuration"));
  std::optional<JsonElement> hnsw = OptionalField(object, "hnsw");
  std::optional<JsonElement> spann = OptionalField(object, "spann");
  if (hnsw) {
    KSDB_ASSIGN_OR_RETURN(request->hnsw, DecodeCreateHnsw(*hnsw));
  }
  if (spann) {
    KSDB_ASSIGN_OR_RETURN(HnswConfig from_spann, DecodeCreateSpann(*spann));
    if (hnsw) {
      Defer(Status::InvalidArgument("Multiple vector index configurations provided"), deferred);
    } else {
      request->hnsw = from_spann;
    }
  }
  if (auto function = OptionalField(object, "embedding_function")) {
    request->embedding_function_json = simdjson::to_string(*function);
  }
  if (auto ksdb = OptionalField(object, "ksdb")) {
    KSDB_ASSIGN_OR_RETURN(request->quantization, DecodeKsdbBlock(*ksdb));
  }
  return Status::Ok();
}

Result<CollectionConfigPatch> DecodeConfigurationPatch(const JsonElement& value) {
  constexpr std::string_view kPath = "new_configuration.hnsw";
  KSDB_ASSIGN_OR_RETURN(JsonObject object, AsObject(value, "new_configuration"));
  CollectionConfigPatch patch;
  if (auto hnsw_value = OptionalField(object, "hnsw")) {
    KSDB_ASSIGN_OR_RETURN(JsonObject hnsw, AsObject(*hnsw_value, kPath));
    KSDB_RETURN_IF_ERROR(CheckKnownKeys(hnsw, kPath, kModifyHnswKeys));
    KSDB_RETURN_IF_ERROR(DecodeHnswTunables(hnsw, kPath, &patch.hnsw));
  }
  if (auto spann_value = OptionalField(object, "spann")) {
    // Accepted and ignored on an HNSW collection, as the reference does.
    KSDB_ASSIGN_OR_RETURN(JsonObject spann, AsObject(*spann_value, "new_configuration.spann"));
    KSDB_RETURN_IF_ERROR(CheckSpannFields(spann, "new_configuration.spann", kModifySpannKeys));
  }
  if (auto function = OptionalField(object, "embedding_function")) {
    patch.embedding_function_json = simdjson::to_string(*function);
  }
  if (OptionalField(object, "ksdb")) {
    // The index would have to be rebuilt: refuse rather than ignore it.
    return Status::InvalidArgument(
        "configuration.ksdb (quantization) can only be set when the collection is created");
  }
  return patch;
}

// A non-null metadata object that must not be empty (Chroma's validator).
Result<Metadata> DecodeNonEmptyMetadata(const JsonElement& value, std::string_view field,
                                        NullValues nulls, Status* deferred) {
  KSDB_ASSIGN_OR_RETURN(JsonObject object, AsObject(value, field));
  if (object.size() == 0) {
    Defer(Status::InvalidArgument("Validation error: " + std::string(field) +
                                  ": Metadata cannot be empty"),
          deferred);
  }
  return DecodeMetadataObject(value, field, nulls, deferred);
}

// The required string field `field` of `object`.
Result<std::string> RequiredString(const JsonObject& object, std::string_view field) {
  KSDB_ASSIGN_OR_RETURN(JsonElement value, RequiredField(object, field));
  KSDB_ASSIGN_OR_RETURN(std::string_view text, AsString(value, field));
  return std::string(text);
}

}  // namespace

Result<std::string> DecodeStringField(const JsonElement& body, std::string_view type_name,
                                      std::string_view field) {
  KSDB_ASSIGN_OR_RETURN(JsonObject object, BodyObject(body, type_name));
  return RequiredString(object, field);
}

Result<db::CreateCollectionRequest> DecodeCreateCollection(const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(JsonObject object, BodyObject(body, "CreateCollectionPayload"));
  db::CreateCollectionRequest request;
  Status deferred;
  KSDB_ASSIGN_OR_RETURN(request.name, RequiredString(object, "name"));
  if (auto metadata = OptionalField(object, "metadata")) {
    KSDB_ASSIGN_OR_RETURN(request.metadata, DecodeNonEmptyMetadata(*metadata, "metadata",
                                                                   NullValues::kReject, &deferred));
  }
  if (auto configuration = OptionalField(object, "configuration")) {
    KSDB_RETURN_IF_ERROR(DecodeConfiguration(*configuration, &request, &deferred));
  }
  if (auto get_or_create = OptionalField(object, "get_or_create")) {
    KSDB_ASSIGN_OR_RETURN(request.get_or_create, AsBool(*get_or_create, "get_or_create"));
  }
  KSDB_RETURN_IF_ERROR(deferred);
  return request;
}

Result<db::ModifyCollectionRequest> DecodeModifyCollection(const JsonElement& body) {
  KSDB_ASSIGN_OR_RETURN(JsonObject object, BodyObject(body, "UpdateCollectionPayload"));
  db::ModifyCollectionRequest request;
  Status deferred;
  if (auto new_name = OptionalField(object, "new_name")) {
    KSDB_ASSIGN_OR_RETURN(std::string_view text, AsString(*new_name, "new_name"));
    request.new_name = std::string(text);
  }
  if (auto metadata = OptionalField(object, "new_metadata")) {
    KSDB_ASSIGN_OR_RETURN(
        request.new_metadata,
        DecodeNonEmptyMetadata(*metadata, "new_metadata", NullValues::kDrop, &deferred));
  }
  if (auto configuration = OptionalField(object, "new_configuration")) {
    KSDB_ASSIGN_OR_RETURN(request.new_configuration, DecodeConfigurationPatch(*configuration));
  }
  KSDB_RETURN_IF_ERROR(deferred);
  return request;
}

}  // namespace ksdb::server
