// The `static` provider: a Model2Vec-style static embedding model.
//
// A model directory holds model.safetensors (tensor `embeddings` [rows, dim]; optional
// `weights` [vocab] float and `mapping` [vocab] integer), tokenizer.json and config.json
// (`normalize`, default true). A text is encoded as Model2Vec does: tokenize without
// special tokens, drop the unknown token, keep the first max_tokens ids, map each id
// through `mapping` when present, average the rows (each scaled by weights[id] when
// present) and L2-normalise when config says so. A text with no known tokens (including
// the empty text) gets the zero vector, as in Model2Vec.
#ifndef KSDB_EMBED_STATIC_EMBEDDER_H_
#define KSDB_EMBED_STATIC_EMBEDDER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "embed/embedder.h"
#include "embed/tokenizer.h"

namespace ksdb::embed {

struct StaticEmbedderOptions {
  std::string name = "ksdb-static";
  // Ids kept per text after dropping unknown tokens (Model2Vec's max_length default).
  size_t max_tokens = 512;
  // Threads for large batches; 0 = hardware concurrency.
  size_t num_threads = 0;
  // Batches smaller than this are encoded on the calling thread.
  size_t min_texts_per_thread = 256;
};

class StaticEmbedder final : public Embedder {
 public:
  // Loads the model directory `dir`. Every error names the file and the problem
  // (missing file, damaged safetensors, unsupported tokenizer component, ids out of
  // range of the embedding table, ...).
  static Result<std::unique_ptr<StaticEmbedder>> Load(const std::string& dir,
                                                      StaticEmbedderOptions options = {});
  // An empty model; use Load().
  StaticEmbedder() = default;

  const std::string& name() const override { return options_.name; }
  const std::string& model() const override { return model_id_; }
  size_t dim() const override { return dim_; }
  // Row-major texts.size() x dim(); uses several threads for large batches.
  Result<std::vector<float>> Embed(std::span<const std::string> texts) const override;

  // The model's token ids for `text` after dropping unknowns and truncation.
  std::vector<int32_t> TokenIds(const std::string& text) const;
  const Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  Status LoadTensors(const std::string& path);
  Status LoadConfig(const std::string& path);
  void EncodeRange(std::span<const std::string> texts, size_t begin, size_t end, float* out) const;
  // The token ids of `text` without unknowns, truncated to max_tokens.
  void CollectIds(const std::string& text, std::vector<int32_t>* ids) const;
  void EncodeOne(const std::string& text, std::vector<int32_t>* ids, float* out) const;

  StaticEmbedderOptions options_;
  std::string model_id_;  // the model directory's last path component
  std::unique_ptr<Tokenizer> tokenizer_;
  std::vector<float> table_;      // rows x dim_
  std::vector<float> weights_;    // per token id, empty when absent
  std::vector<int64_t> mapping_;  // token id -> row, empty when absent
  size_t rows_ = 0;
  size_t dim_ = 0;
  bool normalize_ = true;
};

}  // namespace ksdb::embed

#endif  // KSDB_EMBED_STATIC_EMBEDDER_H_
