// The embedders the server operator configured, and how a collection's
// configuration.embedding_function selects one of them.
//
// A collection selects an embedder with {"type":"known","name":"ksdb-static" or
// "ksdb-openai","config":{"model":"M"}} (model optional: the first embedder of that
// provider then). Any other embedding_function (null, legacy, a client-side function)
// uses the default embedder: the first one configured, if any. Selection only matches
// names against what the operator configured: nothing in a request can load a file or
// reach a host.
#ifndef KSDB_DB_EMBEDDING_REGISTRY_H_
#define KSDB_DB_EMBEDDING_REGISTRY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "embed/embedder.h"

namespace ksdb::db {

inline constexpr char kStaticEmbedderName[] = "ksdb-static";
inline constexpr char kOpenAiEmbedderName[] = "ksdb-openai";

// Immutable once the engine holds it; lookups are thread-safe.
class EmbedderRegistry {
 public:
  // Adds `embedder`; the first one added is the default.
  void Add(std::unique_ptr<embed::Embedder> embedder);
  bool empty() const { return embedders_.empty(); }
  const std::vector<std::unique_ptr<embed::Embedder>>& embedders() const { return embedders_; }

  // The embedder for a collection whose embedding_function is `function_json` (raw
  // JSON, empty = null). nullptr when the collection selects nothing and there is no
  // default. InvalidArgument when it names a ksdb-* function this server lacks.
  Result<const embed::Embedder*> Select(std::string_view function_json) const;
  // Whether `function_json` explicitly names one of ksdb's embedders (the
  // collection asked for server-side embeddings, not just a default).
  static bool NamesKsdbEmbedder(std::string_view function_json);

 private:
  std::vector<std::unique_ptr<embed::Embedder>> embedders_;
};

}  // namespace ksdb::db

#endif  // KSDB_DB_EMBEDDING_REGISTRY_H_
