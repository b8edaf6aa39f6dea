// Embedder: texts in, float32 matrix out. Providers (static model, OpenAI-style
// endpoint) arrive with the server-side embeddings issue; the engine already
// depends only on this interface.
#ifndef KSDB_EMBED_EMBEDDER_H_
#define KSDB_EMBED_EMBEDDER_H_

#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace ksdb::embed {

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual const std::string& name() const = 0;
  virtual size_t dim() const = 0;
  // Row-major texts.size() * dim() floats. Thread-safe.
  virtual Result<std::vector<float>> Embed(std::span<const std::string> texts) const = 0;
};

}  // namespace ksdb::embed

#endif  // KSDB_EMBED_EMBEDDER_H_
