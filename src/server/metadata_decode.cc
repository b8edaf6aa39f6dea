#include "server/metadata_decode.h"

#include <string>

namespace ksdb::server {
namespace {

constexpr std::string_view kReservedPrefix = "chroma:";

Status UntaggedMetadataError(std::string_view path) {
  return ShapeError(std::string(path) +
                    ": data did not match any variant of untagged enum MetadataValue");
}

// The scalar kinds an array element can have; arrays must be homogeneous,
// except that integers widen to floats (serde's Vec<f64> accepts both).
enum class ScalarKind { kBool, kInt, kFloat, kString, kOther };

ScalarKind KindOf(const JsonElement& value) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::BOOL:
      return ScalarKind::kBool;
    case element_type::INT64:
      return ScalarKind::kInt;
    case element_type::UINT64:
    case element_type::DOUBLE:
      return ScalarKind::kFloat;
    case element_type::STRING:
      return ScalarKind::kString;
    default:
      return ScalarKind::kOther;
  }
}

double NumberAsDouble(const JsonElement& value) {
  // The caller checked that `value` is a number, so this cannot fail.
  return value.get_double().value_unsafe();
}

Result<MetadataValue> DecodeArray(const JsonArray& array, std::string_view path) {
  if (array.size() == 0)
    return UntaggedMetadataError(path);
  ScalarKind kind = ScalarKind::kOther;
  bool first = true;
  for (JsonElement item : array) {
    ScalarKind item_kind = KindOf(item);
    if (item_kind == ScalarKind::kOther)
      return UntaggedMetadataError(path);
    if (first) {
      kind = item_kind;
      first = false;
    } else if (item_kind != kind) {
      bool numeric = (kind == ScalarKind::kInt || kind == ScalarKind::kFloat) &&
                     (item_kind == ScalarKind::kInt || item_kind == ScalarKind::kFloat);
      if (!numeric)
        return UntaggedMetadataError(path);
      kind = ScalarKind::kFloat;
    }
  }
  switch (kind) {
    case ScalarKind::kBool: {
      std::vector<bool> out;
      out.reserve(array.size());
      for (JsonElement item : array)
        out.push_back(item.get_bool().value_unsafe());
      return MetadataValue(std::move(out));
    }
    case ScalarKind::kInt: {
      std::vector<int64_t> out;
      out.reserve(array.size());
      for (JsonElement item : array)
        out.push_back(item.get_int64().value_unsafe());
      return MetadataValue(std::move(out));
    }
    case ScalarKind::kFloat: {
      std::vector<double> out;
      out.reserve(array.size());
      for (JsonElement item : array)
        out.push_back(NumberAsDouble(item));
      return MetadataValue(std::move(out));
    }
    default: {
      std::vector<std::string> out;
      out.reserve(array.size());
      for (JsonElement item : array)
        out.emplace_back(item.get_string().value_unsafe());
      return MetadataValue(std::move(out));
    }
  }
}

// A reserved key is a semantic error (400), so it is only deferred.
void DeferReservedKey(std::string_view key, Status* deferred) {
  if (key.starts_with(kReservedPrefix)) {
    Defer(Status::InvalidArgument("Invalid metadata key \"" + std::string(key) +
                                  "\": keys starting with \"chroma:\" are reserved"),
          deferred);
  }
}

}  // namespace

Result<MetadataValue> DecodeMetadataValue(const JsonElement& value, std::string_view path) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::BOOL:
      return MetadataValue(value.get_bool().value_unsafe());
    case element_type::INT64:
      return MetadataValue(value.get_int64().value_unsafe());
    case element_type::UINT64:
    case element_type::DOUBLE:
      return MetadataValue(NumberAsDouble(value));
    case element_type::STRING:
      return MetadataValue(std::string(value.get_string().value_unsafe()));
    case element_type::ARRAY:
      return DecodeArray(value.get_array().value_unsafe(), path);
    default:
      return UntaggedMetadataError(path);
  }
}

Result<MetadataPatch> DecodeMetadataPatch(const JsonElement& value, std::string_view path,
                                          NullValues nulls, Status* deferred) {
  KSDB_ASSIGN_OR_RETURN(JsonObject object, AsObject(value, path));
  MetadataPatch patch;
  patch.reserve(object.size());
  for (auto field : object) {
    DeferReservedKey(field.key, deferred);
    if (field.value.is_null()) {
      if (nulls == NullValues::kReject)
        return UntaggedMetadataError(path);
      if (nulls == NullValues::kDelete)
        patch.emplace_back(std::string(field.key), std::nullopt);
      continue;
    }
    KSDB_ASSIGN_OR_RETURN(MetadataValue decoded, DecodeMetadataValue(field.value, path));
    patch.emplace_back(std::string(field.key), std::move(decoded));
  }
  return patch;
}

Result<Metadata> DecodeMetadataObject(const JsonElement& value, std::string_view path,
                                      NullValues nulls, Status* deferred) {
  KSDB_ASSIGN_OR_RETURN(MetadataPatch patch, DecodeMetadataPatch(value, path, nulls, deferred));
  return MetadataFromPatch(patch);
}

}  // namespace ksdb::server
