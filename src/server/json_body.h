// Request-body JSON helpers on simdjson's DOM (error-code API only; nothing
// here throws). They produce Chroma's two body error kinds (spec §1.2):
//  - syntax errors: 400 InvalidArgument "Failed to parse the request body as JSON: ..."
//  - shape errors:  422 InvalidShape "Failed to deserialize the JSON body into the target type:
//  ..."
// Optional fields treat an explicit JSON null like an absent field.
//
// Decoders report shape errors immediately and collect the first semantic
// (400) error in a `deferred` Status, because Chroma deserializes the whole
// body before it validates anything: a shape error later in the body wins.
#ifndef KSDB_SERVER_JSON_BODY_H_
#define KSDB_SERVER_JSON_BODY_H_

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ksdb::server {

using JsonElement = simdjson::dom::element;
using JsonObject = simdjson::dom::object;
using JsonArray = simdjson::dom::array;

// Parses `body` with `parser` (which owns the resulting DOM).
Result<JsonElement> ParseJsonText(std::string_view body, simdjson::dom::parser* parser);

// A 422 shape error: "Failed to deserialize the JSON body into the target type: <detail>".
Status ShapeError(std::string_view detail);
// A 422 for `value` not being `expected`, e.g. "ids: invalid type: string, expected a sequence".
Status InvalidType(std::string_view path, const JsonElement& value, std::string_view expected);

// Records `status` into `*deferred` unless an earlier error is already there.
inline void Defer(Status status, Status* deferred) {
  if (deferred->ok())
    *deferred = std::move(status);
}

// serde-style description of a value's type: "null", "boolean `true`",
// "integer `5`", "floating point `1.5`", "string \"x\"", "sequence", "map".
std::string DescribeJson(const JsonElement& value);

// The body's top-level object; 422 if it is something else.
Result<JsonObject> BodyObject(const JsonElement& body, std::string_view type_name);

// The field `key`, or nullopt when it is absent or JSON null.
std::optional<JsonElement> OptionalField(const JsonObject& object, std::string_view key);
// The field `key`; 422 "missing field `key`" when absent. Null is returned as is.
Result<JsonElement> RequiredField(const JsonObject& object, std::string_view key);

Result<std::string_view> AsString(const JsonElement& value, std::string_view path);
Result<bool> AsBool(const JsonElement& value, std::string_view path);
// Non-negative integer up to UINT32_MAX (serde's u32); 422 otherwise.
Result<uint32_t> AsU32(const JsonElement& value, std::string_view path);
// Any JSON number as f64; 422 for other types.
Result<double> AsF64(const JsonElement& value, std::string_view path);
Result<JsonArray> AsArray(const JsonElement& value, std::string_view path);
Result<JsonObject> AsObject(const JsonElement& value, std::string_view path);
// A list of strings (e.g. ids).
Result<std::vector<std::string>> AsStringList(const JsonElement& value, std::string_view path);
// A list of string-or-null (documents, uris).
Result<std::vector<std::optional<std::string>>> AsNullableStringList(const JsonElement& value,
                                                                     std::string_view path);

// "path[index]" for error messages.
std::string IndexPath(std::string_view path, size_t index);

}  // namespace ksdb::server

#endif  // KSDB_SERVER_JSON_BODY_H_
