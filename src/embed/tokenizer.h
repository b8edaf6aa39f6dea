// Our own reader for Hugging Face tokenizer.json files: the WordLevel and WordPiece
// models with the normalizers and pre-tokenizers BERT-style and static models use.
//
// Supported: normalizers Lowercase, BertNormalizer (clean_text, handle_chinese_chars,
// strip_accents, lowercase), StripAccents after NFD, Sequence of these; pre-tokenizers
// BertPreTokenizer, Whitespace, WhitespaceSplit, Sequence of these; added tokens are
// matched literally in the raw text (lstrip/rstrip/single_word are not applied).
// Truncation, padding and the post-processor are ignored: Encode gives the ids of the
// text itself, as Model2Vec's encode (add_special_tokens=False) uses them.
#ifndef KSDB_EMBED_TOKENIZER_H_
#define KSDB_EMBED_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ksdb::embed {

// An immutable tokenizer; Encode is thread-safe.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Loads `path`. Unsupported components give InvalidArgument naming the file and the
  // component ("normalizer NFKC"); malformed JSON or a missing field names the file too.
  static Result<std::unique_ptr<Tokenizer>> Load(const std::string& path);
  // The same from JSON text; `path` only names it in errors.
  static Result<std::unique_ptr<Tokenizer>> FromJson(std::string_view json,
                                                     const std::string& path);

  // Appends the token ids of `text` to `ids`. Invalid UTF-8 bytes count as U+FFFD.
  virtual void Encode(std::string_view text, std::vector<int32_t>* ids) const = 0;
  // The id of `token` in the vocabulary or the added tokens.
  virtual std::optional<int32_t> TokenId(std::string_view token) const = 0;
  // The unknown token's id, when the model has one.
  virtual std::optional<int32_t> unk_id() const = 0;
  // One past the largest id.
  virtual size_t vocab_size() const = 0;
};

}  // namespace ksdb::embed

#endif  // KSDB_EMBED_TOKENIZER_H_
