#include "embed/embedder_spec.h"

#include <simdjson.h>

#include "embed/file_util.h"
#include "embed/static_embedder.h"

namespace ksdb::embed {
namespace {

constexpr const char* kSyntax =
    "expected static:DIR or openai:URL#MODEL (optionally #API_KEY_ENV_VAR)";

Status EntryError(const std::string& path, size_t index, const std::string& what) {
  return Status::InvalidArgument(path + ": embedders[" + std::to_string(index) + "]: " + what);
}

// Reads the optional unsigned field `key` of `entry` into `*out`.
Status OptionalUnsigned(simdjson::dom::element entry, const char* key, const std::string& path,
                        size_t index, uint64_t* out) {
  simdjson::dom::element value;
  if (entry[key].get(value) != simdjson::SUCCESS)
    return Status::Ok();
  if (value.get_uint64().get(*out) != simdjson::SUCCESS) {
    return EntryError(path, index, std::string("\"") + key + "\" must be a non-negative integer");
  }
  return Status::Ok();
}

Result<EmbedderSpec> ParseOpenAiEntry(simdjson::dom::element entry, const std::string& path,
                                      size_t index) {
  EmbedderSpec spec;
  spec.kind = EmbedderSpec::Kind::kOpenAi;
  std::string_view text;
  if (entry["url"].get_string().get(text) != simdjson::SUCCESS) {
    return EntryError(path, index, "openai needs a string \"url\"");
  }
  spec.openai.base_url = std::string(text);
  if (entry["model"].get_string().get(text) != simdjson::SUCCESS) {
    return EntryError(path, index, "openai needs a string \"model\"");
  }
  spec.openai.model = std::string(text);
  if (entry["api_key_env"].get_string().get(text) == simdjson::SUCCESS) {
    spec.openai.api_key_env = std::string(text);
  }
  uint64_t value = spec.openai.max_batch;
  KSDB_RETURN_IF_ERROR(OptionalUnsigned(entry, "max_batch", path, index, &value));
  spec.openai.max_batch = value;
  value = spec.openai.timeout.count();
  KSDB_RETURN_IF_ERROR(OptionalUnsigned(entry, "timeout_ms", path, index, &value));
  spec.openai.timeout = std::chrono::milliseconds(value);
  value = spec.openai.max_retries;
  KSDB_RETURN_IF_ERROR(OptionalUnsigned(entry, "max_retries", path, index, &value));
  spec.openai.max_retries = static_cast<int>(std::min<uint64_t>(value, 20));
  value = spec.openai.dim;
  KSDB_RETURN_IF_ERROR(OptionalUnsigned(entry, "dimension", path, index, &value));
  spec.openai.dim = value;
  return spec;
}

}  // namespace

Result<EmbedderSpec> ParseEmbedderSpec(std::string_view text) {
  EmbedderSpec spec;
  if (text.starts_with("static:")) {
    spec.static_dir = std::string(text.substr(7));
    if (spec.static_dir.empty()) {
      return Status::InvalidArgument("--embedder " + std::string(text) + ": " + kSyntax);
    }
    return spec;
  }
  if (!text.starts_with("openai:")) {
    return Status::InvalidArgument("--embedder " + std::string(text) + ": " + kSyntax);
  }
  std::string_view rest = text.substr(7);
  size_t hash = rest.find('#');
  if (hash == std::string_view::npos || hash == 0 || hash + 1 == rest.size()) {
    return Status::InvalidArgument("--embedder " + std::string(text) + ": " + kSyntax);
  }
  spec.kind = EmbedderSpec::Kind::kOpenAi;
  spec.openai.base_url = std::string(rest.substr(0, hash));
  std::string_view model = rest.substr(hash + 1);
  size_t second = model.find('#');
  if (second != std::string_view::npos) {
    spec.openai.api_key_env = std::string(model.substr(second + 1));
    model = model.substr(0, second);
  }
  spec.openai.model = std::string(model);
  return spec;
}

Result<std::vector<EmbedderSpec>> ReadEmbedderConfigFile(const std::string& path) {
  KSDB_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  simdjson::dom::parser parser;
  KSDB_ASSIGN_OR_RETURN(simdjson::dom::element root, ParseJson(text, path, &parser));
  simdjson::dom::array entries;
  if (root["embedders"].get_array().get(entries) != simdjson::SUCCESS) {
    return Status::InvalidArgument(path + ": expected {\"embedders\": [...]}");
  }
  std::vector<EmbedderSpec> specs;
  size_t index = 0;
  for (simdjson::dom::element entry : entries) {
    std::string_view type;
    if (entry["type"].get_string().get(type) != simdjson::SUCCESS) {
      return EntryError(path, index, "needs a string \"type\" (static or openai)");
    }
    if (type == "static") {
      std::string_view dir;
      if (entry["path"].get_string().get(dir) != simdjson::SUCCESS) {
        return EntryError(path, index, "static needs a string \"path\"");
      }
      EmbedderSpec spec;
      spec.static_dir = std::string(dir);
      specs.push_back(std::move(spec));
    } else if (type == "openai") {
      KSDB_ASSIGN_OR_RETURN(EmbedderSpec spec, ParseOpenAiEntry(entry, path, index));
      specs.push_back(std::move(spec));
    } else {
      return EntryError(path, index, "unknown type '" + std::string(type) + "'");
    }
    ++index;
  }
  return specs;
}

Result<std::unique_ptr<Embedder>> CreateEmbedder(const EmbedderSpec& spec) {
  if (spec.kind == EmbedderSpec::Kind::kStatic) {
    KSDB_ASSIGN_OR_RETURN(std::unique_ptr<StaticEmbedder> embedder,
                          StaticEmbedder::Load(spec.static_dir));
    return std::unique_ptr<Embedder>(std::move(embedder));
  }
  KSDB_ASSIGN_OR_RETURN(std::unique_ptr<OpenAiEmbedder> embedder,
                        OpenAiEmbedder::Create(spec.openai));
  return std::unique_ptr<Embedder>(std::move(embedder));
}

}  // namespace ksdb::embed
