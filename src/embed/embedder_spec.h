// Operator configuration of embedders: the `--embedder` flag syntax and the config file.
//
//   static:DIR                     a Model2Vec-style model directory
//   openai:URL#MODEL[#KEY_ENV]     an OpenAI-compatible endpoint; KEY_ENV names the
//                                  environment variable holding the API key
//
// Config file (JSON):
//   {"embedders": [
//     {"type": "static", "path": "DIR"},
//     {"type": "openai", "url": "http://host:port", "model": "M", "api_key_env": "VAR",
//      "max_batch": 256, "timeout_ms": 30000, "max_retries": 4, "dimension": 0}]}
#ifndef KSDB_EMBED_EMBEDDER_SPEC_H_
#define KSDB_EMBED_EMBEDDER_SPEC_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "embed/embedder.h"
#include "embed/openai_embedder.h"

namespace ksdb::embed {

struct EmbedderSpec {
  enum class Kind { kStatic, kOpenAi };
  Kind kind = Kind::kStatic;
  std::string static_dir;        // kStatic
  OpenAiEmbedderOptions openai;  // kOpenAi
};

// Parses one `--embedder` value. InvalidArgument explains the expected syntax.
Result<EmbedderSpec> ParseEmbedderSpec(std::string_view text);
// Reads the embedders of a config file. Errors name the file and the entry.
Result<std::vector<EmbedderSpec>> ReadEmbedderConfigFile(const std::string& path);
// Loads (static) or sets up (openai) the embedder `spec` describes.
Result<std::unique_ptr<Embedder>> CreateEmbedder(const EmbedderSpec& spec);

}  // namespace ksdb::embed

#endif  // KSDB_EMBED_EMBEDDER_SPEC_H_
