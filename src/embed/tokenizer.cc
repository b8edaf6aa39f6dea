#include "embed/tokenizer.h"

#include <simdjson.h>

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <utility>

#include "embed/file_util.h"
#include "embed/unicode.h"

namespace ksdb::embed {
namespace {

using Json = simdjson::dom::element;

enum class NormalizeStep { kCleanText, kPadChinese, kStripAccents, kLowercase };
enum class PreTokenizeStep { kBert, kWhitespace, kWhitespaceSplit };

// A word is a half-open range of code points in the normalized text.
struct Span {
  size_t begin;
  size_t end;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
using Vocab = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct AddedToken {
  std::string content;
  int32_t id;
};

// Per-thread buffers so Encode allocates only while they grow.
struct Scratch {
  std::u32string text;
  std::u32string next;
  std::vector<Span> words;
  std::vector<Span> next_words;
  std::string utf8;
  std::vector<size_t> char_bytes;
};

Status Unsupported(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(path + ": unsupported tokenizer component: " + what);
}

Status Malformed(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(path + ": malformed tokenizer.json: " + what);
}

std::string TypeOf(Json node) {
  std::string_view type;
  if (node["type"].get_string().get(type) != simdjson::SUCCESS)
    return "";
  return std::string(type);
}

bool BoolField(Json node, std::string_view key, bool fallback) {
  bool value;
  return node[key].get_bool().get(value) == simdjson::SUCCESS ? value : fallback;
}

Status ParseNormalizer(const std::string& path, Json node, std::vector<NormalizeStep>* steps) {
  if (node.is_null())
    return Status::Ok();
  std::string type = TypeOf(node);
  if (type == "Lowercase") {
    steps->push_back(NormalizeStep::kLowercase);
  } else if (type == "BertNormalizer") {
    bool lowercase = BoolField(node, "lowercase", true);
    // strip_accents null means "follow lowercase", as in the original BERT tokenizer.
    bool strip = BoolField(node, "strip_accents", lowercase);
    if (BoolField(node, "clean_text", true))
      steps->push_back(NormalizeStep::kCleanText);
    if (BoolField(node, "handle_chinese_chars", true))
      steps->push_back(NormalizeStep::kPadChinese);
    if (strip)
      steps->push_back(NormalizeStep::kStripAccents);
    if (lowercase)
      steps->push_back(NormalizeStep::kLowercase);
  } else if (type == "Sequence") {
    simdjson::dom::array children;
    if (node["normalizers"].get_array().get(children) != simdjson::SUCCESS) {
      return Malformed(path, "normalizer Sequence without \"normalizers\"");
    }
    std::string previous;
    for (Json child : children) {
      std::string child_type = TypeOf(child);
      // NFD followed by StripAccents is exactly our accent stripping; NFD alone is not.
      if (child_type == "NFD") {
        previous = child_type;
        continue;
      }
      if (child_type == "StripAccents") {
        if (previous != "NFD")
          return Unsupported(path, "normalizer StripAccents without NFD");
        steps->push_back(NormalizeStep::kStripAccents);
      } else {
        if (previous == "NFD")
          return Unsupported(path, "normalizer NFD");
        KSDB_RETURN_IF_ERROR(ParseNormalizer(path, child, steps));
      }
      previous = child_type;
    }
    if (previous == "NFD")
      return Unsupported(path, "normalizer NFD");
  } else {
    return Unsupported(path, "normalizer " + (type.empty() ? "(no type)" : type));
  }
  return Status::Ok();
}

Status ParsePreTokenizer(const std::string& path, Json node, std::vector<PreTokenizeStep>* steps) {
  if (node.is_null())
    return Status::Ok();
  std::string type = TypeOf(node);
  if (type == "BertPreTokenizer") {
    steps->push_back(PreTokenizeStep::kBert);
  } else if (type == "Whitespace") {
    steps->push_back(PreTokenizeStep::kWhitespace);
  } else if (type == "WhitespaceSplit") {
    steps->push_back(PreTokenizeStep::kWhitespaceSplit);
  } else if (type == "Sequence") {
    simdjson::dom::array children;
    if (node["pretokenizers"].get_array().get(children) != simdjson::SUCCESS) {
      return Malformed(path, "pre_tokenizer Sequence without \"pretokenizers\"");
    }
    for (Json child : children)
      KSDB_RETURN_IF_ERROR(ParsePreTokenizer(path, child, steps));
  } else {
    return Unsupported(path, "pre_tokenizer " + (type.empty() ? "(no type)" : type));
  }
  return Status::Ok();
}

Result<Vocab> ParseVocab(const std::string& path, Json model) {
  simdjson::dom::object object;
  if (model["vocab"].get_object().get(object) != simdjson::SUCCESS) {
    return Malformed(path, "model.vocab must be an object of token -> id");
  }
  Vocab vocab;
  vocab.reserve(object.size());
  for (auto field : object) {
    int64_t id;
    if (field.value.get_int64().get(id) != simdjson::SUCCESS || id < 0 ||
        id > std::numeric_limits<int32_t>::max()) {
      return Malformed(path, "vocab id of '" + std::string(field.key) +
                                 "' is not a non-negative 32-bit integer");
    }
    vocab.emplace(std::string(field.key), static_cast<int32_t>(id));
  }
  return vocab;
}

Result<std::vector<AddedToken>> ParseAddedTokens(const std::string& path, Json root) {
  std::vector<AddedToken> tokens;
  simdjson::dom::array array;
  if (root["added_tokens"].get_array().get(array) != simdjson::SUCCESS)
    return tokens;
  for (Json entry : array) {
    std::string_view content;
    int64_t id;
    if (entry["content"].get_string().get(content) != simdjson::SUCCESS ||
        entry["id"].get_int64().get(id) != simdjson::SUCCESS || id < 0 ||
        id > std::numeric_limits<int32_t>::max()) {
      return Malformed(path, "added_tokens entries need \"content\" and a non-negative \"id\"");
    }
    if (!content.empty())
      tokens.push_back({std::string(content), static_cast<int32_t>(id)});
  }
  // Longest first, so "[CLS]x" style overlaps prefer the longer token.
  std::stable_sort(tokens.begin(), tokens.end(), [](const AddedToken& a, const AddedToken& b) {
    return a.content.size() > b.content.size();
  });
  return tokens;
}

class TokenizerImpl final : public Tokenizer {
 public:
  enum class Model { kWordLevel, kWordPiece };

  static Result<std::unique_ptr<Tokenizer>> Create(std::string_view json, const std::string& path);

  void Encode(std::string_view text, std::vector<int32_t>* ids) const override;
  std::optional<int32_t> TokenId(std::string_view token) const override;
  std::optional<int32_t> unk_id() const override { return unk_id_; }
  size_t vocab_size() const override { return vocab_size_; }

 private:
  Status ParseModel(const std::string& path, Json model);
  void EncodeSegment(std::string_view text, Scratch* scratch, std::vector<int32_t>* ids) const;
  void Normalize(Scratch* scratch) const;
  void PreTokenize(Scratch* scratch) const;
  void EncodeWord(const char32_t* word, size_t length, Scratch* scratch,
                  std::vector<int32_t>* ids) const;
  void EncodeWordPiece(const char32_t* word, size_t length, Scratch* scratch,
                       std::vector<int32_t>* ids) const;

  std::vector<NormalizeStep> normalize_;
  std::vector<PreTokenizeStep> pre_tokenize_;
  std::vector<AddedToken> added_;
  Model model_ = Model::kWordLevel;
  Vocab vocab_;
  std::optional<int32_t> unk_id_;
  std::string prefix_ = "##";
  size_t max_word_chars_ = 100;
  size_t vocab_size_ = 0;
};

Result<std::unique_ptr<Tokenizer>> TokenizerImpl::Create(std::string_view json,
                                                         const std::string& path) {
  simdjson::dom::parser parser;
  KSDB_ASSIGN_OR_RETURN(Json root, ParseJson(json, path, &parser));
  if (!root.is_object())
    return Malformed(path, "top level is not an object");
  auto tokenizer = std::make_unique<TokenizerImpl>();
  Json node;
  if (root["normalizer"].get(node) == simdjson::SUCCESS) {
    KSDB_RETURN_IF_ERROR(ParseNormalizer(path, node, &tokenizer->normalize_));
  }
  if (root["pre_tokenizer"].get(node) == simdjson::SUCCESS) {
    KSDB_RETURN_IF_ERROR(ParsePreTokenizer(path, node, &tokenizer->pre_tokenize_));
  }
  if (root["model"].get(node) != simdjson::SUCCESS || !node.is_object()) {
    return Malformed(path, "missing \"model\"");
  }
  KSDB_RETURN_IF_ERROR(tokenizer->ParseModel(path, node));
  KSDB_ASSIGN_OR_RETURN(tokenizer->added_, ParseAddedTokens(path, root));
  for (const auto& [token, id] : tokenizer->vocab_) {
    tokenizer->vocab_size_ = std::max(tokenizer->vocab_size_, static_cast<size_t>(id) + 1);
  }
  for (const AddedToken& token : tokenizer->added_) {
    tokenizer->vocab_size_ = std::max(tokenizer->vocab_size_, static_cast<size_t>(token.id) + 1);
  }
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

Status TokenizerImpl::ParseModel(const std::string& path, Json model) {
  std::string type = TypeOf(model);
  if (type == "WordLevel") {
    model_ = Model::kWordLevel;
  } else if (type == "WordPiece") {
    model_ = Model::kWordPiece;
  } else {
    return Unsupported(path, "model " + (type.empty() ? "(no type)" : type));
  }
  KSDB_ASSIGN_OR_RETURN(vocab_, ParseVocab(path, model));
  std::string_view unk;
  if (model["unk_token"].get_string().get(unk) == simdjson::SUCCESS) {
    auto it = vocab_.find(unk);
    if (it != vocab_.end())
      unk_id_ = it->second;
  }
  if (model_ == Model::kWordPiece) {
    if (!unk_id_)
      return Malformed(path, "WordPiece unk_token is missing from the vocabulary");
    std::string_view prefix;
    if (model["continuing_subword_prefix"].get_string().get(prefix) == simdjson::SUCCESS) {
      prefix_ = std::string(prefix);
    }
    uint64_t max_chars;
    if (model["max_input_chars_per_word"].get_uint64().get(max_chars) == simdjson::SUCCESS) {
      max_word_chars_ = max_chars;
    }
  }
  return Status::Ok();
}

void TokenizerImpl::Encode(std::string_view text, std::vector<int32_t>* ids) const {
  thread_local Scratch scratch;
  size_t segment_start = 0;
  size_t pos = 0;
  while (pos < text.size() && !added_.empty()) {
    const AddedToken* match = nullptr;
    for (const AddedToken& token : added_) {
      if (text.compare(pos, token.content.size(), token.content) == 0) {
        match = &token;
        break;
      }
    }
    if (match == nullptr) {
      ++pos;
      continue;
    }
    EncodeSegment(text.substr(segment_start, pos - segment_start), &scratch, ids);
    ids->push_back(match->id);
    pos += match->content.size();
    segment_start = pos;
  }
  EncodeSegment(text.substr(segment_start), &scratch, ids);
}

std::optional<int32_t> TokenizerImpl::TokenId(std::string_view token) const {
  for (const AddedToken& added : added_) {
    if (added.content == token)
      return added.id;
  }
  auto it = vocab_.find(token);
  if (it == vocab_.end())
    return std::nullopt;
  return it->second;
}

void TokenizerImpl::EncodeSegment(std::string_view text, Scratch* scratch,
                                  std::vector<int32_t>* ids) const {
  if (text.empty())
    return;
  scratch->text.clear();
  unicode::DecodeUtf8(text, &scratch->text);
  Normalize(scratch);
  PreTokenize(scratch);
  for (const Span& word : scratch->words) {
    EncodeWord(scratch->text.data() + word.begin, word.end - word.begin, scratch, ids);
  }
}

void TokenizerImpl::Normalize(Scratch* scratch) const {
  for (NormalizeStep step : normalize_) {
    std::u32string& out = scratch->next;
    out.clear();
    for (char32_t c : scratch->text) {
      switch (step) {
        case NormalizeStep::kCleanText:
          if (c == 0 || c == 0xFFFD || unicode::IsControl(c))
            break;
          out.push_back(unicode::IsWhitespace(c) ? U' ' : c);
          break;
        case NormalizeStep::kPadChinese:
          if (unicode::IsChineseChar(c)) {
            out.push_back(U' ');
            out.push_back(c);
            out.push_back(U' ');
          } else {
            out.push_back(c);
          }
          break;
        case NormalizeStep::kStripAccents:
          unicode::AppendAccentStripped(c, &out);
          break;
        case NormalizeStep::kLowercase:
          unicode::AppendLowercase(c, &out);
          break;
      }
    }
    scratch->text.swap(out);
  }
}

void TokenizerImpl::PreTokenize(Scratch* scratch) const {
  const std::u32string& text = scratch->text;
  scratch->words.assign(1, Span{0, text.size()});
  for (PreTokenizeStep step : pre_tokenize_) {
    std::vector<Span>& out = scratch->next_words;
    out.clear();
    for (const Span& word : scratch->words) {
      size_t start = word.begin;
      // kind of the run being built: 0 none, 1 word chars, 2 other non-space (Whitespace).
      int run_kind = 0;
      for (size_t i = word.begin; i < word.end; ++i) {
        char32_t c = text[i];
        bool space = unicode::IsWhitespace(c);
        int kind = space ? 0 : 1;
        if (step == PreTokenizeStep::kWhitespace && !space) {
          kind = unicode::IsWordChar(c) ? 1 : 2;
        }
        bool isolate = step == PreTokenizeStep::kBert && !space && unicode::IsBertPunctuation(c);
        if (run_kind != 0 && (kind != run_kind || isolate)) {
          out.push_back({start, i});
          run_kind = 0;
        }
        if (isolate) {
          out.push_back({i, i + 1});
        } else if (kind != 0 && run_kind == 0) {
          start = i;
          run_kind = kind;
        }
      }
      if (run_kind != 0)
        out.push_back({start, word.end});
    }
    scratch->words.swap(out);
  }
  if (pre_tokenize_.empty() && text.empty())
    scratch->words.clear();
}

void TokenizerImpl::EncodeWord(const char32_t* word, size_t length, Scratch* scratch,
                               std::vector<int32_t>* ids) const {
  if (model_ == Model::kWordPiece) {
    EncodeWordPiece(word, length, scratch, ids);
    return;
  }
  scratch->utf8.clear();
  unicode::AppendUtf8(std::u32string_view(word, length), &scratch->utf8);
  auto it = vocab_.find(std::string_view(scratch->utf8));
  if (it != vocab_.end()) {
    ids->push_back(it->second);
  } else if (unk_id_) {
    ids->push_back(*unk_id_);
  }
}

// Greedy longest-match-first; a word with any unmatched piece becomes one [UNK].
void TokenizerImpl::EncodeWordPiece(const char32_t* word, size_t length, Scratch* scratch,
                                    std::vector<int32_t>* ids) const {
  if (length > max_word_chars_) {
    ids->push_back(*unk_id_);
    return;
  }
  std::string& bytes = scratch->utf8;
  std::vector<size_t>& offsets = scratch->char_bytes;
  bytes.clear();
  offsets.clear();
  for (size_t i = 0; i < length; ++i) {
    offsets.push_back(bytes.size());
    unicode::AppendUtf8(word[i], &bytes);
  }
  offsets.push_back(bytes.size());
  size_t first_id = ids->size();
  std::string candidate;
  size_t start = 0;
  while (start < length) {
    std::optional<int32_t> found;
    size_t end = length;
    for (; end > start; --end) {
      candidate.clear();
      if (start > 0)
        candidate = prefix_;
      candidate.append(bytes, offsets[start], offsets[end] - offsets[start]);
      auto it = vocab_.find(std::string_view(candidate));
      if (it != vocab_.end()) {
        found = it->second;
        break;
      }
    }
    if (!found) {
      ids->resize(first_id);
      ids->push_back(*unk_id_);
      return;
    }
    ids->push_back(*found);
    start = end;
  }
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& path) {
  KSDB_ASSIGN_OR_RETURN(std::string json, ReadWholeFile(path));
  return TokenizerImpl::Create(json, path);
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(std::string_view json,
                                                       const std::string& path) {
  return TokenizerImpl::Create(json, path);
}

}  // namespace ksdb::embed
