#include "embed/static_embedder.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <system_error>
#include <thread>

#include "embed/file_util.h"
#include "embed/safetensors.h"

namespace ksdb::embed {
namespace {

std::string JoinPath(const std::string& dir, const char* file) {
  if (!dir.empty() && dir.back() == '/')
    return dir + file;
  return dir + "/" + file;
}

std::string LastComponent(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  size_t slash = dir.rfind('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

}  // namespace

Result<std::unique_ptr<StaticEmbedder>> StaticEmbedder::Load(const std::string& dir,
                                                             StaticEmbedderOptions options) {
  auto embedder = std::make_unique<StaticEmbedder>();
  embedder->options_ = std::move(options);
  embedder->model_id_ = LastComponent(dir);
  KSDB_RETURN_IF_ERROR(embedder->LoadConfig(JoinPath(dir, "config.json")));
  KSDB_ASSIGN_OR_RETURN(embedder->tokenizer_, Tokenizer::Load(JoinPath(dir, "tokenizer.json")));
  KSDB_RETURN_IF_ERROR(embedder->LoadTensors(JoinPath(dir, "model.safetensors")));
  return embedder;
}

Status StaticEmbedder::LoadConfig(const std::string& path) {
  KSDB_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  simdjson::dom::parser parser;
  KSDB_ASSIGN_OR_RETURN(simdjson::dom::element root, ParseJson(text, path, &parser));
  if (!root.is_object())
    return Status::InvalidArgument(path + ": config is not a JSON object");
  simdjson::dom::element normalize;
  if (root["normalize"].get(normalize) == simdjson::SUCCESS && !normalize.is_null()) {
    if (normalize.get_bool().get(normalize_) != simdjson::SUCCESS) {
      return Status::InvalidArgument(path + ": \"normalize\" must be a boolean");
    }
  }
  return Status::Ok();
}

Status StaticEmbedder::LoadTensors(const std::string& path) {
  KSDB_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(path));
  const TensorInfo* embeddings = file.Find("embeddings");
  if (embeddings == nullptr)
    return Status::InvalidArgument(path + ": no tensor 'embeddings'");
  if (embeddings->shape.size() != 2 || embeddings->shape[0] == 0 || embeddings->shape[1] == 0) {
    return Status::InvalidArgument(path + ": tensor 'embeddings' must have shape [rows, dim]");
  }
  rows_ = embeddings->shape[0];
  dim_ = embeddings->shape[1];
  KSDB_ASSIGN_OR_RETURN(table_, file.ReadFloats("embeddings"));
  size_t vocab = tokenizer_->vocab_size();
  if (file.Find("weights") != nullptr) {
    KSDB_ASSIGN_OR_RETURN(weights_, file.ReadFloats("weights"));
    if (weights_.size() < vocab) {
      return Status::InvalidArgument(
          path + ": tensor 'weights' has " + std::to_string(weights_.size()) +
          " entries, fewer than the tokenizer's " + std::to_string(vocab) + " tokens");
    }
  }
  if (file.Find("mapping") != nullptr) {
    KSDB_ASSIGN_OR_RETURN(mapping_, file.ReadIntegers("mapping"));
    if (mapping_.size() < vocab) {
      return Status::InvalidArgument(
          path + ": tensor 'mapping' has " + std::to_string(mapping_.size()) +
          " entries, fewer than the tokenizer's " + std::to_string(vocab) + " tokens");
    }
    for (int64_t row : mapping_) {
      if (row < 0 || static_cast<size_t>(row) >= rows_) {
        return Status::InvalidArgument(path + ": tensor 'mapping' points at row " +
                                       std::to_string(row) + " outside the " +
                                       std::to_string(rows_) + "-row embeddings");
      }
    }
  } else if (vocab > rows_) {
    return Status::InvalidArgument(path + ": tensor 'embeddings' has " + std::to_string(rows_) +
                                   " rows but the tokenizer has " + std::to_string(vocab) +
                                   " tokens");
  }
  return Status::Ok();
}

void StaticEmbedder::CollectIds(const std::string& text, std::vector<int32_t>* ids) const {
  ids->clear();
  tokenizer_->Encode(text, ids);
  // Model2Vec drops unknown tokens rather than averaging in the [UNK] row.
  std::optional<int32_t> unk = tokenizer_->unk_id();
  if (unk)
    ids->erase(std::remove(ids->begin(), ids->end(), *unk), ids->end());
  if (ids->size() > options_.max_tokens)
    ids->resize(options_.max_tokens);
}

std::vector<int32_t> StaticEmbedder::TokenIds(const std::string& text) const {
  std::vector<int32_t> ids;
  CollectIds(text, &ids);
  return ids;
}

void StaticEmbedder::EncodeOne(const std::string& text, std::vector<int32_t>* ids,
                               float* out) const {
  CollectIds(text, ids);
  std::fill(out, out + dim_, 0.0f);
  if (ids->empty())
    return;
  for (int32_t id : *ids) {
    size_t row = mapping_.empty() ? static_cast<size_t>(id) : static_cast<size_t>(mapping_[id]);
    float scale = weights_.empty() ? 1.0f : weights_[id];
    const float* values = table_.data() + row * dim_;
    for (size_t j = 0; j < dim_; ++j)
      out[j] += scale * values[j];
  }
  float inverse_count = 1.0f / static_cast<float>(ids->size());
  double norm_squared = 0.0;
  for (size_t j = 0; j < dim_; ++j) {
    out[j] *= inverse_count;
    norm_squared += static_cast<double>(out[j]) * out[j];
  }
  if (!normalize_ || norm_squared == 0.0)
    return;
  auto inverse_norm = static_cast<float>(1.0 / std::sqrt(norm_squared));
  for (size_t j = 0; j < dim_; ++j)
    out[j] *= inverse_norm;
}

void StaticEmbedder::EncodeRange(std::span<const std::string> texts, size_t begin, size_t end,
                                 float* out) const {
  std::vector<int32_t> ids;
  for (size_t i = begin; i < end; ++i)
    EncodeOne(texts[i], &ids, out + i * dim_);
}

Result<std::vector<float>> StaticEmbedder::Embed(std::span<const std::string> texts) const {
  std::vector<float> out(texts.size() * dim_);
  size_t threads = options_.num_threads != 0 ? options_.num_threads
                                             : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, texts.size() / std::max<size_t>(1, options_.min_texts_per_thread));
  if (threads <= 1) {
    EncodeRange(texts, 0, texts.size(), out.data());
    return out;
  }
  // Contiguous chunks, one per thread; the calling thread takes the last one.
  std::vector<std::thread> workers;
  size_t chunk = (texts.size() + threads - 1) / threads;
  for (size_t t = 0; t + 1 < threads; ++t) {
    size_t begin = t * chunk;
    size_t end = std::min(texts.size(), begin + chunk);
    try {
      workers.emplace_back(
          [this, texts, begin, end, &out] { EncodeRange(texts, begin, end, out.data()); });
    } catch (const std::system_error&) {
      // No thread available: encode this chunk here rather than fail the batch.
      EncodeRange(texts, begin, end, out.data());
    }
  }
  EncodeRange(texts, std::min(texts.size(), (threads - 1) * chunk), texts.size(), out.data());
  for (std::thread& worker : workers)
    worker.join();
  return out;
}

}  // namespace ksdb::embed
