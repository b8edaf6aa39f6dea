#include "server/json_body.h"

#include <limits>

#include "server/json_writer.h"

namespace ksdb::server {

Result<JsonElement> ParseJsonText(std::string_view body, simdjson::dom::parser* parser) {
  constexpr std::string_view kPrefix = "Failed to parse the request body as JSON: ";
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::InvalidArgument(std::string(kPrefix) +
                                   "EOF while parsing a value at line 1 column 0");
  }
  JsonElement root;
  simdjson::error_code error = parser->parse(body.data(), body.size(), true).get(root);
  if (error != simdjson::SUCCESS) {
    return Status::InvalidArgument(std::string(kPrefix) + simdjson::error_message(error));
  }
  return root;
}

Status ShapeError(std::string_view detail) {
  return Status::InvalidShape("Failed to deserialize the JSON body into the target type: " +
                              std::string(detail));
}

std::string DescribeJson(const JsonElement& value) {
  using simdjson::dom::element_type;
  std::string text;
  switch (value.type()) {
    case element_type::NULL_VALUE:
      return "null";
    case element_type::BOOL:
      return value.get_bool().value_unsafe() ? "boolean `true`" : "boolean `false`";
    case element_type::INT64:
      return "integer `" + std::to_string(value.get_int64().value_unsafe()) + "`";
    case element_type::UINT64:
      return "integer `" + std::to_string(value.get_uint64().value_unsafe()) + "`";
    case element_type::DOUBLE:
      text = "floating point `";
      AppendDouble(value.get_double().value_unsafe(), &text);
      return text + "`";
    case element_type::STRING:
      text = "string ";
      AppendJsonString(value.get_string().value_unsafe(), &text);
      return text;
    case element_type::ARRAY:
      return "sequence";
    case element_type::OBJECT:
      return "map";
  }
  return "value";
}

Status InvalidType(std::string_view path, const JsonElement& value, std::string_view expected) {
  std::string detail;
  if (!path.empty()) {
    detail.append(path);
    detail.append(": ");
  }
  detail += "invalid type: " + DescribeJson(value) + ", expected " + std::string(expected);
  return ShapeError(detail);
}

Result<JsonObject> BodyObject(const JsonElement& body, std::string_view type_name) {
  JsonObject object;
  if (body.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidType("", body, "struct " + std::string(type_name));
  }
  return object;
}

std::optional<JsonElement> OptionalField(const JsonObject& object, std::string_view key) {
  JsonElement value;
  if (object.at_key(key).get(value) != simdjson::SUCCESS || value.is_null())
    return std::nullopt;
  return value;
}

Result<JsonElement> RequiredField(const JsonObject& object, std::string_view key) {
  JsonElement value;
  if (object.at_key(key).get(value) != simdjson::SUCCESS) {
    return ShapeError("missing field `" + std::string(key) + "`");
  }
  return value;
}

Result<std::string_view> AsString(const JsonElement& value, std::string_view path) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return InvalidType(path, value, "a string");
  }
  return text;
}

Result<bool> AsBool(const JsonElement& value, std::string_view path) {
  bool flag = false;
  if (value.get_bool().get(flag) != simdjson::SUCCESS) {
    return InvalidType(path, value, "a boolean");
  }
  return flag;
}

namespace {

// A 422 for an integer outside u32: "<path>: invalid value: integer `-1`, expected u32".
Status NotU32(std::string_view path, const JsonElement& value) {
  return ShapeError(std::string(path) + ": invalid value: " + DescribeJson(value) +
                    ", expected u32");
}

}  // namespace

Result<uint32_t> AsU32(const JsonElement& value, std::string_view path) {
  if (value.is_int64() && value.get_int64().value_unsafe() < 0)
    return NotU32(path, value);
  // Succeeds for every non-negative integer, whether stored as int64 or uint64.
  uint64_t number = 0;
  if (value.get_uint64().get(number) != simdjson::SUCCESS)
    return InvalidType(path, value, "u32");
  if (number > std::numeric_limits<uint32_t>::max())
    return NotU32(path, value);
  return static_cast<uint32_t>(number);
}

Result<double> AsF64(const JsonElement& value, std::string_view path) {
  double number = 0;
  if (!value.is_number() || value.get_double().get(number) != simdjson::SUCCESS) {
    return InvalidType(path, value, "f64");
  }
  return number;
}

Result<JsonArray> AsArray(const JsonElement& value, std::string_view path) {
  JsonArray array;
  if (value.get_array().get(array) != simdjson::SUCCESS) {
    return InvalidType(path, value, "a sequence");
  }
  return array;
}

Result<JsonObject> AsObject(const JsonElement& value, std::string_view path) {
  JsonObject object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidType(path, value, "a map");
  }
  return object;
}

std::string IndexPath(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

Result<std::vector<std::string>> AsStringList(const JsonElement& value, std::string_view path) {
  KSDB_ASSIGN_OR_RETURN(JsonArray array, AsArray(value, path));
  std::vector<std::string> out;
  out.reserve(array.size());
  size_t index = 0;
  for (JsonElement item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) {
      return InvalidType(IndexPath(path, index), item, "a string");
    }
    out.emplace_back(text);
    ++index;
  }
  return out;
}

Result<std::vector<std::optional<std::string>>> AsNullableStringList(const JsonElement& value,
                                                                     std::string_view path) {
  KSDB_ASSIGN_OR_RETURN(JsonArray array, AsArray(value, path));
  std::vector<std::optional<std::string>> out;
  out.reserve(array.size());
  size_t index = 0;
  for (JsonElement item : array) {
    std::string_view text;
    if (item.is_null()) {
      out.emplace_back(std::nullopt);
    } else if (item.get_string().get(text) == simdjson::SUCCESS) {
      out.emplace_back(std::string(text));
    } else {
      return InvalidType(IndexPath(path, index), item, "a string or null");
    }
    ++index;
  }
  return out;
}

}  // namespace ksdb::server
