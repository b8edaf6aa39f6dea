// Embedder: texts in, float32 matrix out. Providers: StaticEmbedder (a Model2Vec-style
// model directory, static_embedder.h) and OpenAiEmbedder (any OpenAI-compatible
// /v1/embeddings endpoint, openai_embedder.h). The engine depends only on this interface.
#ifndef KSDB_EMBED_EMBEDDER_H_
#define KSDB_EMBED_EMBEDDER_H_

#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace ksdb::embed {

// Implementations are immutable after construction and thread-safe.
class Embedder {
 public:
  virtual ~Embedder() = default;
  // The provider name a collection selects it by: "ksdb-static" or "ksdb-openai".
  virtual const std::string& name() const = 0;
  // The model: the model directory's name for static models, the remote model name
  // for OpenAI-compatible endpoints.
  virtual const std::string& model() const = 0;
  // Output dimension; 0 while unknown (a remote model before its first answer).
  virtual size_t dim() const = 0;
  // Row-major texts.size() * dim() floats. Thread-safe.
  virtual Result<std::vector<float>> Embed(std::span<const std::string> texts) const = 0;
};

}  // namespace ksdb::embed

#endif  // KSDB_EMBED_EMBEDDER_H_
